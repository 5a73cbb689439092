#include "kyso/sign/pdf_text.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iterator>
#include <utility>

namespace kyso::sign {
namespace {

// bfchar sections hold at most 100 entries (Adobe technical note 5411).
constexpr std::size_t kMaxBfcharEntries = 100;

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

// The dictionaries of the embedded font. `base_font` is BaseFontName's; the *_ref arguments are
// references in the writer's syntax ("{ref:N}" or "N G R").

std::string BaseFontName(const Font& font, const std::set<uint32_t>& gids) {
  const std::string& name = font.metrics().postscript_name;
  return "/" + SubsetTag(gids, name) + "+" + name;
}

std::string Type0Dict(const std::string& base_font, const std::string& cid_font_ref,
                      const std::string& cmap_ref) {
  return "<< /Type /Font /Subtype /Type0 /BaseFont " + base_font +
         " /Encoding /Identity-H /DescendantFonts [" + cid_font_ref + "] /ToUnicode " + cmap_ref +
         " >>";
}

std::string CidFontDict(const Font& font, const std::set<uint32_t>& gids,
                        const std::string& base_font, const std::string& descriptor_ref) {
  const double scale = 1000.0 / font.metrics().units_per_em;
  std::string widths;  // runs of consecutive glyph ids: "first [w1 w2 ...] "
  for (auto it = gids.begin(); it != gids.end();) {
    widths += std::to_string(*it) + " [";
    uint32_t prev = *it;
    widths += FormatPdfNumber(font.GlyphAdvance(*it) * scale);
    for (++it; it != gids.end() && *it == prev + 1; ++it) {
      widths += " " + FormatPdfNumber(font.GlyphAdvance(*it) * scale);
      prev = *it;
    }
    widths += "] ";
  }
  return "<< /Type /Font /Subtype /CIDFontType2 /BaseFont " + base_font +
         " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
         " /FontDescriptor " +
         descriptor_ref + " /W [" + widths + "] /CIDToGIDMap /Identity >>";
}

std::string DescriptorDict(const FontMetrics& m, const std::string& base_font,
                           const std::string& font_file_ref) {
  const double scale = 1000.0 / m.units_per_em;
  const auto scaled = [scale](int v) { return FormatPdfNumber(std::round(v * scale)); };
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
  return "<< /Type /FontDescriptor /FontName " + base_font + " /Flags " + std::to_string(flags) +
         " /FontBBox [" + scaled(m.x_min) + " " + scaled(m.y_min) + " " + scaled(m.x_max) + " " +
         scaled(m.y_max) + "] /ItalicAngle " + FormatPdfNumber(m.italic_angle) + " /Ascent " +
         scaled(m.ascent) + " /Descent " + scaled(m.descent) + " /CapHeight " +
         scaled(m.cap_height) + " /StemV " + FormatPdfNumber(std::round(stem_v)) + " /FontFile2 " +
         font_file_ref + " >>";
}

}  // namespace

std::string PdfObjectRef(std::size_t index) { return "{ref:" + std::to_string(index) + "}"; }

std::string FormatPdfNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') {
    s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

Result<PdfObjectSpec> MakePdfStream(const std::string& entries, ByteSpan data, bool deflate) {
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

Result<std::vector<ShapedGlyph>> PdfFont::AddText(std::string_view utf8) {
  KYSO_ASSIGN_OR_RETURN(std::vector<ShapedGlyph> glyphs, font_->Shape(utf8));
  std::set<uint32_t> starts;
  for (const ShapedGlyph& g : glyphs) {
    starts.insert(g.cluster);
    gids_.insert(g.gid);
  }
  for (auto it = starts.begin(); it != starts.end(); ++it) {
    const std::size_t begin = *it;
    const auto next = std::next(it);
    const std::size_t end = next == starts.end() ? utf8.size() : *next;
    KYSO_ASSIGN_OR_RETURN(const std::u32string text, DecodeUtf8(utf8.substr(begin, end - begin)));
    if (std::all_of(text.begin(), text.end(), IsDefaultIgnorable)) {
      continue;
    }
    std::vector<uint32_t> gids;
    for (const ShapedGlyph& g : glyphs) {
      if (g.cluster == begin) {
        gids.push_back(g.gid);
      }
    }
    if (gids.size() > 1 && gids.size() == text.size()) {
      for (std::size_t k = 0; k < gids.size(); ++k) {
        to_unicode_.emplace(gids[k], std::u32string(1, text[k]));
      }
    } else if (!gids.empty() && !text.empty()) {
      to_unicode_.emplace(gids[0], text);
    }
  }
  return glyphs;
}

std::string PdfFont::ShowGlyphs(const std::vector<ShapedGlyph>& glyphs, double x, double baseline,
                                double size) const {
  const double upem = font_->units_per_em();
  const double unit = size / upem;  // points per font unit
  std::string out;
  long long pen = 0;
  bool in_run = false;
  bool in_hex = false;  // the run's last element is a hex string that may be extended
  for (const ShapedGlyph& g : glyphs) {
    if (g.x_offset != 0 || g.y_offset != 0) {
      if (in_run) {
        out += in_hex ? ">] TJ\n" : "] TJ\n";
        in_run = in_hex = false;
      }
      out += "1 0 0 1 " + FormatPdfNumber(x + static_cast<double>(pen + g.x_offset) * unit) + " " +
             FormatPdfNumber(baseline + g.y_offset * unit) + " Tm <" + Hex4(g.gid) + "> Tj\n";
    } else {
      if (!in_run) {
        out += "1 0 0 1 " + FormatPdfNumber(x + static_cast<double>(pen) * unit) + " " +
               FormatPdfNumber(baseline) + " Tm [";
        in_run = true;
      }
      out += (in_hex ? "" : "<") + Hex4(g.gid);
      in_hex = true;
      const double adjust = (font_->GlyphAdvance(g.gid) - g.x_advance) * 1000.0 / upem;
      if (std::fabs(adjust) > 1e-6) {
        out += "> " + FormatPdfNumber(adjust) + " ";
        in_hex = false;
      }
    }
    pen += g.x_advance;
  }
  if (in_run) {
    out += in_hex ? ">] TJ\n" : "] TJ\n";
  }
  return out;
}

Status PdfFont::AppendObjects(std::vector<PdfObjectSpec>* objects) const {
  const std::size_t type0 = objects->size();
  const std::size_t cid_font = type0 + 1;
  const std::size_t descriptor = type0 + 2;
  const std::size_t font_file = type0 + 3;
  const std::size_t cmap = type0 + 4;
  const std::string base_font = BaseFontName(*font_, gids_);
  objects->push_back({Type0Dict(base_font, PdfObjectRef(cid_font), PdfObjectRef(cmap))});
  objects->push_back({CidFontDict(*font_, gids_, base_font, PdfObjectRef(descriptor))});
  objects->push_back({DescriptorDict(font_->metrics(), base_font, PdfObjectRef(font_file))});
  KYSO_ASSIGN_OR_RETURN(const Bytes subset, font_->Subset(gids_));
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec file,
                        MakePdfStream("/Length1 " + std::to_string(subset.size()), subset, true));
  objects->push_back(std::move(file));
  KYSO_ASSIGN_OR_RETURN(PdfObjectSpec cmap_obj,
                        MakePdfStream("", AsBytes(ToUnicodeCMap(to_unicode_)), true));
  objects->push_back(std::move(cmap_obj));
  return OkStatus();
}

Result<QPDFObjectHandle> PdfFont::AddToPdf(QPDF& pdf) const {
  KYSO_ASSIGN_OR_RETURN(const Bytes subset, font_->Subset(gids_));
  try {
    const std::string base_font = BaseFontName(*font_, gids_);
    QPDFObjectHandle file = pdf.newStream(std::string(AsString(subset)));
    file.getDict().replaceKey("/Length1",
                              QPDFObjectHandle::newInteger(static_cast<long long>(subset.size())));
    QPDFObjectHandle cmap = pdf.newStream(ToUnicodeCMap(to_unicode_));
    // Streams are indirect already; unparse() of an indirect object is "N G R".
    QPDFObjectHandle descriptor = pdf.makeIndirectObject(
        QPDFObjectHandle::parse(&pdf, DescriptorDict(font_->metrics(), base_font, file.unparse())));
    QPDFObjectHandle cid_font = pdf.makeIndirectObject(
        QPDFObjectHandle::parse(&pdf, CidFontDict(*font_, gids_, base_font, descriptor.unparse())));
    return pdf.makeIndirectObject(
        QPDFObjectHandle::parse(&pdf, Type0Dict(base_font, cid_font.unparse(), cmap.unparse())));
  } catch (const std::exception& e) {
    return InternalError(std::string("qpdf: ") + e.what());
  }
}

}  // namespace kyso::sign
