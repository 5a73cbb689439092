#include "kyso/cli/commands.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "kyso/base/progress.h"
#include "kyso/ca/audit_checkpoint.h"
#include "kyso/http/ca_routes.h"
#include "kyso/http/server.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"

namespace kyso::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::string_view kConsole = "console";
constexpr std::size_t kMaxManifestLen = 64 << 20;

// WriteFileAtomically writes to a temporary name and renames, so a reader never sees half.
Status WriteFileAtomically(const fs::path& path, std::string_view data) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) return FailedPreconditionError("cannot write " + path.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return FailedPreconditionError("cannot write " + path.string() + ": " + ec.message());
  return OkStatus();
}

Result<pkix::CertRequest> ReadCsr(const std::string& path) {
  KYSO_ASSIGN_OR_RETURN(std::string data, ReadFileLimited(path, pkix::kMaxCsrLen), "CSR");
  return pkix::ParseCertRequest(AsBytes(data));
}

std::optional<std::string> Iso(std::optional<Time> t) {
  if (!t) return std::nullopt;
  return FormatIso8601Utc(*t);
}

// SplitCsvLine splits one line of a simple CSV: fields separated by commas, optionally in
// double quotes with "" for a quote.
std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

Result<std::string> NormalizeSerial(std::string_view serial) {
  std::string hex;
  if (serial.starts_with("0x") || serial.starts_with("0X")) serial.remove_prefix(2);
  for (char c : serial) {
    if (c == ':') continue;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() % 2 == 1) hex = "0" + hex;
  if (hex.empty() || hex.size() > 42) return InvalidArgumentError("serial must be 1 to 20 octets of hex");
  KYSO_ASSIGN_OR_RETURN(Bytes bytes, HexDecode(hex), "serial");
  std::size_t skip = 0;
  while (skip + 1 < bytes.size() && bytes[skip] == 0) ++skip;
  return HexEncode(ByteSpan(bytes).subspan(skip));
}

Status CmdCertIssue(const IssueArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(ca::Profile profile, ca::ParseProfile(a.profile));
  KYSO_ASSIGN_OR_RETURN(pkix::CertRequest csr, ReadCsr(a.csr_path));
  if (a.out_path.empty()) return InvalidArgumentError("--out is required");
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(a.home));
  ca::IssueRequest req{profile, &csr, ca::Subject{a.name, a.email, a.org, a.units}, a.days};
  KYSO_ASSIGN_OR_RETURN(ca::Issued issued, d->authority().Issue(req, kConsole));
  KYSO_RETURN_IF_ERROR(WriteFileAtomically(a.out_path, pkix::PemEncode(issued.cert_der, "CERTIFICATE")));
  KYSO_RETURN_IF_ERROR(d->Checkpoint(kConsole, ca::kCheckpointEvery).status());
  out << issued.serial_hex << "\n";
  return OkStatus();
}

