#include "kyso/verify/cert_check.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "kyso/http/client.h"
#include "kyso/pkix/signer.h"
#include "kyso/pkix/x509.h"

namespace kyso::verify {

using std::chrono::steady_clock;

namespace {

// Clocks of responders and of the signer's machine disagree by a little.
constexpr std::chrono::minutes kClockSkew{5};
// RFC 5019 2.2.4: an OCSP response without nextUpdate says newer information is always
// available; we use one only while it is fresh.
constexpr std::chrono::hours kMaxOcspAgeWithoutNextUpdate{1};
constexpr std::size_t kMaxBundleLen = 1024 * 1024;
constexpr std::size_t kMaxBundleCerts = 64;

struct StackDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), StackDeleter>;

struct RevStatus {
  bool revoked = false;
  Time revoked_at{};
  pkix::CrlReason reason = pkix::CrlReason::kUnspecified;
};

// Check holds what one CheckSigningCertificate call works with.
struct Check {
  const CertCheckOptions& options;
  Time at;
  ossl::UniquePtr<X509_STORE> store;
  CertStack pool;  // the untrusted certificates
  std::vector<std::pair<Bytes, ossl::UniquePtr<OCSP_RESPONSE>>> ocsps;
  std::vector<std::pair<Bytes, ossl::UniquePtr<X509_CRL>>> crls;
  RevocationCache& cache;
  steady_clock::time_point deadline;
  std::vector<std::string> attempts;  // why each revocation source failed, for the diagnostic
};

CertStack NewStack() { return CertStack(sk_X509_new_null()); }

void Push(STACK_OF(X509) * stack, const X509* cert) {
  X509* c = const_cast<X509*>(cert);
  if (X509_up_ref(c) == 1 && sk_X509_push(stack, c) <= 0) X509_free(c);
}

std::string ShortName(const X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i >= 0) {
    unsigned char* utf8 = nullptr;
    const int len =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (len >= 0) {
      std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
      return out;
    }
  }
  return pkix::NameUtf8(name);
}

// Whose is "Chứng thư số" or "Chứng thư số của tổ chức cấp "X"" for a certificate of the path.
std::string Whose(const X509* cert, std::size_t index) {
  if (index == 0) return "Chứng thư số";
  return "Chứng thư số của tổ chức cấp \"" + ShortName(cert) + "\"";
}

std::string TimeOr(const ASN1_TIME* t) {
  Result<Time> parsed = pkix::ToTime(t);
  return parsed.ok() ? FormatTimeVn(*parsed) : "(không đọc được)";
}

CertCheck Verdict(CertCheckStatus status, std::size_t index, std::string message,
                  std::string diagnostic) {
  CertCheck out;
  out.status = status;
  out.failing_index = index;
  out.message = std::move(message);
  out.diagnostic = std::move(diagnostic);
  return out;
}

// ---- Inputs ------------------------------------------------------------------------------

Status LoadAnchors(Check& c) {
  c.store.reset(X509_STORE_new());
  if (!c.store) return ossl::Error("X509_STORE_new");
  int count = 0;
  for (const X509* a : c.options.anchors) {
    if (a != nullptr && X509_STORE_add_cert(c.store.get(), const_cast<X509*>(a)) == 1) ++count;
  }
  if (c.options.anchor_store != nullptr) {
    CertStack all(X509_STORE_get1_all_certs(const_cast<X509_STORE*>(c.options.anchor_store)));
    for (int i = 0; all && i < sk_X509_num(all.get()); ++i) {
      if (X509_STORE_add_cert(c.store.get(), sk_X509_value(all.get(), i)) == 1) ++count;
    }
  }
  ERR_clear_error();  // duplicates are not errors
  if (count == 0) return InvalidArgumentError("no trust anchor given");
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(c.store.get());
  // The store's parameters are inherited by every X509_STORE_CTX made on it, OCSP_basic_verify's
  // included, so the responder's certificate is judged at the validation time too.
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(c.at.time_since_epoch().count()));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  return OkStatus();
}

