#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"
#include "kyso/sign/font.h"
#include "kyso/sign/pdf_text.h"  // PdfObjectSpec
#include "kyso/sign/png.h"

namespace kyso::sign {

// kMaxAppearanceLines and kMaxAppearanceLineLen bound the text of a TextAppearance.
inline constexpr std::size_t kMaxAppearanceLines = 8;
inline constexpr std::size_t kMaxAppearanceLineLen = 256;  // bytes of UTF-8
// kTextLeading is the distance between baselines, in multiples of the font size.
inline constexpr double kTextLeading = 1.2;

// Appearance is the objects (PdfObjectSpec, pdf_text.h) of one widget appearance. objects[0]
// is the Form XObject that becomes the widget's /AP /N: /Type /XObject /Subtype /Form
// /BBox [0 0 w h] /Resources.
struct Appearance {
  std::vector<PdfObjectSpec> objects;
};

// ImageAppearance draws `image` (Decree 30/2020 R30.1 the person's signature, R30.2 the seal)
// scaled to fit a w×h box keeping its aspect ratio, centred. The image is a /DeviceRGB 8 bpc
// FlateDecode XObject with an /SMask (DeviceGray, FlateDecode) when it has alpha. w and h are
// points, > 0 and at most 14400.
Result<Appearance> ImageAppearance(const RasterImage& image, double w, double h);

// TextSize is the box that `lines` (UTF-8) need at `size` in `font`: the widest line's advance
// × (number of lines × kTextLeading × size), no margin. Same bounds and errors as
// TextAppearance.
Result<std::pair<double, double>> TextSize(const std::vector<std::string>& lines,
                                           const Font& font, double size);

// TextAppearance (R30.3, the stamp of a copy) draws `lines` in black from the top of a w×h box,
// one per kTextLeading × size, each right-aligned, with `font` embedded as a subset
// (Type0/CIDFontType2, Identity-H, /ToUnicode, so text extraction gives the text back).
// Decree 30 asks for Times New Roman 10: pass Liberation Serif (kDefaultFontPath) at 10.
// 1 to kMaxAppearanceLines lines of at most kMaxAppearanceLineLen bytes of valid UTF-8; a
// character the font lacks is kInvalidArgument naming it. `font` is borrowed for the call.
Result<Appearance> TextAppearance(const std::vector<std::string>& lines, const Font& font,
                                  double size, double w, double h);

// SealSize is the seal's real size in points (width, height): from `diameter_mm` when given
// (the image's width is that many millimetres, the height follows the aspect ratio), otherwise
// from the image's DPI (points = pixels × 72 / dpi). Neither is kInvalidArgument.
Result<std::pair<double, double>> SealSize(const RasterImage& image,
                                           std::optional<double> diameter_mm);

}  // namespace kyso::sign
