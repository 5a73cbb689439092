// Tests of png.h, font.h and appearance.h. The appearances are also judged by real PDF tools:
// a hand-written one-page PDF draws them, and qpdf, pdffonts, pdftotext and pdftoppm (when
// installed) must find it clean, the font embedded as a subset, the text exact and the
// pixels where they belong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <sys/wait.h>

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "kyso/base/temp_dir.h"
#include "kyso/sign/appearance.h"
#include "kyso/sign/font.h"
#include "kyso/sign/png.h"

namespace kyso::sign {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// Helpers: PNGs of every kind, written with libpng's low-level API.

struct RawPng {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 8;
  int color_type = PNG_COLOR_TYPE_RGB;
  bool interlace = false;
  std::vector<Bytes> rows;          // packed as PNG stores them (16-bit big-endian)
  std::vector<png_color> palette;   // PNG_COLOR_TYPE_PALETTE
  Bytes trns;                       // palette alpha
  bool has_trns_color = false;      // grey/RGB colour key
  png_color_16 trns_color{};
  double dpi = 0;
};

void AppendFn(png_structp p, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(p));
  out->insert(out->end(), data, data + n);
}
void FlushFn(png_structp) {}

// WriteImpl holds no object with a destructor: libpng longjmps into it on error.
bool WriteImpl(png_structp p, png_infop info, const RawPng* r, png_bytepp rows) {
  if (setjmp(png_jmpbuf(p))) {
    return false;
  }
  png_set_IHDR(p, info, r->width, r->height, r->bit_depth, r->color_type,
               r->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!r->palette.empty()) {
    png_set_PLTE(p, info, r->palette.data(), static_cast<int>(r->palette.size()));
  }
  if (!r->trns.empty()) {
    png_set_tRNS(p, info, r->trns.data(), static_cast<int>(r->trns.size()), nullptr);
  }
  if (r->has_trns_color) {
    png_set_tRNS(p, info, nullptr, 0, &r->trns_color);
  }
  if (r->dpi > 0) {
    const auto ppm = static_cast<png_uint_32>(std::lround(r->dpi / 0.0254));
    png_set_pHYs(p, info, ppm, ppm, PNG_RESOLUTION_METER);
  }
  png_write_info(p, info);
  png_write_image(p, rows);  // runs the Adam7 passes itself
  png_write_end(p, info);
  return true;
}

Bytes WriteRawPng(const RawPng& r) {
  Bytes out;
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(p);
  png_set_write_fn(p, &out, AppendFn, FlushFn);
  std::vector<Bytes> rows = r.rows;
  std::vector<png_bytep> ptrs;
  for (Bytes& row : rows) {
    ptrs.push_back(row.data());
  }
  const bool ok = WriteImpl(p, info, &r, ptrs.data());
  png_destroy_write_struct(&p, &info);
  EXPECT_TRUE(ok);
  return out;
}

void PutU32(Bytes* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) {
    out->push_back(static_cast<uint8_t>(v >> s));
  }
}

void PutChunk(Bytes* out, const char* type, const Bytes& data) {
  PutU32(out, static_cast<uint32_t>(data.size()));
  const std::size_t start = out->size();
  out->insert(out->end(), type, type + 4);
  out->insert(out->end(), data.begin(), data.end());
  PutU32(out, static_cast<uint32_t>(crc32(0, out->data() + start, static_cast<uInt>(4 + data.size()))));
}

RasterImage SolidImage(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  RasterImage img;
  img.width = w;
  img.height = h;
  for (int i = 0; i < w * h; ++i) {
    img.rgb.insert(img.rgb.end(), {r, g, b});
  }
  return img;
}

Bytes Inflate(const Bytes& in, std::size_t expected_len) {
  Bytes out(expected_len + 16);
  uLongf len = static_cast<uLongf>(out.size());
  EXPECT_EQ(uncompress(out.data(), &len, in.data(), static_cast<uLong>(in.size())), Z_OK);
  out.resize(len);
  return out;
}

// ---------------------------------------------------------------------------------------------
// PNG decoding.

TEST(PngTest, RgbaRoundTripWithDpi) {
  RasterImage img;
  img.width = 3;
  img.height = 2;
  img.rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  img.alpha = {255, 0, 128, 1, 254, 255};
  img.dpi_x = 300;
  img.dpi_y = 300;
  auto png = EncodePng(img);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  auto back = DecodePng(*png);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->width, 3);
  EXPECT_EQ(back->height, 2);
  EXPECT_EQ(back->alpha, img.alpha);
  // Only fully transparent pixels may lose their colour; none here is 0-alpha except one.
  for (int i = 0; i < 6; ++i) {
    if (img.alpha[i] == 0) continue;
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(back->rgb[i * 3 + c], img.rgb[i * 3 + c], 1) << i;
    }
  }
  EXPECT_NEAR(back->dpi_x, 300, 0.01);
  EXPECT_NEAR(back->dpi_y, 300, 0.01);
}