Status LoadSupplied(Check& c) {
  for (const Bytes& der : c.options.crls_der) {
    const unsigned char* p = der.data();
    ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (!crl) return ossl::Error(Code::kInvalidArgument, "malformed CRL");
    c.crls.emplace_back(der, std::move(crl));
  }
  for (const Bytes& der : c.options.ocsp_responses_der) {
    const unsigned char* p = der.data();
    ossl::UniquePtr<OCSP_RESPONSE> r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!r) return ossl::Error(Code::kInvalidArgument, "malformed OCSP response");
    c.ocsps.emplace_back(der, std::move(r));
  }
  c.pool = NewStack();
  for (const X509* u : c.options.untrusted) {
    if (u != nullptr) Push(c.pool.get(), u);
  }
  return OkStatus();
}

// ---- Path --------------------------------------------------------------------------------

// BuildPath runs OpenSSL's RFC 5280 path validation at the validation time. On success it
// returns the path; otherwise `verdict` says why.
Result<CertStack> BuildPath(Check& c, const X509* cert, std::optional<CertCheck>& verdict) {
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx ||
      X509_STORE_CTX_init(ctx.get(), c.store.get(), const_cast<X509*>(cert), c.pool.get()) != 1) {
    return ossl::Error("X509_STORE_CTX_init");
  }
  const int ok = X509_verify_cert(ctx.get());
  if (ok == 1) {
    ERR_clear_error();
    return CertStack(X509_STORE_CTX_get1_chain(ctx.get()));
  }
  const int err = X509_STORE_CTX_get_error(ctx.get());
  if (err == X509_V_OK) return ossl::Error("X509_verify_cert");
  ERR_clear_error();
  const int depth = std::max(0, X509_STORE_CTX_get_error_depth(ctx.get()));
  const X509* failing = X509_STORE_CTX_get_current_cert(ctx.get());
  if (failing == nullptr) failing = cert;
  const auto index = static_cast<std::size_t>(depth);
  std::string diagnostic = std::string("path validation: ") + X509_verify_cert_error_string(err) +
                           " at depth " + std::to_string(depth);
  if (err == X509_V_ERR_CERT_HAS_EXPIRED) {
    verdict =
        Verdict(CertCheckStatus::kExpired, index,
                Whose(failing, index) + " đã hết hạn ngày " + TimeOr(X509_get0_notAfter(failing)),
                std::move(diagnostic));
  } else if (err == X509_V_ERR_CERT_NOT_YET_VALID) {
    verdict = Verdict(CertCheckStatus::kNotYetValid, index,
                      Whose(failing, index) + " chưa có hiệu lực (có hiệu lực từ ngày " +
                          TimeOr(X509_get0_notBefore(failing)) + ")",
                      std::move(diagnostic));
  } else {
    verdict = Verdict(CertCheckStatus::kUntrusted, index,
                      "Không xác minh được chứng thư số tới chứng thư gốc tin cậy",
                      std::move(diagnostic));
  }
  return CertStack(NewStack());
}

