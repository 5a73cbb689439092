#include "kyso/verify/report.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "kyso/verify/cert_check.h"

namespace kyso::verify {
namespace {

int Rank(std::string_view indication) {
  if (indication == kFailed) return 2;
  if (indication == kUndetermined) return 1;
  return 0;
}

nlohmann::json OptionalTime(const std::optional<Time>& t) {
  return t ? nlohmann::json(FormatIso8601Utc(*t)) : nlohmann::json(nullptr);
}

}  // namespace

std::string_view Worst(std::string_view a, std::string_view b) {
  if (a.empty()) return b.empty() ? kPassed : b;
  if (b.empty()) return a;
  return Rank(a) >= Rank(b) ? a : b;
}

std::string_view VerdictVi(std::string_view indication) {
  if (indication == kPassed) return "hợp lệ";
  if (indication == kFailed) return "không hợp lệ";
  return "chưa xác định được";
}

std::string_view ModificationVi(std::string_view klass) {
  if (klass == "signature") return "thêm chữ ký";
  if (klass == "timestamp") return "thêm dấu thời gian";
  if (klass == "dss") return "thêm dữ liệu kiểm tra (DSS)";
  if (klass == "form_fill") return "điền biểu mẫu";
  if (klass == "annotation") return "thêm chú thích";
  if (klass == "page_content") return "nội dung trang bị thay đổi";
  if (klass == "pages") return "thêm hoặc bớt trang";
  if (klass == "catalog") return "thay đổi cấu trúc tài liệu";
  return "thay đổi khác";
}

std::string RevocationVi(const Revocation& r) {
  std::string out = r.status == "good"      ? "chưa bị thu hồi"
                    : r.status == "revoked" ? "đã bị thu hồi"
                    : r.status == "unknown" ? "không kiểm tra được"
                                            : "chưa kiểm tra";
  if (r.revoked_at) out += " ngày " + FormatTimeVn(*r.revoked_at);
  if (!r.reason.empty()) out += " (lý do: " + r.reason + ")";
  return out;
}

void Finish(FileReport& report) {
  if (!report.error.empty() || report.signatures.empty()) {
    report.indication = std::string(kUndetermined);
    return;
  }
  std::string_view worst = kPassed;
  for (const SignatureReport& s : report.signatures) worst = Worst(worst, s.indication);
  report.indication = std::string(worst);
}

nlohmann::json ToJson(const FileReport& r) {
  nlohmann::json j;
  j["file"] = r.file;
  j["indication"] = r.indication;
  j["verdict"] = std::string(VerdictVi(r.indication));
  if (!r.error.empty()) j["error"] = r.error;
  j["signatures"] = nlohmann::json::array();
  for (const SignatureReport& s : r.signatures) {
    nlohmann::json sj;
    sj["indication"] = s.indication;
    sj["subIndication"] = s.sub_indication.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.sub_indication);
    sj["verdict"] = std::string(VerdictVi(s.indication));
    sj["format"] = s.format;
    if (!s.field.empty()) sj["field"] = s.field;
    sj["signer"] = s.signer;
    sj["issuer"] = s.issuer;
    sj["managingUnit"] = s.managing_unit;
    sj["signingTime"] = OptionalTime(s.signing_time);
    sj["timestampTime"] = OptionalTime(s.timestamp_time);
    sj["certificateValidity"] = {{"notBefore", OptionalTime(s.not_before)}, {"notAfter", OptionalTime(s.not_after)}};
    sj["revocation"] = {{"status", s.revocation.status},
                        {"source", s.revocation.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.revocation.source)},
                        {"revokedAt", OptionalTime(s.revocation.revoked_at)},
                        {"reason", s.revocation.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.revocation.reason)}};
    sj["coversWholeDocument"] = s.covers_whole_document;
    sj["modificationsAfter"] = nlohmann::json::array();
    for (const Modification& m : s.modifications_after) {
      sj["modificationsAfter"].push_back({{"revision", m.revision},
                                          {"class", m.klass},
                                          {"allowed", m.allowed},
                                          {"attack", m.attack.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.attack)}});
    }
    sj["message"] = s.message;
    sj["warnings"] = s.warnings;
    j["signatures"].push_back(std::move(sj));
  }
  return j;
}

