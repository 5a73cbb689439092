#include "kyso/cli/verify_commands.h"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "kyso/base/file.h"
#include "kyso/base/parallel.h"
#include "kyso/base/progress.h"
#include "kyso/cli/deployment.h"
#include "kyso/cli/ra_commands.h"
#include "kyso/ca/authority.h"
#include "kyso/pkix/x509.h"
#include "kyso/verify/algorithms.h"
#include "kyso/verify/cert_check.h"
#include "kyso/verify/document.h"
#include "kyso/verify/cms_sigs.h"
#include "kyso/verify/path.h"
#include "kyso/verify/pdf_sigs.h"
#include "kyso/verify/report.h"
#include "kyso/verify/report_pdf.h"
#include "kyso/verify/timestamp_token.h"

namespace kyso::cli {
namespace {

constexpr std::size_t kMaxVerifyInputLen = verify::kMaxVerifyPdfLen;
constexpr std::size_t kMaxPkiFileLen = 16 << 20;

using verify::FileReport;
using verify::SignatureReport;

Result<Time> ParseAt(const std::string& text) {
  std::tm tm{};
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z') {
    return InvalidArgumentError("--at là thời điểm ISO 8601 theo UTC, ví dụ 2026-11-25T07:00:00Z");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return Time(std::chrono::seconds(timegm(&tm)));
}

// AddCertificates adds the certificates of a file (PEM or DER), or of every .pem, .crt, .cer
// and .der file directly in a folder (a trust store such as DIR/trust/).
Status AddCertificates(const std::string& path, std::vector<ossl::UniquePtr<X509>>& into) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      const std::string ext = LowerExtension(e.path());
      if (e.is_regular_file(ec) && (ext == ".pem" || ext == ".crt" || ext == ".cer" || ext == ".der")) {
        names.push_back(e.path().string());
      }
    }
    if (ec) return InvalidArgumentError("không đọc được thư mục " + path);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) KYSO_RETURN_IF_ERROR(AddCertificates(name, into));
    return OkStatus();
  }
  KYSO_ASSIGN_OR_RETURN(FileContents data, FileContents::Read(path, kMaxPkiFileLen));
  KYSO_ASSIGN_OR_RETURN(auto certs, verify::ParseCertificates(data.bytes()), path);
  for (auto& c : certs) into.push_back(std::move(c));
  return OkStatus();
}

// kFolderExtensions are the files `kyso verify FOLDER` picks up: signed documents.
constexpr std::string_view kFolderExtensions[] = {".pdf", ".xml", ".p7m", ".p7s", ".eml"};
// kMaxFolderFiles bounds what one folder argument expands to.
constexpr std::size_t kMaxFolderFiles = 100000;

// ExpandFolders replaces each folder among `args` by the signed documents under it (recursively,
// sorted, hidden files and folders skipped, symbolic links not followed); files stay as given.
Result<std::vector<std::string>> ExpandFolders(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) {
      files.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec);
    if (ec) return InvalidArgumentError("không đọc được thư mục " + arg);
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return InvalidArgumentError("không đọc được thư mục " + arg);
      const fs::path& p = it->path();
      if (p.filename().string().starts_with(".")) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      const std::string ext = LowerExtension(p);
      if (std::find(std::begin(kFolderExtensions), std::end(kFolderExtensions), ext) == std::end(kFolderExtensions)) {
        continue;
      }
      if (found.size() >= kMaxFolderFiles) {
        return InvalidArgumentError("thư mục " + arg + " có hơn " + std::to_string(kMaxFolderFiles) + " tệp cần kiểm tra");
      }
      found.push_back(p.string());
    }
    if (found.empty()) return InvalidArgumentError("thư mục " + arg + " không có tệp PDF, XML, .p7m, .p7s hay .eml nào");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace

