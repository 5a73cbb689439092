#include "kyso/sign/appearance.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>

namespace kyso::sign {
namespace {

// kMaxBoxSide is the largest page side PDF readers accept (ISO 32000-1 C.2: 14 400 units).
constexpr double kMaxBoxSide = 14400;
constexpr double kMaxFontSize = 1000;
// A seal bigger than this is a wrong DPI or a typo, not a seal.
constexpr double kMaxSealMm = 200;
constexpr double kPointsPerMm = 72 / 25.4;
// bfchar sections hold at most 100 entries (Adobe technical note 5411).
constexpr std::size_t kMaxBfcharEntries = 100;

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') {
    s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string Ref(std::size_t index) { return "{ref:" + std::to_string(index) + "}"; }

Result<Bytes> Deflate(ByteSpan data) {
  uLongf len = compressBound(static_cast<uLong>(data.size()));
  Bytes out(len);
  if (compress2(out.data(), &len, data.data(), static_cast<uLong>(data.size()),
                Z_BEST_COMPRESSION) != Z_OK) {
    return InternalError("zlib compress2 failed");
  }
  out.resize(len);
  return out;
}

// Stream makes a stream object; `entries` is the dictionary without /Length and /Filter.
Result<PdfObjectSpec> Stream(const std::string& entries, ByteSpan data, bool deflate) {
  PdfObjectSpec obj;
  obj.is_stream = true;
  if (deflate) {
    KYSO_ASSIGN_OR_RETURN(obj.stream, Deflate(data));
  } else {
    obj.stream.assign(data.begin(), data.end());
  }
  obj.dict = "<< " + entries + " /Length " + std::to_string(obj.stream.size()) +
             (deflate ? " /Filter /FlateDecode" : "") + " >>";
  return obj;
}

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

std::string Hex4(uint32_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(v & 0xffff));
  return buf;
}

// Utf16Hex is `cps` as UTF-16BE hex digits, for a ToUnicode destination.
std::string Utf16Hex(const std::u32string& cps) {
  std::string out;
  for (char32_t cp : cps) {
    if (cp >= 0x10000) {
      const uint32_t v = cp - 0x10000;
      out += Hex4(0xd800 + (v >> 10));
      out += Hex4(0xdc00 + (v & 0x3ff));
    } else {
      out += Hex4(cp);
    }
  }
  return out;
}

// IsDefaultIgnorable tells the invisible characters (Unicode DerivedCoreProperties
// Default_Ignorable_Code_Point) that HarfBuzz draws as an empty space glyph.
bool IsDefaultIgnorable(char32_t cp) {
  return cp == 0xad || cp == 0x34f || cp == 0x61c || (cp >= 0x115f && cp <= 0x1160) ||
         (cp >= 0x17b4 && cp <= 0x17b5) || (cp >= 0x180b && cp <= 0x180f) ||
         (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2060 && cp <= 0x206f) || cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) ||
         cp == 0xfeff || cp == 0xffa0 || (cp >= 0xfff0 && cp <= 0xfff8) ||
         (cp >= 0x1bca0 && cp <= 0x1bca3) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
         (cp >= 0xe0000 && cp <= 0xe0fff);
}

// ShapedLine is one line of text, shaped, with what each glyph stands for.
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

