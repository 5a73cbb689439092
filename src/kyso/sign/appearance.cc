#include "kyso/sign/appearance.h"

#include <algorithm>
#include <cmath>

namespace kyso::sign {
namespace {

// kMaxBoxSide is the largest page side PDF readers accept (ISO 32000-1 C.2: 14 400 units).
constexpr double kMaxBoxSide = 14400;
constexpr double kMaxFontSize = 1000;
// A seal bigger than this is a wrong DPI or a typo, not a seal.
constexpr double kMaxSealMm = 200;
constexpr double kPointsPerMm = 72 / 25.4;

bool GoodBox(double w, double h) {
  return std::isfinite(w) && std::isfinite(h) && w > 0 && h > 0 && w <= kMaxBoxSide &&
         h <= kMaxBoxSide;
}

Status CheckImage(const RasterImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) >
          kMaxPngPixels) {
    return InvalidArgumentError("kích thước ảnh không hợp lệ");
  }
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  if (image.rgb.size() != n * 3 || (!image.alpha.empty() && image.alpha.size() != n)) {
    return InvalidArgumentError("RasterImage: pixel buffers do not match width × height");
  }
  return OkStatus();
}

// FormXObject is objects[0] of an Appearance: a w×h Form XObject that draws `content` with
// `resources` (the entries of its /Resources dictionary).
Result<PdfObjectSpec> FormXObject(double w, double h, const std::string& resources,
                                  const std::string& content) {
  return MakePdfStream("/Type /XObject /Subtype /Form /BBox [0 0 " + FormatPdfNumber(w) + " " +
                           FormatPdfNumber(h) + "] /Resources << " + resources + " >>",
                       AsBytes(content), false);
}

// ShapedLine is one line of text, shaped.
struct ShapedLine {
  std::vector<ShapedGlyph> glyphs;
  long long advance = 0;  // font units
};

Status CheckTextArgs(const std::vector<std::string>& lines, double size) {
  if (lines.empty()) {
    return InvalidArgumentError("không có dòng chữ nào để đóng dấu");
  }
  if (lines.size() > kMaxAppearanceLines) {
    return InvalidArgumentError("quá nhiều dòng chữ: tối đa " +
                                std::to_string(kMaxAppearanceLines) + " dòng");
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].size() > kMaxAppearanceLineLen) {
      return InvalidArgumentError("dòng chữ thứ " + std::to_string(i + 1) + " quá dài: tối đa " +
                                  std::to_string(kMaxAppearanceLineLen) + " byte");
    }
  }
  if (!std::isfinite(size) || size <= 0 || size > kMaxFontSize) {
    return InvalidArgumentError("font size must be in (0, 1000]");
  }
  return OkStatus();
}

// ShapeLines shapes every line, with `pdf_font` when given (which records the glyphs and their
// text for embedding), else with `font`.
Result<std::vector<ShapedLine>> ShapeLines(const std::vector<std::string>& lines, const Font& font,
                                           PdfFont* pdf_font) {
  std::vector<ShapedLine> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ShapedLine line;
    KYSO_ASSIGN_OR_RETURN(line.glyphs,
                          pdf_font != nullptr ? pdf_font->AddText(lines[i]) : font.Shape(lines[i]),
                          "dòng " + std::to_string(i + 1));
    for (const ShapedGlyph& g : line.glyphs) {
      line.advance += g.x_advance;
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace

Result<Appearance> ImageAppearance(const RasterImage& image, double w, double h) {
  KYSO_RETURN_IF_ERROR(CheckImage(image));
  if (!GoodBox(w, h)) {
    return InvalidArgumentError("appearance box must be > 0 and <= 14400 points each way");
  }
  const double s = std::min(w / image.width, h / image.height);
  const double dw = image.width * s;
  const double dh = image.height * s;
  const std::string content = "q " + FormatPdfNumber(dw) + " 0 0 " + FormatPdfNumber(dh) + " " +
                              FormatPdfNumber((w - dw) / 2) + " " + FormatPdfNumber((h - dh) / 2) +
                              " cm /Im0 Do Q\n";

  bool has_alpha = false;
  for (uint8_t a : image.alpha) {
    if (a != 0xff) {
      has_alpha = true;
      break;
    }
  }
  Appearance ap;
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec form,
                        FormXObject(w, h, "/XObject << /Im0 " + PdfObjectRef(1) + " >>", content));
  ap.objects.push_back(std::move(form));
  const std::string size_entries = "/Type /XObject /Subtype /Image /Width " +
                                   std::to_string(image.width) + " /Height " +
                                   std::to_string(image.height) + " /BitsPerComponent 8";
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec rgb,
                        MakePdfStream(size_entries + " /ColorSpace /DeviceRGB" +
                                          (has_alpha ? " /SMask " + PdfObjectRef(2) : ""),
                                      image.rgb, true));
  ap.objects.push_back(std::move(rgb));
  if (has_alpha) {
    KYSO_ASSIGN_OR_RETURN(
        PdfObjectSpec mask,
        MakePdfStream(size_entries + " /ColorSpace /DeviceGray", image.alpha, true));
    ap.objects.push_back(std::move(mask));
  }
  return ap;
}

