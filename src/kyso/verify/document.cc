#include "kyso/verify/document.h"

#include <openssl/cms.h>
#include <openssl/sha.h>

#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <unordered_map>
#include <filesystem>

#include "kyso/base/clock.h"
#include "kyso/base/file.h"
#include "kyso/pkix/x509.h"
#include "kyso/verify/algorithms.h"
#include "kyso/verify/cert_check.h"
#include "kyso/verify/cms_sigs.h"
#include "kyso/verify/path.h"
#include "kyso/verify/pdf_sigs.h"
#include "kyso/verify/prefix_digest.h"
#include "kyso/verify/timestamp_token.h"
#include "kyso/verify/xades_sigs.h"

namespace kyso::verify {

// The outcome of one path validation, as FromPath writes it into a report.
struct PathOutcome {
  std::string indication, sub_indication, message;
  std::vector<std::string> added_warnings;
  Revocation revocation;
  std::optional<Time> timestamp_time;
};

class PathMemo {
 public:
  ParsedRevocationCache& parsed_revocation() { return parsed_revocation_; }

  // Certificate parses `der` once per batch (OpenSSL 3.0 decodes the public key of every
  // certificate it parses, the dearest part of reading a DSS): a new reference, or null.
  ossl::UniquePtr<X509> Certificate(const Bytes& der) {
    const std::string_view key = AsString(der);
    {
      std::lock_guard lock(mu_);
      if (auto it = certs_.find(key); it != certs_.end()) {
        if (X509_up_ref(it->second.get()) != 1) return nullptr;
        return ossl::UniquePtr<X509>(it->second.get());
      }
    }
    Result<ossl::UniquePtr<X509>> parsed = pkix::ParseCertificate(der);
    if (!parsed.ok()) return nullptr;
    std::lock_guard lock(mu_);
    // Counted twice, as in ParsedRevocationCache: the key and, roughly, the parsed form.
    if (cert_bytes_ + 2 * der.size() <= kMaxCertBytes && X509_up_ref(parsed->get()) == 1) {
      cert_bytes_ += 2 * der.size();
      certs_.try_emplace(std::string(key), parsed->get());
    }
    return std::move(*parsed);
  }