// ShapeLines shapes every line and records, for the ToUnicode CMap, the text of each glyph:
// a cluster of one glyph stands for the cluster's characters; a cluster with as many glyphs as
// characters maps them in order; otherwise the first glyph takes the whole cluster. A glyph
// keeps the first text it was given (CMaps map a code once). Invisible characters map nothing:
// their glyph is the space's, which must keep meaning " " (a zero-width space pasted from a
// word processor would otherwise turn every space of the stamp into one).
Result<std::vector<ShapedLine>> ShapeLines(const std::vector<std::string>& lines,
                                           const Font& font,
                                           std::map<uint32_t, std::u32string>* to_unicode) {
  std::vector<ShapedLine> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string context = "dòng " + std::to_string(i + 1);
    ShapedLine line;
    KYSO_ASSIGN_OR_RETURN(line.glyphs, font.Shape(lines[i]), context);
    for (const ShapedGlyph& g : line.glyphs) {
      line.advance += g.x_advance;
    }
    if (to_unicode != nullptr) {
      std::set<uint32_t> starts;
      for (const ShapedGlyph& g : line.glyphs) {
        starts.insert(g.cluster);
      }
      for (auto it = starts.begin(); it != starts.end(); ++it) {
        const std::size_t begin = *it;
        const auto next = std::next(it);
        const std::size_t end = next == starts.end() ? lines[i].size() : *next;
        KYSO_ASSIGN_OR_RETURN(const std::u32string text,
                              DecodeUtf8(std::string_view(lines[i]).substr(begin, end - begin)),
                              context);
        if (std::all_of(text.begin(), text.end(), IsDefaultIgnorable)) {
          continue;
        }
        std::vector<uint32_t> gids;
        for (const ShapedGlyph& g : line.glyphs) {
          if (g.cluster == begin) {
            gids.push_back(g.gid);
          }
        }
        if (gids.size() > 1 && gids.size() == text.size()) {
          for (std::size_t k = 0; k < gids.size(); ++k) {
            to_unicode->emplace(gids[k], std::u32string(1, text[k]));
          }
        } else if (!gids.empty() && !text.empty()) {
          to_unicode->emplace(gids[0], text);
        }
      }
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::string SubsetTag(const std::set<uint32_t>& gids, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the name and the glyph ids
  const auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ull;
  };
  for (char c : name) {
    mix(static_cast<uint8_t>(c));
  }
  for (uint32_t g : gids) {
    for (int s = 0; s < 32; s += 8) {
      mix(static_cast<uint8_t>(g >> s));
    }
  }
  std::string tag;
  for (int i = 0; i < 6; ++i) {
    tag += static_cast<char>('A' + h % 26);
    h /= 26;
  }
  return tag;
}

std::string ToUnicodeCMap(const std::map<uint32_t, std::u32string>& to_unicode) {
  std::string s =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  auto it = to_unicode.begin();
  while (it != to_unicode.end()) {
    std::string section;
    std::size_t n = 0;
    for (; it != to_unicode.end() && n < kMaxBfcharEntries; ++it, ++n) {
      section += "<" + Hex4(it->first) + "> <" + Utf16Hex(it->second) + ">\n";
    }
    s += std::to_string(n) + " beginbfchar\n" + section + "endbfchar\n";
  }
  s += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
  return s;
}

// FontObjects appends the embedded subset of `font` (Type0 first) to `objects`.
Status AppendFontObjects(const Font& font, const std::map<uint32_t, std::u32string>& to_unicode,
                         const std::set<uint32_t>& gids, std::vector<PdfObjectSpec>* objects) {
  const FontMetrics& m = font.metrics();
  const double scale = 1000.0 / m.units_per_em;
  const std::size_t type0 = objects->size();
  const std::size_t cid_font = type0 + 1;
  const std::size_t descriptor = type0 + 2;
  const std::size_t font_file = type0 + 3;
  const std::size_t cmap = type0 + 4;
  const std::string base_font = "/" + SubsetTag(gids, m.postscript_name) + "+" + m.postscript_name;

  objects->push_back({"<< /Type /Font /Subtype /Type0 /BaseFont " + base_font +
                      " /Encoding /Identity-H /DescendantFonts [" + Ref(cid_font) +
                      "] /ToUnicode " + Ref(cmap) + " >>"});

  std::string widths;
  for (auto it = gids.begin(); it != gids.end();) {
    widths += std::to_string(*it) + " [";
    uint32_t prev = *it;
    widths += Num(font.GlyphAdvance(*it) * scale);
    for (++it; it != gids.end() && *it == prev + 1; ++it) {
      widths += " " + Num(font.GlyphAdvance(*it) * scale);
      prev = *it;
    }
    widths += "] ";
  }
  objects->push_back({"<< /Type /Font /Subtype /CIDFontType2 /BaseFont " + base_font +
                      " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
                      " /FontDescriptor " + Ref(descriptor) + " /W [" + widths +
                      "] /CIDToGIDMap /Identity >>"});

  // Vietnamese letters lie outside the Adobe standard Latin set, so the font is Symbolic.
  int flags = 4;
  if (m.fixed_pitch) {
    flags |= 1;
  }
  if (m.serif) {
    flags |= 2;
  }
  if (m.italic) {
    flags |= 64;
  }
  // StemV is not in TrueType fonts; this is the usual estimate from the weight class.
  const double stem_v = 10 + 220 * (m.weight - 50) / 900.0;
  objects->push_back(
      {"<< /Type /FontDescriptor /FontName " + base_font + " /Flags " + std::to_string(flags) +
       " /FontBBox [" + Num(std::round(m.x_min * scale)) + " " + Num(std::round(m.y_min * scale)) +
       " " + Num(std::round(m.x_max * scale)) + " " + Num(std::round(m.y_max * scale)) +
       "] /ItalicAngle " + Num(m.italic_angle) + " /Ascent " + Num(std::round(m.ascent * scale)) +
       " /Descent " + Num(std::round(m.descent * scale)) + " /CapHeight " +
       Num(std::round(m.cap_height * scale)) + " /StemV " + Num(std::round(stem_v)) +
       " /FontFile2 " + Ref(font_file) + " >>"});

  KYSO_ASSIGN_OR_RETURN(const Bytes subset, font.Subset(gids));
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec file,
                        Stream("/Length1 " + std::to_string(subset.size()), subset, true));
  objects->push_back(std::move(file));
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec cmap_obj, Stream("", AsBytes(ToUnicodeCMap(to_unicode)), true));
  objects->push_back(std::move(cmap_obj));
  return OkStatus();
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
  const std::string content = "q " + Num(dw) + " 0 0 " + Num(dh) + " " + Num((w - dw) / 2) + " " +
                              Num((h - dh) / 2) + " cm /Im0 Do Q\n";

  bool has_alpha = false;
  for (uint8_t a : image.alpha) {
    if (a != 0xff) {
      has_alpha = true;
      break;
    }
  }
  Appearance ap;
  KYSO_ASSIGN_OR_RETURN(
      PdfObjectSpec form,
      Stream("/Type /XObject /Subtype /Form /BBox [0 0 " + Num(w) + " " + Num(h) +
                 "] /Resources << /XObject << /Im0 " + Ref(1) + " >> >>",
             AsBytes(content), false));
  ap.objects.push_back(std::move(form));
  const std::string size_entries = "/Type /XObject /Subtype /Image /Width " +
                                   std::to_string(image.width) + " /Height " +
                                   std::to_string(image.height) + " /BitsPerComponent 8";
  KYSO_ASSIGN_OR_RETURN(
      PdfObjectSpec rgb,
      Stream(size_entries + " /ColorSpace /DeviceRGB" + (has_alpha ? " /SMask " + Ref(2) : ""),
             image.rgb, true));
  ap.objects.push_back(std::move(rgb));
  if (has_alpha) {
    KYSO_ASSIGN_OR_RETURN(PdfObjectSpec mask,
                          Stream(size_entries + " /ColorSpace /DeviceGray", image.alpha, true));
    ap.objects.push_back(std::move(mask));
  }
  return ap;
}

