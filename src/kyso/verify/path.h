#pragma once

// RFC 5280 certification path validation at a given time, with the result expressed in the
// terms of ETSI EN 319 102-1 (indication + sub-indication). The first piece of issue 6: the
// signature validators (CMS, PAdES, XAdES) and `kyso verify CERT` are built on ValidatePath.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/crl.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// Indication is the main status of ETSI EN 319 102-1 (5.1.3).
enum class Indication { kTotalPassed, kTotalFailed, kIndeterminate };

// SubIndication says why (EN 319 102-1 Table 5). ValidatePath produces:
//   kNone                             with kTotalPassed
//   kRevoked                          TOTAL-FAILED: a certificate of the path was revoked (or on
//                                     hold) at or before the validation time. A signature
//                                     validator that lacks proof of existence before the
//                                     revocation turns this into INDETERMINATE/REVOKED_NO_POE.
//   kSigCryptoFailure                 TOTAL-FAILED: a certificate's signature does not verify
//   kOutOfBoundsNoPoe                 INDETERMINATE: a certificate had expired at the
//                                     validation time (EN 319 102-1 5.2.6: expiry of a path
//                                     certificate is INDETERMINATE, a later POE may cure it)
//   kNotYetValid                      INDETERMINATE: a certificate was not yet valid
//   kNoCertificateChainFound          INDETERMINATE: no path to a trust anchor
//   kChainConstraintsFailure          INDETERMINATE: basic constraints, path length, key usage,
//                                     name constraints, policies, critical extensions
//   kTryLater                         INDETERMINATE: revocation status missing or unusable
//   kCertificateChainGeneralFailure   INDETERMINATE: anything else (malformed fields, ...)
// kExpired, kRevokedNoPoe and kRevokedCaNoPoe are for the signature validators.
enum class SubIndication {
  kNone,
  kRevoked,
  kExpired,
  kNotYetValid,
  kSigCryptoFailure,
  kNoCertificateChainFound,
  kChainConstraintsFailure,
  kCertificateChainGeneralFailure,
  kTryLater,
  kRevokedNoPoe,
  kRevokedCaNoPoe,
  kOutOfBoundsNoPoe,
};

// IndicationName gives "TOTAL_PASSED", "TOTAL_FAILED" or "INDETERMINATE".
std::string_view IndicationName(Indication indication);
// SubIndicationName gives the EN 319 102-1 spelling ("NO_CERTIFICATE_CHAIN_FOUND"); "" for kNone.
std::string_view SubIndicationName(SubIndication sub);

// KeyPurpose is an extended key usage the leaf must allow (OpenSSL's purpose check: EKU, and
// the key usage that goes with it). kAny checks none: RFC 5280 path validation itself does not.
enum class KeyPurpose { kAny, kServerAuth, kClientAuth, kTimeStamping };

// DerHash hashes a DER-keyed map's std::string keys and looks them up by std::string_view
// over the DER, so that a lookup does not copy a large CRL into a key.
struct DerHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view der) const noexcept { return std::hash<std::string_view>{}(der); }
};

// ParsedRevocationCache keeps CRLs and OCSP responses parsed, keyed by their DER, for validations
// that share them: the signatures and timestamps of one document judged against its DSS, the
// path-building attempts of one validation, a batch of documents from the same CA. Parsing a
// large CRL costs more than the rest of a path validation. Thread-safe; bounded: DER beyond
// kMaxBytes in total is parsed for the call and not kept.
class ParsedRevocationCache {
 public:
  // kMaxBytes bounds what is kept: twice the DER of each entry (the key and, roughly, the
  // parsed form).
  static constexpr std::size_t kMaxBytes = std::size_t{256} * 1024 * 1024;

