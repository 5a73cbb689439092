#include "kyso/sign/anchor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>
#include <string>
#include <vector>

namespace kyso::sign {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

// ---- PDFs written by hand ----------------------------------------------------------------------
//
// /F1 is Helvetica (a standard 14 font, built-in metrics). /F2 is Helvetica with a ToUnicode map
// and every glyph 600/1000 wide: ASCII maps to itself, and the Vietnamese letters of kVnLetters
// get the codes 0x80, 0x81, ... in that order, so text written with Vn() is extracted as the
// UTF-8 it was written from. Poppler does not need the glyphs to extract text.

const char* const kVnLetters[] = {"ễ", "ă", "Ệ", "Ậ", "Ố", "Í", "ậ", "Ý", "Ĩ", "Ọ", "Đ", "Ộ", "ý",
                                  "à", "ệ", "ư", "ờ", "ơ", "ả", "ì", "ạ", "ấ", "ẩ", "í", "ẵ", "ề"};

std::string HexOf(const std::string& bytes) {
  static const char* const kDigits = "0123456789ABCDEF";
  std::string hex;
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

// Utf16 decodes UTF-8 of the Basic Multilingual Plane (all the tests need) to code points.
std::vector<unsigned> Utf16(const std::string& utf8) {
  std::vector<unsigned> out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out.push_back(c), i += 1;
    } else if (c < 0xE0) {
      out.push_back(((c & 0x1Fu) << 6) | (utf8[i + 1] & 0x3F)), i += 2;
    } else {
      out.push_back(((c & 0x0Fu) << 12) | ((utf8[i + 1] & 0x3Fu) << 6) | (utf8[i + 2] & 0x3F)),
          i += 3;
    }
  }
  return out;
}

// Vn gives `utf8` as a hex string operand for /F2.
std::string Vn(const std::string& utf8) {
  std::string codes;
  for (std::size_t i = 0; i < utf8.size();) {
    if (static_cast<unsigned char>(utf8[i]) < 0x80) {
      codes.push_back(utf8[i++]);
      continue;
    }
    bool found = false;
    for (std::size_t k = 0; k < std::size(kVnLetters); ++k) {
      const std::string letter = kVnLetters[k];
      if (utf8.compare(i, letter.size(), letter) == 0) {
        codes.push_back(static_cast<char>(0x80 + k));
        i += letter.size();
        found = true;
        break;
      }
    }
    if (!found) ADD_FAILURE() << "add the letter at " << utf8.substr(i) << " to kVnLetters";
    if (!found) return "<>";
  }
  return "<" + HexOf(codes) + ">";
}

// Info16 gives `utf8` as a UTF-16BE text string with a byte order mark.
std::string Info16(const std::string& utf8) {
  char buf[5];
  std::string hex = "<FEFF";
  for (unsigned u : Utf16(utf8)) {
    std::snprintf(buf, sizeof buf, "%04X", u);
    hex += buf;
  }
  return hex + ">";
}

std::string ToUnicodeCMap() {
  std::string bf;
  char buf[32];
  for (std::size_t k = 0; k < std::size(kVnLetters); ++k) {
    std::snprintf(buf, sizeof buf, "<%02zX> <%04X>\n", 0x80 + k, Utf16(kVnLetters[k])[0]);
    bf += buf;
  }
  // 0xF0 is "ễ" decomposed (NFD): e, U+0302 circumflex, U+0303 tilde.
  bf += "<F0> <006503020303>\n";
  return "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
         "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
         "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
         "1 begincodespacerange <00> <FF> endcodespacerange\n"
         "1 beginbfrange <20> <7E> <0020> endbfrange\n" +
         std::to_string(std::size(kVnLetters) + 1) + " beginbfchar\n" + bf +
         "endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n";
}

struct TestPage {
  std::string content;
  std::string box = "0 0 612 792";  // the MediaBox
  std::string extra;                // more page keys: "/Rotate 90", "/CropBox [...]"
};