TEST(PngTest, OpaqueRgbHasNoAlphaAndNoDpi) {
  const RasterImage img = SolidImage(4, 4, 1, 2, 3);
  auto png = EncodePng(img);
  ASSERT_TRUE(png.ok());
  auto back = DecodePng(*png);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->alpha.empty());
  EXPECT_EQ(back->rgb, img.rgb);
  EXPECT_EQ(back->dpi_x, 0);
  EXPECT_EQ(back->dpi_y, 0);
}

TEST(PngTest, PaletteWithTransparency) {
  RawPng r;
  r.width = 4;
  r.height = 1;
  r.bit_depth = 8;
  r.color_type = PNG_COLOR_TYPE_PALETTE;
  r.palette = {{255, 0, 0}, {0, 0, 255}, {255, 255, 255}};
  r.trns = {255, 128, 0};  // index 2 is fully transparent
  r.rows = {{0, 1, 2, 0}};
  auto img = DecodePng(WriteRawPng(r));
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->rgb, (Bytes{255, 0, 0, 0, 0, 255, 255, 255, 255, 255, 0, 0}));
  EXPECT_EQ(img->alpha, (Bytes{255, 128, 0, 255}));
}

TEST(PngTest, TwoBitPalette) {
  RawPng r;
  r.width = 5;
  r.height = 1;
  r.bit_depth = 2;
  r.color_type = PNG_COLOR_TYPE_PALETTE;
  r.palette = {{0, 0, 0}, {10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
  // Indices 3 2 1 0 | 1, packed most significant first.
  r.rows = {{0b11100100, 0b01000000}};
  auto img = DecodePng(WriteRawPng(r));
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->rgb, (Bytes{70, 80, 90, 40, 50, 60, 10, 20, 30, 0, 0, 0, 10, 20, 30}));
  EXPECT_TRUE(img->alpha.empty());
}

TEST(PngTest, OneBitGrey) {
  RawPng r;
  r.width = 3;
  r.height = 1;
  r.bit_depth = 1;
  r.color_type = PNG_COLOR_TYPE_GRAY;
  r.rows = {{0b10100000}};
  auto img = DecodePng(WriteRawPng(r));
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->rgb, (Bytes{255, 255, 255, 0, 0, 0, 255, 255, 255}));
}

TEST(PngTest, GreyWithColourKeyAndGreyAlpha) {
  RawPng key;
  key.width = 2;
  key.height = 1;
  key.color_type = PNG_COLOR_TYPE_GRAY;
  key.rows = {{7, 200}};
  key.has_trns_color = true;
  key.trns_color.gray = 200;
  auto img = DecodePng(WriteRawPng(key));
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->rgb, (Bytes{7, 7, 7, 200, 200, 200}));
  EXPECT_EQ(img->alpha, (Bytes{255, 0}));

  RawPng ga;
  ga.width = 2;
  ga.height = 1;
  ga.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  ga.rows = {{9, 100, 250, 255}};
  auto img2 = DecodePng(WriteRawPng(ga));
  ASSERT_TRUE(img2.ok()) << img2.status().ToString();
  EXPECT_EQ(img2->rgb, (Bytes{9, 9, 9, 250, 250, 250}));
  EXPECT_EQ(img2->alpha, (Bytes{100, 255}));
}

TEST(PngTest, SixteenBitRgbaScalesTo8Bits) {
  RawPng r;
  r.width = 1;
  r.height = 1;
  r.bit_depth = 16;
  r.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  r.rows = {{0x12, 0x34, 0xff, 0xff, 0x00, 0x00, 0x80, 0x00}};
  auto img = DecodePng(WriteRawPng(r));
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  const auto scale = [](int v) { return static_cast<uint8_t>(std::lround(v * 255.0 / 65535)); };
  EXPECT_EQ(img->rgb, (Bytes{scale(0x1234), 255, 0}));
  EXPECT_EQ(img->alpha, (Bytes{scale(0x8000)}));
}

TEST(PngTest, InterlacedEqualsNonInterlaced) {
  RawPng r;
  r.width = 13;
  r.height = 9;
  for (png_uint_32 y = 0; y < r.height; ++y) {
    Bytes row;
    for (png_uint_32 x = 0; x < r.width; ++x) {
      row.insert(row.end(), {static_cast<uint8_t>(x * 19), static_cast<uint8_t>(y * 27),
                             static_cast<uint8_t>(x * y)});
    }
    r.rows.push_back(row);
  }
  r.dpi = 96;
  auto plain = DecodePng(WriteRawPng(r));
  r.interlace = true;
  auto adam7 = DecodePng(WriteRawPng(r));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(adam7.ok()) << adam7.status().ToString();
  EXPECT_EQ(plain->rgb, adam7->rgb);
  EXPECT_EQ(adam7->rgb[(4 * 13 + 5) * 3 + 1], 4 * 27);
  EXPECT_NEAR(adam7->dpi_x, 96, 0.02);
}

