#include "kyso/sign/visible.h"

#include <gtest/gtest.h>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>

#include <filesystem>

#include "kyso/sign/font.h"
#include "kyso/sign/png.h"

namespace kyso::sign {
namespace {

// OnePage is a one-page PDF with `content` drawn in Helvetica on a page of `media_box`.
// With `signed_field`, the form holds a signature field with a value: the person has signed.
Bytes OnePage(const std::string& content, const std::string& media_box = "[0 0 595 842]",
              bool signed_field = false) {
  QPDF pdf;
  pdf.emptyPDF();
  if (signed_field) {
    pdf.getRoot().replaceKey(
        "/AcroForm", QPDFObjectHandle::parse("<< /Fields [ << /FT /Sig /T (Person) /V << /Type /Sig >> >> ] >>"));
  }
  QPDFObjectHandle page = pdf.makeIndirectObject(
      QPDFObjectHandle::parse("<< /Type /Page /MediaBox " + media_box +
                              " /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
                              "/BaseFont /Helvetica >> >> >> >>"));
  page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content));
  pdf.addPage(page, false);
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setStaticID(true);
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  return Bytes(buf->getBuffer(), buf->getBuffer() + buf->getSize());
}

RasterImage Square(int px, double dpi) {
  RasterImage img;
  img.width = img.height = px;
  img.rgb.assign(static_cast<std::size_t>(px * px * 3), 200);
  img.alpha.assign(static_cast<std::size_t>(px * px), 255);
  img.dpi_x = img.dpi_y = dpi;
  return img;
}

TEST(VisibleTest, R30_3_Iso8601InVietnamTime) {
  EXPECT_EQ(FormatIso8601Vn(Utc(2026, 11, 25, 7, 3, 9)), "2026-11-25T14:03:09+07:00");
  EXPECT_EQ(FormatIso8601Vn(Utc(2026, 12, 31, 20, 0, 0)), "2027-01-01T03:00:00+07:00");
}

// R30.2: the seal at its real size (300 px at 300 dpi = 72 pt), centred vertically on the
// person's box, its right edge at a third of the box's width.
TEST(VisibleTest, R30_2_SealOverTheLeftThirdOfThePersonsBox) {
  const Bytes pdf = OnePage("", "[0 0 595 842]", /*signed_field=*/true);
  const RasterImage seal = Square(300, 300);
  PlacementOptions o;
  o.kind = AppearanceKind::kAgency;
  o.image = &seal;
  o.rect = PdfRect{100, 200, 150, 60};
  Result<Placement> p = Place(pdf, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->rect);
  EXPECT_DOUBLE_EQ(p->rect->w, 72);
  EXPECT_DOUBLE_EQ(p->rect->h, 72);
  EXPECT_DOUBLE_EQ(p->rect->x + p->rect->w, 100 + 50);
  EXPECT_DOUBLE_EQ(p->rect->y + p->rect->h / 2, 230);
  EXPECT_EQ(p->field_label, kAgencySignatureLabel);
  EXPECT_FALSE(p->appearance.objects.empty());
  o.seal_mm = 40;  // a size in mm wins over the DPI
  p = Place(pdf, o);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->rect->w, 40 * 72 / 25.4, 1e-9);
  // No person's box given and no person signature kyso placed: where would the seal go?
  o.rect.reset();
  EXPECT_EQ(Place(pdf, o).status().code(), Code::kNotFound);
  EXPECT_NE(Place(pdf, o).status().message().find("R30.2"), std::string::npos);
  // Nobody has signed yet: the agency signs after the person, even with a box given.
  o.rect = PdfRect{100, 200, 150, 60};
  EXPECT_EQ(Place(OnePage(""), o).status().code(), Code::kFailedPrecondition);
  o.image = nullptr;
  EXPECT_EQ(Place(pdf, o).status().code(), Code::kInvalidArgument);
}

// R30.1: the box sits between the position title and the name found on the page.
TEST(VisibleTest, R30_1_PersonBoxBetweenTitleAndName) {
  const Bytes pdf = OnePage(
      "BT /F1 12 Tf 380 300 Td (GIAM DOC) Tj ET\nBT /F1 12 Tf 360 200 Td (Nguyen Van An) Tj ET\n");
  const RasterImage sig = Square(10, 0);
  PlacementOptions o;
  o.kind = AppearanceKind::kPerson;
  o.image = &sig;
  o.anchor = "Nguyen Van An";
  o.title = "GIAM DOC";
  Result<Placement> p = Place(pdf, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->rect);
  EXPECT_EQ(p->page, 1);
  EXPECT_GT(p->rect->y, 200);            // above the name's baseline
  EXPECT_LT(p->rect->y + p->rect->h, 300);  // below the title's
  EXPECT_GE(p->rect->w, kPersonBoxWidth);
  EXPECT_EQ(p->field_label, kPersonSignatureLabel);
  o.title = "CHU TICH";
  EXPECT_EQ(Place(pdf, o).status().code(), Code::kNotFound);
  o.title.clear();
  o.anchor = "Tran Thi B";
  EXPECT_EQ(Place(pdf, o).status().code(), Code::kNotFound);
  o.anchor.clear();
  EXPECT_EQ(Place(pdf, o).status().code(), Code::kInvalidArgument);  // nowhere to put it
}

// R30.3: the stamp at the top right of page 1, measured from the crop box, with the time last.
TEST(VisibleTest, R30_3_CopyStampTopRightOfPageOne) {
  if (!std::filesystem::exists(kDefaultFontPath)) GTEST_SKIP() << "fonts-liberation2 missing";
  auto font = Font::Load(kDefaultFontPath);
  ASSERT_TRUE(font.ok()) << font.status().ToString();
  const Bytes pdf = OnePage("", "[50 50 645 892]");
  PlacementOptions o;
  o.kind = AppearanceKind::kCopy;
  o.font = font->get();
  o.copy_lines = {"Sao y bản chính", "Sở Khoa học và Công nghệ"};
  o.signing_time = Utc(2026, 11, 25, 7, 3, 9);
  Result<Placement> p = Place(pdf, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->rect);
  EXPECT_EQ(p->page, 1);
  EXPECT_NEAR(p->rect->x + p->rect->w, 645 - kCopyRightMargin, 1e-6);
  EXPECT_NEAR(p->rect->y + p->rect->h, 892 - kCopyTopMargin, 1e-6);
  EXPECT_NEAR(p->rect->h, 3 * 1.2 * kCopyFontSize + 1, 1e-6);
  o.copy_lines.clear();
  EXPECT_EQ(Place(pdf, o).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::sign