// CheckLeaf applies the purpose (key usage) and R7.2 key checks to the signer's certificate.
std::optional<CertCheck> CheckLeaf(const CertCheckOptions& options, const X509* cert) {
  X509* x = const_cast<X509*>(cert);
  if (options.purpose == Purpose::kDocumentSigning) {
    const bool has_ku = (X509_get_extension_flags(x) & EXFLAG_KUSAGE) != 0;
    if (!has_ku || (X509_get_key_usage(x) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
      return Verdict(CertCheckStatus::kBadKeyUsage, 0,
                     "Chứng thư số không được cấp cho mục đích ký số văn bản (key usage không có "
                     "digitalSignature hoặc nonRepudiation)",
                     has_ku ? "key usage lacks digitalSignature and nonRepudiation"
                            : "no key usage extension");
    }
  }
  if (options.check_key_algorithm) {
    // R7.2: RSA >= 2048 or ECDSA P-256/P-384, the same allowlist kyso signs with.
    Result<pkix::SignatureAlgorithm> alg = pkix::DefaultAlgorithmFor(X509_get0_pubkey(cert), false);
    ERR_clear_error();
    if (!alg.ok()) {
      return Verdict(CertCheckStatus::kBadAlgorithm, 0,
                     "Khóa của chứng thư số không đáp ứng yêu cầu thuật toán (RSA từ 2048 bit "
                     "hoặc ECDSA P-256/P-384)",
                     "R7.2: " + alg.status().message());
    }
  }
  return std::nullopt;
}

// ---- Revocation data ---------------------------------------------------------------------

std::vector<std::string> OcspUrls(const X509* cert) {
  std::vector<std::string> out;
  STACK_OF(OPENSSL_STRING)* urls = X509_get1_ocsp(const_cast<X509*>(cert));
  for (int i = 0; urls != nullptr && i < sk_OPENSSL_STRING_num(urls); ++i) {
    out.emplace_back(sk_OPENSSL_STRING_value(urls, i));
  }
  X509_email_free(urls);
  return out;
}

// CrlUrls gives the URIs of distribution points that cover every reason and name the
// certificate's issuer as the CRL issuer: the only ones a complete CRL answers.
std::vector<std::string> CrlUrls(const X509* cert) {
  std::vector<std::string> out;
  auto* dps = static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
  for (int i = 0; dps != nullptr && i < sk_DIST_POINT_num(dps); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(dps, i);
    if (dp->distpoint == nullptr || dp->distpoint->type != 0 || dp->reasons != nullptr ||
        dp->CRLissuer != nullptr) {
      continue;
    }
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  CRL_DIST_POINTS_free(dps);
  return out;
}

Status Unusable(std::string why) { return UnavailableError(std::move(why)); }

Result<RevStatus> FromOcspStatus(int status, int reason, const ASN1_GENERALIZEDTIME* revoked) {
  if (status == V_OCSP_CERTSTATUS_GOOD) return RevStatus{};
  if (status != V_OCSP_CERTSTATUS_REVOKED)
    return Unusable("OCSP responder does not know the certificate");
  RevStatus out{true, {}, pkix::CrlReason::kUnspecified};
  if (revoked != nullptr) {
    KYSO_ASSIGN_OR_RETURN(out.revoked_at, pkix::ToTime(revoked));
  }
  if (reason >= 0 && reason <= 10 && reason != 7) out.reason = static_cast<pkix::CrlReason>(reason);
  return out;
}

Status CheckWindow(const Check& c, const ASN1_TIME* this_update_asn1,
                   const ASN1_TIME* next_update_asn1, std::string_view what) {
  KYSO_ASSIGN_OR_RETURN(Time this_update, pkix::ToTime(this_update_asn1));
  if (this_update > c.at + kClockSkew) {
    return Unusable(std::string(what) + " was produced after the validation time");
  }
  if (next_update_asn1 == nullptr) {
    if (what == "CRL") return Unusable("CRL has no nextUpdate");
    if (c.at - this_update > kMaxOcspAgeWithoutNextUpdate) {
      return Unusable("OCSP response without nextUpdate is too old");
    }
    return OkStatus();
  }
  KYSO_ASSIGN_OR_RETURN(Time next_update, pkix::ToTime(next_update_asn1));
  if (c.at > next_update) return Unusable(std::string(what) + " is stale at the validation time");
  return OkStatus();
}

// EvalOcsp judges one OCSPResponse about `cert` (RFC 6960 3.2): successful, signed by the
// issuer or a responder it delegated to (OCSP_basic_verify, at the validation time), about
// this certificate, current, and with our nonce when we sent one.
Result<RevStatus> EvalOcsp(Check& c, OCSP_RESPONSE* resp, const X509* cert, const X509* issuer,
                           OCSP_REQUEST* sent) {
  if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return Unusable("OCSP responder answered status " + std::to_string(OCSP_response_status(resp)));
  }
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp));
  if (!basic) return ossl::Error(Code::kUnavailable, "OCSP response has no basic response");
  CertStack certs = NewStack();
  Push(certs.get(), issuer);
  for (int i = 0; i < sk_X509_num(c.pool.get()); ++i)
    Push(certs.get(), sk_X509_value(c.pool.get(), i));
  if (OCSP_basic_verify(basic.get(), certs.get(), c.store.get(), 0) != 1) {
    return ossl::Error(Code::kUnavailable, "OCSP response signature or responder not valid");
  }
  if (sent != nullptr && OCSP_check_nonce(sent, basic.get()) == 0) {
    return Unusable("OCSP response nonce does not match the request");
  }
  int status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  bool found = false;
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    ossl::UniquePtr<OCSP_CERTID> id(OCSP_cert_to_id(md, cert, issuer));
    if (id && OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked, &this_update,
                                    &next_update) == 1) {
      found = true;
      break;
    }
  }
  ERR_clear_error();
  if (!found) return Unusable("OCSP response is about another certificate");
  KYSO_RETURN_IF_ERROR(CheckWindow(c, this_update, next_update, "OCSP response"));
  return FromOcspStatus(status, reason, revoked);
}

