#include "kyso/ca/ocsp_responder.h"

#include <mutex>

#include "kyso/ca/authority.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {

namespace {

Bytes Digest(const EVP_MD* md, ByteSpan data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return Bytes(out, out + len);
}

Bytes PublicKeyBits(const X509* cert) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert);
  const unsigned char* d = ASN1_STRING_get0_data(bits);
  return Bytes(d, d + ASN1_STRING_length(bits));
}

}  // namespace

OcspResponder::OcspResponder(store::Store& store, const X509* issuer, const X509* responder_cert,
                             pkix::Signer& signer, const Clock& clock,
                             std::chrono::seconds validity)
    : store_(store), signer_(signer), clock_(clock), validity_(validity) {
  responder_key_hash_ = pkix::KeyIdentifier(responder_cert);
  responder_cert_der_ = pkix::CertificateDer(responder_cert);
  // RFC 6960 4.1.1: issuerNameHash and issuerKeyHash under the request's hash algorithm.
  const Bytes name_der = pkix::NameDer(X509_get_subject_name(issuer));
  const Bytes key_bits = PublicKeyBits(issuer);
  for (int nid : {NID_sha1, NID_sha256, NID_sha384, NID_sha512}) {
    const EVP_MD* md = EVP_get_digestbynid(nid);
    issuer_hashes_.push_back({nid, Digest(md, name_der), Digest(md, key_bits)});
  }
  auto last = store_.LastStatusChange();
  last_change_ = last.ok() ? *last : 0;
}

bool OcspResponder::IsOurs(const pkix::OcspCertId& id) const {
  for (const IssuerHashes& h : issuer_hashes_) {
    if (h.nid == id.hash_nid) {
      return h.name_hash == id.issuer_name_hash && h.key_hash == id.issuer_key_hash;
    }
  }
  return false;
}

Result<pkix::OcspSingle> OcspResponder::Lookup(const pkix::OcspCertId& id, Time now) {
  pkix::OcspSingle single{&id, pkix::CertStatus::kUnknown, {}, pkix::CrlReason::kUnspecified,
                          now, now + validity_};
  Result<store::CertificateRecord> rec = store_.GetCertificate(HexEncode(id.serial));
  if (!rec.ok()) {
    if (rec.status().code() == Code::kNotFound) return single;
    return rec.status();
  }
  if (rec->issuer != kIssuing || rec->state != store::CertState::kIssued) return single;
  if (rec->revoked_at) {
    single.status = pkix::CertStatus::kRevoked;
    single.revoked_at = *rec->revoked_at;
    single.reason = rec->reason;
  } else {
    single.status = pkix::CertStatus::kGood;
  }
  return single;
}

Result<Bytes> OcspResponder::Sign(std::span<const pkix::OcspSingle> singles, Time now,
                                  const std::optional<Bytes>& nonce) {
  const Bytes data = pkix::EncodeOcspResponseData(responder_key_hash_, now, singles, nonce);
  KYSO_ASSIGN_OR_RETURN(Bytes sig, signer_.Sign(data));
  std::shared_lock lock(mu_);
  return pkix::EncodeOcspResponse(data, signer_.algorithm(), sig, responder_cert_der_);
}

const OcspResponder::Cached* OcspResponder::FindCached(const std::string& serial,
                                                       const Bytes& cert_id, Time now) const {
  auto it = by_serial_.find(serial);
  if (it == by_serial_.end()) return nullptr;
  for (const auto& c : it->second) {
    // Re-sign once half the validity has passed, so clients never see a stale nextUpdate.
    if (c->cert_id_der == cert_id && Fresh(*c, now)) return c.get();
  }
  return nullptr;
}

void OcspResponder::EvictSerial(const std::string& serial) {
  auto it = by_serial_.find(serial);
  if (it == by_serial_.end()) return;
  for (const auto& c : it->second) by_request_.erase(c->request_der);
  by_serial_.erase(it);
}

