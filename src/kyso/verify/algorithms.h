#pragma once

// R7.2 (TT15 Appendix I) for what the verifier judges: a document signature or a timestamp
// made from a configurable date on must use RSA of at least 2048 bits or ECDSA of at least 256
// bits, with SHA-256 or a stronger hash (never SHA-1); RSA may be PKCS#1 v1.5 or RSASSA-PSS.
// Older signatures keep the algorithms of their time. Certificate paths are not judged here:
// path validation accepts what RFC 5280 accepts (PKITS needs DSA and SHA-1).

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "kyso/base/clock.h"

namespace kyso::verify {

// kDefaultAlgorithmsFrom is the default of `kyso verify --algorithms-from`: 15 August 2025,
// the date of Circular 15/2025/TT-BKHCN.
inline constexpr Time kDefaultAlgorithmsFrom{std::chrono::seconds(1755216000)};

// AlgorithmProblemVi says, in Vietnamese, how a signature by `key` over a `digest_nid` hash
// (NID_sha256, ...) falls short of R7.2; empty when it does not. A null key or an unknown
// digest (NID_undef) is a shortfall.
std::string AlgorithmProblemVi(const EVP_PKEY* key, int digest_nid);

// WeakestDigest is the weakest of `nids` by output size (an unknown hash counts as weakest;
// NID_undef when empty): what AlgorithmProblemVi should judge when a signature depends on
// several hashes (RSASSA-PSS parameters, XML Reference digests).
int WeakestDigest(const std::vector<int>& nids);

}  // namespace kyso::verify
