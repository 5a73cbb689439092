#pragma once

// The validation report of `kyso verify` (ETSI EN 319 102-1 indications, R6.3): one
// FileReport per file, one SignatureReport per signature (or per certificate path), as JSON
// for programs and as Vietnamese text for officers. The JSON schema is in docs/verification.md.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kyso/base/clock.h"

namespace kyso::verify {

// The three indications of ETSI EN 319 102-1, spelled as the standard does.
inline constexpr std::string_view kPassed = "TOTAL-PASSED";
inline constexpr std::string_view kFailed = "TOTAL-FAILED";
inline constexpr std::string_view kUndetermined = "INDETERMINATE";

// Worst gives the worse of two indications: TOTAL-FAILED, then INDETERMINATE, then
// TOTAL-PASSED (an empty string counts as TOTAL-PASSED).
std::string_view Worst(std::string_view a, std::string_view b);

// VerdictVi is the officer's word for an indication (R6.3): "hợp lệ", "không hợp lệ",
// "chưa xác định được".
std::string_view VerdictVi(std::string_view indication);

// Modification is one revision written after a signature (PDF).
struct Modification {
  int revision = 0;
  std::string klass;  // signature, timestamp, dss, form_fill, annotation, page_content, pages, catalog, other
  bool allowed = true;
  std::string attack;  // empty, or the attack it looks like
};

struct Revocation {
  std::string status = "not_checked";  // good, revoked, unknown, not_checked
  std::string source;                  // ocsp, crl, or empty
  std::optional<Time> revoked_at;
  std::string reason;  // RFC 5280 reason name when revoked
};

// ModificationVi is the officer's words for a Modification::klass: "thêm chữ ký" for
// "signature", "điền biểu mẫu" for "form_fill", ...; "thay đổi khác" for a class it does not
// know. ToText, ToHtml and the PDF report (report_pdf.h) say it the same way.
std::string_view ModificationVi(std::string_view klass);

// RevocationVi is the revocation status as ToHtml and the PDF report show it: "chưa bị thu hồi"
// (good), "đã bị thu hồi" (revoked), "không kiểm tra được" (unknown), else "chưa kiểm tra",
// then " ngày <FormatTimeVn(revoked_at)>" and " (lý do: <reason>)" when they are set.
std::string RevocationVi(const Revocation& revocation);

struct SignatureReport {
  std::string indication = std::string(kUndetermined);
  std::string sub_indication;  // empty when TOTAL-PASSED
  std::string format;          // PAdES, CAdES, XAdES, X.509 (a certificate path)
  std::string field;           // the PDF signature field, when there is one
  std::string signer;          // subject DN of the signer's certificate (UTF-8, RFC 2253)
  std::string issuer;
  // managing_unit is the agency the signer's certificate names (R6.3: "đơn vị quản lý"): its
  // subject's OU values, most specific first, then O; empty when it names none.
  std::string managing_unit;
  std::optional<Time> signing_time;    // claimed (/M, signingTime)
  std::optional<Time> timestamp_time;  // genTime of a valid signature timestamp
  std::optional<Time> not_before, not_after;
  Revocation revocation;
  bool covers_whole_document = false;
  std::vector<Modification> modifications_after;
  std::string message;                // why, in Vietnamese
  std::vector<std::string> warnings;  // Vietnamese; do not change the indication
};

struct FileReport {
  std::string file;
  std::string indication = std::string(kUndetermined);  // the worst of the signatures'
  std::vector<SignatureReport> signatures;
  std::string error;  // the file could not be read at all (Vietnamese); indication INDETERMINATE
};

// Finish sets the file's indication from its signatures (a file without any is INDETERMINATE:
// nothing was shown to be signed).
void Finish(FileReport& report);

nlohmann::json ToJson(const FileReport& report);
// ToHtml is the human report of R6.3 for several files, a whole HTML page in Vietnamese: per
// signature the verdict, the signer and the certificate's issuer, its validity, the signing
// and timestamp times, the revocation status, what changed after signing, and why.
std::string ToHtml(const std::vector<FileReport>& reports);
// IntegrityVi says whether the signed data is intact (R6.3 "tính toàn vẹn"), in Vietnamese.
std::string IntegrityVi(const SignatureReport& s);
// ValidityAtSigningVi says whether the signer's certificate was valid when the signature was
// made (R6.3 "hiệu lực tại thời điểm ký"), in Vietnamese.
std::string ValidityAtSigningVi(const SignatureReport& s);
// SummaryVi counts the files by verdict: "3 tệp: 2 hợp lệ, 1 không hợp lệ, 0 chưa xác định được".
std::string SummaryVi(const std::vector<FileReport>& reports);
// SummaryTableVi is the batch's table for a terminal, one row per file: number, file (the end
// of a long path), verdict, signatures passed out of all, and what was wrong first.
std::string SummaryTableVi(const std::vector<FileReport>& reports);
// ToText is the summary an officer reads in a terminal, in Vietnamese.
std::string ToText(const FileReport& report);

}  // namespace kyso::verify