Status CmdVerify(const VerifyArgs& a, std::ostream& out) {
  if (a.files.empty()) return InvalidArgumentError("cần ít nhất một tệp để kiểm tra");
  if (a.policy != "national" && a.policy != "strict") return InvalidArgumentError("--policy là national hoặc strict");
  if (a.format != "text" && a.format != "json" && a.format != "html" && a.format != "pdf") {
    return InvalidArgumentError("--format là text, json, html hoặc pdf");
  }
  if (a.jobs < 0 || a.jobs > 256) return InvalidArgumentError("--jobs từ 1 đến 256");
  verify::VerifyContext ctx;
  ctx.strict = a.policy == "strict";
  ctx.memo = verify::NewPathMemo();
  ctx.offline = a.offline;
  if (!a.at.empty()) { KYSO_ASSIGN_OR_RETURN(ctx.at, ParseAt(a.at)); }
  if (a.algorithms_from.empty()) {
    ctx.algorithms_from = verify::kDefaultAlgorithmsFrom;
  } else if (a.algorithms_from != "never") {
    Result<Time> from = ParseAt(a.algorithms_from);
    if (!from.ok()) return InvalidArgumentError("--algorithms-from là thời điểm ISO 8601 theo UTC hoặc never");
    ctx.algorithms_from = *from;
  }
  std::optional<FileContents> content;
  if (!a.content.empty()) {
    KYSO_ASSIGN_OR_RETURN(content, FileContents::Read(a.content, verify::kMaxCmsInputLen), "--content");
    ctx.content = content->bytes();
  }
  for (const std::string& p : a.trust) KYSO_RETURN_IF_ERROR(AddCertificates(p, ctx.anchors));
  for (const std::string& p : a.untrusted) KYSO_RETURN_IF_ERROR(AddCertificates(p, ctx.untrusted));
  for (const std::string& p : a.crls) {
    KYSO_ASSIGN_OR_RETURN(FileContents data, FileContents::Read(p, kMaxPkiFileLen));
    KYSO_ASSIGN_OR_RETURN(auto crl, ossl::ParsePemOrDer<X509_CRL>(data.bytes(), PEM_read_bio_X509_CRL, d2i_X509_CRL,
                                                                  "CRL " + p));
    ctx.crls.push_back(ossl::ToDer(i2d_X509_CRL, crl.get()));
  }
  if (!a.home.empty()) {
    KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, "", false));
    store::Store& store = s.deployment->store();
    for (std::string_view role : {ca::kRoot, ca::kIssuing}) {
      KYSO_ASSIGN_OR_RETURN(store::CaKey key, store.GetCaKey(role));
      KYSO_ASSIGN_OR_RETURN(auto c, pkix::ParseCertificate(key.cert_der));
      (role == ca::kRoot ? ctx.anchors : ctx.untrusted).push_back(std::move(c));
      KYSO_ASSIGN_OR_RETURN(std::optional<store::CrlRecord> crl, store.LatestCrl(role));
      if (crl) ctx.crls.push_back(crl->der);
    }
    // The deployment's trust store: the provider's and the national roots an officer put there.
    const std::filesystem::path trust_dir = std::filesystem::path(a.home) / "trust";
    std::error_code ec;
    if (std::filesystem::is_directory(trust_dir, ec)) {
      KYSO_RETURN_IF_ERROR(AddCertificates(trust_dir.string(), ctx.anchors));
    }
  }
  if (ctx.anchors.empty()) {
    return InvalidArgumentError("cần chứng thư số gốc tin cậy: --trust PEM (gốc của nhà cung cấp, gốc quốc gia) hoặc --home DIR");
  }
  KYSO_ASSIGN_OR_RETURN(const std::vector<std::string> files, ExpandFolders(a.files));
  // Files are verified in parallel (each alone: no state is shared but the read-only context).
  std::vector<FileReport> reports(files.size());
  ProgressBar progress("kiểm tra");
  std::size_t done = 0;
  std::mutex progress_mu;
  const int jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Largest files first, so that a large one does not start last and keep one thread busy
  // while the others idle; the reports keep the order given.
  std::vector<std::size_t> order(files.size());
  std::vector<std::uintmax_t> sizes(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    order[i] = i;
    std::error_code ec;
    sizes[i] = std::filesystem::file_size(files[i], ec);
    if (ec) sizes[i] = 0;
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return sizes[x] > sizes[y]; });
  ParallelFor(files.size(), jobs, [&](std::size_t k) {
    const std::size_t i = order[k];
    reports[i] = verify::VerifyFile(files[i], ctx);
    std::lock_guard lock(progress_mu);
    progress.Update(++done, files.size());
  });
  std::ostringstream text;
  if (a.format == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const FileReport& r : reports) j.push_back(verify::ToJson(r));
    text << (reports.size() == 1 ? j[0] : j).dump(2) << "\n";
  } else if (a.format == "html") {
    text << verify::ToHtml(reports);
  } else if (a.format == "pdf") {
    // The time of the check printed in the report: --at when given, so that the same --at
    // gives the same bytes.
    KYSO_ASSIGN_OR_RETURN(const verify::ReportFonts fonts, verify::ReportFonts::LoadDefault());
    verify::PdfReportOptions options;
    options.checked_at = ctx.at ? *ctx.at : SystemClock().Now();
    KYSO_ASSIGN_OR_RETURN(const Bytes pdf, verify::ToPdf(reports, fonts, options), "báo cáo PDF");
    text << AsString(pdf);
  } else {
    for (const FileReport& r : reports) text << verify::ToText(r);
    if (reports.size() > 1) text << "\n" << verify::SummaryTableVi(reports) << verify::SummaryVi(reports) << "\n";
  }
  if (!a.out.empty()) {
    KYSO_RETURN_IF_ERROR(WriteFileAtomic(a.out, text.str()));
  } else {
    out << text.str();
  }
  int not_passed = 0;
  for (const FileReport& r : reports) not_passed += r.indication != verify::kPassed;
  if (reports.size() == 1 && !reports[0].error.empty()) {
    return FailedPreconditionError(reports[0].file + ": " + reports[0].error);
  }
  if (not_passed > 0) {
    return FailedPreconditionError(std::to_string(not_passed) + "/" + std::to_string(reports.size()) +
                                   " tệp không hợp lệ hoặc chưa xác định được");
  }
  return OkStatus();
}

}  // namespace kyso::cli
