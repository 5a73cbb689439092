#include "kyso/sign/font.h"

#include <hb-ot.h>
#include <hb-subset.h>
#include <hb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kyso/base/file.h"

namespace kyso::sign {
namespace {

struct BlobDeleter {
  void operator()(hb_blob_t* b) const noexcept { hb_blob_destroy(b); }
};
struct FaceDeleter {
  void operator()(hb_face_t* f) const noexcept { hb_face_destroy(f); }
};
struct FontDeleter {
  void operator()(hb_font_t* f) const noexcept { hb_font_destroy(f); }
};
struct BufferDeleter {
  void operator()(hb_buffer_t* b) const noexcept { hb_buffer_destroy(b); }
};
struct SubsetInputDeleter {
  void operator()(hb_subset_input_t* i) const noexcept { hb_subset_input_destroy(i); }
};
using BlobPtr = std::unique_ptr<hb_blob_t, BlobDeleter>;
using FacePtr = std::unique_ptr<hb_face_t, FaceDeleter>;
using FontPtr = std::unique_ptr<hb_font_t, FontDeleter>;

// Table is a font table's bytes, read big-endian; reads past the end give 0.
class Table final {
 public:
  Table(hb_face_t* face, hb_tag_t tag) : blob_(hb_face_reference_table(face, tag)) {
    unsigned int len = 0;
    const char* data = hb_blob_get_data(blob_.get(), &len);
    data_ = reinterpret_cast<const uint8_t*>(data);
    len_ = data == nullptr ? 0 : len;
  }
  std::size_t size() const { return len_; }
  uint16_t U16(std::size_t at) const {
    return at + 2 <= len_ ? static_cast<uint16_t>(data_[at] << 8 | data_[at + 1]) : 0;
  }
  int16_t I16(std::size_t at) const { return static_cast<int16_t>(U16(at)); }
  uint32_t U32(std::size_t at) const {
    return static_cast<uint32_t>(U16(at)) << 16 | U16(at + 2);
  }

 private:
  BlobPtr blob_;
  const uint8_t* data_ = nullptr;
  std::size_t len_ = 0;
};

std::string HexCodePoint(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

std::string EncodeUtf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | cp >> 6);
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | cp >> 12);
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | cp >> 18);
    s += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

// PdfNameChars keeps the characters a PDF name may hold unescaped (ISO 32000-1 7.3.5).
std::string PdfNameChars(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f && std::string_view("()<>[]{}/%#").find(c) == std::string::npos) {
      out += c;
    }
    if (out.size() == 63) {
      break;
    }
  }
  return out.empty() ? "Font" : out;
}

}  // namespace

struct Font::Hb {
  BlobPtr blob;
  FacePtr face;
  FontPtr font;
};

Font::Font(Bytes file, std::unique_ptr<Hb> hb, FontMetrics metrics)
    : file_(std::move(file)), hb_(std::move(hb)), metrics_(std::move(metrics)) {}

Font::~Font() = default;

Result<std::u32string> DecodeUtf8(std::string_view utf8) {
  std::u32string out;
  const auto bad = [] { return InvalidArgumentError("văn bản không phải UTF-8 hợp lệ"); };
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b0 = static_cast<unsigned char>(utf8[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      n = 1;
      cp = b0;
    } else if ((b0 & 0xe0) == 0xc0) {
      n = 2;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
      n = 3;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
      n = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return bad();
    }
    if (utf8.size() - i < n) {
      return bad();
    }
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(utf8[i + k]);
      if ((b & 0xc0) != 0x80) {
        return bad();
      }
      cp = cp << 6 | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return bad();
    }
    out += cp;
    i += n;
  }
  return out;
}

Result<std::unique_ptr<Font>> Font::Load(const std::string& path) {
  KYSO_ASSIGN_OR_RETURN(const MappedFile mapped, MappedFile::Open(path, kMaxFontFileLen),
                        "font");
  return FromBytes(Bytes(mapped.bytes().begin(), mapped.bytes().end()));
}