// DpNamesMatch tells whether a name of `a` is a name of `b` (full names compared as general
// names, a name relative to the CRL issuer as the directory name it completes).
bool DpNamesMatch(const DIST_POINT_NAME* a, const GENERAL_NAMES* b_names, const X509_NAME* b_dpname) {
  auto matches_b = [&](const GENERAL_NAME* n) {
    for (int j = 0; b_names != nullptr && j < sk_GENERAL_NAME_num(b_names); ++j) {
      if (GENERAL_NAME_cmp(const_cast<GENERAL_NAME*>(n), sk_GENERAL_NAME_value(b_names, j)) == 0) return true;
    }
    return b_dpname != nullptr && n->type == GEN_DIRNAME && X509_NAME_cmp(n->d.directoryName, b_dpname) == 0;
  };
  if (a->type == 0) {
    for (int i = 0; i < sk_GENERAL_NAME_num(a->name.fullname); ++i) {
      if (matches_b(sk_GENERAL_NAME_value(a->name.fullname, i))) return true;
    }
    return false;
  }
  if (a->dpname == nullptr) return false;
  if (b_dpname != nullptr && X509_NAME_cmp(a->dpname, b_dpname) == 0) return true;
  for (int j = 0; b_names != nullptr && j < sk_GENERAL_NAME_num(b_names); ++j) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(b_names, j);
    if (n->type == GEN_DIRNAME && X509_NAME_cmp(n->d.directoryName, a->dpname) == 0) return true;
  }
  return false;
}

// IdpCoversCertificate is RFC 5280 6.3.3 (b)(2)(i): a CRL whose issuing distribution point
// has a name covers `cert` only if one of its names is a name of one of the certificate's CRL
// distribution points (or, for a point without a name, of its cRLIssuer); a certificate
// without CRL distribution points is covered only if the name is the CRL issuer's.
bool IdpCoversCertificate(ISSUING_DIST_POINT* idp, X509_CRL* crl, const X509* cert) {
  if (idp->distpoint == nullptr) return true;
  if (DIST_POINT_set_dpname(idp->distpoint, X509_CRL_get_issuer(crl)) != 1) return false;
  using DpStack = std::unique_ptr<STACK_OF(DIST_POINT), decltype([](STACK_OF(DIST_POINT)* s) {
                                    sk_DIST_POINT_pop_free(s, DIST_POINT_free);
                                  })>;
  DpStack dps(static_cast<STACK_OF(DIST_POINT)*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
  if (!dps) {
    const X509_NAME* issuer = X509_CRL_get_issuer(crl);
    return DpNamesMatch(idp->distpoint, nullptr, issuer);
  }
  for (int i = 0; i < sk_DIST_POINT_num(dps.get()); ++i) {
    DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
    if (dp->distpoint != nullptr) {
      if (DIST_POINT_set_dpname(dp->distpoint, X509_get_issuer_name(cert)) != 1) continue;
      if (DpNamesMatch(idp->distpoint, dp->distpoint->type == 0 ? dp->distpoint->name.fullname : nullptr,
                       dp->distpoint->dpname)) {
        return true;
      }
    } else if (dp->CRLissuer != nullptr && DpNamesMatch(idp->distpoint, dp->CRLissuer, nullptr)) {
      return true;
    }
  }
  return false;
}

// CrlInScope refuses CRLs this check does not handle (delta, indirect, partitioned by reason,
// unknown critical extensions) and CRLs whose scope leaves `cert` out (RFC 5280 5.2.5).
Status CrlInScope(X509_CRL* crl, const X509* cert) {
  const STACK_OF(X509_EXTENSION)* exts = X509_CRL_get0_extensions(crl);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_delta_crl) return Unusable("delta CRLs are not supported");
    if (X509_EXTENSION_get_critical(ext) && nid != NID_issuing_distribution_point) {
      return Unusable("CRL has an unknown critical extension");
    }
  }
  auto* idp = static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, nullptr, nullptr));
  if (idp == nullptr) return OkStatus();
  const bool is_ca = X509_check_ca(const_cast<X509*>(cert)) > 0;
  Status s;
  if (idp->indirectCRL || idp->onlysomereasons != nullptr || idp->onlyattr) {
    s = Unusable("indirect or partitioned CRLs are not supported");
  } else if ((idp->onlyuser && is_ca) || (idp->onlyCA && !is_ca)) {
    s = Unusable("CRL does not cover this kind of certificate");
  }
  if (s.ok() && !IdpCoversCertificate(idp, crl, cert)) {
    s = Unusable("CRL's issuing distribution point is not one of the certificate's");
  }
  ISSUING_DIST_POINT_free(idp);
  return s;
}

