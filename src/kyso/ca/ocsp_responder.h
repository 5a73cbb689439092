#pragma once

#include <cstdint>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/ocsp.h"
#include "kyso/pkix/signer.h"
#include "kyso/store/store.h"

namespace kyso::ca {

// OcspResponder answers RFC 6960 requests about certificates of the issuing CA, signed by the
// delegated responder key.
//
// A request without a nonce (RFC 5019) is answered from a response signed ahead and cached
// until the certificate's status changes or half the response's validity has passed; the hot
// path takes a shared lock and signs nothing. A request with a nonce (RFC 8954) gets a fresh
// response. Refresh() drops cached responses of certificates whose status changed in the
// store, by any process. Thread-safe.
class OcspResponder final {
 public:
  OcspResponder(store::Store& store, const X509* issuer, const X509* responder_cert,
                pkix::Signer& signer, const Clock& clock, std::chrono::seconds validity);

  // Respond always yields a DER OCSPResponse: malformedRequest for bad input, unauthorized
  // when asked about another CA's certificate, internalError when the store or token fails.
  // The result is shared and immutable: a cached answer is returned without a copy.
  std::shared_ptr<const std::string> Respond(ByteSpan request_der);

  // CachedAnswer gives the cached response to exactly these request bytes, or nullptr: the
  // part of Respond that never signs, for the server's I/O threads.
  std::shared_ptr<const std::string> CachedAnswer(ByteSpan request_der) const;

  // Refresh applies status changes committed since the last call.
  Status Refresh();

  // SetResponderCert switches to a renewed responder certificate (same key) and drops the
  // cached responses, so every new response carries the new certificate.
  void SetResponderCert(const X509* responder_cert);

  std::size_t cached() const;

 private:
  struct Cached {
    std::string request_der;  // the exact request bytes that asked for it
    Bytes cert_id_der;
    Time this_update;
    std::shared_ptr<const std::string> response;
  };
  struct IssuerHashes {
    int nid;
    Bytes name_hash;
    Bytes key_hash;
  };

  bool IsOurs(const pkix::OcspCertId& id) const;
  Result<pkix::OcspSingle> Lookup(const pkix::OcspCertId& id, Time now);
  Result<Bytes> Sign(std::span<const pkix::OcspSingle> singles, Time now,
                     const std::optional<Bytes>& nonce);
  bool Fresh(const Cached& c, Time now) const { return now < c.this_update + validity_ / 2; }
  const Cached* FindCached(const std::string& serial, const Bytes& cert_id, Time now) const;
  void Insert(std::shared_ptr<Cached> entry, const std::string& serial);
  void EvictSerial(const std::string& serial);

  store::Store& store_;
  pkix::Signer& signer_;
  const Clock& clock_;
  const std::chrono::seconds validity_;
  Bytes responder_key_hash_;  // the same key across renewals
  Bytes responder_cert_der_;  // guarded by mu_
  std::vector<IssuerHashes> issuer_hashes_;

  static constexpr std::size_t kMaxCached = 200000;
  mutable std::shared_mutex mu_;
  // Two views of one cache: by the exact request bytes, so the hot path skips parsing, and
  // by serial, so a status change drops every answer about that certificate.
  std::unordered_map<std::string, std::shared_ptr<Cached>> by_request_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Cached>>> by_serial_;
  int64_t last_change_ = 0;
  // generation_ changes whenever Refresh drops entries; a response built from a lookup made
  // before a drop is not cached, so a revocation can never be hidden by a racing request.
  uint64_t generation_ = 0;
};

}  // namespace kyso::ca