Status CmdCertIssueBatch(const IssueBatchArgs& a, std::ostream& out, std::ostream& err) {
  KYSO_ASSIGN_OR_RETURN(ca::Profile profile, ca::ParseProfile(a.profile));
  KYSO_ASSIGN_OR_RETURN(std::string manifest, ReadFileLimited(a.manifest, kMaxManifestLen));
  if (a.out_dir.empty() || !fs::is_directory(a.out_dir)) {
    return InvalidArgumentError("--out-dir must be an existing folder");
  }
  // Read and check every row before anything is issued: a manifest with a bad row is
  // refused whole. What depends on the CA (validity against the issuer) is checked per row.
  std::vector<Bytes> csr_files;
  std::vector<ca::Subject> subjects;
  std::vector<std::size_t> lines_of;  // manifest line of each row, for messages
  std::size_t line_no = 0;
  std::istringstream lines(manifest);
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    if (line.empty() || line == "\r" || (line_no == 1 && line.starts_with("csr,"))) continue;
    const std::string where = "manifest line " + std::to_string(line_no);
    std::vector<std::string> f = SplitCsvLine(line);
    if (f.size() < 4 || f.size() > 7) {
      return InvalidArgumentError(where + ": expected csr,name,email,org[,unit...]");
    }
    KYSO_ASSIGN_OR_RETURN(std::string csr, ReadFileLimited(f[0], pkix::kMaxCsrLen), where);
    ca::Subject subject{f[1], f[2], f[3], std::vector<std::string>(f.begin() + 4, f.end())};
    KYSO_RETURN_IF_ERROR(ca::ValidateSubject(subject), where);
    csr_files.emplace_back(csr.begin(), csr.end());
    subjects.push_back(std::move(subject));
    lines_of.push_back(line_no);
  }
  std::vector<Result<pkix::CertRequest>> parsed = pkix::ParseCertRequests(csr_files, a.threads);
  std::vector<pkix::CertRequest> csrs;
  csrs.reserve(parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i].ok()) {
      return parsed[i].status().WithContext("manifest line " + std::to_string(lines_of[i]));
    }
    csrs.push_back(std::move(parsed[i]).value());
  }
  std::vector<ca::IssueRequest> reqs;
  for (std::size_t i = 0; i < csrs.size(); ++i) {
    reqs.push_back(ca::IssueRequest{profile, &csrs[i], subjects[i], std::nullopt});
  }
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(a.home));
  std::size_t issued = 0;
  std::size_t refused = 0;
  // Issue in slices so certificates reach the folder as they are committed.
  constexpr std::size_t kSlice = 512;
  ProgressBar bar("issuing");
  for (std::size_t start = 0; start < reqs.size(); start += kSlice) {
    const std::size_t n = std::min(kSlice, reqs.size() - start);
    auto results = d->authority().IssueBatch(std::span(reqs).subspan(start, n), kConsole, a.threads);
    bar.Update(start + n, reqs.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) {
        ++refused;
        err << "kyso: manifest line " << lines_of[start + i] << ": "
            << results[i].status().message() << "\n";
        continue;
      }
      KYSO_RETURN_IF_ERROR(WriteFileAtomically(fs::path(a.out_dir) / (results[i]->serial_hex + ".pem"),
                                               pkix::PemEncode(results[i]->cert_der, "CERTIFICATE")));
      ++issued;
    }
  }
  KYSO_RETURN_IF_ERROR(d->Checkpoint(kConsole, ca::kCheckpointEvery).status());
  out << "issued " << issued << ", refused " << refused << "\n";
  if (refused > 0) return InvalidArgumentError(std::to_string(refused) + " requests refused");
  return OkStatus();
}

Status CmdCertRevoke(const std::string& home, const std::string& serial, const std::string& reason,
                     std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(std::string s, NormalizeSerial(serial));
  KYSO_ASSIGN_OR_RETURN(ca::RevocationReason r, ca::ParseReason(reason));
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home));
  KYSO_RETURN_IF_ERROR(d->authority().Revoke(s, r, kConsole));
  KYSO_RETURN_IF_ERROR(d->Checkpoint(kConsole, ca::kCheckpointEvery).status());
  out << "revoked " << s << " (" << ca::ReasonName(r.code) << ")\n";
  return OkStatus();
}