// EvalCrl judges one CRL about `cert` (RFC 5280 6.3.3): issued and signed by the issuer,
// complete and in scope, current at the validation time.
Result<RevStatus> EvalCrl(const Check& c, X509_CRL* crl, const X509* cert, const X509* issuer) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    return Unusable("CRL is issued by another CA");
  }
  if ((X509_get_extension_flags(const_cast<X509*>(issuer)) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(const_cast<X509*>(issuer)) & KU_CRL_SIGN) == 0) {
    return Unusable("CRL issuer may not sign CRLs (no cRLSign)");
  }
  if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
    return ossl::Error(Code::kUnavailable, "CRL signature not valid");
  }
  KYSO_RETURN_IF_ERROR(CrlInScope(crl, cert));
  KYSO_RETURN_IF_ERROR(
      CheckWindow(c, X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl), "CRL"));
  X509_REVOKED* entry = nullptr;
  const int found =
      X509_CRL_get0_by_serial(crl, &entry, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert)));
  if (found != 1 || entry == nullptr) return RevStatus{};  // 2: removeFromCRL
  RevStatus out{true, {}, pkix::CrlReason::kUnspecified};
  KYSO_ASSIGN_OR_RETURN(out.revoked_at, pkix::ToTime(X509_REVOKED_get0_revocationDate(entry)));
  auto* reason = static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
  if (reason != nullptr) {
    const long r = ASN1_ENUMERATED_get(reason);
    if (r >= 0 && r <= 10 && r != 7) out.reason = static_cast<pkix::CrlReason>(r);
    ASN1_ENUMERATED_free(reason);
  }
  return out;
}

Result<std::string> Fetch(Check& c, std::string_view method, const std::string& url,
                          std::string_view content_type, std::string body, std::size_t max_len) {
  const steady_clock::time_point now = steady_clock::now();
  if (now >= c.deadline) return Status(Code::kDeadlineExceeded, "no time left for " + url);
  const auto deadline = std::min(c.deadline, now + c.options.fetch_timeout);
  KYSO_ASSIGN_OR_RETURN(
      http::HttpResponse r,
      http::HttpRequest(method, url, content_type, std::move(body), deadline, max_len));
  if (r.status != 200) return Unusable("answered HTTP " + std::to_string(r.status));
  return std::move(r.body);
}

