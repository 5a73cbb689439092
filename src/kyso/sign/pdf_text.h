#pragma once

// Text in PDF with an embedded TrueType subset: the code that the signer's copy stamp
// (appearance.h, TextAppearance) and the verification report (verify/report_pdf.h) share.
// A PdfFont collects the glyphs a document draws with one Font and the text each stands for,
// writes the content operators of a glyph run, and at the end embeds the font as
// Type0/CIDFontType2 (Identity-H, /CIDToGIDMap /Identity) with a FontDescriptor, the subset as
// FontFile2 and a /ToUnicode CMap, so that text extraction gives the text back.

#include <cstddef>
#include <cstdint>
#include <map>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"
#include "kyso/sign/font.h"

namespace kyso::sign {

// PdfObjectSpec is one PDF object of an appearance. In `dict`, a reference to another object
// of the same Appearance is written "{ref:N}", N its index in Appearance::objects; the PDF
// writer replaces it by "num gen R" once it numbers the objects. `dict` is the whole
// dictionary, "<< ... >>". For a stream, `dict` has the /Length (and /Filter) of `stream`.
struct PdfObjectSpec {
  std::string dict;
  bool is_stream = false;
  Bytes stream;
};

// PdfObjectRef is the "{ref:N}" of PdfObjectSpec::dict for the object at `index`.
std::string PdfObjectRef(std::size_t index);

// FormatPdfNumber writes `v` as a PDF number: at most 4 decimals, no trailing zeros, "0" for
// -0. `v` must be finite.
std::string FormatPdfNumber(double v);

// MakePdfStream is a stream object holding `data`, compressed with FlateDecode when `deflate`.
// `entries` is the dictionary without << >>, /Length and /Filter (may be empty). kInternal only
// when zlib fails.
Result<PdfObjectSpec> MakePdfStream(const std::string& entries, ByteSpan data, bool deflate);

// PdfFont is one Font as a PDF draws with it: the glyphs used so far and, for the ToUnicode
// CMap, the text each stands for. `font` is borrowed and must outlive the PdfFont. Copyable;
// not thread-safe.
class PdfFont final {
 public:
  explicit PdfFont(const Font& font) : font_(&font) {}

  const Font& font() const { return *font_; }
  // empty tells that no glyph was added: such a font has nothing to embed.
  bool empty() const { return gids_.empty(); }

  // AddText shapes `utf8` (Font::Shape, with its bounds and errors), records the glyphs for the
  // subset and gives them for ShowGlyphs. For the ToUnicode CMap each glyph stands for text: a
  // cluster of one glyph stands for the cluster's characters; a cluster with as many glyphs as
  // characters maps them in order; otherwise the first glyph takes the whole cluster. A glyph
  // keeps the first text it was given (CMaps map a code once). Invisible characters (Unicode
  // Default_Ignorable_Code_Point) map nothing: HarfBuzz draws them with the space's glyph,
  // which must keep meaning " " (a pasted zero-width space would otherwise turn every space
  // into one).
  Result<std::vector<ShapedGlyph>> AddText(std::string_view utf8);

  // ShowGlyphs is the content-stream operators that draw `glyphs` (from AddText) at `size`
  // points with the pen starting at (x, baseline): "1 0 0 1 x y Tm" and TJ runs with kerning as
  // adjustments; a glyph HarfBuzz moved off the baseline or sideways (a mark) is placed on its
  // own with Tm and Tj. They belong between BT and ET, after a Tf that selects this font at
  // `size`. Empty for no glyphs.
  std::string ShowGlyphs(const std::vector<ShapedGlyph>& glyphs, double x, double baseline,
                         double size) const;

  // AppendObjects appends the embedded font to `objects`, five objects: the Type0 font first
  // (the one to name in /Resources /Font), its CIDFontType2, the FontDescriptor, the subset as
  // FontFile2 and the ToUnicode CMap, the streams FlateDecode. References between them are
  // PdfObjectRef indices into `objects`. The subset tag of /BaseFont depends only on the font
  // and the glyphs, so the same text gives the same bytes. Errors: Font::Subset's, kInternal
  // when zlib fails; `objects` is then left with some of them appended.
  Status AppendObjects(std::vector<PdfObjectSpec>* objects) const;

  // AddToPdf makes the same objects in `pdf` (streams unfiltered: QPDFWriter compresses) and
  // gives the indirect Type0 font. Errors: Font::Subset's; kInternal when qpdf throws.
  Result<QPDFObjectHandle> AddToPdf(QPDF& pdf) const;

 private:
  const Font* font_;
  std::set<uint32_t> gids_;
  std::map<uint32_t, std::u32string> to_unicode_;
};

}  // namespace kyso::sign