Result<std::pair<double, double>> TextSize(const std::vector<std::string>& lines,
                                           const Font& font, double size) {
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
  std::map<uint32_t, std::u32string> to_unicode;
  KYSO_ASSIGN_OR_RETURN(const std::vector<ShapedLine> shaped, ShapeLines(lines, font, &to_unicode));
  std::set<uint32_t> gids;
  for (const ShapedLine& line : shaped) {
    for (const ShapedGlyph& g : line.glyphs) {
      gids.insert(g.gid);
    }
  }

  const double upem = font.units_per_em();
  const double unit = size / upem;  // points per font unit
  const double leading = kTextLeading * size;
  // Each line has a band of `leading` from the top; its ascent-to-descent box is centred in it.
  const double extent = font.Ascent(size) - font.Descent(size);
  std::string content = "BT\n/F0 " + Num(size) + " Tf\n0 g\n";
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    const ShapedLine& line = shaped[i];
    if (line.glyphs.empty()) {
      continue;
    }
    const double band_bottom = h - static_cast<double>(i + 1) * leading;
    const double baseline = band_bottom + (leading - extent) / 2 - font.Descent(size);
    const double x0 = w - static_cast<double>(line.advance) * unit;
    // Glyphs go in TJ runs with kerning as adjustments; a glyph HarfBuzz moved off the
    // baseline or sideways (a mark) is placed on its own with Tm.
    long long pen = 0;
    bool in_run = false;
    bool in_hex = false;  // the run's last element is a hex string that may be extended
    for (const ShapedGlyph& g : line.glyphs) {
      if (g.x_offset != 0 || g.y_offset != 0) {
        if (in_run) {
          content += in_hex ? ">] TJ\n" : "] TJ\n";
          in_run = in_hex = false;
        }
        content += "1 0 0 1 " + Num(x0 + static_cast<double>(pen + g.x_offset) * unit) + " " +
                   Num(baseline + g.y_offset * unit) + " Tm <" + Hex4(g.gid) + "> Tj\n";
      } else {
        if (!in_run) {
          content += "1 0 0 1 " + Num(x0 + static_cast<double>(pen) * unit) + " " +
                     Num(baseline) + " Tm [";
          in_run = true;
        }
        content += (in_hex ? "" : "<") + Hex4(g.gid);
        in_hex = true;
        const double adjust = (font.GlyphAdvance(g.gid) - g.x_advance) * 1000.0 / upem;
        if (std::fabs(adjust) > 1e-6) {
          content += "> " + Num(adjust) + " ";
          in_hex = false;
        }
      }
      pen += g.x_advance;
    }
    if (in_run) {
      content += in_hex ? ">] TJ\n" : "] TJ\n";
    }
  }
  content += "ET\n";

  Appearance ap;
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec form,
                        Stream("/Type /XObject /Subtype /Form /BBox [0 0 " + Num(w) + " " +
                                   Num(h) + "] /Resources << /Font << /F0 " + Ref(1) + " >> >>",
                               AsBytes(content), false));
  ap.objects.push_back(std::move(form));
  KYSO_RETURN_IF_ERROR(AppendFontObjects(font, to_unicode, gids, &ap.objects));
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
                                  Num(kMaxSealMm) + " mm");
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
    return InvalidArgumentError("theo độ phân giải ghi trong ảnh (" + Num(image.dpi_x) +
                                " DPI), con dấu rộng " + Num(std::round(w / kPointsPerMm)) +
                                " mm, lớn quá " + Num(kMaxSealMm) +
                                " mm: cho kích thước con dấu bằng --seal-mm");
  }
  return std::make_pair(w, h);
}

}  // namespace kyso::sign
