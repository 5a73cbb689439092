#include "kyso/verify/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kyso/verify/cert_check.h"

namespace kyso::verify {
namespace {

TEST(ReportTest, WorstIndicationOrder) {
  EXPECT_EQ(Worst(kPassed, kUndetermined), kUndetermined);
  EXPECT_EQ(Worst(kUndetermined, kFailed), kFailed);
  EXPECT_EQ(Worst(kFailed, kPassed), kFailed);
  EXPECT_EQ(Worst("", ""), kPassed);
  EXPECT_EQ(VerdictVi(kPassed), "hợp lệ");
  EXPECT_EQ(VerdictVi(kFailed), "không hợp lệ");
  EXPECT_EQ(VerdictVi(kUndetermined), "chưa xác định được");
}

// A file's indication is the worst of its signatures'; a file without any is INDETERMINATE.
TEST(ReportTest, FileIndicationAndJsonSchema) {
  FileReport r;
  r.file = "cong-van.pdf";
  Finish(r);
  EXPECT_EQ(r.indication, kUndetermined);
  SignatureReport good;
  good.indication = std::string(kPassed);
  good.format = "PAdES";
  good.field = "Signature1";
  good.signer = "CN=Nguyễn Văn An";
  good.signing_time = Utc(2026, 11, 25, 7, 3, 9);
  good.covers_whole_document = false;
  good.modifications_after.push_back({2, "page_content", false, ""});
  SignatureReport bad = good;
  bad.indication = std::string(kFailed);
  bad.sub_indication = "HASH_FAILURE";
  r.signatures = {good, bad};
  Finish(r);
  EXPECT_EQ(r.indication, kFailed);
  const nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["indication"], "TOTAL-FAILED");
  EXPECT_TRUE(j["signatures"][0].contains("managingUnit"));
  ASSERT_EQ(j["signatures"].size(), 2u);
  const nlohmann::json& s = j["signatures"][0];
  for (const char* key : {"indication", "subIndication", "signer", "issuer", "signingTime", "timestampTime",
                          "certificateValidity", "revocation", "coversWholeDocument", "modificationsAfter"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_EQ(s["signingTime"], "2026-11-25T07:03:09Z");
  EXPECT_TRUE(s["subIndication"].is_null());
  EXPECT_EQ(j["signatures"][1]["subIndication"], "HASH_FAILURE");
  EXPECT_EQ(s["modificationsAfter"][0]["class"], "page_content");
  EXPECT_EQ(s["modificationsAfter"][0]["allowed"], false);
  const std::string text = ToText(r);
  EXPECT_NE(text.find("không hợp lệ"), std::string::npos) << text;
  EXPECT_NE(text.find("nội dung đã bị thay đổi sau khi ký"), std::string::npos) << text;
  EXPECT_NE(text.find("25/11/2026 14:03:09"), std::string::npos) << text;
  const std::string html = ToHtml({r});
  EXPECT_NE(html.find("<html lang=\"vi\">"), std::string::npos);
  EXPECT_NE(html.find("không hợp lệ"), std::string::npos);
  EXPECT_NE(html.find("CN=Nguyễn Văn An"), std::string::npos);
  EXPECT_EQ(SummaryVi({r}), "1 tệp: 0 hợp lệ, 1 không hợp lệ, 0 chưa xác định được");
}

// Names from certificates are outside input: they are escaped in the HTML report.
TEST(ReportTest, HtmlEscapesWhatItQuotes) {
  FileReport r;
  r.file = "<script>x</script>.pdf";
  SignatureReport s;
  s.signer = "CN=\"a\" <b>&";
  r.signatures = {s};
  Finish(r);
  const std::string html = ToHtml({r});
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;&amp;"), std::string::npos);
}

// R6.3: integrity and the certificate's validity at signing time, in words.
TEST(ReportTest, R6_3_IntegrityAndValidityAtSigning) {
  SignatureReport s;
  s.indication = std::string(kPassed);
  s.signing_time = Utc(2026, 11, 25, 0, 0, 0);
  EXPECT_EQ(IntegrityVi(s), "toàn vẹn (dữ liệu không bị thay đổi sau khi ký)");
  EXPECT_EQ(ValidityAtSigningVi(s), "còn hiệu lực tại " + FormatTimeVn(*s.signing_time));
  s.modifications_after.push_back({3, "page_content", false, "incremental_saving"});
  EXPECT_EQ(IntegrityVi(s), "chữ ký toàn vẹn, nhưng nội dung đã bị thay đổi sau khi ký");
  s.indication = std::string(kFailed);
  s.sub_indication = "HASH_FAILURE";
  EXPECT_EQ(IntegrityVi(s), "không toàn vẹn: dữ liệu hoặc chữ ký đã bị thay đổi");
  EXPECT_EQ(ValidityAtSigningVi(s), "không xét (chữ ký không toàn vẹn)");
  s.sub_indication = "REVOKED";
  EXPECT_EQ(ValidityAtSigningVi(s), "chứng thư số đã bị thu hồi");
  s.indication = std::string(kUndetermined);
  s.sub_indication = "TRY_LATER";
  EXPECT_EQ(ValidityAtSigningVi(s), "chưa xác định được");
  const std::string text = ToText(FileReport{"a.pdf", std::string(kUndetermined), {s}, ""});
  EXPECT_NE(text.find("tính toàn vẹn: "), std::string::npos);
  EXPECT_NE(text.find("hiệu lực của chứng thư số khi ký: chưa xác định được"), std::string::npos);
}

// The batch table: one aligned row per file, long paths cut from the left, the first reason.
TEST(ReportTest, SummaryTableOneRowPerFile) {
  FileReport good;
  good.file = "cong-van-so-12.pdf";
  SignatureReport s;
  s.indication = std::string(kPassed);
  good.signatures = {s, s};
  Finish(good);
  FileReport bad;
  bad.file = "/thư mục/rất/dài/" + std::string(60, 'x') + "/quyết-định.pdf";
  s.indication = std::string(kFailed);
  s.sub_indication = "HASH_FAILURE";
  s.message = "tài liệu đã bị sửa sau khi ký";
  SignatureReport unsure;
  unsure.indication = std::string(kUndetermined);
  unsure.sub_indication = "NO_CERTIFICATE_CHAIN_FOUND";
  bad.signatures = {unsure, s};  // the reason shown is the failed signature's, not the first's
  Finish(bad);
  FileReport unreadable;
  unreadable.file = "hỏng.pdf";
  unreadable.error = "không đọc được tệp PDF";
  Finish(unreadable);
  const std::string table = SummaryTableVi({good, bad, unreadable});
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = table.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(table.substr(at, nl - at));
  }
  ASSERT_EQ(lines.size(), 4u) << table;
  EXPECT_EQ(lines[0].rfind("STT", 0), 0u);
  EXPECT_NE(lines[1].find("cong-van-so-12.pdf"), std::string::npos);
  EXPECT_NE(lines[1].find("hợp lệ"), std::string::npos);
  EXPECT_NE(lines[1].find("2/2"), std::string::npos);
  EXPECT_NE(lines[2].find("…"), std::string::npos);
  EXPECT_NE(lines[2].find("quyết-định.pdf"), std::string::npos);
  EXPECT_NE(lines[2].find("không hợp lệ"), std::string::npos);
  EXPECT_NE(lines[2].find("HASH_FAILURE: tài liệu đã bị sửa sau khi ký"), std::string::npos);
  EXPECT_NE(lines[2].find("0/2"), std::string::npos);
  EXPECT_NE(lines[3].find("không đọc được tệp PDF"), std::string::npos);
  // The verdict column starts at the same code point on every row.
  auto column = [](const std::string& line, std::string_view word) {
    const std::size_t byte = line.find(word);
    return std::count_if(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(byte),
                         [](char c) { return (c & 0xC0) != 0x80; });
  };
  EXPECT_EQ(column(lines[1], "hợp lệ"), column(lines[2], "không hợp lệ"));
  EXPECT_EQ(column(lines[2], "không hợp lệ"), column(lines[3], "chưa xác định được"));
}

}  // namespace
}  // namespace kyso::verify