void OcspResponder::Insert(std::shared_ptr<Cached> entry, const std::string& serial) {
  if (by_request_.size() >= kMaxCached) {
    // Bounded: drop an arbitrary tenth of the serials. Hot serials come back on their next
    // request; clearing everything would send every client to the signing path at once.
    for (std::size_t drop = kMaxCached / 10; drop > 0 && !by_serial_.empty(); --drop) {
      EvictSerial(by_serial_.begin()->first);
    }
  }
  auto& entries = by_serial_[serial];
  std::erase_if(entries, [&](const std::shared_ptr<Cached>& c) {
    if (c->cert_id_der != entry->cert_id_der) return false;
    by_request_.erase(c->request_der);
    return true;
  });
  by_request_[entry->request_der] = entry;
  entries.push_back(std::move(entry));
}

std::shared_ptr<const std::string> OcspResponder::Respond(ByteSpan request_der) {
  auto error = [](pkix::OcspResponseStatus status) {
    return std::make_shared<const std::string>(AsString(pkix::EncodeOcspError(status)));
  };
  if (auto hit = CachedAnswer(request_der)) return hit;
  const Time now = clock_.Now();
  const std::string request(AsString(request_der));
  Result<pkix::OcspRequest> req = pkix::ParseOcspRequest(request_der);
  if (!req.ok()) return error(pkix::OcspResponseStatus::kMalformedRequest);
  for (const pkix::OcspCertId& id : req->ids) {
    if (!IsOurs(id)) return error(pkix::OcspResponseStatus::kUnauthorized);
  }
  const bool cacheable = !req->nonce && req->ids.size() == 1;
  std::string serial;
  uint64_t generation = 0;
  if (cacheable) {
    serial = HexEncode(req->ids[0].serial);
    std::shared_lock lock(mu_);
    if (const Cached* c = FindCached(serial, req->ids[0].der, now)) return c->response;
    generation = generation_;
  }
  std::vector<pkix::OcspSingle> singles;
  for (const pkix::OcspCertId& id : req->ids) {
    Result<pkix::OcspSingle> single = Lookup(id, now);
    if (!single.ok()) return error(pkix::OcspResponseStatus::kTryLater);
    singles.push_back(*single);
  }
  Result<Bytes> signed_der = Sign(singles, now, req->nonce);
  if (!signed_der.ok()) return error(pkix::OcspResponseStatus::kInternalError);
  auto response = std::make_shared<const std::string>(AsString(*signed_der));
  // Unknown answers are not cached: the serial may be issued a moment later.
  if (cacheable && singles[0].status != pkix::CertStatus::kUnknown) {
    std::unique_lock lock(mu_);
    if (generation == generation_) {
      Insert(std::make_shared<Cached>(Cached{request, req->ids[0].der, now, response}), serial);
    }
  }
  return response;
}

std::shared_ptr<const std::string> OcspResponder::CachedAnswer(ByteSpan request_der) const {
  const Time now = clock_.Now();
  std::shared_lock lock(mu_);
  auto hit = by_request_.find(std::string(AsString(request_der)));
  if (hit != by_request_.end() && Fresh(*hit->second, now)) return hit->second->response;
  return nullptr;
}

Status OcspResponder::Refresh() {
  KYSO_ASSIGN_OR_RETURN(std::vector<store::StatusChange> changes,
                        store_.StatusChangesSince(last_change_));
  if (changes.empty()) return OkStatus();
  std::unique_lock lock(mu_);
  ++generation_;
  for (const store::StatusChange& c : changes) {
    EvictSerial(c.serial_hex);
    last_change_ = c.seq;
  }
  return OkStatus();
}

void OcspResponder::SetResponderCert(const X509* responder_cert) {
  Bytes der = pkix::CertificateDer(responder_cert);
  std::unique_lock lock(mu_);
  responder_cert_der_ = std::move(der);
  by_request_.clear();
  by_serial_.clear();
  ++generation_;
}

std::size_t OcspResponder::cached() const {
  std::shared_lock lock(mu_);
  return by_serial_.size();
}

}  // namespace kyso::ca