TEST(PngTest, RefusesWhatIsNotAPng) {
  for (const std::string& s : {std::string(), std::string("GIF89a......"),
                               std::string("\x89PNG\r\n\x1a\n", 8)}) {
    auto img = DecodePng(AsBytes(s));
    ASSERT_FALSE(img.ok());
    EXPECT_EQ(img.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(img.status().message(), HasSubstr("ảnh không phải tệp PNG hợp lệ"));
  }
}

TEST(PngTest, RefusesTruncatedAndCorrupted) {
  RasterImage img = SolidImage(64, 64, 0, 0, 0);
  for (std::size_t i = 0; i < img.rgb.size(); ++i) {
    img.rgb[i] = static_cast<uint8_t>(i * 7919 % 251);  // incompressible enough
  }
  auto png = EncodePng(img);
  ASSERT_TRUE(png.ok());
  for (std::size_t cut : {png->size() / 2, png->size() - 13, png->size() - 1}) {
    Bytes truncated(png->begin(), png->begin() + static_cast<std::ptrdiff_t>(cut));
    auto r = DecodePng(truncated);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("ảnh không phải tệp PNG hợp lệ"));
  }
  Bytes corrupt = *png;
  corrupt[corrupt.size() / 2] ^= 0x55;  // inside IDAT: its CRC no longer matches
  EXPECT_FALSE(DecodePng(corrupt).ok());
}

TEST(PngTest, RefusesTooManyPixelsBeforeAllocating) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  PutU32(&ihdr, 5000);
  PutU32(&ihdr, 5000);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  PutChunk(&png, "IHDR", ihdr);
  PutChunk(&png, "IDAT", {0x78, 0x9c, 0x03, 0x00});
  PutChunk(&png, "IEND", {});
  auto r = DecodePng(png);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("quá lớn"));

  Bytes huge(kMaxPngLen + 1, 0);
  std::copy(png.begin(), png.begin() + 8, huge.begin());
  auto r2 = DecodePng(huge);
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.status().message(), HasSubstr("quá lớn"));
}

// FixCrcs recomputes every chunk's CRC so that a mutation reaches libpng's parsers instead of
// its CRC check.
void FixCrcs(Bytes* png) {
  std::size_t at = 8;
  while (at + 12 <= png->size()) {
    const std::size_t len = (std::size_t{(*png)[at]} << 24) | (std::size_t{(*png)[at + 1]} << 16) |
                            (std::size_t{(*png)[at + 2]} << 8) | (*png)[at + 3];
    if (len > png->size() - at - 12) break;
    const auto crc = static_cast<uint32_t>(
        crc32(0, png->data() + at + 4, static_cast<uInt>(len + 4)));
    for (int k = 0; k < 4; ++k) {
      (*png)[at + 8 + len + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
    }
    at += len + 12;
  }
}

TEST(PngTest, MutatedPngsNeverCrash) {
  RawPng r;
  r.width = 9;
  r.height = 7;
  r.bit_depth = 4;
  r.color_type = PNG_COLOR_TYPE_PALETTE;
  r.interlace = true;
  r.palette.assign(16, png_color{1, 2, 3});
  r.trns.assign(16, 128);
  r.dpi = 300;
  for (png_uint_32 y = 0; y < r.height; ++y) r.rows.push_back(Bytes(5, static_cast<uint8_t>(y * 37)));
  const Bytes good = WriteRawPng(r);
  ASSERT_TRUE(DecodePng(good).ok());
  uint64_t state = 0x9e3779b97f4a7c15ull;  // fixed seed: the same inputs on every run
  const auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  int decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes m = good;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < flips; ++k) {
      m[8 + next() % (m.size() - 8)] = static_cast<uint8_t>(next());
    }
    if (i % 2 == 0) FixCrcs(&m);
    auto img = DecodePng(m);
    if (img.ok()) {
      ++decoded;
      EXPECT_EQ(img->rgb.size(), static_cast<std::size_t>(img->width) * img->height * 3);
      EXPECT_TRUE(img->alpha.empty() || img->alpha.size() == img->rgb.size() / 3);
    } else {
      EXPECT_EQ(img.status().code(), Code::kInvalidArgument) << img.status().ToString();
    }
  }
  EXPECT_GT(decoded, 0);  // some mutations (pixel data) still decode
}

// ---------------------------------------------------------------------------------------------
// Font.

class FontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDefaultFontPath)) {
      GTEST_SKIP() << "fonts-liberation2 is not installed";
    }
    auto font = Font::Load(kDefaultFontPath);
    ASSERT_TRUE(font.ok()) << font.status().ToString();
    font_ = std::move(*font);
  }
  std::unique_ptr<Font> font_;
};

TEST_F(FontTest, Metrics) {
  EXPECT_EQ(font_->metrics().postscript_name, "LiberationSerif");
  EXPECT_TRUE(font_->metrics().serif);
  EXPECT_FALSE(font_->metrics().italic);
  EXPECT_GT(font_->Ascent(10), 8);
  EXPECT_LT(font_->Ascent(10), 10);
  EXPECT_LT(font_->Descent(10), -1);
  EXPECT_GT(font_->Descent(10), -3);
}

TEST_F(FontTest, WidthMatchesTimesMetrics) {
  // Times New Roman (and so Liberation Serif): "H" is 0.722 em, a space 0.25 em.
  auto w = font_->Width("H H", 10);
  ASSERT_TRUE(w.ok());
  EXPECT_NEAR(*w, 10 * (0.722 * 2 + 0.25), 0.02);
  EXPECT_EQ(*font_->Width("", 10), 0);
}

