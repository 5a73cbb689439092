#pragma once

#include <cstdint>

#include "kyso/pkix/signer.h"
#include "kyso/store/store.h"

namespace kyso::ca {

// Signed checkpoints of the audit chain (DESIGN decision 5). A checkpoint signs the id and
// hash of the newest event with the audit key on the CA token, so a chain rewritten from
// some event on no longer matches a signature its forger cannot make.
inline constexpr std::string_view kAuditRole = "audit";
inline constexpr std::string_view kAuditKeyLabel = "kyso-audit";
inline constexpr int64_t kCheckpointEvery = 1000;

// CheckpointMessage is what the audit key signs: a fixed label, the event id (8 octets,
// big-endian) and the event's hash.
Bytes CheckpointMessage(int64_t last_event_id, ByteSpan head_hash);

// Checkpoint signs the current head unless a checkpoint already covers it; with `every` > 0
// only when at least that many events came since the last one. Returns whether it signed.
Result<bool> Checkpoint(store::Store& store, pkix::Signer& audit_key, std::string_view actor,
                        int64_t every = 0);

// VerifyCheckpoints checks every checkpoint's signature with the audit key recorded in the
// store and that the event it names still has the hash it signed. The first failure is
// reported in `report` like a broken link of the chain.
Status VerifyCheckpoints(store::Store& store, store::AuditReport& report);

}  // namespace kyso::ca
