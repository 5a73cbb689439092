#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"

namespace kyso::sign {

// kDefaultFontPath is Liberation Serif 2 (Debian package fonts-liberation2): metric-compatible
// with Times New Roman, which Decree 30 asks for, and with every Vietnamese letter precomposed.
// Not fonts-liberation: its Liberation 1.07 has no ơ, ư, ả, ... (U+01A0, U+1EA0-U+1EF9).
inline constexpr char kDefaultFontPath[] =
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";
// kMaxFontFileLen bounds the font file Font::Load reads.
inline constexpr std::size_t kMaxFontFileLen = 32 * 1024 * 1024;
// kMaxShapeTextLen bounds the UTF-8 given to Font::Shape and Font::Width.
inline constexpr std::size_t kMaxShapeTextLen = 4096;

// ShapedGlyph is one glyph of shaped text, in font units (Font::units_per_em() to the em).
struct ShapedGlyph {
  uint32_t gid = 0;
  int32_t x_advance = 0;
  int32_t x_offset = 0;
  int32_t y_offset = 0;
  uint32_t cluster = 0;  // byte offset in the UTF-8 of the first character the glyph shows
};

// FontMetrics are the values of a PDF FontDescriptor, in font units, from the font's tables.
struct FontMetrics {
  std::string postscript_name;  // sanitized to PDF name characters; never empty
  int units_per_em = 1000;
  int x_min = 0, y_min = 0, x_max = 0, y_max = 0;  // head bbox
  int ascent = 0;                                  // hhea ascender (> 0)
  int descent = 0;                                 // hhea descender (<= 0)
  int cap_height = 0;                              // OS/2 sCapHeight, else the ascent
  double italic_angle = 0;                         // post, degrees
  int weight = 400;                                // OS/2 usWeightClass
  bool fixed_pitch = false;
  bool serif = false;
  bool italic = false;
};

// Font is a TrueType (glyf-outline) font loaded in memory, shaped with HarfBuzz.
// Immutable after Load, so one Font may be shared by threads.
class Font final {
 public:
  // Load reads the TrueType font at `path` (at most kMaxFontFileLen; the first face of a
  // collection). A font without TrueType outlines (CFF) is kInvalidArgument: PDF embeds it
  // differently and this code does not.
  static Result<std::unique_ptr<Font>> Load(const std::string& path);
  // FromBytes is Load on a font already read.
  static Result<std::unique_ptr<Font>> FromBytes(Bytes font_file);
  ~Font();
  Font(const Font&) = delete;
  Font& operator=(const Font&) = delete;

  // Shape turns UTF-8 into positioned glyphs (HarfBuzz: a Vietnamese letter written as base +
  // combining marks becomes the font's precomposed glyph when it has one). Invalid UTF-8, a
  // control character, text over kMaxShapeTextLen, or a character the font lacks is
  // kInvalidArgument with a Vietnamese message naming the character.
  Result<std::vector<ShapedGlyph>> Shape(std::string_view utf8) const;
  // Width is the advance of the shaped `utf8` in points at font size `size`.
  Result<double> Width(std::string_view utf8, double size) const;
  // Ascent (> 0) and Descent (<= 0) in points at `size`, from hhea.
  double Ascent(double size) const;
  double Descent(double size) const;

  int units_per_em() const { return metrics_.units_per_em; }
  const FontMetrics& metrics() const { return metrics_; }
  // GlyphAdvance is the glyph's hmtx advance in font units (what a PDF /W entry describes).
  int32_t GlyphAdvance(uint32_t gid) const;
  // Subset gives a TrueType font with only `gids` (and .notdef), each keeping its glyph id, so
  // that a PDF CIDFontType2 with /CIDToGIDMap /Identity draws CID = GID.
  Result<Bytes> Subset(const std::set<uint32_t>& gids) const;

 private:
  struct Hb;
  Font(Bytes file, std::unique_ptr<Hb> hb, FontMetrics metrics);

  Bytes file_;  // the blob of hb_ points here
  std::unique_ptr<Hb> hb_;
  FontMetrics metrics_;
};

// DecodeUtf8 gives the code points of strict UTF-8 (no overlongs, surrogates or values past
// U+10FFFF), or kInvalidArgument.
Result<std::u32string> DecodeUtf8(std::string_view utf8);

}  // namespace kyso::sign
