#include "kyso/ca/tsa.h"

#include "kyso/ca/authority.h"
#include "kyso/ca/internal/ca_certs.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {

namespace {

// Tokens say how exact genTime is: the Clock counts whole seconds and genTime is truncated
// to them, so the real instant lies within one second after it.
constexpr std::chrono::milliseconds kAccuracy{1000};

}  // namespace

Result<ossl::UniquePtr<X509>> IssueTsaCert(const Config::Ca& config, store::Store& store,
                                           X509* issuing_cert, pkix::Signer& issuing,
                                           const pkix::Signer& tsa_key, std::string_view key_label,
                                           Time now, std::string_view actor) {
  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert,
                        internal::MakeTsaCert(config, issuing_cert, issuing, tsa_key, now));
  KYSO_RETURN_IF_ERROR(internal::StoreCaCert(store, kTsa, kIssuing, key_label, cert.get(), actor));
  return cert;
}

bool TsaCertDue(const X509* cert, Time now) {
  if (cert == nullptr) return true;
  Result<Time> not_after = pkix::ToTime(X509_get0_notAfter(cert));
  return !not_after.ok() || now + kTsaRenewBefore >= *not_after;
}

Result<std::unique_ptr<TimestampAuthority>> TimestampAuthority::Create(
    ossl::UniquePtr<X509> cert, std::unique_ptr<pkix::Signer> signer, const X509* issuing_cert,
    std::string_view policy_oid, const Clock& clock) {
  if (!cert || !signer || issuing_cert == nullptr) {
    return InvalidArgumentError("a TSA needs its certificate, key and issuing CA");
  }
  KYSO_ASSIGN_OR_RETURN(Bytes policy, pkix::EncodeOidBody(policy_oid), "ca.tsa_policy_oid");
  std::unique_ptr<TimestampAuthority> tsa(new TimestampAuthority(
      std::move(signer), issuing_cert, std::move(policy), policy_oid, clock));
  KYSO_RETURN_IF_ERROR(tsa->SetCertificate(std::move(cert)));
  return tsa;
}

Status TimestampAuthority::SetCertificate(ossl::UniquePtr<X509> cert) {
  if (!cert || EVP_PKEY_eq(X509_get0_pubkey(cert.get()), signer_->public_key()) != 1) {
    return FailedPreconditionError("the TSA key on the token does not match its certificate");
  }
  std::shared_ptr<const X509> shared(cert.release(), X509_free);
  std::lock_guard lock(mu_);
  cert_ = std::move(shared);
  return OkStatus();
}

std::shared_ptr<const X509> TimestampAuthority::certificate() const {
  std::lock_guard lock(mu_);
  return cert_;
}

TsaStats TimestampAuthority::stats() const {
  return TsaStats{granted_.load(), rejected_.load(), failed_.load()};
}

std::string TimestampAuthority::last_failure() const {
  std::lock_guard lock(mu_);
  return last_failure_;
}

Bytes TimestampAuthority::Reject(pkix::TspFailure failure, std::string_view reason) {
  ++rejected_;
  return pkix::EncodeTimeStampRejection(failure, reason);
}

Result<Bytes> TimestampAuthority::Respond(ByteSpan request_der) {
  if (!pkix::IsDerSequence(request_der)) {
    ++rejected_;
    return InvalidArgumentError("not a DER TimeStampReq (RFC 3161 2.4.1)");
  }
  pkix::TspFailure failure = pkix::TspFailure::kBadRequest;
  Result<pkix::TimeStampReq> request = pkix::ParseTimeStampReq(request_der, &failure);
  if (!request.ok()) return Reject(failure, request.status().message());
  // RFC 3161 2.4.1: a reqPolicy the TSA does not follow is refused, not answered otherwise.
  if (!request->req_policy_oid_body.empty() && request->req_policy_oid_body != policy_) {
    return Reject(pkix::TspFailure::kUnacceptedPolicy,
                  "this TSA issues tokens under policy " + policy_oid_ + " only");
  }
  Result<Bytes> granted = Grant(*request);
  if (granted.ok()) {
    ++granted_;
    return granted;
  }
  ++failed_;
  {
    std::lock_guard lock(mu_);
    last_failure_ = granted.status().ToString();
  }
  // The detail stays in the server's log; the client learns only that it may retry.
  return Reject(pkix::TspFailure::kSystemFailure, "the TSA cannot issue a token now; try again");
}

Result<Bytes> TimestampAuthority::Grant(const pkix::TimeStampReq& request) {
  const std::shared_ptr<const X509> cert = certificate();
  const Time now = clock_.Now();
  KYSO_ASSIGN_OR_RETURN(Time not_before, pkix::ToTime(X509_get0_notBefore(cert.get())));
  KYSO_ASSIGN_OR_RETURN(Time not_after, pkix::ToTime(X509_get0_notAfter(cert.get())));
  if (now < not_before || now >= not_after) {
    return FailedPreconditionError("the TSA certificate is not valid at " + FormatIso8601Utc(now));
  }
  KYSO_ASSIGN_OR_RETURN(Bytes serial, pkix::RandomSerial());
  pkix::TstInfoOptions options;
  options.policy_oid_body = policy_;
  options.gen_time = now;
  options.accuracy = kAccuracy;
  options.tsa_name = X509_get_subject_name(cert.get());
  KYSO_ASSIGN_OR_RETURN(Bytes tst_info, pkix::EncodeTstInfo(request, serial, options));
  KYSO_ASSIGN_OR_RETURN(
      Bytes token,
      pkix::SignTimeStampToken(tst_info, cert.get(), {issuing_cert_}, request.cert_req, *signer_),
      "sign timestamp token");
  return pkix::EncodeTimeStampGranted(token);
}

}  // namespace kyso::ca
