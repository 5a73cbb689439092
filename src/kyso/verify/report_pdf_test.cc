// R6.3: the PDF form of the verification report. The judges are qpdf (structure) and poppler
// (pdftotext: the Vietnamese must come back exactly; pdfinfo: pages), skipped when missing.

#include "kyso/verify/report_pdf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "kyso/base/temp_dir.h"

namespace kyso::verify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bool HaveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// RunTool runs `cmd` with stdout to `out`; gives the exit status.
int RunTool(const std::string& cmd, const std::filesystem::path& out) {
  const int rc = std::system((cmd + " >'" + out.string() + "' 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

SignatureReport Passed() {
  SignatureReport s;
  s.indication = std::string(kPassed);
  s.format = "PAdES";
  s.field = "Signature1";
  s.signer = "CN=Nguyễn Văn Ánh,O=Sở Khoa học và Công nghệ tỉnh Đồng Nai,C=VN";
  s.issuer = "CN=Kyso Issuing CA,O=Ủy ban nhân dân tỉnh,C=VN";
  s.signing_time = Utc(2026, 11, 20, 2, 0, 0);
  s.timestamp_time = Utc(2026, 11, 20, 2, 0, 5);
  s.not_before = Utc(2026, 1, 1);
  s.not_after = Utc(2028, 1, 1);
  s.revocation.status = "good";
  s.revocation.source = "ocsp";
  s.covers_whole_document = true;
  s.message = "Chữ ký hợp lệ.";
  return s;
}

std::vector<FileReport> SampleReports() {
  FileReport good;
  good.file = "quyet-dinh-15.pdf";
  good.signatures.push_back(Passed());
  Finish(good);

  FileReport changed;
  changed.file = "công-văn-đã-sửa.pdf";
  SignatureReport s = Passed();
  s.indication = std::string(kFailed);
  s.sub_indication = "HASH_FAILURE";
  s.covers_whole_document = false;
  s.modifications_after.push_back({2, "page_content", false, "shadow"});
  s.modifications_after.push_back({3, "dss", true, ""});
  s.message = "Tài liệu đã bị sửa sau khi ký.";
  s.warnings.push_back("chứng thư số sắp hết hạn");
  changed.signatures.push_back(s);
  Finish(changed);

  FileReport unknown;
  unknown.file = "không-đọc-được.pdf";
  unknown.error = "tệp không phải PDF";
  Finish(unknown);
  return {good, changed, unknown};
}

class ReportPdfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fonts = ReportFonts::LoadDefault();
    if (fonts.ok()) fonts_ = new ReportFonts(std::move(*fonts));
  }
  static void TearDownTestSuite() {
    delete fonts_;
    fonts_ = nullptr;
  }
  void SetUp() override {
    if (fonts_ == nullptr) GTEST_SKIP() << "fonts-liberation2 is not installed";
    options_.checked_at = Utc(2026, 11, 25, 7, 3, 9);
  }

  // Judge writes the PDF and gives pdftotext's text after checking it with qpdf; "" and a
  // failure when a tool disagrees.
  std::string Judge(const Bytes& pdf, int* pages = nullptr) {
    for (const char* tool : {"qpdf", "pdftotext", "pdfinfo"}) {
      if (!HaveTool(tool)) {
        ADD_FAILURE() << tool << " is not installed";
        return "";
      }
    }
    const auto path = dir_ / "report.pdf";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(pdf.data()), static_cast<std::streamsize>(pdf.size()));
    const std::string quoted = "'" + path.string() + "'";
    const auto out = dir_ / "out.txt";
    EXPECT_EQ(RunTool("qpdf --check " + quoted, out), 0) << ReadFile(out);
    EXPECT_THAT(ReadFile(out), HasSubstr("No syntax or stream encoding errors"));
    EXPECT_EQ(RunTool("pdfinfo " + quoted, out), 0) << ReadFile(out);
    const std::string info = ReadFile(out);
    const auto at = info.find("Pages:");
    if (pages != nullptr && at != std::string::npos) *pages = std::atoi(info.c_str() + at + 6);
    EXPECT_EQ(RunTool("pdftotext -enc UTF-8 " + quoted + " -", out), 0) << ReadFile(out);
    return ReadFile(out);
  }

  static ReportFonts* fonts_;
  PdfReportOptions options_;
  TempDir dir_{"kyso-report-pdf"};
};

ReportFonts* ReportPdfTest::fonts_ = nullptr;

