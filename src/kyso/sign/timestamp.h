#pragma once

// The client side of RFC 3161: what B-T levels (CAdES, PAdES, XAdES) and PAdES document
// timestamps (B-LTA) call to get a TimeStampToken over a digest.

#include <chrono>
#include <memory>
#include <string>

#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::sign {

// Timestamper obtains RFC 3161 TimeStampTokens. Implementations: an HTTP client of a TSA
// (NewHttpTimestamper) and, in tests, an in-process TSA.
class Timestamper {
 public:
  virtual ~Timestamper() = default;
  // Timestamp returns the DER TimeStampToken (a CMS ContentInfo, exactly as the TSA sent it)
  // whose messageImprint is SHA-256 with `sha256_digest` (32 octets). The token is checked
  // against the request: granted, same imprint, same nonce; its signature is the verifier's
  // business. Failures are one line in Vietnamese (the signer reads them, R5.4).
  virtual Result<Bytes> Timestamp(ByteSpan sha256_digest) = 0;
};

// NewHttpTimestamper posts application/timestamp-query to `url` (http:// only, as every
// client of kyso) with a random 64-bit nonce and certReq true, and reads the
// application/timestamp-reply within `timeout`.
Result<std::unique_ptr<Timestamper>> NewHttpTimestamper(const std::string& url,
                                                        std::chrono::milliseconds timeout);

}  // namespace kyso::sign