std::string ToText(const FileReport& r) {
  std::string out = r.file + ": " + std::string(VerdictVi(r.indication)) + " (" + r.indication + ")\n";
  if (!r.error.empty()) out += "  lỗi: " + r.error + "\n";
  if (r.error.empty() && r.signatures.empty()) out += "  không có chữ ký số nào\n";
  int n = 0;
  for (const SignatureReport& s : r.signatures) {
    out += "  chữ ký " + std::to_string(++n) + (s.field.empty() ? "" : " (" + s.field + ")") + ": " +
           std::string(VerdictVi(s.indication)) + " (" + s.indication +
           (s.sub_indication.empty() ? "" : "/" + s.sub_indication) + ")\n";
    if (!s.signer.empty()) out += "    người ký: " + s.signer + "\n";
    if (!s.managing_unit.empty()) out += "    đơn vị quản lý: " + s.managing_unit + "\n";
    out += "    tính toàn vẹn: " + IntegrityVi(s) + "\n";
    out += "    hiệu lực của chứng thư số khi ký: " + ValidityAtSigningVi(s) + "\n";
    if (!s.issuer.empty()) out += "    cấp bởi: " + s.issuer + "\n";
    if (s.timestamp_time) out += "    thời gian (dấu thời gian): " + FormatTimeVn(*s.timestamp_time) + "\n";
    if (s.signing_time) out += "    thời gian ký (tự khai): " + FormatTimeVn(*s.signing_time) + "\n";
    if (s.not_before && s.not_after) {
      out += "    chứng thư có hiệu lực: " + FormatTimeVn(*s.not_before) + " đến " + FormatTimeVn(*s.not_after) + "\n";
    }
    if (s.revocation.status == "revoked" && s.revocation.revoked_at) {
      out += "    chứng thư đã bị thu hồi ngày " + FormatTimeVn(*s.revocation.revoked_at) +
             (s.revocation.reason.empty() ? "" : " (lý do: " + s.revocation.reason + ")") + "\n";
    }
    if (!s.format.empty() && s.format == "PAdES") {
      out += std::string("    phủ toàn bộ tài liệu: ") + (s.covers_whole_document ? "có" : "không") + "\n";
    }
    for (const Modification& m : s.modifications_after) {
      out += "    sau khi ký, bản sửa " + std::to_string(m.revision) + ": " + std::string(ModificationVi(m.klass)) +
             (m.allowed ? "" : " — CẢNH BÁO: nội dung đã bị thay đổi sau khi ký") +
             (m.attack.empty() ? "" : " (dấu hiệu tấn công: " + m.attack + ")") + "\n";
    }
    if (!s.message.empty()) out += "    " + s.message + "\n";
    for (const std::string& w : s.warnings) out += "    cảnh báo: " + w + "\n";
  }
  return out;
}

namespace {

std::string Html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view CssClass(std::string_view indication) {
  if (indication == kPassed) return "pass";
  if (indication == kFailed) return "fail";
  return "unknown";
}

}  // namespace

std::string IntegrityVi(const SignatureReport& s) {
  const std::string& sub = s.sub_indication;
  if (sub == "HASH_FAILURE" || sub == "SIG_CRYPTO_FAILURE") return "không toàn vẹn: dữ liệu hoặc chữ ký đã bị thay đổi";
  if (sub == "FORMAT_FAILURE") return "không kiểm tra được: chữ ký sai cấu trúc";
  if (sub == "SIGNED_DATA_NOT_FOUND" || sub == "NO_SIGNING_CERTIFICATE_FOUND") return "chưa kiểm tra được";
  for (const Modification& m : s.modifications_after) {
    if (!m.allowed) return "chữ ký toàn vẹn, nhưng nội dung đã bị thay đổi sau khi ký";
  }
  return "toàn vẹn (dữ liệu không bị thay đổi sau khi ký)";
}

std::string ValidityAtSigningVi(const SignatureReport& s) {
  const std::string& sub = s.sub_indication;
  if (sub == "REVOKED" || sub == "REVOKED_NO_POE" || sub == "REVOKED_CA_NO_POE") return "chứng thư số đã bị thu hồi";
  if (sub == "EXPIRED" || sub == "OUT_OF_BOUNDS_NO_POE") return "chứng thư số đã hết hạn";
  if (sub == "NOT_YET_VALID") return "chứng thư số chưa có hiệu lực";
  if (sub == "HASH_FAILURE" || sub == "SIG_CRYPTO_FAILURE" || sub == "FORMAT_FAILURE") {
    return "không xét (chữ ký không toàn vẹn)";
  }
  if (s.indication == kPassed) {
    const std::optional<Time>& at = s.timestamp_time ? s.timestamp_time : s.signing_time;
    return "còn hiệu lực" + (at ? " tại " + FormatTimeVn(*at) : std::string());
  }
  return "chưa xác định được";
}

std::string SummaryVi(const std::vector<FileReport>& reports) {
  int passed = 0, failed = 0, unknown = 0;
  for (const FileReport& r : reports) {
    if (r.indication == kPassed) {
      ++passed;
    } else if (r.indication == kFailed) {
      ++failed;
    } else {
      ++unknown;
    }
  }
  return std::to_string(reports.size()) + " tệp: " + std::to_string(passed) + " hợp lệ, " +
         std::to_string(failed) + " không hợp lệ, " + std::to_string(unknown) + " chưa xác định được";
}

namespace {

// CodePoints counts the code points of UTF-8 text: its width in a terminal for Vietnamese in
// NFC (one code point per letter, diacritics included).
std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Fit pads `s` with spaces to `width` code points, or keeps its last width - 1 after "…".
std::string Fit(std::string_view s, std::size_t width) {
  std::size_t n = CodePoints(s);
  if (n <= width) return std::string(s) + std::string(width - n, ' ');
  std::size_t start = 0;
  for (std::size_t drop = n - (width - 1); drop > 0; --drop) {
    ++start;
    while (start < s.size() && (s[start] & 0xC0) == 0x80) ++start;
  }
  return "…" + std::string(s.substr(start));
}

}  // namespace