Result<std::pair<double, double>> TextSize(const std::vector<std::string>& lines, const Font& font,
                                           double size) {
  KYSO_RETURN_IF_ERROR(CheckTextArgs(lines, size));
  KYSO_ASSIGN_OR_RETURN(const std::vector<ShapedLine> shaped, ShapeLines(lines, font, nullptr));
  long long widest = 0;
  for (const ShapedLine& line : shaped) {
    widest = std::max(widest, line.advance);
  }
  return std::make_pair(static_cast<double>(widest) * size / font.units_per_em(),
                        static_cast<double>(lines.size()) * kTextLeading * size);
}

Result<Appearance> TextAppearance(const std::vector<std::string>& lines, const Font& font,
                                  double size, double w, double h) {
  KYSO_RETURN_IF_ERROR(CheckTextArgs(lines, size));
  if (!GoodBox(w, h)) {
    return InvalidArgumentError("appearance box must be > 0 and <= 14400 points each way");
  }
  PdfFont pdf_font(font);
  KYSO_ASSIGN_OR_RETURN(const std::vector<ShapedLine> shaped, ShapeLines(lines, font, &pdf_font));

  const double unit = size / font.units_per_em();  // points per font unit
  const double leading = kTextLeading * size;
  // Each line has a band of `leading` from the top; its ascent-to-descent box is centred in it.
  const double extent = font.Ascent(size) - font.Descent(size);
  std::string content = "BT\n/F0 " + FormatPdfNumber(size) + " Tf\n0 g\n";
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    const ShapedLine& line = shaped[i];
    if (line.glyphs.empty()) {
      continue;
    }
    const double band_bottom = h - static_cast<double>(i + 1) * leading;
    const double baseline = band_bottom + (leading - extent) / 2 - font.Descent(size);
    const double x0 = w - static_cast<double>(line.advance) * unit;
    content += pdf_font.ShowGlyphs(line.glyphs, x0, baseline, size);
  }
  content += "ET\n";

  Appearance ap;
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec form,
                        FormXObject(w, h, "/Font << /F0 " + PdfObjectRef(1) + " >>", content));
  ap.objects.push_back(std::move(form));
  KYSO_RETURN_IF_ERROR(pdf_font.AppendObjects(&ap.objects));
  return ap;
}

Result<std::pair<double, double>> SealSize(const RasterImage& image,
                                           std::optional<double> diameter_mm) {
  if (image.width <= 0 || image.height <= 0) {
    return InvalidArgumentError("kích thước ảnh con dấu không hợp lệ");
  }
  const double aspect = static_cast<double>(image.height) / image.width;
  if (diameter_mm.has_value()) {
    const double mm = *diameter_mm;
    if (!std::isfinite(mm) || mm <= 0 || mm > kMaxSealMm) {
      return InvalidArgumentError("kích thước con dấu phải lớn hơn 0 và không quá " +
                                  FormatPdfNumber(kMaxSealMm) + " mm");
    }
    return std::make_pair(mm * kPointsPerMm, mm * aspect * kPointsPerMm);
  }
  if (!(image.dpi_x > 0) || !(image.dpi_y > 0) || !std::isfinite(image.dpi_x) ||
      !std::isfinite(image.dpi_y)) {
    return InvalidArgumentError(
        "ảnh con dấu không ghi độ phân giải (DPI): cho kích thước con dấu bằng --seal-mm");
  }
  const double w = image.width * 72.0 / image.dpi_x;
  const double h = image.height * 72.0 / image.dpi_y;
  if (w / kPointsPerMm > kMaxSealMm || h / kPointsPerMm > kMaxSealMm) {
    return InvalidArgumentError(
        "theo độ phân giải ghi trong ảnh (" + FormatPdfNumber(image.dpi_x) +
        " DPI), con dấu rộng " + FormatPdfNumber(std::round(w / kPointsPerMm)) + " mm, lớn quá " +
        FormatPdfNumber(kMaxSealMm) + " mm: cho kích thước con dấu bằng --seal-mm");
  }
  return std::make_pair(w, h);
}

}  // namespace kyso::sign
