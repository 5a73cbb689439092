#pragma once

#include <string_view>

#include "kyso/base/bytes.h"
#include "kyso/store/store.h"

namespace kyso::store {

inline constexpr std::size_t kAuditHashLen = 32;

// AuditHash is SHA-256 over the previous event's hash, this event's id and every field,
// each length-prefixed so no two different events share an encoding. The first event's
// previous hash is 32 zero octets.
Bytes AuditHash(ByteSpan prev_hash, int64_t id, std::string_view at, const AuditEvent& event);

}  // namespace kyso::store