Result<RevStatus> FetchOcsp(Check& c, const std::string& url, const X509* cert, const X509* issuer,
                            Bytes& evidence) {
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
  if (!req || id == nullptr || OCSP_request_add0_id(req.get(), id) == nullptr) {
    OCSP_CERTID_free(id);
    return ossl::Error("build OCSP request");
  }
  if (c.options.ocsp_nonce && OCSP_request_add1_nonce(req.get(), nullptr, -1) != 1) {
    return ossl::Error("add OCSP nonce");
  }
  // OCSP answers are never cached here: OCSP is the fresh source, asked so that a revocation
  // made a minute ago stops the signature (the responder caches its signed answers itself).
  const Bytes der = ossl::ToDer(i2d_OCSP_REQUEST, req.get());
  KYSO_ASSIGN_OR_RETURN(std::string body,
                        Fetch(c, "POST", url, "application/ocsp-request",
                              std::string(AsString(der)), c.options.max_ocsp_response_len));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(body.data());
  ossl::UniquePtr<OCSP_RESPONSE> resp(
      d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body.size())));
  if (!resp) return ossl::Error(Code::kUnavailable, "malformed OCSP response");
  KYSO_ASSIGN_OR_RETURN(RevStatus status, EvalOcsp(c, resp.get(), cert, issuer,
                                                   c.options.ocsp_nonce ? req.get() : nullptr));
  evidence.assign(body.begin(), body.end());
  return status;
}

Result<RevStatus> FetchCrl(Check& c, const std::string& url, const X509* cert, const X509* issuer,
                           Bytes& evidence) {
  const std::string key = "crl " + url;
  std::optional<std::string> body = c.cache.Get(key, c.options.cache_max_age);
  if (!body) {
    KYSO_ASSIGN_OR_RETURN(body, Fetch(c, "GET", url, "", "", c.options.max_crl_len));
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(body->data());
  ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(body->size())));
  if (!crl) return ossl::Error(Code::kUnavailable, "malformed CRL");
  KYSO_ASSIGN_OR_RETURN(RevStatus status, EvalCrl(c, crl.get(), cert, issuer));
  c.cache.Put(key, *body);
  evidence.assign(body->begin(), body->end());
  return status;
}

bool HasSuppliedCrl(const Check& c, const X509* issuer) {
  for (const auto& [der, crl] : c.crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) == 0) {
      return true;
    }
  }
  return false;
}

// StatusOf finds the status of `cert`: supplied OCSP responses, supplied CRLs, then (online)
// OCSP from the AIA and the CRL distribution points, stopping at the first usable answer.
// An error means no source gave one; the reasons are in c.attempts.
Result<RevStatus> StatusOf(Check& c, const X509* cert, const X509* issuer, CertCheck& out,
                           RevocationSource& source) {
  const auto note = [&c](std::string_view where, const Status& s) {
    c.attempts.push_back(std::string(where) + ": " + s.message());
  };
  for (auto& [der, resp] : c.ocsps) {
    Result<RevStatus> r = EvalOcsp(c, resp.get(), cert, issuer, nullptr);
    if (r.ok()) {
      out.ocsp_responses_der.push_back(der);
      source = RevocationSource::kOcsp;
      return r;
    }
  }
  for (auto& [der, crl] : c.crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) continue;
    Result<RevStatus> r = EvalCrl(c, crl.get(), cert, issuer);
    if (r.ok()) {
      out.crls_der.push_back(der);
      source = RevocationSource::kCrl;
      return r;
    }
    note("supplied CRL", r.status());
  }
  if (c.options.revocation == RevocationMode::kOnline) {
    Bytes evidence;
    for (const std::string& url : OcspUrls(cert)) {
      Result<RevStatus> r = FetchOcsp(c, url, cert, issuer, evidence);
      if (r.ok()) {
        out.ocsp_responses_der.push_back(std::move(evidence));
        source = RevocationSource::kOcsp;
        return r;
      }
      note("OCSP " + url, r.status());
    }
    for (const std::string& url : CrlUrls(cert)) {
      Result<RevStatus> r = FetchCrl(c, url, cert, issuer, evidence);
      if (r.ok()) {
        out.crls_der.push_back(std::move(evidence));
        source = RevocationSource::kCrl;
        return r;
      }
      note("CRL " + url, r.status());
    }
  }
  return Unusable("no usable revocation data");
}

bool WantsStatus(const Check& c, const X509* cert, const X509* issuer) {
  return !OcspUrls(cert).empty() || !CrlUrls(cert).empty() || HasSuppliedCrl(c, issuer);
}