// MakePdf writes a PDF with a classic cross-reference table. `info` is the body of the Info
// dictionary, e.g. "/Title (x)"; empty writes none.
Bytes MakePdf(const std::vector<TestPage>& pages, const std::string& info = "") {
  std::vector<std::string> objs;  // object i + 1
  const auto add = [&objs](std::string body) {
    objs.push_back(std::move(body));
    return objs.size();
  };
  add("<< /Type /Catalog /Pages 2 0 R >>");
  add("");  // the page tree, below
  const std::size_t f1 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  const std::string cmap = ToUnicodeCMap();
  const std::size_t tu =
      add("<< /Length " + std::to_string(cmap.size()) + " >>\nstream\n" + cmap + "\nendstream");
  std::string widths;
  for (int c = 32; c <= 255; ++c) widths += "600 ";
  const std::size_t f2 = add(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 255 /Widths [" +
      widths + "] /ToUnicode " + std::to_string(tu) + " 0 R >>");
  std::string kids;
  for (const TestPage& p : pages) {
    const std::size_t content = add("<< /Length " + std::to_string(p.content.size()) +
                                    " >>\nstream\n" + p.content + "\nendstream");
    const std::size_t page =
        add("<< /Type /Page /Parent 2 0 R /MediaBox [" + p.box + "] " + p.extra + " /Contents " +
            std::to_string(content) + " 0 R /Resources << /Font << /F1 " + std::to_string(f1) +
            " 0 R /F2 " + std::to_string(f2) + " 0 R >> >> >>");
    kids += std::to_string(page) + " 0 R ";
  }
  objs[1] = "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>";
  const std::size_t info_obj = info.empty() ? 0 : add("<< " + info + " >>");

  std::string out = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  char entry[32];
  for (std::size_t off : offsets) {
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    out += entry;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R" +
         (info_obj ? " /Info " + std::to_string(info_obj) + " 0 R" : "") + " >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return Bytes(out.begin(), out.end());
}

// Two lines in Helvetica 12: "Nguyen Van An" with its baseline at (100, 700), and 20 points
// below it "Second line here".
const char* const kTwoLines =
    "BT /F1 12 Tf 100 700 Td (Nguyen Van An) Tj 0 -20 Td (Second line here) Tj ET";

// Helvetica 12 "Nguyen Van An" from (100, 700): poppler's box runs from the descent (-2.5) to
// the ascent (+8.6) of the font and is 84.05 points wide.
void ExpectNguyenVanAnBox(const PdfRect& box, double x = 100, double y = 700) {
  EXPECT_NEAR(box.x, x, 1.0);
  EXPECT_NEAR(box.x + box.w, x + 84.05, 1.5);
  EXPECT_NEAR(box.y, y - 2.5, 1.5);
  EXPECT_NEAR(box.y + box.h, y + 8.6, 1.5);
}

// ---- FindText ------------------------------------------------------------------------------

TEST(FindTextTest, UnrotatedPageGivesUserSpaceBox) {
  const Bytes pdf = MakePdf({{kTwoLines}});
  Result<std::vector<TextHit>> hits = FindText(pdf, "Nguyen Van An", 1);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].page, 1);
  ExpectNguyenVanAnBox((*hits)[0].box);

  // One word of the second line.
  hits = FindText(pdf, "line", 0);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_NEAR((*hits)[0].box.y, 680 - 2.5, 1.5);
  EXPECT_GT((*hits)[0].box.x, 140);
}

// The user-space box is the same wherever the MediaBox starts and however the page is turned:
// it is where the content stream put the text, as an annotation /Rect needs it.
TEST(FindTextTest, MediaBoxOriginAndRotationDoNotMoveTheBox) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0 0 612 792", ""},
      {"50 50 662 842", ""},
      {"0 0 612 792", "/Rotate 90"},
      {"0 0 612 792", "/Rotate 180"},
      {"0 0 612 792", "/Rotate 270"},
      {"0 0 612 792", "/Rotate -90"},
      {"50 50 662 842", "/Rotate 90"},
      {"50 50 662 842", "/Rotate 270"},
      // Poppler lays text out on the crop box; the result must not depend on it.
      {"0 0 612 792", "/CropBox [20 30 500 760]"},
      {"0 0 612 792", "/CropBox [20 30 500 760] /Rotate 90"},
      {"-100 -200 512 800", "/Rotate 180"},
  };
  for (const auto& [box, extra] : cases) {
    SCOPED_TRACE("MediaBox [" + box + "] " + extra);
    const Bytes pdf = MakePdf({{kTwoLines, box, extra}});
    const Result<std::vector<TextHit>> hits = FindText(pdf, "Nguyen Van An", 1);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), 1u);
    ExpectNguyenVanAnBox((*hits)[0].box);
    const Result<std::string> text = PageText(pdf, 1);
    ASSERT_TRUE(text.ok());
    if (extra.find("270") != std::string::npos || extra.find("-90") != std::string::npos) {
      // Poppler orders the two lines of a page turned by 270 degrees bottom line first.
      EXPECT_EQ(*text, "Second line here\nNguyen Van An");
    } else {
      EXPECT_EQ(*text, "Nguyen Van An\nSecond line here");
    }
  }
}