Result<std::unique_ptr<Font>> Font::FromBytes(Bytes font_file) {
  if (font_file.size() > kMaxFontFileLen) {
    return InvalidArgumentError("font file is larger than 32 MiB");
  }
  auto hb = std::make_unique<Hb>();
  // The blob borrows the bytes; Font keeps them (a moved vector keeps its buffer) and destroys
  // hb_ first.
  hb->blob.reset(hb_blob_create(reinterpret_cast<const char*>(font_file.data()),
                                static_cast<unsigned int>(font_file.size()),
                                HB_MEMORY_MODE_READONLY, nullptr, nullptr));
  hb->face.reset(hb_face_create(hb->blob.get(), 0));
  const unsigned int upem = hb_face_get_upem(hb->face.get());
  if (hb_face_get_glyph_count(hb->face.get()) == 0 || upem < 16 || upem > 16384) {
    return InvalidArgumentError("not a usable TrueType/OpenType font");
  }
  if (Table(hb->face.get(), HB_TAG('g', 'l', 'y', 'f')).size() == 0) {
    return InvalidArgumentError("font has no TrueType outlines (glyf); CFF fonts are not supported");
  }
  hb->font.reset(hb_font_create(hb->face.get()));
  hb_font_set_scale(hb->font.get(), static_cast<int>(upem), static_cast<int>(upem));
  hb_font_make_immutable(hb->font.get());

  FontMetrics m;
  m.units_per_em = static_cast<int>(upem);
  const Table head(hb->face.get(), HB_TAG('h', 'e', 'a', 'd'));
  m.x_min = head.I16(36);
  m.y_min = head.I16(38);
  m.x_max = head.I16(40);
  m.y_max = head.I16(42);
  const Table hhea(hb->face.get(), HB_TAG('h', 'h', 'e', 'a'));
  m.ascent = hhea.I16(4);
  m.descent = hhea.I16(6);
  if (m.ascent <= 0) {
    m.ascent = m.y_max > 0 ? m.y_max : m.units_per_em * 8 / 10;
  }
  if (m.descent > 0) {
    m.descent = -m.descent;
  }
  m.cap_height = m.ascent;
  const Table os2(hb->face.get(), HB_TAG('O', 'S', '/', '2'));
  if (os2.size() >= 78) {
    m.weight = os2.U16(4);
    const int family_class = os2.I16(30) >> 8;
    const int panose_family = os2.U16(32) >> 8;
    const int panose_serif = os2.U16(32) & 0xff;
    if (family_class >= 1 && family_class <= 7 && family_class != 6) {
      m.serif = true;
    } else if (family_class == 0 && panose_family == 2) {
      m.serif = panose_serif >= 2 && panose_serif <= 10;
    }
    m.italic = (os2.U16(62) & 1) != 0;
    if (os2.U16(0) >= 2 && os2.size() >= 90 && os2.I16(88) > 0) {
      m.cap_height = os2.I16(88);
    }
  }
  const Table post(hb->face.get(), HB_TAG('p', 'o', 's', 't'));
  if (post.size() >= 16) {
    m.italic_angle = static_cast<int32_t>(post.U32(4)) / 65536.0;
    m.fixed_pitch = post.U32(12) != 0;
  }
  m.italic = m.italic || m.italic_angle != 0;
  char name[128];
  unsigned int name_len = sizeof name;
  name_len = hb_ot_name_get_utf8(hb->face.get(), HB_OT_NAME_ID_POSTSCRIPT_NAME,
                                 HB_LANGUAGE_INVALID, &name_len, name);
  m.postscript_name = PdfNameChars(std::string_view(name, std::min<std::size_t>(
                                                              name_len, sizeof name - 1)));
  return std::unique_ptr<Font>(new Font(std::move(font_file), std::move(hb), std::move(m)));
}

