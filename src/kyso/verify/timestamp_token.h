#pragma once

// Checking an RFC 3161 TimeStampToken: what the signer does before a token goes into a
// document (sign/), and what the verifier does with the tokens it finds (verify/).

#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// VerifiedTimestamp is what VerifyTimestampToken found.
struct VerifiedTimestamp {
  ossl::UniquePtr<X509> tsa_cert;                  // the certificate that signed the token
  std::vector<ossl::UniquePtr<X509>> certificates;  // every certificate the token carries
  Time gen_time{};
  int digest_nid = 0;  // the TSA SignerInfo's digestAlgorithm (NID), for R7.2
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

}  // namespace kyso::verify