TEST(FindTextTest, TextDrawnRotatedOnAnUnrotatedPage) {
  // The text matrix turns the text by 90 degrees (it reads bottom to top) at (300, 200).
  const Bytes pdf = MakePdf({{"BT /F1 12 Tf 0 1 -1 0 300 200 Tm (Nguyen Van An) Tj ET"}});
  const Result<std::vector<TextHit>> hits = FindText(pdf, "Nguyen Van An", 1);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  const PdfRect& box = (*hits)[0].box;
  EXPECT_NEAR(box.y, 200, 1.0);
  EXPECT_NEAR(box.y + box.h, 284.05, 1.5);
  EXPECT_NEAR(box.x, 300 - 8.6, 1.5);
  EXPECT_NEAR(box.x + box.w, 300 + 2.5, 1.5);
}

TEST(FindTextTest, WhitespaceCaseAndLines) {
  const Bytes pdf = MakePdf({{kTwoLines}});
  const auto count = [&pdf](std::string_view needle) {
    const Result<std::vector<TextHit>> hits = FindText(pdf, needle, 1);
    EXPECT_TRUE(hits.ok()) << needle;
    return hits.ok() ? hits->size() : 99;
  };
  EXPECT_EQ(count("  Nguyen \t Van\nAn  "), 1u);  // whitespace runs are one space
  EXPECT_EQ(count("nguyen van an"), 0u);          // case-sensitive
  EXPECT_EQ(count("An Second"), 0u);              // one line only
  EXPECT_EQ(count("NguyenVan"), 0u);
  EXPECT_EQ(count("Xyz"), 0u);

  // A match may begin and end inside words; the box covers the words it touches.
  const Result<std::vector<TextHit>> hits = FindText(pdf, "guyen Va", 1);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_NEAR((*hits)[0].box.x, 100, 1.0);
  EXPECT_NEAR((*hits)[0].box.x + (*hits)[0].box.w, 100 + 66.0, 1.5);  // "Nguyen Van"
}

TEST(FindTextTest, HitsInReadingOrderOverPages) {
  const std::string page1 =
      "BT /F1 12 Tf 300 300 Td (Ky ten) Tj ET BT /F1 12 Tf 72 700 Td (Ky ten) Tj ET "
      "BT /F1 12 Tf 72 500 Td (Ky ten: Ky ten) Tj ET";
  const std::string page2 = "BT /F1 12 Tf 72 100 Td (Ky ten) Tj ET";
  const Bytes pdf = MakePdf({{page1}, {"BT /F1 12 Tf 72 700 Td (nothing) Tj ET"}, {page2}});
  Result<std::vector<TextHit>> hits = FindText(pdf, "Ky ten", 0);
  ASSERT_TRUE(hits.ok());
  std::vector<std::pair<int, int>> where;  // page, rounded x, from top to bottom
  for (const TextHit& h : *hits) {
    where.emplace_back(h.page, static_cast<int>(h.box.x + 0.5));
  }
  ASSERT_EQ(hits->size(), 5u);
  EXPECT_EQ(where[0], std::make_pair(1, 72));
  EXPECT_EQ(where[1].first, 1);
  EXPECT_EQ(where[2].first, 1);
  EXPECT_LT(where[1].second, where[2].second);  // left to right on one line
  EXPECT_EQ(where[3], std::make_pair(1, 300));
  EXPECT_EQ(where[4], std::make_pair(3, 72));
  EXPECT_GT((*hits)[0].box.y, (*hits)[1].box.y);
  EXPECT_GT((*hits)[2].box.y, (*hits)[3].box.y);

  hits = FindText(pdf, "Ky ten", 3);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].page, 3);
  EXPECT_NEAR((*hits)[0].box.y, 100 - 2.5, 1.5);
  hits = FindText(pdf, "Ky ten", 2);
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(*hits, IsEmpty());
}