  // ParsedCrl is a parsed CRL (a new reference; null when `der` is not a CRL) and, computed
  // before it is shared between threads, how it breaks RFC 5280 5.1's encoding rules ("" when
  // it does not; such a CRL is not used).
  struct ParsedCrl {
    ossl::UniquePtr<X509_CRL> crl;
    std::string form_error;
  };
  ParsedCrl Crl(ByteSpan der);
  // OcspResponse is a parsed OCSPResponse: its BasicOCSPResponse when the response status is
  // successful (null otherwise), shared and read-only.
  struct OcspResponse {
    bool malformed = false;
    std::shared_ptr<const OCSP_BASICRESP> basic;
  };
  OcspResponse Ocsp(ByteSpan der);

 private:
  struct CachedCrl {
    std::shared_ptr<X509_CRL> crl;  // null: not a CRL
    std::string form_error;
  };
  std::mutex mu_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, CachedCrl, DerHash, std::equal_to<>> crls_;
  std::unordered_map<std::string, OcspResponse, DerHash, std::equal_to<>> ocsps_;
};

// PathOptions controls ValidatePath. Every pointer is borrowed for the call only.
struct PathOptions {
  std::vector<const X509*> anchors;       // trust anchors; at least one
  std::vector<const X509*> untrusted;     // pool to build the path from (order does not matter)
  std::vector<Bytes> crls_der;            // CRLs (DER): complete, delta and indirect ones
  std::vector<Bytes> ocsp_responses_der;  // OCSPResponses (DER) for certificates of the path
  // revocation_cache, when set, parses crls_der and ocsp_responses_der once for every call
  // that shares it; without one, a ValidatePath call parses them once for its attempts.
  ParsedRevocationCache* revocation_cache = nullptr;
  Time at{};                              // validation time; required

  // Revocation. true (EN 319 102-1, PKITS, `--policy strict`): every certificate of the path
  // except the anchor needs a status from a supplied CRL or OCSP response, else
  // INDETERMINATE/TRY_LATER. false (`--policy national`, TT15 Appendix II 1.2): only a
  // certificate that names a CRL distribution point or an OCSP responder, or whose issuer's
  // CRLs are among the supplied ones, needs a status; one with neither passes with a warning
  // ("không kiểm tra được trạng thái thu hồi"). A supplied CRL that is unusable still fails.
  bool require_revocation = true;
  // With require_revocation false: false drops the national rule above, so that no
  // certificate needs a status (suites whose cases say "revocation not mandatory").
  bool require_revocation_where_published = true;

  // RFC 5280 6.1.1 (c), (e), (f), (g). An empty set means {anyPolicy}. OIDs in dotted form.
  std::vector<std::string> user_initial_policy_set;
  bool initial_explicit_policy = false;
  bool initial_policy_mapping_inhibit = false;
  bool initial_any_policy_inhibit = false;

  // RFC 5280 6.1.4 (f): a DSA key without parameters inherits them from its issuer. OpenSSL
  // does not; when true, a certificate signed by such a key is verified with the inherited
  // parameters (PKITS 4.1.5).
  bool dsa_parameter_inheritance = true;
  // OpenSSL's X509_V_FLAG_X509_STRICT plus RFC 5280 section 4 encoding MUSTs (positive serial
  // of at most 20 octets; critical policyConstraints and nameConstraints, the latter only in
  // CAs; non-empty extKeyUsage; preferred-name-syntax dNSNames and well-formed rfc822Names in
  // subjectAltName and dNSName constraints; no wildcard dNSName that could match an excluded
  // subtree; CRLs with a cRLNumber). A CA certificate without key usage is accepted
  // (RFC 5280 6.3.3 (f)), unlike OpenSSL's flag alone. Profile checks, not path validation:
  // PKITS expects them off (218/246 with them on: its CAs carry non-critical
  // policyConstraints and basicConstraints); x509-limbo expects them on.
  bool x509_strict = false;
  KeyPurpose purpose = KeyPurpose::kAny;
  // When not empty, the leaf must be for this DNS name or IP address (RFC 6125 matching by
  // OpenSSL; for TLS-style checks such as x509-limbo's, not for document signers).
  std::string expected_peer_name;
  std::size_t max_path_len = 16;  // intermediates between leaf and anchor; bounds building
};

