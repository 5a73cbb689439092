#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"

namespace kyso::pkix {

// Bounds on what callers hand to the CMS encoder. A chain is rarely over four certificates;
// an RFC 3161 token with its TSA chain is a few KiB, and CAdES revocation values can reach
// hundreds of KiB, hence the room per unsigned attribute. RSA-4096 signatures are 512 octets.
inline constexpr std::size_t kMaxCmsCertificates = 16;
inline constexpr std::size_t kMaxCmsUnsignedAttributes = 16;
inline constexpr std::size_t kMaxCmsUnsignedAttributeLen = 1024 * 1024;
inline constexpr std::size_t kMaxCmsSignatureLen = 1024;

// kOidIdData is the body of id-data (1.2.840.113549.1.7.1), the default eContentType.
inline constexpr uint8_t kOidIdData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
// kOidSignatureTimeStampToken is the body of id-aa-signatureTimeStampToken
// (1.2.840.113549.1.9.16.2.14, RFC 3161 Appendix A): the unsigned attribute of CAdES B-T.
inline constexpr uint8_t kOidSignatureTimeStampToken[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                          0x01, 0x09, 0x10, 0x02, 0x0e};

// CmsSignOptions describes one SignedData. Everything is borrowed for the call to
// PreparedCms::Prepare or SignCms only; the PreparedCms keeps its own copies.
struct CmsSignOptions {
  // content is what is signed. Attached (detached = false) it is copied into eContent;
  // detached only its digest goes into the signature.
  ByteSpan content;
  bool detached = true;
  // content_digest, when not empty, replaces `content`: the caller hashed the content itself
  // (a PDF's ByteRange) with DigestOf(signer algorithm). Requires detached and empty content.
  ByteSpan content_digest = {};
  const X509* signer_cert = nullptr;     // required; its key must be the one that signs
  std::vector<const X509*> extra_certs;  // chain to include (issuing CA, ...); duplicates dropped
  // signing_time, when set, adds a signingTime attribute. CAdES B-B requires it; PAdES B-B
  // forbids it (the time goes in the signature dictionary's /M), so the caller chooses.
  std::optional<Time> signing_time;
  ByteSpan content_type_oid_body = {};  // eContentType; empty means id-data
  // include_certificates false leaves out the certificates field (RFC 3161 2.4.1: a token
  // answering a request without certReq MUST NOT carry it); signer_cert is still required.
  bool include_certificates = true;
};

// PreparedCms is a SignedData (RFC 5652) that waits only for its signature: the ticket of
// prepare -> Signer -> finish (STYLE.md 7). It owns copies of everything it needs, so it may
// outlive the options and wait for a remote (SIM) signature. Move-only; Finish consumes it.
//
// What it encodes: ContentInfo/SignedData version 1 (3 when eContentType is not id-data,
// RFC 5652 5.1), one SignerInfo version 1 with issuerAndSerialNumber, digest DigestOf(alg)
// (SHA-256, or SHA-384 for the *Sha384 algorithms), signed attributes contentType,
// messageDigest, signingCertificateV2 (RFC 5035, SHA-256 certHash with issuerSerial) and
// optional signingTime. Every SET OF is DER-sorted. The SignerInfo's signatureAlgorithm is
// rsaEncryption for PKCS#1 v1.5 (RFC 3370 3.2: the identifier every CMS implementation MUST
// accept, and what OpenSSL's CMS_sign writes) and AlgorithmIdentifierDer(alg) otherwise.
class PreparedCms final {
 public:
  // Prepare checks the options and encodes the signed attributes for a signer using `alg`.
  // Bad options (no certificate, a key type that cannot sign with `alg`, a digest of the
  // wrong length, too many certificates, a malformed content type) are kInvalidArgument.
  static Result<PreparedCms> Prepare(const CmsSignOptions& options, SignatureAlgorithm alg);

  PreparedCms(PreparedCms&&) noexcept = default;
  PreparedCms& operator=(PreparedCms&&) noexcept = default;
  PreparedCms(const PreparedCms&) = delete;
  PreparedCms& operator=(const PreparedCms&) = delete;

  // SignedAttributesDer is the DER SET OF Attribute (tag 0x31): the exact bytes to give to
  // Signer::Sign. Valid while this object lives.
  ByteSpan SignedAttributesDer() const { return signed_attrs_der_; }
  SignatureAlgorithm algorithm() const { return alg_; }

  // AddValidationData puts what a verifier needs later into the SignedData outside the
  // signature (CAdES B-LT, EN 319 122-1 5.5/6.3): certificates (DER, duplicates dropped) into
  // `certificates`, CRLs (DER CertificateList) and OCSP responses (DER OCSPResponse, as
  // OtherRevocationInfoFormat id-ri-ocsp-response, RFC 5940) into `crls`. With an OCSP
  // response the SignedData becomes version 5 (RFC 5652 5.1). Each item is checked to be one
  // DER SEQUENCE of at most kMaxCmsUnsignedAttributeLen; at most kMaxCmsCertificates
  // certificates and 16 revocation items in all, else kInvalidArgument.
  Status AddValidationData(std::span<const Bytes> certificates_der, std::span<const Bytes> crls_der,
                           std::span<const Bytes> ocsp_responses_der);

  // Finish checks `signature` over SignedAttributesDer() with the signer certificate's key
  // (a token or a SIM that signed something else is caught here, not by a relying party) and
  // returns the DER ContentInfo. `unsigned_attributes_der` are complete DER Attributes (see
  // CmsAttributeDer), e.g. an RFC 3161 token over the signature for CAdES B-T; they are
  // checked for shape and bounds. A bad signature or attribute is kInvalidArgument.
  Result<Bytes> Finish(ByteSpan signature, std::span<const Bytes> unsigned_attributes_der = {}) &&;

 private:
  PreparedCms() = default;

  SignatureAlgorithm alg_ = SignatureAlgorithm::kEcdsaSha256;
  ossl::UniquePtr<EVP_PKEY> signer_key_;  // checks the signature in Finish
  int64_t version_ = 1;
  Bytes digest_alg_der_;
  Bytes encap_content_der_;              // EncapsulatedContentInfo, with eContent when attached
  std::vector<Bytes> certificates_der_;  // signer first; sorted when written
  std::vector<Bytes> revocation_der_;    // RevocationInfoChoice encodings for `crls` [1]
  bool other_revocation_ = false;        // an OCSP response among them: version 5
  Bytes signer_id_der_;                  // IssuerAndSerialNumber
  Bytes signed_attrs_der_;
};

// SignCms signs in one call: Prepare with signer.algorithm(), Signer::Sign, Finish. The
// signer certificate's key must equal signer.public_key() (kInvalidArgument otherwise,
// checked before the Signer is asked). Returns the DER ContentInfo.
Result<Bytes> SignCms(const CmsSignOptions& options, Signer& signer);

// CmsAttributeDer encodes Attribute ::= SEQUENCE { attrType, attrValues SET { value } } with
// one already-encoded value, e.g. CmsAttributeDer(kOidSignatureTimeStampToken, token_der).
Bytes CmsAttributeDer(ByteSpan type_oid_body, ByteSpan value_der);

}  // namespace kyso::pkix