TEST(FindTextTest, VietnameseText) {
  const Bytes pdf = MakePdf({{"BT /F2 12 Tf 100 600 Td " + Vn("Người ký: Nguyễn Văn An") +
                              " Tj 0 -20 Td " + Vn("Đà Nẵng") + " Tj ET"}});
  const Result<std::string> text = PageText(pdf, 1);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "Người ký: Nguyễn Văn An\nĐà Nẵng");

  const Result<std::vector<TextHit>> hits = FindText(pdf, "Nguyễn Văn An", 1);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  // Every glyph of /F2 is 7.2 points wide: "Người ký: " is 10 glyphs, "Nguyễn Văn An" 13.
  EXPECT_NEAR((*hits)[0].box.x, 100 + 10 * 7.2, 1.0);
  EXPECT_NEAR((*hits)[0].box.w, 13 * 7.2, 1.5);
  EXPECT_NEAR((*hits)[0].box.y, 600 - 2.5, 2.0);
  EXPECT_THAT(*FindText(pdf, "Nguyen Van An", 1), IsEmpty());  // no folding of diacritics
}

// Text is compared in Unicode NFC: a PDF whose ToUnicode gives decomposed letters, and a
// needle written decomposed, match their precomposed forms.
TEST(FindTextTest, DecomposedTextMatches) {
  // "Nguyễn Văn An" with its ễ decomposed by the font's ToUnicode.
  const Bytes pdf =
      MakePdf({{"BT /F2 12 Tf 100 600 Td <4E677579F06E20> Tj " + Vn("Văn An") + " Tj ET"}});
  const Result<std::string> text = PageText(pdf, 1);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "Nguyễn Văn An");  // precomposed
  for (const std::string needle : {"Nguyễn Văn An", "Nguye\u0302\u0303n Văn An"}) {
    const Result<std::vector<TextHit>> hits = FindText(pdf, needle, 1);
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u) << needle;
    EXPECT_NEAR((*hits)[0].box.x, 100, 1.0);
  }
}