Result<std::vector<ShapedGlyph>> Font::Shape(std::string_view utf8) const {
  if (utf8.size() > kMaxShapeTextLen) {
    return InvalidArgumentError("dòng chữ quá dài");
  }
  KYSO_ASSIGN_OR_RETURN(const std::u32string cps, DecodeUtf8(utf8));
  for (char32_t cp : cps) {
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
      return InvalidArgumentError("dòng chữ có ký tự điều khiển (" + HexCodePoint(cp) + ")");
    }
  }
  std::unique_ptr<hb_buffer_t, BufferDeleter> buf(hb_buffer_create());
  hb_buffer_add_utf8(buf.get(), utf8.data(), static_cast<int>(utf8.size()), 0,
                     static_cast<int>(utf8.size()));
  hb_buffer_set_language(buf.get(), hb_language_from_string("vi", -1));
  hb_buffer_guess_segment_properties(buf.get());
  hb_shape(hb_->font.get(), buf.get(), nullptr, 0);
  unsigned int n = 0;
  const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buf.get(), &n);
  const hb_glyph_position_t* pos = hb_buffer_get_glyph_positions(buf.get(), &n);
  std::vector<ShapedGlyph> out;
  out.reserve(n);
  for (unsigned int i = 0; i < n; ++i) {
    if (info[i].codepoint == 0) {
      // The cluster is a byte offset of a character boundary: DecodeUtf8 accepted the text.
      KYSO_ASSIGN_OR_RETURN(const std::u32string rest, DecodeUtf8(utf8.substr(info[i].cluster)));
      const char32_t cp = rest.empty() ? U'?' : rest[0];
      return InvalidArgumentError("phông chữ " + metrics_.postscript_name +
                                  " không có ký tự “" + EncodeUtf8(cp) + "” (" +
                                  HexCodePoint(cp) + ")");
    }
    out.push_back({info[i].codepoint, pos[i].x_advance, pos[i].x_offset, pos[i].y_offset,
                   info[i].cluster});
  }
  return out;
}

Result<double> Font::Width(std::string_view utf8, double size) const {
  KYSO_ASSIGN_OR_RETURN(const std::vector<ShapedGlyph> glyphs, Shape(utf8));
  long long units = 0;
  for (const ShapedGlyph& g : glyphs) {
    units += g.x_advance;
  }
  return static_cast<double>(units) * size / metrics_.units_per_em;
}

double Font::Ascent(double size) const { return metrics_.ascent * size / metrics_.units_per_em; }

double Font::Descent(double size) const {
  return metrics_.descent * size / metrics_.units_per_em;
}

int32_t Font::GlyphAdvance(uint32_t gid) const {
  return hb_font_get_glyph_h_advance(hb_->font.get(), gid);
}

Result<Bytes> Font::Subset(const std::set<uint32_t>& gids) const {
  std::unique_ptr<hb_subset_input_t, SubsetInputDeleter> input(hb_subset_input_create_or_fail());
  if (input == nullptr) {
    return InternalError("hb_subset_input_create_or_fail failed");
  }
  hb_set_t* glyphs = hb_subset_input_glyph_set(input.get());
  hb_set_add(glyphs, 0);
  for (uint32_t gid : gids) {
    hb_set_add(glyphs, gid);
  }
  hb_subset_input_set_flags(input.get(), HB_SUBSET_FLAGS_RETAIN_GIDS);
  FacePtr subset(hb_subset_or_fail(hb_->face.get(), input.get()));
  if (subset == nullptr) {
    return InternalError("HarfBuzz could not subset font " + metrics_.postscript_name);
  }
  BlobPtr blob(hb_face_reference_blob(subset.get()));
  unsigned int len = 0;
  const char* data = hb_blob_get_data(blob.get(), &len);
  if (data == nullptr || len == 0) {
    return InternalError("HarfBuzz gave an empty subset of font " + metrics_.postscript_name);
  }
  return Bytes(reinterpret_cast<const uint8_t*>(data), reinterpret_cast<const uint8_t*>(data) + len);
}

}  // namespace kyso::sign