// PathResult is the outcome of a validation that ran. A bad path is a PathResult, not an error.
struct PathResult {
  Indication indication = Indication::kIndeterminate;
  SubIndication sub = SubIndication::kCertificateChainGeneralFailure;
  std::vector<ossl::UniquePtr<X509>> chain;  // leaf first, anchor last; the path built, if any
  std::size_t failing_index = 0;             // which certificate failed; 0 is the leaf
  std::optional<Time> revoked_at;            // with kRevoked
  pkix::CrlReason revocation_reason = pkix::CrlReason::kUnspecified;
  int openssl_error = 0;              // X509_V_ERR_*, for tests and logs; 0 when passed
  std::string message_vi;             // for officers, in Vietnamese
  std::string diagnostic;             // detail for logs, in English; never parsed
  std::vector<std::string> warnings;  // Vietnamese; do not change the indication

  bool passed() const { return indication == Indication::kTotalPassed; }
};

// OcspCertStatus is what one OCSP response says about one certificate.
enum class OcspCertStatus { kGood, kRevoked, kUnknown };

struct OcspCheck {
  OcspCertStatus status = OcspCertStatus::kUnknown;
  std::optional<Time> revoked_at;  // with kRevoked
  pkix::CrlReason reason = pkix::CrlReason::kUnspecified;
  std::string problem;  // English: why the response gives no status (kUnknown)
};

// CheckOcspResponse judges what a BasicOCSPResponse says about `cert`, whose issuer `issuer`
// is a certificate of the path being validated, at time `at` (RFC 6960 3.2). The response
// counts only if
//   - it is signed by `issuer` (named by name or by key hash), or by a delegated responder
//     certificate (carried in the response or found in `pool`) that `issuer` signed, that
//     carries id-kp-OCSPSigning and is valid at `at`;
//   - ResponseData and the SingleResponses about `cert` carry no critical extension kyso does
//     not know (known: nonce, extended revoke, CRL ID, archive cutoff, and the CT SCT list);
//   - producedAt falls within `cert`'s validity period;
//   - every SingleResponse about `cert` (a CertID under any hash) is current: thisUpdate at
//     most 5 minutes after `at`, `at` before nextUpdate, and thisUpdate no older than
//     `max_age` when given, else (no nextUpdate) no older than an hour.
// Several SingleResponses about `cert`: revoked if one says revoked, else unknown if one says
// unknown, else good. Thread-safe; `basic` is only read.
OcspCheck CheckOcspResponse(const OCSP_BASICRESP* basic, const X509* cert, const X509* issuer,
                            const std::vector<const X509*>& pool, Time at,
                            std::optional<std::chrono::seconds> max_age = std::nullopt);

// ValidatePath builds a path from `cert` through `options.untrusted` to one of
// `options.anchors` and validates it per RFC 5280 6.1 at `options.at`: OpenSSL's
// X509_verify_cert with policy checking, CRLs (complete, delta, indirect, distribution-point
// and reason scoped) for every certificate but the anchor, and the supplied OCSP responses
// (an OCSP answer stands in for a missing CRL; a "revoked" answer wins over a good CRL).
// Beyond OpenSSL 3.0 it does DSA parameter inheritance (6.1.4 (f)), accepts a certificate
// valid until exactly `at` (4.1.2.5), accepts an indirect CRL issuer whose own certificate is
// covered by the CRL it signs (PKITS 4.14.30), reports a certificate out of its validity
// period rather than the missing revocation data OpenSSL meets first, and, when the path
// OpenSSL built fails for a reason other than revocation, tries up to 7 other paths through
// the pool (OpenSSL does not backtrack). Every configured anchor is a trust anchor, also one
// that is not self-signed (RFC 5280 6.1.1 (d)).
// It fails (Status) only when it cannot run: null `cert`, no anchor, a malformed CRL, OCSP
// response, policy OID or peer name (kInvalidArgument). Thread-safe; nothing is cached beyond
// `options.revocation_cache`.
Result<PathResult> ValidatePath(const X509* cert, const PathOptions& options);

}  // namespace kyso::verify
