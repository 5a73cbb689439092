#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/crl.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// RevocationMode says where CheckSigningCertificate may look for revocation data.
enum class RevocationMode {
  kOnline,   // supplied data first, then OCSP from the AIA, then the CRL distribution points
  kOffline,  // only the CRLs and OCSP responses supplied in the options
};

// Purpose is what the certificate is about to be used for.
enum class Purpose {
  kDocumentSigning,  // key usage digitalSignature or nonRepudiation must be present
  kAny,              // no key usage check (path-validation suites such as PKITS)
};

// RevocationCache keeps CRLs fetched over the network, keyed by URL, so that several checks
// in one process do not fetch the same CRL again. Entries are reused only while younger than
// the caller's max age, and are validated again on every use. OCSP answers are not cached:
// OCSP is the fresh source. Thread-safe.
class RevocationCache final {
 public:
  std::optional<std::string> Get(const std::string& key, std::chrono::seconds max_age) const;
  void Put(const std::string& key, std::string der);
  void Clear();

 private:
  struct Entry {
    std::chrono::steady_clock::time_point fetched;
    std::string der;
  };
  static constexpr std::size_t kMaxEntries = 256;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// ProcessRevocationCache is the cache used when CertCheckOptions::cache is null.
RevocationCache& ProcessRevocationCache();

// CertCheckOptions controls CheckSigningCertificate. Every pointer is borrowed for the call.
struct CertCheckOptions {
  std::vector<const X509*> anchors;          // trust anchors; at least one, here or in anchor_store
  const X509_STORE* anchor_store = nullptr;  // more anchors: its certificates are copied
  std::vector<const X509*> untrusted;        // intermediates to build the path from
  std::optional<Time> at;                    // validation time; empty means now (system clock)

  RevocationMode revocation = RevocationMode::kOnline;
  std::vector<Bytes> crls_der;            // supplied CRLs (DER); used in both modes
  std::vector<Bytes> ocsp_responses_der;  // supplied OCSPResponses (DER); both modes
  bool ocsp_nonce = false;  // send an RFC 8954 nonce; a response with another nonce is refused

  Purpose purpose = Purpose::kDocumentSigning;
  // R7.2 for the signer's key: RSA >= 2048 or ECDSA P-256/P-384.
  // WARNING: false only for path-validation test suites, never before signing.
  bool check_key_algorithm = true;

  std::chrono::milliseconds fetch_timeout{5000};   // one OCSP or CRL fetch
  std::chrono::milliseconds total_timeout{15000};  // all fetches of one check
  std::size_t max_ocsp_response_len = 64 * 1024;
  std::size_t max_crl_len = 16 * 1024 * 1024;
  std::chrono::seconds cache_max_age{300};  // for CRLs
  RevocationCache* cache = nullptr;         // null: ProcessRevocationCache()
};

// CertCheckStatus is the verdict. Only kOk lets the signer sign (R5.1).
enum class CertCheckStatus {
  kOk,
  kExpired,            // a certificate of the path is past its notAfter at the time
  kNotYetValid,        // ... or before its notBefore
  kRevoked,            // revoked (or on hold) according to a valid OCSP response or CRL
  kUntrusted,          // no valid path to a trust anchor (bad signature, unknown issuer, ...)
  kBadKeyUsage,        // the signer's certificate is not for signing documents
  kBadAlgorithm,       // the signer's key is outside R7.2
  kRevocationUnknown,  // no usable OCSP response or CRL: try later (ETSI TRY_LATER)
};
std::string_view CertCheckStatusName(CertCheckStatus status);

enum class RevocationSource { kNone, kOcsp, kCrl };

// CertCheck is the outcome of a check that ran. A bad certificate is a CertCheck, not an
// error Status.
struct CertCheck {
  CertCheckStatus status = CertCheckStatus::kUntrusted;  // only the last step sets kOk
  std::size_t failing_index = 0;  // which certificate failed; 0 is the signer's
  std::optional<Time> revoked_at;
  pkix::CrlReason revocation_reason = pkix::CrlReason::kUnspecified;
  RevocationSource leaf_revocation_source = RevocationSource::kNone;
  std::string message;                // for the signer, in Vietnamese (R5.4)
  std::string diagnostic;             // detail for logs, in English; never parsed
  std::vector<std::string> warnings;  // Vietnamese; do not block signing
  // The path (signer first, anchor last) when one was built, and the revocation data that
  // gave each certificate its status: what a B-LT signature keeps (R5.3).
  std::vector<Bytes> chain_der;
  std::vector<Bytes> ocsp_responses_der;
  std::vector<Bytes> crls_der;

  bool ok() const { return status == CertCheckStatus::kOk; }
};

// CheckSigningCertificate checks the signer's certificate before signing (R5.1, TT15 Art.
// 5.1.a): a path to a trust anchor at the validation time (X509_verify_cert, X.509 strict,
// partial chains off), then the key usage and R7.2 key algorithm of `cert`, then the
// revocation status of `cert` (always) and of each intermediate that names an OCSP responder
// or a CRL distribution point or whose issuer has supplied data. OCSP responses must be signed
// by the issuer or its delegated responder and current at the validation time; CRLs must be
// signed by the issuer, current, complete (no delta or indirect CRLs) and in scope.
//
// It fails (Status) only when it cannot run: null `cert`, no trust anchor, a supplied CRL or
// OCSP response that does not parse (kInvalidArgument). Network failures are not errors:
// they end in kRevocationUnknown.
Result<CertCheck> CheckSigningCertificate(const X509* cert, const CertCheckOptions& options);

// ParseCertificates reads every certificate of a PEM bundle, or one DER certificate; at most
// 64 certificates and 1 MiB.
Result<std::vector<ossl::UniquePtr<X509>>> ParseCertificates(ByteSpan pem_or_der);

// FormatTimeVn gives "25/11/2026 14:03:09 (giờ Việt Nam)": Asia/Ho_Chi_Minh, UTC+7.
std::string FormatTimeVn(Time t);

// CrlReasonName gives the RFC 5280 name of a reason ("keyCompromise").
std::string_view CrlReasonName(pkix::CrlReason reason);

}  // namespace kyso::verify
