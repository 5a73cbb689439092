#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/signer.h"

namespace kyso::pkix {

// CrlReason is the RFC 5280 5.3.1 CRLReason.
enum class CrlReason : int {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
  kRemoveFromCrl = 8,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};

struct RevokedEntry {
  Bytes serial;  // big-endian magnitude
  Time revoked_at;
  CrlReason reason = CrlReason::kUnspecified;
};

struct CrlParams {
  Bytes issuer_name_der;
  Bytes authority_key_id;
  int64_t crl_number = 0;
  Time this_update;
  Time next_update;
};

// EncodeTbsCrl writes a v2 TBSCertList (RFC 5280 5.1) with the CRL number and authority key
// identifier extensions. Entries carry a reasonCode extension unless the reason is
// unspecified (RFC 5280 5.3.1: absent rather than unspecified). It writes DER directly, so a
// CRL of a million entries costs one pass over them.
Bytes EncodeTbsCrl(const CrlParams& params, SignatureAlgorithm alg,
                   std::span<const RevokedEntry> revoked);

}  // namespace kyso::pkix