TEST_F(FontTest, DecomposedVietnameseShapesToPrecomposedGlyphs) {
  auto nfc = font_->Shape("Đồng Nai");
  auto nfd = font_->Shape("\xC4\x90o\xCC\x82\xCC\x80ng Nai");  // Đ o U+0302 U+0300 ng
  ASSERT_TRUE(nfc.ok()) << nfc.status().ToString();
  ASSERT_TRUE(nfd.ok()) << nfd.status().ToString();
  ASSERT_EQ(nfc->size(), nfd->size());
  for (std::size_t i = 0; i < nfc->size(); ++i) {
    EXPECT_EQ((*nfc)[i].gid, (*nfd)[i].gid) << i;
  }
}

TEST_F(FontTest, RefusesMissingCharactersAndBadText) {
  auto missing = font_->Width("Sở 漢", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("không có ký tự “漢” (U+6F22)"));
  EXPECT_FALSE(font_->Width("\xC3\x28", 10).ok());         // broken sequence
  EXPECT_FALSE(font_->Width("\xC0\xAF", 10).ok());         // overlong '/'
  EXPECT_FALSE(font_->Width("\xED\xA0\x80", 10).ok());     // surrogate
  EXPECT_FALSE(font_->Width("a\nb", 10).ok());             // control character
  EXPECT_FALSE(font_->Width(std::string(kMaxShapeTextLen + 1, 'a'), 10).ok());
}

TEST_F(FontTest, SubsetKeepsGlyphIds) {
  auto glyphs = font_->Shape("Sở Khoa học");
  ASSERT_TRUE(glyphs.ok());
  std::set<uint32_t> gids;
  for (const ShapedGlyph& g : *glyphs) gids.insert(g.gid);
  auto subset = font_->Subset(gids);
  ASSERT_TRUE(subset.ok()) << subset.status().ToString();
  EXPECT_LT(subset->size(), std::filesystem::file_size(kDefaultFontPath) / 4);
  auto sub = Font::FromBytes(*subset);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  for (uint32_t gid : gids) {
    EXPECT_EQ((*sub)->GlyphAdvance(gid), font_->GlyphAdvance(gid)) << gid;
  }
}

TEST(FontLoadTest, RefusesMissingAndNonFontFiles) {
  EXPECT_EQ(Font::Load("/nonexistent/font.ttf").status().code(), Code::kNotFound);
  EXPECT_FALSE(Font::FromBytes(Bytes{1, 2, 3, 4}).ok());
}

// ---------------------------------------------------------------------------------------------
// Appearances, structurally.

TEST(ImageAppearanceTest, OpaqueImageHasNoSMask) {
  auto ap = ImageAppearance(SolidImage(20, 10, 9, 8, 7), 100, 100);
  ASSERT_TRUE(ap.ok()) << ap.status().ToString();
  ASSERT_EQ(ap->objects.size(), 2u);
  const PdfObjectSpec& form = ap->objects[0];
  EXPECT_THAT(form.dict, HasSubstr("/Subtype /Form /BBox [0 0 100 100]"));
  EXPECT_THAT(form.dict, HasSubstr("/Im0 {ref:1}"));
  // 20×10 into 100×100: 100×50, centred vertically.
  EXPECT_EQ(AsString(form.stream), "q 100 0 0 50 0 25 cm /Im0 Do Q\n");
  EXPECT_THAT(form.dict, HasSubstr("/Length " + std::to_string(form.stream.size()) + " "));
  const PdfObjectSpec& im = ap->objects[1];
  EXPECT_TRUE(im.is_stream);
  EXPECT_THAT(im.dict, HasSubstr("/Width 20 /Height 10"));
  EXPECT_THAT(im.dict, HasSubstr("/ColorSpace /DeviceRGB"));
  EXPECT_THAT(im.dict, HasSubstr("/Filter /FlateDecode"));
  EXPECT_THAT(im.dict, ::testing::Not(HasSubstr("/SMask")));
  EXPECT_EQ(Inflate(im.stream, 600), SolidImage(20, 10, 9, 8, 7).rgb);
}

TEST(ImageAppearanceTest, R30_1_TransparentBackgroundBecomesSMask) {
  RasterImage img = SolidImage(10, 20, 0, 0, 255);
  img.alpha.assign(200, 0);
  img.alpha[5] = 255;
  auto ap = ImageAppearance(img, 50, 50);
  ASSERT_TRUE(ap.ok());
  ASSERT_EQ(ap->objects.size(), 3u);
  EXPECT_EQ(AsString(ap->objects[0].stream), "q 25 0 0 50 12.5 0 cm /Im0 Do Q\n");
  EXPECT_THAT(ap->objects[1].dict, HasSubstr("/SMask {ref:2}"));
  EXPECT_THAT(ap->objects[2].dict, HasSubstr("/ColorSpace /DeviceGray"));
  EXPECT_EQ(Inflate(ap->objects[2].stream, 200), img.alpha);
}

