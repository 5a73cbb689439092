#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/ca/profile.h"
#include "kyso/ca/reason.h"
#include "kyso/pkix/crl.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/signer.h"
#include "kyso/store/store.h"

namespace kyso::ca {

// Issuers are named in the store by role: "root" signs the issuing CA and its CRL, "issuing"
// signs subscribers and the OCSP responder, "ocsp" signs OCSP responses.
inline constexpr std::string_view kRoot = "root";
inline constexpr std::string_view kIssuing = "issuing";
inline constexpr std::string_view kOcsp = "ocsp";

// CaSigners are the three keys of a deployment, normally on the token.
struct CaSigners {
  std::unique_ptr<pkix::Signer> root;
  std::unique_ptr<pkix::Signer> issuing;
  std::unique_ptr<pkix::Signer> ocsp;
};

struct IssueRequest {
  Profile profile = Profile::kIndividual;
  const pkix::CertRequest* csr = nullptr;  // borrowed; its signature was verified on parse
  Subject subject;
  std::optional<int> days;  // validity; at most R4.1's limit, default that limit
  // For a renewal or a change of information (the workflow decides those): the key of the
  // existing certificate instead of a CSR, and an exact notAfter instead of `days` (R4.2,
  // R11.1). A notAfter past the issuing CA is refused, or capped when `cap_to_issuer`.
  const X509_PUBKEY* public_key_info = nullptr;
  std::optional<Time> not_after;
  bool cap_to_issuer = false;
};

struct Issued {
  std::string serial_hex;
  Bytes cert_der;
};

// Authority issues and revokes certificates and makes CRLs for one deployment. Every
// issuance is recorded in the store before its TBSCertificate is signed and completed after
// (DESIGN decision 3). Thread-safe.
class Authority final {
 public:
  // Open loads the CA certificates from the store and checks that each signer's public key
  // matches its certificate.
  static Result<std::unique_ptr<Authority>> Open(const Config& config, store::Store& store,
                                                 CaSigners signers, const Clock& clock);

  // Issue validates the request (R4.1, R4.3, R7.1, R7.2), records, signs and stores one
  // certificate. A refusal is kInvalidArgument and stores nothing.
  Result<Issued> Issue(const IssueRequest& request, std::string_view actor);

  // IssueBatch issues many certificates with one durable commit to record a chunk and one to
  // complete it, preparing and signing on `threads` threads. Results are in request order; a refused
  // request does not stop the others.
  // `progress`, when given, is told after each committed chunk how many are done.
  using Progress = std::function<void(std::size_t done, std::size_t total)>;
  std::vector<Result<Issued>> IssueBatch(std::span<const IssueRequest> requests,
                                         std::string_view actor, int threads = 2,
                                         const Progress& progress = {});

  // Revoke revokes an issued certificate and publishes a new issuing CRL. An R12.1 case that
  // does not fit the certificate's profile is refused.
  Status Revoke(std::string_view serial_hex, const RevocationReason& reason,
                std::string_view actor);

  // GenerateCrl signs and stores a fresh CRL of `issuer` ("root" or "issuing").
  Result<store::CrlRecord> GenerateCrl(std::string_view issuer, std::string_view actor);

  // RenewOcspSigner issues a new delegated OCSP certificate for the same responder key when
  // the current one has less than a third of its lifetime left (or always, with `force`).
  // Returns true when it renewed.
  Result<bool> RenewOcspSigner(std::string_view actor, bool force = false);

  // RecoverPending completes issuances recorded at least `min_age` ago whose signing never
  // finished (a crash between record and commit) by signing their recorded TBS.
  Result<int> RecoverPending(std::chrono::seconds min_age, std::string_view actor);

  X509* root_cert() const { return root_cert_.get(); }
  X509* issuing_cert() const { return issuing_cert_.get(); }
  // ocsp_cert is the current delegated OCSP responder certificate; RenewOcspSigner replaces
  // it, so callers hold the returned reference rather than a raw pointer.
  std::shared_ptr<X509> ocsp_cert() const;
  pkix::Signer& ocsp_signer() const { return *signers_.ocsp; }
  const Config& config() const { return config_; }
  store::Store& store() const { return store_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Prepared {
    store::PendingIssuance pending;
  };
  Authority(const Config& config, store::Store& store, CaSigners signers, const Clock& clock)
      : config_(config), store_(store), signers_(std::move(signers)), clock_(clock) {}
  Result<Prepared> Prepare(const IssueRequest& request, Time now) const;
  pkix::Signer& SignerFor(std::string_view issuer) const;

  Config config_;
  store::Store& store_;
  CaSigners signers_;
  const Clock& clock_;
  ossl::UniquePtr<X509> root_cert_;
  ossl::UniquePtr<X509> issuing_cert_;
  mutable std::mutex ocsp_mu_;
  std::shared_ptr<X509> ocsp_cert_;
  std::vector<ProfileExtensions> profiles_;  // indexed by Profile
};

// KeyFactory makes a key pair labelled `label` (on the token in production).
using KeyFactory =
    std::function<Result<std::unique_ptr<pkix::Signer>>(std::string_view label, KeySpec spec)>;

// CreateHierarchy makes the root CA (R4.3: at most 20 years), the issuing CA, the OCSP
// responder certificate and the TSA certificate (tsa.h) with keys from `keys`, stores them,
// and publishes the first CRLs.
Status CreateHierarchy(const Config& config, store::Store& store, const KeyFactory& keys,
                       const Clock& clock);

}  // namespace kyso::ca