std::string SummaryTableVi(const std::vector<FileReport>& reports) {
  constexpr std::size_t kFileWidth = 48, kVerdictWidth = 18;
  std::string out = Fit("STT", 5) + " " + Fit("tệp", kFileWidth) + " " + Fit("kết luận", kVerdictWidth) + " " +
                    Fit("chữ ký hợp lệ", 13) + " lý do\n";
  std::size_t row = 0;
  for (const FileReport& r : reports) {
    int passed = 0;
    std::string why = r.error;
    for (const SignatureReport& s : r.signatures) {
      if (s.indication == kPassed) {
        ++passed;
      } else if (why.empty() && s.indication == r.indication) {  // a signature that made the verdict
        why = s.sub_indication.empty() ? s.message : s.sub_indication + (s.message.empty() ? "" : ": " + s.message);
      }
    }
    if (why.empty() && r.signatures.empty()) why = "không có chữ ký";
    out += Fit(std::to_string(++row), 5) + " " + Fit(r.file, kFileWidth) + " " + Fit(VerdictVi(r.indication), kVerdictWidth) +
           " " + Fit(std::to_string(passed) + "/" + std::to_string(r.signatures.size()), 13) + " " + why + "\n";
  }
  return out;
}

std::string ToHtml(const std::vector<FileReport>& reports) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>Kết quả kiểm tra chữ ký số</title>\n<style>\n"
      "body{font-family:'Times New Roman',serif;margin:2em;color:#111}"
      "table{border-collapse:collapse;margin:0.5em 0 1.5em;width:100%}"
      "th,td{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}"
      "th{background:#eee;width:28%}.pass{color:#05620f}.fail{color:#a00000}.unknown{color:#8a5a00}"
      ".warn{background:#fff3cd;font-weight:bold}\n</style>\n</head>\n<body>\n"
      "<h1>Kết quả kiểm tra chữ ký số</h1>\n<p>" + Html(SummaryVi(reports)) + "</p>\n";
  for (const FileReport& r : reports) {
    h += "<h2>" + Html(r.file) + ": <span class=\"" + std::string(CssClass(r.indication)) + "\">" +
         Html(VerdictVi(r.indication)) + "</span></h2>\n";
    if (!r.error.empty()) h += "<p class=\"fail\">" + Html(r.error) + "</p>\n";
    if (r.error.empty() && r.signatures.empty()) h += "<p>Tệp không có chữ ký số nào.</p>\n";
    int n = 0;
    for (const SignatureReport& s : r.signatures) {
      auto row = [&h](std::string_view label, std::string_view value, std::string_view cls = "") {
        h += "<tr><th>" + Html(label) + "</th><td" +
             (cls.empty() ? std::string() : " class=\"" + std::string(cls) + "\"") + ">" + Html(value) + "</td></tr>\n";
      };
      h += "<table>\n";
      row("Chữ ký", std::to_string(++n) + (s.field.empty() ? "" : " (" + s.field + ")") + ", " + s.format);
      row("Kết quả", std::string(VerdictVi(s.indication)) + " (" + s.indication +
                         (s.sub_indication.empty() ? "" : "/" + s.sub_indication) + ")",
          CssClass(s.indication));
      if (!s.message.empty()) row("Lý do", s.message);
      row("Người ký", s.signer);
      row("Đơn vị quản lý", s.managing_unit.empty() ? "không ghi trong chứng thư số" : s.managing_unit);
      row("Tổ chức cấp chứng thư số", s.issuer);
      row("Tính toàn vẹn", IntegrityVi(s));
      row("Hiệu lực của chứng thư số khi ký", ValidityAtSigningVi(s));
      if (s.not_before && s.not_after) row("Hiệu lực chứng thư số", FormatTimeVn(*s.not_before) + " đến " + FormatTimeVn(*s.not_after));
      row("Thời gian ký (tự khai)", s.signing_time ? FormatTimeVn(*s.signing_time) : "không có");
      row("Thời gian theo dấu thời gian", s.timestamp_time ? FormatTimeVn(*s.timestamp_time) : "không có");
      row("Trạng thái chứng thư số", RevocationVi(s.revocation));
      if (s.format.rfind("PAdES", 0) == 0) {
        row("Phủ toàn bộ tài liệu", s.covers_whole_document ? "có" : "không");
      }
      for (const Modification& m : s.modifications_after) {
        row("Sau khi ký, bản sửa " + std::to_string(m.revision),
            std::string(ModificationVi(m.klass)) + (m.allowed ? "" : ": nội dung đã bị thay đổi sau khi ký") +
                (m.attack.empty() ? "" : " (dấu hiệu tấn công: " + m.attack + ")"),
            m.allowed ? "" : "warn");
      }
      for (const std::string& w : s.warnings) row("Cảnh báo", w, "warn");
      h += "</table>\n";
    }
  }
  return h + "</body>\n</html>\n";
}

}  // namespace kyso::verify