TEST(ImageAppearanceTest, RefusesBadArguments) {
  RasterImage bad = SolidImage(2, 2, 0, 0, 0);
  bad.rgb.pop_back();
  EXPECT_FALSE(ImageAppearance(bad, 10, 10).ok());
  EXPECT_FALSE(ImageAppearance(RasterImage{}, 10, 10).ok());
  EXPECT_FALSE(ImageAppearance(SolidImage(2, 2, 0, 0, 0), 0, 10).ok());
  EXPECT_FALSE(ImageAppearance(SolidImage(2, 2, 0, 0, 0), 10, NAN).ok());
  EXPECT_FALSE(ImageAppearance(SolidImage(2, 2, 0, 0, 0), 1e6, 10).ok());
}

TEST(SealSizeTest, R30_2_RealSizeFromMillimetresOrDpi) {
  RasterImage img = SolidImage(300, 150, 255, 0, 0);
  auto mm = SealSize(img, 40.0);
  ASSERT_TRUE(mm.ok());
  EXPECT_NEAR(mm->first, 40 * 72 / 25.4, 1e-9);
  EXPECT_NEAR(mm->second, 20 * 72 / 25.4, 1e-9);

  img.dpi_x = img.dpi_y = 300;
  auto dpi = SealSize(img, std::nullopt);
  ASSERT_TRUE(dpi.ok());
  EXPECT_NEAR(dpi->first, 72, 1e-9);
  EXPECT_NEAR(dpi->second, 36, 1e-9);
  EXPECT_NEAR(SealSize(img, 10.0)->first, 10 * 72 / 25.4, 1e-9);  // the size wins over DPI

  img.dpi_x = img.dpi_y = 0;
  auto none = SealSize(img, std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(none.status().message(),
            "ảnh con dấu không ghi độ phân giải (DPI): cho kích thước con dấu bằng --seal-mm");
  EXPECT_FALSE(SealSize(img, 0.0).ok());
  EXPECT_FALSE(SealSize(img, -3.0).ok());
  EXPECT_FALSE(SealSize(img, NAN).ok());
  img.dpi_x = img.dpi_y = 1;  // 300 inches wide: a wrong DPI, not a seal
  auto absurd = SealSize(img, std::nullopt);
  ASSERT_FALSE(absurd.ok());
  EXPECT_THAT(absurd.status().message(), HasSubstr("--seal-mm"));
}

TEST(SealSizeTest, R30_2_DpiFromPng) {
  RasterImage img = SolidImage(472, 472, 255, 0, 0);  // 40 mm at 300 dpi
  img.dpi_x = img.dpi_y = 300;
  auto back = DecodePng(*EncodePng(img));
  ASSERT_TRUE(back.ok());
  auto size = SealSize(*back, std::nullopt);
  ASSERT_TRUE(size.ok());
  EXPECT_NEAR(size->first / (72 / 25.4), 39.96, 0.01);
}

class TextAppearanceTest : public FontTest {};

TEST_F(TextAppearanceTest, TextSizeIsWidestLineByLeading) {
  const std::vector<std::string> lines = {"H", "H H"};
  auto size = TextSize(lines, *font_, 10);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_DOUBLE_EQ(size->first, *font_->Width("H H", 10));
  EXPECT_DOUBLE_EQ(size->second, 2 * 1.2 * 10);
}

TEST_F(TextAppearanceTest, R30_3_FontEmbeddedAsSubsetWithToUnicode) {
  auto ap = TextAppearance({"Sao y bản chính", "Đồng Nai"}, *font_, 10, 200, 24);
  ASSERT_TRUE(ap.ok()) << ap.status().ToString();
  ASSERT_EQ(ap->objects.size(), 6u);
  EXPECT_THAT(ap->objects[0].dict, HasSubstr("/BBox [0 0 200 24]"));
  EXPECT_THAT(ap->objects[0].dict, HasSubstr("/Font << /F0 {ref:1} >>"));
  EXPECT_THAT(AsString(ap->objects[0].stream), HasSubstr("/F0 10 Tf"));
  EXPECT_THAT(ap->objects[1].dict, HasSubstr("/Subtype /Type0"));
  EXPECT_THAT(ap->objects[1].dict, HasSubstr("+LiberationSerif /Encoding /Identity-H"));
  EXPECT_THAT(ap->objects[1].dict, HasSubstr("/DescendantFonts [{ref:2}] /ToUnicode {ref:5}"));
  EXPECT_THAT(ap->objects[2].dict, HasSubstr("/Subtype /CIDFontType2"));
  EXPECT_THAT(ap->objects[2].dict, HasSubstr("/CIDToGIDMap /Identity"));
  EXPECT_THAT(ap->objects[2].dict, HasSubstr("/FontDescriptor {ref:3}"));
  EXPECT_THAT(ap->objects[3].dict, HasSubstr("/FontFile2 {ref:4}"));
  EXPECT_THAT(ap->objects[4].dict, HasSubstr("/Length1 "));
  // The tag is six capitals, then '+'.
  const std::string& type0 = ap->objects[1].dict;
  const std::size_t plus = type0.find("+LiberationSerif");
  ASSERT_NE(plus, std::string::npos);
  for (std::size_t i = plus - 6; i < plus; ++i) {
    EXPECT_TRUE(type0[i] >= 'A' && type0[i] <= 'Z') << type0;
  }
  EXPECT_EQ(type0[plus - 7], '/');
  const Bytes cmap = Inflate(ap->objects[5].stream, 1 << 16);
  // "Đ" is U+0110, "ả" U+1EA3.
  EXPECT_THAT(AsString(cmap), HasSubstr("> <0110>"));
  EXPECT_THAT(AsString(cmap), HasSubstr("> <1EA3>"));
}

TEST_F(TextAppearanceTest, R30_3_ZeroWidthSpaceDoesNotTakeTheSpaceGlyph) {
  auto ap = TextAppearance({"a\xE2\x80\x8B" "b c"}, *font_, 10, 100, 12);  // U+200B first
  ASSERT_TRUE(ap.ok()) << ap.status().ToString();
  const std::string cmap(AsString(Inflate(ap->objects[5].stream, 1 << 16)));
  EXPECT_THAT(cmap, HasSubstr("> <0020>"));
  EXPECT_THAT(cmap, ::testing::Not(HasSubstr("<200B>")));
}

TEST_F(TextAppearanceTest, MarksArePlacedAndKerningKept) {
  // x + U+0303 has no precomposed form: HarfBuzz places the tilde, which gets its own Tm.
  // "AV" kerns: the TJ carries the difference from the /W widths.
  auto ap = TextAppearance({"x\xCC\x83 AV"}, *font_, 10, 100, 12);
  ASSERT_TRUE(ap.ok()) << ap.status().ToString();
  const std::string content(AsString(ap->objects[0].stream));
  EXPECT_THAT(content, ::testing::ContainsRegex("Tm <[0-9A-F]{4}> Tj\n"));
  EXPECT_THAT(content, ::testing::ContainsRegex("<[0-9A-F]{4}> [0-9.]+ <[0-9A-F]{4}>\\] TJ"))
      << content;
  // The line is right-aligned: it ends at the box's right edge.
  auto width = font_->Width("x\xCC\x83 AV", 10);
  ASSERT_TRUE(width.ok());
  EXPECT_THAT(content, HasSubstr("1 0 0 1 " + std::to_string(100 - *width).substr(0, 5)));
}

TEST_F(TextAppearanceTest, Bounds) {
  EXPECT_FALSE(TextAppearance({}, *font_, 10, 100, 100).ok());
  EXPECT_FALSE(TextAppearance(std::vector<std::string>(9, "a"), *font_, 10, 100, 100).ok());
  EXPECT_TRUE(TextAppearance(std::vector<std::string>(8, "a"), *font_, 10, 100, 100).ok());
  EXPECT_FALSE(TextAppearance({std::string(257, 'a')}, *font_, 10, 100, 100).ok());
  EXPECT_FALSE(TextAppearance({"a"}, *font_, 0, 100, 100).ok());
  EXPECT_FALSE(TextAppearance({"a"}, *font_, 10, 0, 100).ok());
  EXPECT_FALSE(TextSize({"\xff"}, *font_, 10).ok());
  auto missing = TextAppearance({"ok", "Sở 漢"}, *font_, 10, 100, 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("dòng 2"));
  EXPECT_THAT(missing.status().message(), HasSubstr("“漢”"));
}

// ---------------------------------------------------------------------------------------------
// The judges: a real PDF, read by qpdf and poppler.

bool HaveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// RunTool runs `cmd` with stdout and stderr to files; gives the exit status.
int RunTool(const std::string& cmd, const std::filesystem::path& out, const std::filesystem::path& err) {
  const int rc = std::system((cmd + " >'" + out.string() + "' 2>'" + err.string() + "'").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

struct Placed {
  const Appearance* appearance;
  double x, y;
};

// BuildPdf writes a one-page PDF (A4) that draws each appearance's Form XObject at its place,
// numbering the objects and resolving "{ref:N}" as a PDF writer does.
std::string BuildPdf(const std::vector<Placed>& placed) {
  std::vector<std::string> bodies(4);  // 1 catalog, 2 pages, 3 page, 4 content
  std::string xobjects, content;
  for (std::size_t k = 0; k < placed.size(); ++k) {
    const Appearance& ap = *placed[k].appearance;
    const std::size_t base = bodies.size() + 1;
    xobjects += "/Fm" + std::to_string(k) + " " + std::to_string(base) + " 0 R ";
    content += "q 1 0 0 1 " + std::to_string(placed[k].x) + " " + std::to_string(placed[k].y) +
               " cm /Fm" + std::to_string(k) + " Do Q\n";
    for (const PdfObjectSpec& obj : ap.objects) {
      std::string dict = obj.dict;
      for (std::size_t at; (at = dict.find("{ref:")) != std::string::npos;) {
        const std::size_t end = dict.find('}', at);
        const std::size_t n = std::stoul(dict.substr(at + 5, end - at - 5));
        EXPECT_LT(n, ap.objects.size());
        dict.replace(at, end - at + 1, std::to_string(base + n) + " 0 R");
      }
      std::string body = dict;
      if (obj.is_stream) {
        body += "\nstream\n" + std::string(AsString(obj.stream)) + "\nendstream";
      }
      bodies.push_back(body);
    }
  }
  bodies[0] = "<< /Type /Catalog /Pages 2 0 R >>";
  bodies[1] = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
  bodies[2] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << " +
              xobjects + ">> >> /Contents 4 0 R >>";
  bodies[3] = "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
              "\nendstream";
  std::string pdf = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + bodies[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(bodies.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(bodies.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

struct Ppm {
  int width = 0, height = 0;
  std::string pixels;
  // At gives the RGB of the pixel at PDF point (x, y) rendered at 72 dpi (y up).
  std::array<int, 3> At(double x, double y) const {
    const int px = static_cast<int>(x);
    const int py = height - 1 - static_cast<int>(y);
    const std::size_t i = (static_cast<std::size_t>(py) * width + px) * 3;
    return {static_cast<unsigned char>(pixels[i]), static_cast<unsigned char>(pixels[i + 1]),
            static_cast<unsigned char>(pixels[i + 2])};
  }
};

// ParsePpm reads a binary P6 with maxval 255 (comments allowed in the header).
bool ParsePpm(const std::string& data, Ppm* out) {
  std::size_t i = 0;
  std::vector<long> fields;
  if (data.compare(0, 2, "P6") != 0) return false;
  i = 2;
  while (fields.size() < 3 && i < data.size()) {
    if (data[i] == '#') {
      while (i < data.size() && data[i] != '\n') ++i;
    } else if (std::isspace(static_cast<unsigned char>(data[i]))) {
      ++i;
    } else {
      long v = 0;
      while (i < data.size() && std::isdigit(static_cast<unsigned char>(data[i]))) {
        v = v * 10 + (data[i++] - '0');
      }
      fields.push_back(v);
    }
  }
  if (fields.size() != 3 || fields[2] != 255 || i >= data.size()) return false;
  ++i;  // the single whitespace after maxval
  out->width = static_cast<int>(fields[0]);
  out->height = static_cast<int>(fields[1]);
  out->pixels = data.substr(i);
  return out->pixels.size() == static_cast<std::size_t>(out->width) * out->height * 3;
}

bool IsWhite(const std::array<int, 3>& c) { return c[0] > 245 && c[1] > 245 && c[2] > 245; }
bool IsBlue(const std::array<int, 3>& c) { return c[0] < 40 && c[1] < 40 && c[2] > 215; }
bool IsRed(const std::array<int, 3>& c) { return c[0] > 215 && c[1] < 40 && c[2] < 40; }
bool IsDark(const std::array<int, 3>& c) { return c[0] < 128 && c[1] < 128 && c[2] < 128; }

std::string Rgb(const std::array<int, 3>& c) {
  return std::to_string(c[0]) + "," + std::to_string(c[1]) + "," + std::to_string(c[2]);
}

TEST_F(FontTest, R30_1_R30_2_R30_3_PdfToolsJudgeTheAppearances) {
  for (const char* tool : {"qpdf", "pdffonts", "pdftotext", "pdftoppm"}) {
    if (!HaveTool(tool)) {
      GTEST_SKIP() << tool << " is not installed";
    }
  }
  TempDir dir("kyso-appearance");
  ASSERT_FALSE(dir.path().empty());

  // The person's signature: a blue bar on a transparent 200×100 background, through PNG.
  RasterImage sig = SolidImage(200, 100, 0, 0, 255);
  sig.alpha.assign(200 * 100, 0);
  for (int y = 25; y < 75; ++y) {
    for (int x = 50; x < 150; ++x) sig.alpha[y * 200 + x] = 255;
  }
  auto sig_png = EncodePng(sig);
  ASSERT_TRUE(sig_png.ok());
  auto sig_img = DecodePng(*sig_png);
  ASSERT_TRUE(sig_img.ok());
  auto sig_ap = ImageAppearance(*sig_img, 200, 100);
  ASSERT_TRUE(sig_ap.ok()) << sig_ap.status().ToString();

  // The seal: a red disc on transparency, 100 px at 72 dpi, so 100 points.
  RasterImage seal = SolidImage(100, 100, 255, 0, 0);
  seal.alpha.assign(100 * 100, 0);
  for (int y = 0; y < 100; ++y) {
    for (int x = 0; x < 100; ++x) {
      if (std::hypot(x + 0.5 - 50, y + 0.5 - 50) < 45) seal.alpha[y * 100 + x] = 255;
    }
  }
  seal.dpi_x = seal.dpi_y = 72;
  auto seal_img = DecodePng(*EncodePng(seal));
  ASSERT_TRUE(seal_img.ok());
  auto seal_size = SealSize(*seal_img, std::nullopt);
  ASSERT_TRUE(seal_size.ok()) << seal_size.status().ToString();
  EXPECT_NEAR(seal_size->first, 100, 0.05);
  auto seal_ap = ImageAppearance(*seal_img, seal_size->first, seal_size->second);
  ASSERT_TRUE(seal_ap.ok());

  // The copy stamp.
  const std::vector<std::string> lines = {
      "Sao y bản chính, Sở Khoa học và Công nghệ tỉnh Đồng Nai", "2026-11-25T14:03:09+07:00",
      "ĐỒNG NAI – Ấp Ổn Định, Quyết định số 30/2020/NĐ-CP", "AVA Tô x\xCC\x83"};
  auto text_size = TextSize(lines, *font_, 10);
  ASSERT_TRUE(text_size.ok()) << text_size.status().ToString();
  auto text_ap = TextAppearance(lines, *font_, 10, text_size->first, text_size->second);
  ASSERT_TRUE(text_ap.ok()) << text_ap.status().ToString();

  const std::string pdf = BuildPdf({{&*sig_ap, 50, 600}, {&*seal_ap, 350, 600}, {&*text_ap, 100, 400}});
  const auto pdf_path = dir / "appearance.pdf";
  std::ofstream(pdf_path, std::ios::binary) << pdf;
  // KYSO_APPEARANCE_PDF=/some/file.pdf keeps a copy to look at.
  if (const char* keep = std::getenv("KYSO_APPEARANCE_PDF"); keep != nullptr) {
    std::ofstream(keep, std::ios::binary) << pdf;
  }
  const auto out = dir / "out.txt";
  const auto err = dir / "err.txt";
  const std::string quoted = "'" + pdf_path.string() + "'";

  EXPECT_EQ(RunTool("qpdf --check " + quoted, out, err), 0) << ReadFile(out) << ReadFile(err);
  EXPECT_THAT(ReadFile(out), HasSubstr("No syntax or stream encoding errors"));

  ASSERT_EQ(RunTool("pdffonts " + quoted, out, err), 0) << ReadFile(err);
  EXPECT_EQ(ReadFile(err), "");
  const std::string fonts = ReadFile(out);
  EXPECT_THAT(fonts, ::testing::ContainsRegex("[A-Z]{6}\\+LiberationSerif +CID TrueType +"
                                              "Identity-H +yes yes yes"))
      << fonts;

  ASSERT_EQ(RunTool("pdftotext -enc UTF-8 " + quoted + " -", out, err), 0) << ReadFile(err);
  EXPECT_EQ(ReadFile(err), "");
  const std::string text = ReadFile(out);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_THAT(text, HasSubstr(lines[i] + "\n")) << text;
  }
  EXPECT_THAT(text, HasSubstr("AVA Tô x")) << text;  // kerned, and a placed mark

  ASSERT_EQ(RunTool("pdftoppm -r 72 -singlefile " + quoted + " '" + (dir / "page").string() + "'",
                out, err),
            0)
      << ReadFile(err);
  EXPECT_EQ(ReadFile(err), "");
  Ppm ppm;
  ASSERT_TRUE(ParsePpm(ReadFile(dir / "page.ppm"), &ppm));
  ASSERT_EQ(ppm.width, 595);
  ASSERT_EQ(ppm.height, 842);
  // Signature box 50..250 × 600..700; the bar is x 100..200, y 625..675.
  EXPECT_TRUE(IsBlue(ppm.At(150, 650))) << Rgb(ppm.At(150, 650));
  EXPECT_TRUE(IsBlue(ppm.At(102, 627))) << Rgb(ppm.At(102, 627));
  EXPECT_TRUE(IsWhite(ppm.At(60, 650))) << Rgb(ppm.At(60, 650));    // transparent, left
  EXPECT_TRUE(IsWhite(ppm.At(150, 690))) << Rgb(ppm.At(150, 690));  // transparent, top
  // Seal box 350..450 × 600..700, disc of radius 45 at its centre.
  EXPECT_TRUE(IsRed(ppm.At(400, 650))) << Rgb(ppm.At(400, 650));
  EXPECT_TRUE(IsRed(ppm.At(400, 690))) << Rgb(ppm.At(400, 690));
  EXPECT_TRUE(IsWhite(ppm.At(353, 603))) << Rgb(ppm.At(353, 603));  // corner, transparent
  EXPECT_TRUE(IsWhite(ppm.At(446, 696))) << Rgb(ppm.At(446, 696));
  // Text box at (100, 400): dark ink inside, right-aligned lines reach its right edge, nothing
  // drawn outside it.
  const double tw = text_size->first;
  const double th = text_size->second;
  for (std::size_t line = 0; line < lines.size(); ++line) {
    const double top = 400 + th - static_cast<double>(line) * 12;
    int rightmost = -1;
    for (int x = 100; x < 100 + static_cast<int>(tw) + 10; ++x) {
      for (double y = top - 11; y < top - 1; y += 1) {
        if (IsDark(ppm.At(x, y))) rightmost = x;
      }
    }
    EXPECT_GT(rightmost, 100 + tw - 6) << "line " << line;
    EXPECT_LE(rightmost, 100 + tw + 1) << "line " << line;
  }
  for (double x = 90; x < 100 + tw + 10; x += 1) {
    EXPECT_TRUE(IsWhite(ppm.At(x, 400 + th + 3))) << x;
    EXPECT_TRUE(IsWhite(ppm.At(x, 400 - 3))) << x;
  }
}

}  // namespace
}  // namespace kyso::sign
