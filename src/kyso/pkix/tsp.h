#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"

namespace kyso::pkix {

// RFC 3161 Time-Stamp Protocol: the request a TSA reads, the TSTInfo it signs, the response
// it sends, and a reader of responses for clients (CAdES/PAdES B-T).

// A TimeStampReq is a digest, a nonce and a few flags: 16 KiB is ample.
inline constexpr std::size_t kMaxTimeStampReqLen = 16 * 1024;
// A response carries the token and at most the TSA's certificate chain.
inline constexpr std::size_t kMaxTimeStampRespLen = 256 * 1024;
// Nonces up to 256 bits, as for OCSP (RFC 8954); openssl ts sends 64.
inline constexpr std::size_t kMaxTspNonceLen = 32;
// kTsaSerialLen: TSTInfo serial numbers are 20 random octets (RandomSerial: 159 bits).
inline constexpr std::size_t kTsaSerialLen = 20;

// kOidTstInfo is the body of id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4), the eContentType of a
// TimeStampToken.
inline constexpr uint8_t kOidTstInfo[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                          0x01, 0x09, 0x10, 0x01, 0x04};

// PkiStatus is RFC 3161 2.4.2 PKIStatus.
enum class PkiStatus : int {
  kGranted = 0,
  kGrantedWithMods = 1,
  kRejection = 2,
  kWaiting = 3,
  kRevocationWarning = 4,
  kRevocationNotification = 5,
};

// TspFailure names one bit of RFC 3161 2.4.2 PKIFailureInfo; the value is the bit number.
enum class TspFailure : int {
  kBadAlg = 0,                // unrecognized or unsupported algorithm (SHA-1 among them)
  kBadRequest = 2,            // transaction not permitted or supported
  kBadDataFormat = 5,         // the data submitted has the wrong format
  kTimeNotAvailable = 14,     // the TSA's time source is not available
  kUnacceptedPolicy = 15,     // the requested TSA policy is not supported
  kUnacceptedExtension = 16,  // the requested extension is not supported
  kSystemFailure = 25,        // the request cannot be handled due to system failure
};
std::string_view TspFailureName(TspFailure f);

// TimeStampReq is a checked RFC 3161 2.4.1 request.
struct TimeStampReq {
  int hash_nid = 0;                // NID_sha256, NID_sha384 or NID_sha512
  Bytes hashed_message;            // exactly the digest's length
  Bytes message_imprint_der;       // the MessageImprint as received (DER); copied into the TSTInfo
  Bytes req_policy_oid_body;       // reqPolicy's OID body; empty when absent
  std::optional<Bytes> nonce_der;  // the nonce INTEGER's TLV as received; echoed
  bool cert_req = false;
};

// IsDerSequence (der.h) separates a malformed TimeStampReq (answered with a rejection) from
// something that is not DER at all (answered HTTP 400).

// ParseTimeStampReq reads a DER TimeStampReq strictly: at most kMaxTimeStampReqLen, canonical
// DER with nothing after it, version 1, messageImprint with SHA-256/384/512 (absent or NULL
// parameters) and a digest of that length, a nonce of at most kMaxTspNonceLen octets, and no
// extensions (none is supported). Every refusal is kInvalidArgument with a message a client
// may see; `failure`, when given, receives the PKIFailureInfo bit to answer with (SHA-1 and
// unknown digests: kBadAlg; extensions: kUnacceptedExtension; bad encoding: kBadDataFormat;
// the rest: kBadRequest). The reqPolicy is returned, not judged: the TSA knows its policy.
Result<TimeStampReq> ParseTimeStampReq(ByteSpan der, TspFailure* failure = nullptr);

// EncodeTimeStampReq writes the DER TimeStampReq a client sends (RFC 3161 2.4.1): version 1,
// messageImprint { SHA-256/384/512 with absent parameters, `digest` }, the `nonce` (a
// big-endian magnitude, at most kMaxTspNonceLen octets; empty: none), certReq. No policy, no
// extensions. A digest of the wrong length or an unsupported hash is kInvalidArgument.
Result<Bytes> EncodeTimeStampReq(int hash_nid, ByteSpan digest, ByteSpan nonce, bool cert_req);

// TstInfoOptions are the TSA's side of a TSTInfo. Borrowed for the call.
struct TstInfoOptions {
  ByteSpan policy_oid_body;  // required: the TSA policy (RFC 3161 2.4.2 `policy`)
  Time gen_time{};
  // gen_time_fraction, when set (0..999 ms), is written as fractional seconds with trailing
  // zeros dropped (RFC 3161 2.4.2: "20260101120000.5Z"); 0 writes none.
  std::optional<std::chrono::milliseconds> gen_time_fraction;
  // accuracy, when set (> 0), is written as Accuracy { seconds, millis }.
  std::optional<std::chrono::milliseconds> accuracy;
  const X509_NAME* tsa_name = nullptr;  // when set: tsa [0] directoryName
};

// EncodeTstInfo writes the DER TSTInfo (RFC 3161 2.4.2) answering `request`: version 1, the
// policy, the request's messageImprint, `serial` (a big-endian magnitude of 1..20 octets),
// genTime, optional accuracy, the request's nonce, optional tsa name; no ordering, no
// extensions. Bad options are kInvalidArgument.
Result<Bytes> EncodeTstInfo(const TimeStampReq& request, ByteSpan serial,
                            const TstInfoOptions& options);

// SignTimeStampToken wraps a TSTInfo in a TimeStampToken: a CMS SignedData with eContentType
// id-ct-TSTInfo, attached, signed through SignCms (whose signed attributes carry ESS
// signingCertificateV2, as RFC 5816 allows). With `include_certificates` the TSA certificate
// and `chain` go in the certificates field; without, the field is absent (RFC 3161 2.4.1).
Result<Bytes> SignTimeStampToken(ByteSpan tst_info_der, const X509* tsa_cert,
                                 const std::vector<const X509*>& chain, bool include_certificates,
                                 Signer& signer);

// EncodeTimeStampGranted gives TimeStampResp { status granted, token }.
Bytes EncodeTimeStampGranted(ByteSpan token_der);
// EncodeTimeStampRejection gives TimeStampResp { status rejection, statusString `reason`
// (UTF-8, at most 512 octets kept), failInfo `failure` } without a token.
Bytes EncodeTimeStampRejection(TspFailure failure, std::string_view reason);

// TimeStampResp is what ParseTimeStampResp read. The token fields are set only when a token is
// present; its signature is NOT checked here (that is verify/'s work).
struct TimeStampResp {
  PkiStatus status = PkiStatus::kRejection;
  std::string status_string;      // the PKIFreeText's strings joined with "; "
  std::vector<int> failure_bits;  // PKIFailureInfo bits set, ascending
  Bytes token_der;                // the TimeStampToken (ContentInfo) exactly as received
  // From the token's TSTInfo:
  std::string policy_oid;  // dotted
  int hash_nid = 0;
  Bytes hashed_message;
  Bytes serial;  // big-endian magnitude
  Time gen_time{};
  std::optional<Bytes> nonce_der;  // the nonce INTEGER's TLV
};

// ParseTimeStampResp reads a DER TimeStampResp of at most kMaxTimeStampRespLen. A granted
// response must carry a token whose TSTInfo parses; a malformed response is kInvalidArgument.
Result<TimeStampResp> ParseTimeStampResp(ByteSpan der);

// TimeStampTokenFrom gives the token of a granted response, as it goes into
// id-aa-signatureTimeStampToken (CmsAttributeDer(kOidSignatureTimeStampToken, token)). A
// rejection is kFailedPrecondition naming its reason; a malformed response kInvalidArgument.
Result<Bytes> TimeStampTokenFrom(ByteSpan resp_der);

}  // namespace kyso::pkix