TEST(FindTextTest, BadArguments) {
  const Bytes pdf = MakePdf({{kTwoLines}});
  EXPECT_EQ(FindText(pdf, "", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FindText(pdf, " \n ", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FindText(pdf, std::string(257, 'a'), 1).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(FindText(pdf, std::string(256, 'a'), 1).ok());
  EXPECT_EQ(FindText(pdf, "\xff\xfe", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FindText(pdf, "An", 2).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FindText(pdf, "An", -1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PageText(pdf, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PageText(pdf, 2).status().code(), Code::kInvalidArgument);
}

TEST(FindTextTest, NotAPdf) {
  for (const std::string& junk : {std::string(), std::string("hello, world"),
                                  std::string("%PDF-1.7\n1 0 obj <<"), std::string(5000, '\0')}) {
    const Result<std::vector<TextHit>> hits = FindText(AsBytes(junk), "An", 1);
    EXPECT_EQ(hits.status().code(), Code::kInvalidArgument) << junk;
    EXPECT_EQ(hits.status().message().find('\n'), std::string::npos);
    EXPECT_EQ(FindSecretMarker(AsBytes(junk), DefaultSecretMarkers()).status().code(),
              Code::kInvalidArgument);
  }
}

Bytes Encrypt(const Bytes& plain, const std::string& user_password) {
  QPDF q;
  q.processMemoryFile("plain", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFWriter w(q);
  w.setOutputMemory();
  w.setR6EncryptionParameters(user_password.c_str(), "owner-secret", true, true, true, true, true,
                              true, qpdf_r3p_full, true);
  w.write();
  std::shared_ptr<Buffer> buf = w.getBufferSharedPointer();
  return Bytes(buf->getBuffer(), buf->getBuffer() + buf->getSize());
}

TEST(FindTextTest, EncryptedPdfsAreRefused) {
  const Bytes plain = MakePdf({{kTwoLines}});
  for (const std::string& user_password : {std::string(), std::string("user-secret")}) {
    SCOPED_TRACE("user password '" + user_password + "'");
    const Bytes pdf = Encrypt(plain, user_password);
    const Result<std::vector<TextHit>> hits = FindText(pdf, "An", 1);
    EXPECT_EQ(hits.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(hits.status().message(), HasSubstr("encrypted"));
    EXPECT_EQ(PageText(pdf, 1).status().code(), Code::kInvalidArgument);
    EXPECT_EQ(FindSecretMarker(pdf, DefaultSecretMarkers()).status().code(),
              Code::kInvalidArgument);
  }
}

// ---- secret markers ----------------------------------------------------------------------

TEST(SecretMarkerTest, WholeWordsCaseSensitive) {
  const std::vector<std::string>& m = DefaultSecretMarkers();
  const std::map<std::string, std::optional<std::string>> cases = {
      {"MẬT", "MẬT"},
      {"Độ mật: MẬT", "MẬT"},
      {"TÀI LIỆU TỐI MẬT", "TỐI MẬT"},
      {"TUYỆT MẬT - không phổ biến", "TUYỆT MẬT"},
      {"TỐI\n   MẬT", "TỐI MẬT"},  // whitespace runs are one space
      {"(MẬT)", "MẬT"},
      {"MẬT.", "MẬT"},
      {"“MẬT”", "MẬT"},  // curly quotes are punctuation, not letters
      {"«MẬT»", "MẬT"},
      {"MẬT\u00a02026", "MẬT"},  // no-break space
      {"SỐ 12/MẬT-2026", "MẬT"},
      {"mật khẩu", std::nullopt},
      {"bí mật", std::nullopt},
      {"Mật", std::nullopt},
      {"BÍMẬT", std::nullopt},  // a Vietnamese letter before: not a whole word
      {"MẬTT", std::nullopt},
      {"MẬTĐ", std::nullopt},
      {"MẬT1", std::nullopt},
      {"XMẬT", std::nullopt},
      {"MAT", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(FindSecretMarkerInText(text, m), want) << text;
  }
}

TEST(SecretMarkerTest, MarkerOrderAndCustomMarkers) {
  // The first marker in the list that appears wins.
  EXPECT_THAT(FindSecretMarkerInText("TỐI MẬT", {"MẬT", "TỐI MẬT"}), Optional(std::string("MẬT")));
  EXPECT_THAT(FindSecretMarkerInText("ban MẬT, TỐI MẬT", DefaultSecretMarkers()),
              Optional(std::string("TỐI MẬT")));
  const std::vector<std::string> custom = {"", "  ", "CONFIDENTIAL", "(NỘI BỘ)"};
  EXPECT_EQ(FindSecretMarkerInText("XCONFIDENTIAL", custom), std::nullopt);
  EXPECT_EQ(FindSecretMarkerInText("CONFIDENTIAL1", custom), std::nullopt);
  EXPECT_THAT(FindSecretMarkerInText("CONFIDENTIAL-1", custom),
              Optional(std::string("CONFIDENTIAL")));
  // A marker that begins and ends with punctuation needs no boundary there.
  EXPECT_THAT(FindSecretMarkerInText("x(NỘI BỘ)y", custom), Optional(std::string("(NỘI BỘ)")));
  EXPECT_EQ(FindSecretMarkerInText("anything", {}), std::nullopt);
  // Bad UTF-8 next to a marker counts as a letter.
  EXPECT_EQ(FindSecretMarkerInText("\xffMẬT", DefaultSecretMarkers()), std::nullopt);
  EXPECT_THAT(FindSecretMarkerInText("\xff MẬT", DefaultSecretMarkers()),
              Optional(std::string("MẬT")));
}

TEST(SecretMarkerTest, DecomposedTextAndMarkers) {
  const std::vector<std::string>& m = DefaultSecretMarkers();
  // NFD: Ố = O U+0302 U+0301, Ậ = A U+0323 U+0302; the marks in either order are equivalent.
  EXPECT_THAT(FindSecretMarkerInText("TO\u0302\u0301I MA\u0323\u0302T", m),
              Optional(std::string("TỐI MẬT")));
  EXPECT_THAT(FindSecretMarkerInText("Độ mật: MA\u0302\u0323T", m), Optional(std::string("MẬT")));
  EXPECT_EQ(FindSecretMarkerInText("MA\u0302T", m), std::nullopt);  // MÂT is another word
  EXPECT_EQ(FindSecretMarkerInText("MẬT\u0301", m), std::nullopt);  // a mark after it
  // Markers written decomposed find precomposed text.
  EXPECT_THAT(FindSecretMarkerInText("TỐI MẬT", {"TO\u0302\u0301I MA\u0323\u0302T"}),
              Optional(std::string("TO\u0302\u0301I MA\u0323\u0302T")));
  // In the Info dictionary too.
  const Result<std::optional<std::string>> found =
      FindSecretMarker(MakePdf({{"BT /F1 12 Tf 72 700 Td (x) Tj ET"}},
                               "/Title " + Info16("TUYE\u0302\u0323T MA\u0323\u0302T")),
                       m);
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, Optional(std::string("TUYỆT MẬT")));
}

// FindSecretMarkerInText reads large text in pieces and windows (64 KiB, 1 MiB): a marker
// astride any boundary is still found, and still judged by its neighbours.
TEST(SecretMarkerTest, LargeTextBoundaries) {
  const std::vector<std::string>& m = DefaultSecretMarkers();
  for (const std::string& filler : {std::string("x "), std::string("ă "), std::string("ăx")}) {
    std::string base;
    while (base.size() < 2 * 1024 * 1024 + 300) base += filler;
    for (const std::size_t at :
         {std::size_t{64 * 1024}, std::size_t{1024 * 1024}, std::size_t{1024 * 1024 + 64 * 1024}}) {
      for (std::size_t d = at - 6; d < at + 6; ++d) {
        SCOPED_TRACE("filler '" + filler + "' at " + std::to_string(d));
        std::string text = base.substr(0, d);
        // Cut at a character boundary of the filler.
        while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0xC0) {
          text.pop_back();
        }
        const std::string tail = base.substr(0, 200 * 1024);
        EXPECT_THAT(FindSecretMarkerInText(text + " TỐI MẬT " + tail, m),
                    Optional(std::string("TỐI MẬT")));
        EXPECT_EQ(FindSecretMarkerInText(text + " TỐI MẬTĐ " + tail, m), std::nullopt);
        EXPECT_EQ(FindSecretMarkerInText(text + " ĐTỐI MẬT" + tail, m), std::nullopt);
      }
    }
    EXPECT_EQ(FindSecretMarkerInText(base, m), std::nullopt);
    EXPECT_THAT(FindSecretMarkerInText(base + " MẬT", m), Optional(std::string("MẬT")));
  }
}

TEST(SecretMarkerTest, PageOneText) {
  const std::string marked = "BT /F2 14 Tf 250 780 Td " + Vn("TỐI MẬT") + " Tj ET";
  const std::string plain = "BT /F2 12 Tf 72 700 Td " + Vn("Về việc bảo mật mật khẩu") + " Tj ET";
  Result<std::optional<std::string>> found =
      FindSecretMarker(MakePdf({{marked}, {plain}}), DefaultSecretMarkers());
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_THAT(*found, Optional(std::string("TỐI MẬT")));

  // Only page 1 is read.
  found = FindSecretMarker(MakePdf({{plain}, {marked}}), DefaultSecretMarkers());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);

  // The stamp on its own line, and the same text across two lines.
  found = FindSecretMarker(
      MakePdf({{"BT /F2 12 Tf 72 700 Td " + Vn("TỐI") + " Tj 0 -14 Td " + Vn("MẬT") + " Tj ET"}}),
      DefaultSecretMarkers());
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, Optional(std::string("TỐI MẬT")));
}

TEST(SecretMarkerTest, InfoDictionary) {
  const std::string body = "BT /F1 12 Tf 72 700 Td (Cong van) Tj ET";
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"/Title " + Info16("Báo cáo TUYỆT MẬT"), "TUYỆT MẬT"},
      {"/Subject " + Info16("MẬT"), "MẬT"},
      {"/Keywords " + Info16("báo cáo, TỐI MẬT, 2026"), "TỐI MẬT"},
      {"/Keywords " + Info16("bí mật, mật khẩu"), std::nullopt},
      {"/Title (MAT) /Subject (Confidential)", std::nullopt},
      {"/Author " + Info16("MẬT") + " /Creator " + Info16("MẬT"), std::nullopt},  // not read
  };
  for (const auto& [info, want] : cases) {
    SCOPED_TRACE(info);
    const Result<std::optional<std::string>> found =
        FindSecretMarker(MakePdf({{body}}, info), DefaultSecretMarkers());
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(*found, want);
  }
  // A custom ASCII marker in a PDFDocEncoding title.
  const Result<std::optional<std::string>> found =
      FindSecretMarker(MakePdf({{body}}, "/Title (INTERNAL use only)"), {"INTERNAL"});
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, Optional(std::string("INTERNAL")));
}

}  // namespace
}  // namespace kyso::sign
