#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/pkix/signer.h"
#include "kyso/pkix/tsp.h"
#include "kyso/store/store.h"

namespace kyso::ca {

// The timestamp authority's key is on the CA token under kTsaKeyLabel, and its certificate is
// stored under role kTsa (store::CaKey), beside "root", "issuing" and "ocsp".
inline constexpr std::string_view kTsa = "tsa";
inline constexpr std::string_view kTsaKeyLabel = "kyso-tsa";
// The TSA certificate is valid 5 years, never past the issuing CA, and is renewed for the
// same key when less than kTsaRenewBefore is left.
inline constexpr int kTsaCertYears = 5;
inline constexpr std::chrono::days kTsaRenewBefore{90};

// IssueTsaCert issues the TSA certificate for `tsa_key` (critical EKU id-kp-timeStamping only,
// key usage digitalSignature + nonRepudiation, RFC 3161 2.3), signed by the issuing CA, records
// it like any issuance and names `key_label` as the key of role "tsa". Returns the certificate.
Result<ossl::UniquePtr<X509>> IssueTsaCert(const Config::Ca& config, store::Store& store,
                                           X509* issuing_cert, pkix::Signer& issuing,
                                           const pkix::Signer& tsa_key, std::string_view key_label,
                                           Time now, std::string_view actor);

// TsaCertDue tells whether a TSA certificate is missing its renewal window: expired, or less
// than kTsaRenewBefore left (also true when its dates cannot be read).
bool TsaCertDue(const X509* cert, Time now);

// TsaStats counts answers since the TimestampAuthority was made: tokens are not audit events
// (a busy TSA signs thousands an hour), so kyso serve logs these counts instead.
struct TsaStats {
  uint64_t granted = 0;
  uint64_t rejected = 0;  // bad requests answered with status rejection (or HTTP 400)
  uint64_t failed = 0;    // rejections with systemFailure: the token or clock failed
};

// TimestampAuthority answers RFC 3161 requests with tokens signed by the TSA key. Thread-safe;
// Respond signs, so callers keep it off threads that must not wait for the token.
class TimestampAuthority final {
 public:
  // Create checks that `signer` holds the key of `cert` and that `policy_oid` is a dotted OID.
  // `issuing_cert` is borrowed and must outlive the authority; it goes into tokens beside the
  // TSA certificate when a request sets certReq.
  static Result<std::unique_ptr<TimestampAuthority>> Create(ossl::UniquePtr<X509> cert,
                                                            std::unique_ptr<pkix::Signer> signer,
                                                            const X509* issuing_cert,
                                                            std::string_view policy_oid,
                                                            const Clock& clock);

  // Respond gives the DER TimeStampResp for a DER TimeStampReq: granted with a token, or
  // rejection with a statusString and failInfo (badAlg for SHA-1 and unknown digests,
  // unacceptedPolicy for another reqPolicy, systemFailure when the TSA cannot sign or its
  // certificate is not valid now). Only input that is not one DER SEQUENCE at all is an error,
  // kInvalidArgument, for the caller to answer outside RFC 3161 (HTTP 400).
  Result<Bytes> Respond(ByteSpan request_der);

  // SetCertificate switches to a renewed certificate for the same key.
  Status SetCertificate(ossl::UniquePtr<X509> cert);
  std::shared_ptr<const X509> certificate() const;

  TsaStats stats() const;
  // last_failure describes the last systemFailure, for the server's log; empty when none.
  std::string last_failure() const;

 private:
  TimestampAuthority(std::unique_ptr<pkix::Signer> signer, const X509* issuing_cert, Bytes policy,
                     std::string_view policy_oid, const Clock& clock)
      : signer_(std::move(signer)),
        issuing_cert_(issuing_cert),
        policy_(std::move(policy)),
        policy_oid_(policy_oid),
        clock_(clock) {}
  Bytes Reject(pkix::TspFailure failure, std::string_view reason);
  Result<Bytes> Grant(const pkix::TimeStampReq& request);

  std::unique_ptr<pkix::Signer> signer_;
  const X509* issuing_cert_;
  const Bytes policy_;
  const std::string policy_oid_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::shared_ptr<const X509> cert_;  // guarded by mu_
  std::string last_failure_;          // guarded by mu_
  std::atomic<uint64_t> granted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace kyso::ca