CertCheck UnknownVerdict(const Check& c, const X509* cert, std::size_t index) {
  const bool online = c.options.revocation == RevocationMode::kOnline;
  return Verdict(CertCheckStatus::kRevocationUnknown, index,
                 "Không kiểm tra được trạng thái thu hồi của " +
                     (index == 0 ? std::string("chứng thư số")
                                 : "chứng thư số của tổ chức cấp \"" + ShortName(cert) + "\"") +
                     (online ? " (OCSP và CRL đều không truy cập được)"
                             : " (không có CRL hoặc phản hồi OCSP hợp lệ)"),
                 "");
}

// CheckRevocation gives each non-anchor certificate of the path its status, from the anchor
// down. The signer's certificate always needs one (R5.1); an intermediate needs one when it
// names a source or its issuer's CRL was supplied (TT15 Appendix II 1.2, issue 6's national
// policy), and only gets a warning otherwise. A revocation anywhere wins over an unknown, and
// an unknown names the lowest certificate that has no status.
std::optional<CertCheck> CheckRevocation(Check& c, STACK_OF(X509) * chain, CertCheck& out) {
  const int n = sk_X509_num(chain);
  std::optional<CertCheck> unknown;
  for (int i = n - 2; i >= 0; --i) {
    const X509* cert = sk_X509_value(chain, i);
    const X509* issuer = sk_X509_value(chain, i + 1);
    const auto index = static_cast<std::size_t>(i);
    if (i > 0 && !WantsStatus(c, cert, issuer)) {
      out.warnings.push_back(Whose(cert, index) + ": không kiểm tra được trạng thái thu hồi");
      continue;
    }
    RevocationSource source = RevocationSource::kNone;
    Result<RevStatus> status = StatusOf(c, cert, issuer, out, source);
    if (i == 0) out.leaf_revocation_source = source;
    if (!status.ok()) {
      unknown = UnknownVerdict(c, cert, index);  // the lowest one is named: the signer's, if so
      continue;
    }
    if (status->revoked) {
      CertCheck v =
          Verdict(CertCheckStatus::kRevoked, index,
                  Whose(cert, index) + " đã bị thu hồi ngày " + FormatTimeVn(status->revoked_at) +
                      " (lý do: " + std::string(CrlReasonName(status->reason)) + ")",
                  "revoked according to " +
                      std::string(source == RevocationSource::kOcsp ? "OCSP" : "CRL"));
      v.revoked_at = status->revoked_at;
      v.revocation_reason = status->reason;
      return v;
    }
  }
  return unknown;
}

std::string JoinAttempts(const std::vector<std::string>& attempts) {
  std::string out;
  for (const std::string& a : attempts) out += (out.empty() ? "" : "; ") + a;
  return out;
}

}  // namespace

// ---- Cache -------------------------------------------------------------------------------

std::optional<std::string> RevocationCache::Get(const std::string& key,
                                                std::chrono::seconds max_age) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || steady_clock::now() - it->second.fetched > max_age) {
    return std::nullopt;
  }
  return it->second.der;
}

void RevocationCache::Put(const std::string& key, std::string der) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.contains(key)) {
    // Drop the oldest entry: the cache is small, and a scan is cheaper than fetching.
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.fetched < oldest->second.fetched) oldest = it;
    }
    entries_.erase(oldest);
  }
  entries_[key] = Entry{steady_clock::now(), std::move(der)};
}

void RevocationCache::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

RevocationCache& ProcessRevocationCache() {
  static RevocationCache* cache = new RevocationCache();  // never destroyed: used at exit
  return *cache;
}

// ---- CheckSigningCertificate --------------------------------------------------------------

