#include "kyso/ca/audit_checkpoint.h"

#include <algorithm>

#include "kyso/pkix/ossl.h"

namespace kyso::ca {

Bytes CheckpointMessage(int64_t last_event_id, ByteSpan head_hash) {
  constexpr std::string_view kLabel = "kyso audit checkpoint v1";
  Bytes m(kLabel.begin(), kLabel.end());
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<uint8_t>(static_cast<uint64_t>(last_event_id) >> (8 * i)));
  m.insert(m.end(), head_hash.begin(), head_hash.end());
  return m;
}

Result<bool> Checkpoint(store::Store& store, pkix::Signer& audit_key, std::string_view actor,
                        int64_t every) {
  KYSO_ASSIGN_OR_RETURN(auto head, store.AuditHead());
  if (head.first == 0) return false;
  KYSO_ASSIGN_OR_RETURN(std::vector<store::AuditCheckpoint> done, store.ListCheckpoints());
  const int64_t last = done.empty() ? 0 : done.back().last_event_id;
  if (last >= head.first || (every > 0 && head.first - last < every)) return false;
  KYSO_ASSIGN_OR_RETURN(Bytes signature, audit_key.Sign(CheckpointMessage(head.first, head.second)),
                        "sign audit checkpoint");
  // The checkpoint's own audit event carries the time.
  store::AuditCheckpoint c{head.first, head.second, "", std::string(kAuditKeyLabel), std::move(signature)};
  KYSO_RETURN_IF_ERROR(store.PutCheckpoint(c, actor));
  return true;
}

Status VerifyCheckpoints(store::Store& store, store::AuditReport& report) {
  KYSO_ASSIGN_OR_RETURN(std::vector<store::AuditCheckpoint> checkpoints, store.ListCheckpoints());
  KYSO_ASSIGN_OR_RETURN(std::vector<store::AuditEventHash> hashes, store.AuditHashes());
  // Each checkpoint is also an event of the chain; a checkpoint row deleted to hide a forged
  // chain leaves its event behind.
  for (const store::AuditEventHash& e : hashes) {
    if (e.action != "audit.checkpoint") continue;
    const bool present = std::any_of(checkpoints.begin(), checkpoints.end(), [&](const auto& c) {
      return std::to_string(c.last_event_id) == e.object;
    });
    if (!present && (!report.first_bad_id || *report.first_bad_id > e.id)) {
      report.first_bad_id = e.id;
      report.problem = "the signed checkpoint this event records is missing";
    }
  }
  if (checkpoints.empty()) return OkStatus();
  KYSO_ASSIGN_OR_RETURN(store::CaKey key, store.GetCaKey(kAuditRole), "audit key");
  const unsigned char* p = key.cert_der.data();  // for the audit role: its SubjectPublicKeyInfo
  ossl::UniquePtr<EVP_PKEY> pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(key.cert_der.size())));
  if (!pub) return InternalError("the recorded audit key is unreadable");
  KYSO_ASSIGN_OR_RETURN(pkix::SignatureAlgorithm alg, pkix::DefaultAlgorithmFor(pub.get(), false));
  for (const store::AuditCheckpoint& c : checkpoints) {
    auto fail = [&](std::string why) {
      if (!report.first_bad_id || *report.first_bad_id > c.last_event_id) {
        report.first_bad_id = c.last_event_id;
        report.problem = std::move(why);
      }
    };
    if (!pkix::VerifySignature(pub.get(), alg, CheckpointMessage(c.last_event_id, c.head_hash), c.signature).ok()) {
      fail("the signed checkpoint at this event does not verify");
      continue;
    }
    auto it = std::lower_bound(hashes.begin(), hashes.end(), c.last_event_id,
                               [](const store::AuditEventHash& h, int64_t id) { return h.id < id; });
    if (it == hashes.end() || it->id != c.last_event_id || it->hash != c.head_hash) {
      fail("the event no longer has the hash its signed checkpoint recorded");
    }
  }
  return OkStatus();
}

}  // namespace kyso::ca
