#pragma once

#include <optional>
#include <span>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/crl.h"
#include "kyso/pkix/signer.h"

namespace kyso::pkix {

inline constexpr std::size_t kMaxOcspRequestLen = 16 * 1024;
inline constexpr std::size_t kMaxOcspSingleRequests = 16;
// RFC 8954 2.1: a nonce is 1 to 32 octets.
inline constexpr std::size_t kMaxOcspNonceLen = 32;

// OcspResponseStatus is RFC 6960 4.2.1 OCSPResponseStatus.
enum class OcspResponseStatus : int {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kSigRequired = 5,
  kUnauthorized = 6,
};

struct OcspCertId {
  Bytes der;  // the CertID as received; echoed in the response
  int hash_nid = 0;
  Bytes issuer_name_hash;
  Bytes issuer_key_hash;
  Bytes serial;  // big-endian magnitude
};

struct OcspRequest {
  std::vector<OcspCertId> ids;
  std::optional<Bytes> nonce;  // the nonce extension's extnValue, as received
};

// ParseOcspRequest reads a DER OCSPRequest. Requests over kMaxOcspRequestLen, with more than
// kMaxOcspSingleRequests entries, or with a nonce outside 1..32 octets are kInvalidArgument
// (answered malformedRequest).
Result<OcspRequest> ParseOcspRequest(ByteSpan der);

enum class CertStatus { kGood, kRevoked, kUnknown };

struct OcspSingle {
  const OcspCertId* id = nullptr;
  CertStatus status = CertStatus::kUnknown;
  Time revoked_at{};
  CrlReason reason = CrlReason::kUnspecified;
  Time this_update{};
  Time next_update{};
};

// EncodeOcspResponseData writes the ResponseData (RFC 6960 4.2.1) with the responder named by
// key hash: the bytes the OCSP signer signs.
Bytes EncodeOcspResponseData(ByteSpan responder_key_hash, Time produced_at,
                             std::span<const OcspSingle> singles,
                             const std::optional<Bytes>& nonce);

// EncodeOcspResponse wraps a signed ResponseData in BasicOCSPResponse (with the responder's
// certificate) and OCSPResponse.
Bytes EncodeOcspResponse(ByteSpan response_data, SignatureAlgorithm alg, ByteSpan signature,
                         ByteSpan responder_cert_der);

// EncodeOcspError gives an OCSPResponse with an error status and no body.
Bytes EncodeOcspError(OcspResponseStatus status);

}  // namespace kyso::pkix