Result<CertCheck> CheckSigningCertificate(const X509* cert, const CertCheckOptions& options) {
  if (cert == nullptr) return InvalidArgumentError("no certificate to check");
  Check c{options,
          options.at.value_or(SystemClock().Now()),
          nullptr,
          nullptr,
          {},
          {},
          options.cache != nullptr ? *options.cache : ProcessRevocationCache(),
          steady_clock::now() + options.total_timeout,
          {}};
  KYSO_RETURN_IF_ERROR(LoadAnchors(c));
  KYSO_RETURN_IF_ERROR(LoadSupplied(c));

  std::optional<CertCheck> verdict;
  KYSO_ASSIGN_OR_RETURN(CertStack chain, BuildPath(c, cert, verdict));
  if (verdict) return *std::move(verdict);
  if (auto bad = CheckLeaf(options, cert)) return *std::move(bad);

  CertCheck out;
  for (int i = 0; i < sk_X509_num(chain.get()); ++i) {
    out.chain_der.push_back(pkix::CertificateDer(sk_X509_value(chain.get(), i)));
  }
  if (auto bad = CheckRevocation(c, chain.get(), out)) {
    if (!c.attempts.empty()) {
      bad->diagnostic += (bad->diagnostic.empty() ? "" : "; ") + JoinAttempts(c.attempts);
    }
    bad->chain_der = std::move(out.chain_der);
    bad->warnings = std::move(out.warnings);
    bad->leaf_revocation_source = out.leaf_revocation_source;
    return *std::move(bad);
  }
  out.status = CertCheckStatus::kOk;
  out.message = "Chứng thư số hợp lệ";
  out.diagnostic = JoinAttempts(c.attempts);
  return out;
}

// ---- Helpers -----------------------------------------------------------------------------

Result<std::vector<ossl::UniquePtr<X509>>> ParseCertificates(ByteSpan pem_or_der) {
  if (pem_or_der.size() > kMaxBundleLen) return InvalidArgumentError("certificate file over 1 MiB");
  std::vector<ossl::UniquePtr<X509>> out;
  if (AsString(pem_or_der).find("-----BEGIN") == std::string_view::npos) {
    KYSO_ASSIGN_OR_RETURN(auto one, pkix::ParseCertificate(pem_or_der));
    out.push_back(std::move(one));
    return out;
  }
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem_or_der.data(), static_cast<int>(pem_or_der.size())));
  while (true) {
    ossl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (out.size() == kMaxBundleCerts) return InvalidArgumentError("more than 64 certificates");
    out.push_back(std::move(cert));
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) return InvalidArgumentError("no certificate in PEM input");
  return out;
}

std::string FormatTimeVn(Time t) {
  const auto local = t + std::chrono::hours(7);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(local - day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02u/%02u/%04d %02d:%02d:%02d (giờ Việt Nam)",
                static_cast<unsigned>(ymd.day()), static_cast<unsigned>(ymd.month()),
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string_view CrlReasonName(pkix::CrlReason reason) {
  switch (reason) {
    case pkix::CrlReason::kUnspecified:
      return "unspecified";
    case pkix::CrlReason::kKeyCompromise:
      return "keyCompromise";
    case pkix::CrlReason::kCaCompromise:
      return "cACompromise";
    case pkix::CrlReason::kAffiliationChanged:
      return "affiliationChanged";
    case pkix::CrlReason::kSuperseded:
      return "superseded";
    case pkix::CrlReason::kCessationOfOperation:
      return "cessationOfOperation";
    case pkix::CrlReason::kCertificateHold:
      return "certificateHold";
    case pkix::CrlReason::kRemoveFromCrl:
      return "removeFromCRL";
    case pkix::CrlReason::kPrivilegeWithdrawn:
      return "privilegeWithdrawn";
    case pkix::CrlReason::kAaCompromise:
      return "aACompromise";
  }
  return "unspecified";
}

std::string_view CertCheckStatusName(CertCheckStatus status) {
  switch (status) {
    case CertCheckStatus::kOk:
      return "ok";
    case CertCheckStatus::kExpired:
      return "expired";
    case CertCheckStatus::kNotYetValid:
      return "not_yet_valid";
    case CertCheckStatus::kRevoked:
      return "revoked";
    case CertCheckStatus::kUntrusted:
      return "untrusted";
    case CertCheckStatus::kBadKeyUsage:
      return "bad_key_usage";
    case CertCheckStatus::kBadAlgorithm:
      return "bad_algorithm";
    case CertCheckStatus::kRevocationUnknown:
      return "revocation_unknown";
  }
  return "?";
}

}  // namespace kyso::verify