  std::optional<PathOutcome> Get(const Bytes& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void Put(Bytes key, PathOutcome outcome) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.emplace(std::move(key), std::move(outcome));
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  static constexpr std::size_t kMaxCertBytes = std::size_t{64} * 1024 * 1024;
  std::unordered_map<std::string, ossl::UniquePtr<X509>, DerHash, std::equal_to<>> certs_;  // guarded by mu_
  std::size_t cert_bytes_ = 0;                                     // guarded by mu_
  ParsedRevocationCache parsed_revocation_;  // the batch's CRLs and OCSP responses, parsed once
  std::mutex mu_;
  std::map<Bytes, PathOutcome> entries_;
};

std::shared_ptr<PathMemo> NewPathMemo() { return std::make_shared<PathMemo>(); }

namespace {

constexpr std::size_t kMaxVerifyInputLen = kMaxVerifyPdfLen;
// kPrefixDigestMinLen: from this size a PDF is hashed while it is read (PrefixDigest).
constexpr std::size_t kPrefixDigestMinLen = std::size_t{32} * 1024 * 1024;


std::string NameOf(const X509_NAME* name) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::optional<Time> TimeOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return Time(std::chrono::seconds(timegm(&tm)));
}

// FromPath fills a report's indication, message and revocation from a path validation.
void FromPath(const PathResult& path, SignatureReport& r) {
  switch (path.indication) {
    case Indication::kTotalPassed:
      r.indication = std::string(kPassed);
      break;
    case Indication::kTotalFailed:
      r.indication = std::string(kFailed);
      break;
    case Indication::kIndeterminate:
      r.indication = std::string(kUndetermined);
      break;
  }
  r.sub_indication = std::string(SubIndicationName(path.sub));
  if (!path.passed()) r.message = path.message_vi;
  r.warnings.insert(r.warnings.end(), path.warnings.begin(), path.warnings.end());
  if (path.sub == SubIndication::kRevoked) {
    r.revocation.status = "revoked";
    r.revocation.revoked_at = path.revoked_at;
    r.revocation.reason = std::string(CrlReasonName(path.revocation_reason));
  } else if (path.passed()) {
    r.revocation.status = "good";
  } else if (path.sub == SubIndication::kTryLater) {
    r.revocation.status = "unknown";
  }
}

PathOptions PathOptionsFor(const VerifyContext& ctx, Time at) {
  PathOptions o;
  for (const auto& c : ctx.anchors) o.anchors.push_back(c.get());
  for (const auto& c : ctx.untrusted) o.untrusted.push_back(c.get());
  o.crls_der = ctx.crls;
  o.at = at;
  o.require_revocation = ctx.strict;
  return o;
}

// ManagingUnit names the agency in a subject (R7.1: O the level-1 agency, OU levels 2 to 4):
// the OUs from the most specific (the last written) up, then O, joined by ", ".
std::string ManagingUnit(const X509_NAME* subject) {
  std::vector<std::string> parts;
  for (int nid : {NID_organizationalUnitName, NID_organizationName}) {
    std::vector<std::string> values;
    for (int i = X509_NAME_get_index_by_NID(subject, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(subject, nid, i)) {
      unsigned char* utf8 = nullptr;
      const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
      if (len > 0) values.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
    }
    parts.insert(parts.end(), values.rbegin(), values.rend());
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

void Describe(const X509* cert, SignatureReport& r) {
  if (cert == nullptr) return;
  r.signer = NameOf(X509_get_subject_name(cert));
  r.issuer = NameOf(X509_get_issuer_name(cert));
  r.managing_unit = ManagingUnit(X509_get_subject_name(cert));
  r.not_before = TimeOf(X509_get0_notBefore(cert));
  r.not_after = TimeOf(X509_get0_notAfter(cert));
}

// ValidateSigner validates the signer's certificate path at the best signature time (a
// signature timestamp that verifies over `signature_value`, else --at, else now), with the
// certificates and revocation data the signature or document carries added to the caller's.
void ValidateSignerUncached(const X509* signer, const std::vector<ossl::UniquePtr<X509>>& carried_certs,
                            const std::vector<ossl::UniquePtr<X509>>& more_certs, const std::vector<Bytes>& more_crls,
                            const std::vector<Bytes>& ocsps, const std::vector<Bytes>& tokens,
                            ByteSpan signature_value, const VerifyContext& base, SignatureReport& r) {
  // Borrowed pointers, not copies: parsing a certificate again costs a key decode in OpenSSL 3,
  // and a PDF with a large DSS and many signatures would pay it per signature.
  std::vector<const X509*> anchors, untrusted;
  for (const auto& c : base.anchors) anchors.push_back(c.get());
  for (const auto& c : base.untrusted) untrusted.push_back(c.get());
  for (const auto& c : carried_certs) untrusted.push_back(c.get());
  for (const auto& c : more_certs) untrusted.push_back(c.get());
  std::vector<Bytes> crls = base.crls;
  crls.insert(crls.end(), more_crls.begin(), more_crls.end());
  Time at = base.at.value_or(SystemClock().Now());
  if (!base.at && !signature_value.empty()) {
    Bytes digest(SHA256_DIGEST_LENGTH);
    SHA256(signature_value.data(), signature_value.size(), digest.data());
    for (const Bytes& token : tokens) {
      Result<VerifiedTimestamp> ts = VerifyTimestampToken(token, digest, anchors, untrusted);
      if (ts.ok() && base.algorithms_from && ts->gen_time >= *base.algorithms_from) {
        if (std::string weak = AlgorithmProblemVi(X509_get0_pubkey(ts->tsa_cert.get()), ts->digest_nid);
            !weak.empty()) {
          r.warnings.push_back("dấu thời gian của chữ ký không được dùng: " + weak);
          continue;
        }
      }
      if (ts.ok()) {
        r.timestamp_time = ts->gen_time;
        at = ts->gen_time;
        break;
      }
      r.warnings.push_back("dấu thời gian của chữ ký không kiểm tra được: " + ts.status().message());
    }
  }
  PathOptions o;
  o.anchors = anchors;
  o.untrusted = untrusted;
  o.crls_der = std::move(crls);
  o.at = at;
  o.require_revocation = base.strict;
  o.ocsp_responses_der = ocsps;
  if (base.memo) o.revocation_cache = &base.memo->parsed_revocation();
  if (!base.offline) {
    // Revocation data the document does not carry is fetched (OCSP from the AIA, then the CRL
    // distribution points; bounded, CRLs cached) and added to what the path is judged with.
    CertCheckOptions fetch;
    fetch.anchors = o.anchors;
    fetch.untrusted = o.untrusted;
    fetch.crls_der = o.crls_der;
    fetch.ocsp_responses_der = o.ocsp_responses_der;
    fetch.at = at;
    fetch.purpose = Purpose::kAny;
    fetch.check_key_algorithm = false;
    if (Result<CertCheck> fetched = CheckSigningCertificate(signer, fetch); fetched.ok()) {
      o.crls_der.insert(o.crls_der.end(), fetched->crls_der.begin(), fetched->crls_der.end());
      o.ocsp_responses_der.insert(o.ocsp_responses_der.end(), fetched->ocsp_responses_der.begin(),
                                  fetched->ocsp_responses_der.end());
    }
  }
  Result<PathResult> path = ValidatePath(signer, o);
  if (!path.ok()) {
    r.indication = std::string(kUndetermined);
    r.sub_indication = "CERTIFICATE_CHAIN_GENERAL_FAILURE";
    r.message = path.status().message();
    return;
  }
  FromPath(*path, r);
}

// MemoKey names a path validation within one context: the signer, the time, and what the
// document carried (the context's own anchors, pool and CRLs are fixed for its lifetime).
Bytes MemoKey(const X509* signer, Time at, const std::vector<ossl::UniquePtr<X509>>& carried,
              const std::vector<ossl::UniquePtr<X509>>& more, const std::vector<Bytes>& crls,
              const std::vector<Bytes>& ocsps, const std::vector<Bytes>& tokens, ByteSpan signature_value) {
  ossl::UniquePtr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  auto cert = [&md](const X509* c) {
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (c != nullptr && X509_digest(c, EVP_sha256(), h, &n) == 1) EVP_DigestUpdate(md.get(), h, n);
  };
  auto blob = [&md](ByteSpan b) {
    const uint64_t len = b.size();
    EVP_DigestUpdate(md.get(), &len, sizeof len);
    EVP_DigestUpdate(md.get(), b.data(), b.size());
  };
  cert(signer);
  const int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  EVP_DigestUpdate(md.get(), &seconds, sizeof seconds);
  for (const auto& c : carried) cert(c.get());
  EVP_DigestUpdate(md.get(), "|", 1);
  for (const auto& c : more) cert(c.get());
  EVP_DigestUpdate(md.get(), "|", 1);
  for (const Bytes& b : crls) blob(b);
  EVP_DigestUpdate(md.get(), "|", 1);
  for (const Bytes& b : ocsps) blob(b);
  EVP_DigestUpdate(md.get(), "|", 1);
  for (const Bytes& b : tokens) blob(b);
  // The signature value only matters through a timestamp over it.
  if (!tokens.empty()) blob(signature_value);
  Bytes key(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  EVP_DigestFinal_ex(md.get(), key.data(), &n);
  key.resize(n);
  return key;
}

// ValidateSigner is ValidateSignerUncached, remembered in the context's memo: in a batch of
// documents by the same signer, the path is built and its revocation data fetched once.
void ValidateSigner(const X509* signer, const std::vector<ossl::UniquePtr<X509>>& carried_certs,
                    const std::vector<ossl::UniquePtr<X509>>& more_certs, const std::vector<Bytes>& more_crls,
                    const std::vector<Bytes>& ocsps, const std::vector<Bytes>& tokens, ByteSpan signature_value,
                    const VerifyContext& base, SignatureReport& r) {
  if (!base.memo) {
    return ValidateSignerUncached(signer, carried_certs, more_certs, more_crls, ocsps, tokens, signature_value,
                                  base, r);
  }
  const Time at = base.at.value_or(SystemClock().Now());
  Bytes key = MemoKey(signer, at, carried_certs, more_certs, more_crls, ocsps, tokens, signature_value);
  std::optional<PathOutcome> outcome = base.memo->Get(key);
  if (!outcome) {
    SignatureReport fresh = r;
    ValidateSignerUncached(signer, carried_certs, more_certs, more_crls, ocsps, tokens, signature_value, base,
                           fresh);
    outcome = PathOutcome{fresh.indication, fresh.sub_indication, fresh.message,
                          std::vector<std::string>(fresh.warnings.begin() + static_cast<std::ptrdiff_t>(r.warnings.size()),
                                                   fresh.warnings.end()),
                          fresh.revocation, fresh.timestamp_time};
    base.memo->Put(std::move(key), *outcome);
  }
  r.indication = outcome->indication;
  r.sub_indication = outcome->sub_indication;
  r.message = outcome->message;
  r.warnings.insert(r.warnings.end(), outcome->added_warnings.begin(), outcome->added_warnings.end());
  r.revocation = outcome->revocation;
  r.timestamp_time = outcome->timestamp_time;
}

// ApplyAlgorithmPolicy holds a signature that verified to R7.2 when it was made (its best
// signature time: a timestamp's, else --at, else now) on or after ctx.algorithms_from: one
// that would pass is INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE (no proof it existed
// before the policy); one already not passing gets the reason as a warning.
void ApplyAlgorithmPolicy(const X509* signer, int digest_nid, const VerifyContext& ctx, SignatureReport& r) {
  if (!ctx.algorithms_from || signer == nullptr || r.indication == kFailed) return;
  const Time made = r.timestamp_time ? *r.timestamp_time : ctx.at.value_or(SystemClock().Now());
  if (made < *ctx.algorithms_from) return;
  std::string weak = AlgorithmProblemVi(X509_get0_pubkey(signer), digest_nid);
  if (weak.empty()) return;
  if (r.indication == kPassed) {
    r.indication = std::string(kUndetermined);
    r.sub_indication = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE";
    r.message = std::move(weak);
  } else {
    r.warnings.push_back(std::move(weak));
  }
}

SignatureReport VerifyPdfSignature(const PdfSignature& s, const PdfSignatures& all,
                                   const std::vector<ossl::UniquePtr<X509>>& dss_certs,
                                   const VerifyContext& base) {
  SignatureReport r;
  r.format = s.doc_timestamp ? "PAdES (dấu thời gian tài liệu)" : "PAdES";
  r.field = s.field_name;
  r.covers_whole_document = s.covers_whole_document;
  r.signing_time = s.claimed_signing_time;
  Describe(s.signer_cert.get(), r);
  bool pages_changed = false;
  for (const PdfRevisionChange& m : s.modifications_after) {
    r.modifications_after.push_back({m.revision, m.klass, m.allowed, m.attack});
    if (m.klass == "pages") pages_changed = true;
    if (!m.allowed) r.warnings.push_back("nội dung đã bị thay đổi sau khi ký (bản sửa " + std::to_string(m.revision) + ")");
  }
  auto fail = [&r](std::string_view sub, std::string message) {
    r.indication = std::string(kFailed);
    r.sub_indication = std::string(sub);
    r.message = std::move(message);
    return r;
  };
  // Attacks on the signature itself, named for the reader (PDF-Insecurity's classes).
  for (const std::string* problem : {&s.byte_range_problem, &s.crypto_problem}) {
    for (std::string_view attack : {"signature wrapping", "universal signature forgery"}) {
      if (problem->find(attack) != std::string::npos) r.warnings.push_back("dấu hiệu tấn công: " + std::string(attack));
    }
  }
  if (!s.byte_range_ok) return fail("FORMAT_FAILURE", "vùng dữ liệu được ký (ByteRange) không hợp lệ: " + s.byte_range_problem);
  if (!s.hash_ok) return fail("HASH_FAILURE", "tài liệu đã bị sửa sau khi ký: giá trị băm không khớp");
  if (s.signer_cert == nullptr) {
    r.indication = std::string(kUndetermined);
    r.sub_indication = "NO_SIGNING_CERTIFICATE_FOUND";
    r.message = "không tìm thấy chứng thư số của người ký trong chữ ký";
    return r;
  }
  if (!s.signature_ok) return fail("SIG_CRYPTO_FAILURE", "chữ ký không khớp với khóa công khai của chứng thư số: " + s.crypto_problem);
  if (pages_changed) return fail("FORMAT_FAILURE", "trang tài liệu bị thêm hoặc bớt sau khi ký");

  ValidateSigner(s.signer_cert.get(), s.cms_certs, dss_certs, all.dss.crls, all.dss.ocsps,
                 s.doc_timestamp ? std::vector<Bytes>{} : s.timestamp_tokens, s.signature_value, base, r);
  ApplyAlgorithmPolicy(s.signer_cert.get(), s.digest_nid, base, r);
  return r;
}

FileReport VerifyPdf(const std::string& file, ByteSpan pdf, const VerifyContext& ctx,
                     const PrefixDigest* prefix) {
  FileReport report;
  report.file = file;
  Result<PdfSignatures> sigs = ReadPdfSignatures(pdf, prefix);
  if (!sigs.ok()) {
    report.error = "không đọc được tệp PDF: " + sigs.status().message();
    return report;
  }
  // The DSS's certificates are parsed once for all the document's signatures.
  std::vector<ossl::UniquePtr<X509>> dss_certs;
  for (const Bytes& der : sigs->dss.certs) {
    if (ctx.memo) {
      if (ossl::UniquePtr<X509> c = ctx.memo->Certificate(der)) dss_certs.push_back(std::move(c));
    } else if (auto c = pkix::ParseCertificate(der); c.ok()) {
      dss_certs.push_back(std::move(*c));
    }
  }
  for (const PdfSignature& s : sigs->signatures) {
    report.signatures.push_back(VerifyPdfSignature(s, *sigs, dss_certs, ctx));
    if (sigs->unreferenced_signatures > 0) {
      report.signatures.back().warnings.push_back(
          "tệp còn " + std::to_string(sigs->unreferenced_signatures) +
          " chữ ký không thuộc cấu trúc của tài liệu (bị tách khỏi bảng tham chiếu hoặc bị ẩn): không được kiểm tra");
    }
  }
  return report;
}

FileReport VerifyCmsMessage(const std::string& file, Result<CmsMessage> msg, const VerifyContext& ctx) {
  FileReport report;
  report.file = file;
  if (!msg.ok()) {
    report.error = msg.status().message();
    return report;
  }
  for (const CmsSignature& s : msg->signatures) {
    SignatureReport r;
    r.format = "CAdES";
    r.signing_time = s.signing_time;
    Describe(s.signer_cert.get(), r);
    if (!s.signer_cert) {
      r.sub_indication = "NO_SIGNING_CERTIFICATE_FOUND";
      r.message = "không tìm thấy chứng thư số của người ký trong chữ ký";
    } else if (!s.hash_ok) {
      r.indication = std::string(kFailed);
      r.sub_indication = "HASH_FAILURE";
      r.message = "dữ liệu đã bị sửa sau khi ký: giá trị băm không khớp";
    } else if (!s.signature_ok) {
      r.indication = std::string(kFailed);
      r.sub_indication = "SIG_CRYPTO_FAILURE";
      r.message = "chữ ký không khớp với khóa công khai của chứng thư số";
    } else {
      ValidateSigner(s.signer_cert.get(), msg->certificates, {}, msg->crls, {}, s.timestamp_tokens,
                     s.signature_value, ctx, r);
      ApplyAlgorithmPolicy(s.signer_cert.get(), s.digest_nid, ctx, r);
    }
    report.signatures.push_back(std::move(r));
  }
  return report;
}

// DetachedNextTo resolves a detached XML Reference: --content when given, else a plain file
// name (no folder, no "..", no scheme) read from the signature's own folder. Nothing else.
XmlDetachedResolver DetachedNextTo(const std::string& file, const VerifyContext& ctx) {
  return [file, content = ctx.content](std::string_view uri) -> std::optional<Bytes> {
    if (content) return Bytes(content->begin(), content->end());
    if (uri.empty() || uri.find_first_of("/\\:") != std::string_view::npos || uri.find("..") != std::string_view::npos ||
        uri.find('%') != std::string_view::npos) {
      return std::nullopt;
    }
    const std::filesystem::path path = std::filesystem::path(file).parent_path() / std::string(uri);
    Result<FileContents> data = FileContents::Read(path, kMaxCmsInputLen);
    if (!data.ok()) return std::nullopt;
    return Bytes(data->bytes().begin(), data->bytes().end());
  };
}

FileReport VerifyXml(const std::string& file, ByteSpan xml, const VerifyContext& ctx) {
  FileReport report;
  report.file = file;
  Result<std::vector<XmlSignature>> sigs = ReadXmlSignatures(xml, DetachedNextTo(file, ctx));
  if (!sigs.ok()) {
    // A document that carries an XML signature but is not well-formed XML cannot hold a valid
    // one (XML-DSig signs parsed XML): FORMAT_FAILURE, as EU DSS judges it. Anything else that
    // stops the reading (size, a DTD kyso refuses) says nothing about the signature.
    if (sigs.status().message().find("không well-formed") != std::string::npos &&
        AsString(xml).find("http://www.w3.org/2000/09/xmldsig#") != std::string_view::npos) {
      SignatureReport r;
      r.format = "XAdES";
      r.indication = std::string(kFailed);
      r.sub_indication = "FORMAT_FAILURE";
      r.message = "tài liệu có chữ ký XML nhưng không phải XML hợp lệ (không well-formed)";
      report.signatures.push_back(std::move(r));
      return report;
    }
    report.error = sigs.status().message();
    return report;
  }
  for (const XmlSignature& s : *sigs) {
    SignatureReport r;
    r.format = "XAdES";
    r.field = s.id;
    r.signing_time = s.signing_time;
    Describe(s.signer_cert.get(), r);
    if (!s.attack.empty()) r.warnings.push_back("dấu hiệu tấn công: " + s.attack);
    static const std::map<std::string, std::string, std::less<>> kWhy = {
        {"FORMAT_FAILURE", "chữ ký XML sai cấu trúc"},
        {"HASH_FAILURE", "dữ liệu đã bị sửa sau khi ký"},
        {"SIG_CRYPTO_FAILURE", "chữ ký không khớp với khóa công khai của chứng thư số"},
        {"SIGNED_DATA_NOT_FOUND", "không tìm thấy dữ liệu được ký (chữ ký tách rời: --content FILE)"},
        {"NO_SIGNING_CERTIFICATE_FOUND", "không xác định được chứng thư số của người ký"},
        {"CRYPTO_CONSTRAINTS_FAILURE", "thuật toán của chữ ký không được chấp nhận"}};
    if (!s.sub_indication.empty()) {
      r.indication = std::string(XmlSignatureFailed(s) ? kFailed : kUndetermined);
      r.sub_indication = s.sub_indication;
      const auto why = kWhy.find(s.sub_indication);
      r.message = (why != kWhy.end() ? why->second : s.sub_indication) + (s.problem.empty() ? "" : " (" + s.problem + ")");
    } else {
      ValidateSigner(s.signer_cert.get(), s.certificates, {}, s.crls, s.ocsp_responses, s.timestamp_tokens,
                     s.signature_value_c14n, ctx, r);
      ApplyAlgorithmPolicy(s.signer_cert.get(), s.digest_nid, ctx, r);
    }
    report.signatures.push_back(std::move(r));
  }
  return report;
}

FileReport VerifyCertificateFile(const std::string& file, std::vector<ossl::UniquePtr<X509>> certs, const VerifyContext& ctx) {
  FileReport report;
  report.file = file;
  VerifyContext local;
  for (const auto& c : ctx.anchors) local.anchors.emplace_back(X509_dup(c.get()));
  for (const auto& c : ctx.untrusted) local.untrusted.emplace_back(X509_dup(c.get()));
  // The first certificate is the one validated; the others in the file are intermediates.
  for (std::size_t i = 1; i < certs.size(); ++i) local.untrusted.push_back(std::move(certs[i]));
  local.crls = ctx.crls;
  local.strict = ctx.strict;
  SignatureReport r;
  r.format = "X.509";
  Describe(certs.front().get(), r);
  const Time at = ctx.at.value_or(SystemClock().Now());
  Result<PathResult> path = ValidatePath(certs.front().get(), PathOptionsFor(local, at));
  if (!path.ok()) {
    report.error = path.status().message();
    return report;
  }
  FromPath(*path, r);
  report.signatures.push_back(std::move(r));
  return report;
}

// DetachedContentName is the file a detached signature "X.p7s" is conventionally beside: "X",
// when it exists and is a regular file; otherwise "".
std::string DetachedContentName(const std::string& file) {
  std::filesystem::path p(file);
  if (LowerExtension(p) != ".p7s") return "";
  p.replace_extension();
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) ? p.string() : "";
}

FileReport ReadAndVerify(const std::string& file, const VerifyContext& ctx) {
  FileReport report;
  report.file = file;
  // A large PDF is hashed (SHA-256, from byte 0) while it is read, on another thread.
  std::unique_ptr<PrefixDigest> prefix;
  auto on_progress = [&prefix](ByteSpan ready) {
    if (ready.empty()) {  // the read failed: its buffer is about to be freed
      if (prefix) prefix->Abort();
      prefix.reset();
      return;
    }
    if (prefix) return prefix->Ready(ready);
    const std::string_view head = AsString(ready).substr(0, 1024);
    if (!head.empty() && static_cast<uint8_t>(head[0]) != 0x30 && head.find("%PDF-") != std::string_view::npos) {
      prefix = std::make_unique<PrefixDigest>();
      prefix->Ready(ready);
    }
  };
  std::error_code size_error;
  const bool large = std::filesystem::file_size(file, size_error) >= kPrefixDigestMinLen && !size_error;
  Result<FileContents> data =
      large ? FileContents::Read(file, kMaxVerifyInputLen, on_progress) : FileContents::Read(file, kMaxVerifyInputLen);
  if (prefix) prefix->Finish();
  if (!data.ok()) {
    report.error = data.status().message();
    return report;
  }
  const std::string_view head = AsString(data->bytes()).substr(0, 1024);
  // A DER CMS starts with a SEQUENCE, and an attached one may carry a PDF in its first KiB.
  const bool der = !head.empty() && static_cast<uint8_t>(head[0]) == 0x30;
  if (!der && head.find("%PDF-") != std::string_view::npos) return VerifyPdf(file, data->bytes(), ctx, prefix.get());
  if (LooksLikeSmime(data->bytes())) return VerifyCmsMessage(file, ReadSmime(data->bytes()), ctx);
  if (!head.empty() && (der || head.find("-----BEGIN CMS") != std::string_view::npos ||
                        head.find("-----BEGIN PKCS7") != std::string_view::npos)) {
    Result<CmsMessage> msg = ReadCms(data->bytes(), ctx.content);
    // Detached and no --content: the signed file beside it ("X" for "X.p7s"). Only then: an
    // attached signature keeps its own content whatever lies beside it.
    std::optional<FileContents> beside;
    if (!msg.ok() && !ctx.content && msg.status().message().find("--content") != std::string::npos) {
      if (std::string name = DetachedContentName(file); !name.empty()) {
        if (Result<FileContents> b = FileContents::Read(name, kMaxCmsInputLen); b.ok()) {
          beside = std::move(*b);
          msg = ReadCms(data->bytes(), beside->bytes());
        }
      }
    }
    if (msg.ok() || msg.status().message().find("CMS (.p7s") == std::string::npos) {
      return VerifyCmsMessage(file, std::move(msg), ctx);
    }
  }
  if (Result<std::vector<ossl::UniquePtr<X509>>> certs = ParseCertificates(data->bytes());
      certs.ok() && !certs->empty()) {
    return VerifyCertificateFile(file, std::move(*certs), ctx);
  }
  if (LooksLikeXml(data->bytes())) return VerifyXml(file, data->bytes(), ctx);
  report.error = "định dạng tệp chưa được hỗ trợ (kyso verify đọc PDF, XML, CMS .p7s/.p7m, thư S/MIME và chứng thư số)";
  return report;
}


}  // namespace

FileReport VerifyFile(const std::string& file, const VerifyContext& ctx) {
  FileReport report = ReadAndVerify(file, ctx);
  Finish(report);
  return report;
}

}  // namespace kyso::verify