TEST_F(ReportPdfTest, R6_3_VietnameseComesBackFromTheText) {
  const std::vector<FileReport> reports = SampleReports();
  auto pdf = ToPdf(reports, *fonts_, options_);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  ASSERT_GT(pdf->size(), 5u);
  EXPECT_EQ(std::string(pdf->begin(), pdf->begin() + 5), "%PDF-");
  int pages = 0;
  const std::string text = Judge(*pdf, &pages);
  EXPECT_EQ(pages, 1);
  for (const std::string& want :
       {std::string("BÁO CÁO KIỂM TRA CHỮ KÝ SỐ"),
        std::string("Thời điểm kiểm tra: 25/11/2026 14:03:09"), SummaryVi(reports),
        std::string("hợp lệ (TOTAL-PASSED)"),
        std::string("không hợp lệ (TOTAL-FAILED/HASH_FAILURE)"),
        std::string("chưa xác định được (INDETERMINATE)"), std::string("Nguyễn Văn Ánh"),
        std::string("Sở Khoa học và Công nghệ tỉnh Đồng Nai"), std::string("công-văn-đã-sửa.pdf"),
        std::string("CẢNH BÁO: nội dung đã bị thay đổi sau khi ký"), std::string("shadow)"),
        std::string("chứng thư số sắp hết hạn"), std::string("Tài liệu đã bị sửa sau khi ký."),
        std::string("tệp không phải PDF"), std::string("chưa bị thu hồi"),
        std::string("Trang 1/1")}) {
    EXPECT_THAT(text, HasSubstr(want)) << text;
  }
}

TEST_F(ReportPdfTest, R6_3_SameInputSameBytes) {
  auto a = ToPdf(SampleReports(), *fonts_, options_);
  auto b = ToPdf(SampleReports(), *fonts_, options_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  options_.checked_at += std::chrono::seconds(1);
  auto c = ToPdf(SampleReports(), *fonts_, options_);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
}

TEST_F(ReportPdfTest, R6_3_LongBatchesWrapAndPaginate) {
  std::vector<FileReport> reports;
  for (int i = 0; i < 40; ++i) {
    FileReport r;
    r.file =
        "tệp-" + std::to_string(i) + "-" + std::string(300, 'x') + ".pdf";  // no space to break
    SignatureReport s = Passed();
    s.message = "";
    for (int k = 0; k < 30; ++k) s.message += "lời giải thích rất dài ";
    r.signatures.push_back(s);
    Finish(r);
    reports.push_back(r);
  }
  auto pdf = ToPdf(reports, *fonts_, options_);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  int pages = 0;
  const std::string text = Judge(*pdf, &pages);
  EXPECT_GT(pages, 5);
  EXPECT_THAT(text, HasSubstr("40 tệp: 40 hợp lệ, 0 không hợp lệ, 0 chưa xác định được"));
  EXPECT_THAT(text, HasSubstr("Trang " + std::to_string(pages) + "/" + std::to_string(pages)));
  EXPECT_THAT(text, Not(HasSubstr("bị cắt")));
}

TEST_F(ReportPdfTest, R6_3_PageLimitCutsWithAMessage) {
  std::vector<FileReport> reports(200, SampleReports()[1]);
  options_.max_pages = 2;
  auto pdf = ToPdf(reports, *fonts_, options_);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  int pages = 0;
  const std::string text = Judge(*pdf, &pages);
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(text, HasSubstr("Báo cáo bị cắt: vượt quá giới hạn 2 trang"));
  EXPECT_THAT(text, HasSubstr("200 tệp: 0 hợp lệ, 200 không hợp lệ"));  // the summary is whole
}

TEST_F(ReportPdfTest, R6_3_HostileTextIsNeutralised) {
  FileReport r;
  r.file =
      "hoá-đơn\xE2\x80\xAE"
      "fdp.exe 漢\x01\xff";  // RLO, a CJK letter, a control, bad UTF-8
  Finish(r);
  auto pdf = ToPdf({r}, *fonts_, options_);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  const std::string text = Judge(*pdf);
  EXPECT_THAT(text, Not(HasSubstr("\xE2\x80\xAE")));
  EXPECT_THAT(text, HasSubstr("Tệp không có chữ ký số nào."));
  EXPECT_THAT(text, HasSubstr("fdp.exe"));
}

TEST_F(ReportPdfTest, R6_3_EmptyBatchAndBadOptions) {
  auto empty = ToPdf({}, *fonts_, options_);
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(Judge(*empty), HasSubstr("0 tệp: 0 hợp lệ"));

  options_.max_pages = 0;
  EXPECT_EQ(ToPdf({}, *fonts_, options_).status().code(), Code::kInvalidArgument);
  options_.max_pages = kMaxReportPages + 1;
  EXPECT_EQ(ToPdf({}, *fonts_, options_).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ToPdf({}, ReportFonts{}, PdfReportOptions{}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::verify
