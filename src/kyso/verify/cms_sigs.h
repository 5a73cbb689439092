#pragma once

// CMS SignedData signatures (CAdES, plain CMS from openssl/pdfsig/podofosign, S/MIME): the
// signatures of one message, each checked cryptographically. No path validation here: that is
// ValidatePath's, with the certificates and CRLs the message carries.

#include <optional>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// kMaxCmsInputLen bounds a .p7s/.p7m/.eml (attached content included).
inline constexpr std::size_t kMaxCmsInputLen = std::size_t{256} * 1024 * 1024;

// CmsSignature is one SignerInfo: of the SignedData, or a countersignature (RFC 5652 11.4),
// listed after the SignerInfo it countersigns.
struct CmsSignature {
  ossl::UniquePtr<X509> signer_cert;  // found among the message's certificates; may be null
  // hash_ok: the messageDigest attribute (or, without signed attributes, the signature) matches
  // the content; signature_ok: the signature verifies with signer_cert's key.
  bool hash_ok = false;
  bool signature_ok = false;
  std::string problem;  // English, first failure
  std::optional<Time> signing_time;      // the signingTime attribute
  std::vector<Bytes> timestamp_tokens;   // id-aa-signatureTimeStampToken values
  Bytes signature_value;                 // what a signature timestamp covers
  int digest_nid = 0;                    // the weakest hash the signature depends on (NID), for R7.2
  // counter_signature: a countersignature, whose "content" is the signature value it
  // countersigns (hash_ok: its messageDigest matches that value).
  bool counter_signature = false;
};

// CmsMessage is a parsed message: its signatures and what it carries for path validation.
struct CmsMessage {
  std::vector<CmsSignature> signatures;
  std::vector<ossl::UniquePtr<X509>> certificates;
  std::vector<Bytes> crls;  // DER CertificateLists from `crls`
  bool detached = false;    // no eContent: the content came from outside
};

// ReadCms parses a CMS SignedData (DER, or PEM "-----BEGIN CMS/PKCS7-----") and checks every
// SignerInfo against its content: the encapsulated one, or `detached_content` for a detached
// signature (required then: kInvalidArgument without it). A message that is not SignedData is
// kInvalidArgument, in Vietnamese.
Result<CmsMessage> ReadCms(ByteSpan input, std::optional<ByteSpan> detached_content);

// ReadSmime reads an S/MIME message (RFC 8551: multipart/signed with an
// application/pkcs7-signature part, or application/pkcs7-mime signed-data) and checks it like
// ReadCms, the signed MIME part being the content.
Result<CmsMessage> ReadSmime(ByteSpan eml);

// DigestAlgorithmsDisagree tells whether a SignerInfo's signature algorithm names a hash
// (sha256WithRSAEncryption, ecdsa-with-SHA384, ...) other than its digest algorithm: a
// mismatch a verifier must not paper over (EU DSS judges such signatures not valid).
bool DigestAlgorithmsDisagree(const X509_ALGOR* digest_alg, const X509_ALGOR* signature_alg);

// LooksLikeSmime tells whether `input` starts like a MIME message with a signed body.
bool LooksLikeSmime(ByteSpan input);

}  // namespace kyso::verify
