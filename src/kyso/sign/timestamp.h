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

// VerifiedTimestamp is what VerifyTimestampToken found.
struct VerifiedTimestamp {
  ossl::UniquePtr<X509> tsa_cert;                  // the certificate that signed the token
  std::vector<ossl::UniquePtr<X509>> certificates;  // every certificate the token carries
  Time gen_time{};
};

// VerifyTimestampToken checks a TimeStampToken before kyso puts it in a document (RFC 3161
// 2.4.2, with OpenSSL's TS verifier): the CMS signature, the ESS signing-certificate(-v2)
// binding, a path from the TSA certificate to `anchors` at the current time with the critical
// extended key usage id-kp-timeStamping (RFC 3161 2.3), and a SHA-256 messageImprint equal to
// `sha256_digest`. `untrusted` may add intermediates the token lacks. Revocation of the TSA
// certificate is the caller's (verify::CheckSigningCertificate). Failures are
// kFailedPrecondition in Vietnamese: the signer learns the TSA cannot be trusted.
Result<VerifiedTimestamp> VerifyTimestampToken(ByteSpan token_der, ByteSpan sha256_digest,
                                               const std::vector<const X509*>& anchors,
                                               const std::vector<const X509*>& untrusted);

}  // namespace kyso::sign