Status CmdCertShow(const std::string& home, const std::string& serial, ShowFormat format,
                   std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(std::string s, NormalizeSerial(serial));
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home, /*with_ca=*/false));
  KYSO_ASSIGN_OR_RETURN(store::CertificateRecord rec, d->store().GetCertificate(s));
  std::string issuer_dn = rec.issuer;
  if (!rec.cert_der.empty()) {
    KYSO_ASSIGN_OR_RETURN(auto cert, pkix::ParseCertificate(rec.cert_der));
    issuer_dn = pkix::NameUtf8(X509_get_issuer_name(cert.get()));
  }
  std::string status = rec.state != store::CertState::kIssued ? std::string(store::CertStateName(rec.state))
                       : rec.revoked_at                       ? "revoked"
                                                              : "good";
  json j = {{"serial", rec.serial_hex},
            {"subject", rec.subject},
            {"issuer", issuer_dn},
            {"profile", rec.profile},
            {"not_before", FormatIso8601Utc(rec.not_before)},
            {"not_after", FormatIso8601Utc(rec.not_after)},
            {"status", status},
            {"revoked_at", nullptr},
            {"revocation_reason", nullptr}};
  if (rec.revoked_at) {
    j["revoked_at"] = *Iso(rec.revoked_at);
    j["revocation_reason"] = std::string(ca::ReasonName(rec.reason));
  }
  if (format == ShowFormat::kPem) {
    if (rec.cert_der.empty()) {
      return FailedPreconditionError("certificate " + rec.serial_hex + " is " + status +
                                     "; there is no signed certificate to print");
    }
    out << pkix::PemEncode(rec.cert_der, "CERTIFICATE");
  } else if (format == ShowFormat::kJson) {
    out << j.dump(2) << "\n";
  } else {
    for (const auto& [k, v] : j.items()) {
      out << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
  }
  return OkStatus();
}

Status CmdCaChain(const std::string& home, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home, /*with_ca=*/false));
  for (std::string_view role : {ca::kIssuing, ca::kRoot}) {
    KYSO_ASSIGN_OR_RETURN(store::CaKey key, d->store().GetCaKey(role));
    out << pkix::PemEncode(key.cert_der, "CERTIFICATE");
  }
  return OkStatus();
}

Status CmdCrl(const std::string& home, const std::string& issuer, const std::string& out_path,
              std::ostream& out) {
  if (issuer != ca::kIssuing && issuer != ca::kRoot) {
    return InvalidArgumentError("--issuer is 'issuing' or 'root'");
  }
  if (out_path.empty()) return InvalidArgumentError("--out is required");
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home));
  KYSO_ASSIGN_OR_RETURN(store::CrlRecord crl, d->authority().GenerateCrl(issuer, kConsole));
  KYSO_RETURN_IF_ERROR(WriteFileAtomically(out_path, AsString(crl.der)));
  out << "CRL " << issuer << " number " << crl.number << ", next update "
      << FormatIso8601Utc(crl.next_update) << "\n";
  return OkStatus();
}

Status CmdCaRecover(const std::string& home, int min_age_seconds, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home));
  KYSO_ASSIGN_OR_RETURN(int n, d->authority().RecoverPending(std::chrono::seconds(min_age_seconds),
                                                              kConsole));
  out << "completed " << n << " recorded issuance(s)\n";
  return OkStatus();
}

Status CmdAuditCheckpoint(const std::string& home, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home));
  KYSO_ASSIGN_OR_RETURN(bool signed_now, d->Checkpoint(kConsole, 0));
  KYSO_ASSIGN_OR_RETURN(auto checkpoints, d->store().ListCheckpoints());
  const int64_t covered = checkpoints.empty() ? 0 : checkpoints.back().last_event_id;
  out << (signed_now ? "signed a checkpoint covering events 1 to " : "nothing new to sign: events 1 to ")
      << covered << (signed_now ? "" : " are covered") << "\n";
  return OkStatus();
}

Status CmdAuditVerify(const std::string& home, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(home, /*with_ca=*/false));
  KYSO_ASSIGN_OR_RETURN(store::AuditReport report, d->store().VerifyAudit());
  KYSO_RETURN_IF_ERROR(ca::VerifyCheckpoints(d->store(), report));
  if (report.first_bad_id) {
    return FailedPreconditionError("audit chain broken at event " +
                                   std::to_string(*report.first_bad_id) + ": " + report.problem);
  }
  KYSO_ASSIGN_OR_RETURN(auto checkpoints, d->store().ListCheckpoints());
  out << "audit chain intact: " << report.events << " events, " << checkpoints.size()
      << " signed checkpoint(s) verified\n";
  return OkStatus();
}

}  // namespace kyso::cli
