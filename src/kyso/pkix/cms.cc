#include "kyso/pkix/cms.h"

#include <openssl/obj_mac.h>

#include <algorithm>

#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {

namespace {

// OID bodies: RFC 5652 (signedData, the PKCS #9 attributes), RFC 5035 (signingCertificateV2).
constexpr uint8_t kOidSignedData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
constexpr uint8_t kOidContentType[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03};
constexpr uint8_t kOidMessageDigest[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04};
constexpr uint8_t kOidSigningTime[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05};
constexpr uint8_t kOidSigningCertificateV2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                0x01, 0x09, 0x10, 0x02, 0x2f};
constexpr std::size_t kMaxOidBodyLen = 64;

// WriteSetOf writes a SET OF (or an IMPLICIT-tagged one) in DER: X.690 11.6 orders the
// elements by their encodings compared as octet strings, which is vector<uint8_t>'s `<`.
void WriteSetOf(DerWriter& w, uint8_t tag, std::vector<Bytes> elements) {
  // An explicit comparison: GCC 12 at -O3 wrongly warns (stringop-overread) on the memcmp
  // inside vector<uint8_t>'s operator<.
  std::sort(elements.begin(), elements.end(), [](const Bytes& a, const Bytes& b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return a[i] < b[i];
    }
    return a.size() < b.size();
  });
  w.Constructed(tag, [&](DerWriter& set) {
    for (const Bytes& e : elements) set.Raw(e);
  });
}

Bytes OidDer(int nid) { return ossl::ToDer(i2d_ASN1_OBJECT, OBJ_nid2obj(nid)); }

// RFC 5754 2: SHA-2 AlgorithmIdentifiers are generated with absent parameters.
Bytes DigestAlgorithmDer(const EVP_MD* md) {
  DerWriter w;
  w.Sequence([&](DerWriter& s) { s.Raw(OidDer(EVP_MD_get_type(md))); });
  return std::move(w).Finish();
}

// RFC 3370 3.2: every CMS implementation MUST accept rsaEncryption (NULL parameters) as the
// PKCS #1 v1.5 signatureAlgorithm, while the digest-naming OIDs are only MAY; the digest is
// named by digestAlgorithm. OpenSSL's CMS_sign and signtool write rsaEncryption too.
Bytes SignerInfoAlgorithmDer(SignatureAlgorithm alg) {
  if (alg != SignatureAlgorithm::kRsaPkcs1Sha256 && alg != SignatureAlgorithm::kRsaPkcs1Sha384) {
    return AlgorithmIdentifierDer(alg);
  }
  DerWriter w;
  w.Sequence([&](DerWriter& s) {
    s.Raw(OidDer(NID_rsaEncryption));
    s.Null();
  });
  return std::move(w).Finish();
}

Status CheckKeyFitsAlgorithm(const EVP_PKEY* key, SignatureAlgorithm alg) {
  const bool ecdsa =
      alg == SignatureAlgorithm::kEcdsaSha256 || alg == SignatureAlgorithm::kEcdsaSha384;
  const bool fits =
      ecdsa ? EVP_PKEY_is_a(key, "EC") : EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS");
  if (!fits) {
    return InvalidArgumentError("signer certificate's key cannot sign with " +
                                std::string(SignatureAlgorithmName(alg)));
  }
  return OkStatus();
}

// ContentTypeDer gives the OBJECT IDENTIFIER TLV of the eContentType, checked by OpenSSL's
// parser so a caller's typo cannot produce an unparsable SignedData.
Result<Bytes> ContentTypeDer(ByteSpan oid_body) {
  if (oid_body.empty()) oid_body = kOidIdData;
  if (oid_body.size() > kMaxOidBodyLen) return InvalidArgumentError("content type OID too long");
  DerWriter w;
  w.Oid(oid_body);
  Bytes der = std::move(w).Finish();
  const unsigned char* p = der.data();
  ossl::UniquePtr<ASN1_OBJECT> obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(der.size())));
  if (!obj || p != der.data() + der.size()) {
    return ossl::Error(Code::kInvalidArgument, "malformed content type OID");
  }
  return der;
}

Result<Bytes> Digest(const EVP_MD* md, ByteSpan data) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return ossl::Error("digest content");
  }
  return out;
}

// MessageDigest is the messageDigest attribute's value: the digest of the content, or the
// caller's own digest (a PDF ByteRange), which can only be detached.
Result<Bytes> MessageDigest(const CmsSignOptions& o, const EVP_MD* md) {
  if (o.content_digest.empty()) return Digest(md, o.content);
  if (!o.detached || !o.content.empty()) {
    return InvalidArgumentError("a precomputed content digest needs a detached signature");
  }
  const auto md_len = static_cast<std::size_t>(EVP_MD_get_size(md));
  if (o.content_digest.size() != md_len) {
    return InvalidArgumentError("content digest is " + std::to_string(o.content_digest.size()) +
                                " octets; " + EVP_MD_get0_name(md) + " needs " +
                                std::to_string(md_len));
  }
  return Bytes(o.content_digest.begin(), o.content_digest.end());
}

Bytes EncapsulatedContentInfoDer(ByteSpan content_type_der, const CmsSignOptions& o) {
  DerWriter w(content_type_der.size() + (o.detached ? 0 : o.content.size()) + 16);
  w.Sequence([&](DerWriter& eci) {
    eci.Raw(content_type_der);
    if (!o.detached) eci.Explicit(0, [&](DerWriter& e) { e.OctetString(o.content); });
  });
  return std::move(w).Finish();
}

// CertificateSetDer gives the signer certificate and the chain, each once.
Result<std::vector<Bytes>> CertificateSetDer(const CmsSignOptions& o) {
  if (o.extra_certs.size() >= kMaxCmsCertificates) {
    return InvalidArgumentError("more than " + std::to_string(kMaxCmsCertificates) +
                                " certificates for one CMS signature");
  }
  std::vector<Bytes> out;
  std::vector<const X509*> all = {o.signer_cert};
  all.insert(all.end(), o.extra_certs.begin(), o.extra_certs.end());
  for (const X509* cert : all) {
    if (cert == nullptr) return InvalidArgumentError("null chain certificate");
    Bytes der = CertificateDer(cert);
    if (der.empty()) return ossl::Error("encode certificate");
    if (std::find(out.begin(), out.end(), der) == out.end()) out.push_back(std::move(der));
  }
  return out;
}

// SigningCertificateV2Der encodes RFC 5035 SigningCertificateV2 with one ESSCertIDv2. Its
// hashAlgorithm is left out: the field is DEFAULT id-sha256, and DER omits default values.
Result<Bytes> SigningCertificateV2Der(const X509* cert, ByteSpan issuer_der, ByteSpan serial_der) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_len = 0;
  if (X509_digest(cert, EVP_sha256(), hash, &hash_len) != 1) {
    return ossl::Error("hash signer certificate");
  }
  DerWriter w;
  w.Sequence([&](DerWriter& scv2) {
    scv2.Sequence([&](DerWriter& certs) {
      certs.Sequence([&](DerWriter& id) {
        id.OctetString(ByteSpan(hash, hash_len));
        id.Sequence([&](DerWriter& issuer_serial) {
          // issuer GeneralNames: one directoryName, [4] (explicit, since Name is a CHOICE).
          issuer_serial.Sequence([&](DerWriter& names) {
            names.Constructed(0xa4, [&](DerWriter& dn) { dn.Raw(issuer_der); });
          });
          issuer_serial.Raw(serial_der);
        });
      });
    });
  });
  return std::move(w).Finish();
}

Bytes SignedAttributesSetDer(ByteSpan content_type_der, ByteSpan digest,
                             ByteSpan signing_cert_v2_der,
                             const std::optional<Time>& signing_time) {
  std::vector<Bytes> attrs;
  attrs.push_back(CmsAttributeDer(kOidContentType, content_type_der));
  DerWriter digest_der;
  digest_der.OctetString(digest);
  attrs.push_back(CmsAttributeDer(kOidMessageDigest, std::move(digest_der).Finish()));
  attrs.push_back(CmsAttributeDer(kOidSigningCertificateV2, signing_cert_v2_der));
  if (signing_time) {
    DerWriter time_der;
    time_der.UtcOrGeneralizedTime(*signing_time);  // RFC 5652 11.3: UTCTime until 2049
    attrs.push_back(CmsAttributeDer(kOidSigningTime, std::move(time_der).Finish()));
  }
  // RFC 5652 5.4: the signature covers the DER of the attributes with the SET OF tag.
  DerWriter w;
  WriteSetOf(w, 0x31, std::move(attrs));
  return std::move(w).Finish();
}

std::size_t TotalLen(std::span<const Bytes> parts) {
  std::size_t len = 0;
  for (const Bytes& p : parts) len += p.size();
  return len;
}

Status CheckUnsignedAttribute(ByteSpan der) {
  if (der.empty() || der.size() > kMaxCmsUnsignedAttributeLen) {
    return InvalidArgumentError("unsigned attribute empty or larger than 1 MiB");
  }
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509_ATTRIBUTE> attr(
      d2i_X509_ATTRIBUTE(nullptr, &p, static_cast<long>(der.size())));
  if (!attr || p != der.data() + der.size()) {
    return ossl::Error(Code::kInvalidArgument, "malformed unsigned attribute");
  }
  if (X509_ATTRIBUTE_count(attr.get()) < 1) {
    return InvalidArgumentError("unsigned attribute without a value");
  }
  // RFC 5652 11.1-11.3: these may only be signed attributes.
  const int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attr.get()));
  if (nid == NID_pkcs9_contentType || nid == NID_pkcs9_messageDigest ||
      nid == NID_pkcs9_signingTime) {
    return InvalidArgumentError(std::string(OBJ_nid2sn(nid)) + " must be a signed attribute");
  }
  return OkStatus();
}

}  // namespace

Bytes CmsAttributeDer(ByteSpan type_oid_body, ByteSpan value_der) {
  DerWriter w(type_oid_body.size() + value_der.size() + 16);
  w.Sequence([&](DerWriter& attr) {
    attr.Oid(type_oid_body);
    attr.Set([&](DerWriter& values) { values.Raw(value_der); });
  });
  return std::move(w).Finish();
}

Result<PreparedCms> PreparedCms::Prepare(const CmsSignOptions& o, SignatureAlgorithm alg) {
  if (o.signer_cert == nullptr) {
    return InvalidArgumentError("CMS signature needs a signer certificate");
  }
  PreparedCms p;
  p.alg_ = alg;
  EVP_PKEY* key = X509_get0_pubkey(o.signer_cert);
  if (key == nullptr) {
    return ossl::Error(Code::kInvalidArgument, "signer certificate key unreadable");
  }
  EVP_PKEY_up_ref(key);
  p.signer_key_.reset(key);
  KYSO_RETURN_IF_ERROR(CheckKeyFitsAlgorithm(key, alg));

  KYSO_ASSIGN_OR_RETURN(Bytes content_type_der, ContentTypeDer(o.content_type_oid_body));
  // RFC 5652 5.1: version 3 when eContentType is other than id-data.
  const bool id_data =
      o.content_type_oid_body.empty() || std::ranges::equal(o.content_type_oid_body, kOidIdData);
  p.version_ = id_data ? 1 : 3;
  const EVP_MD* md = DigestOf(alg);
  KYSO_ASSIGN_OR_RETURN(Bytes digest, MessageDigest(o, md));
  p.digest_alg_der_ = DigestAlgorithmDer(md);
  p.encap_content_der_ = EncapsulatedContentInfoDer(content_type_der, o);
  KYSO_ASSIGN_OR_RETURN(p.certificates_der_, CertificateSetDer(o));
  if (!o.include_certificates) p.certificates_der_.clear();

  const Bytes issuer_der = NameDer(X509_get_issuer_name(o.signer_cert));
  const Bytes serial_der = ossl::ToDer(i2d_ASN1_INTEGER, X509_get0_serialNumber(o.signer_cert));
  if (issuer_der.empty() || serial_der.empty()) return ossl::Error("encode signer identifier");
  DerWriter sid;
  sid.Sequence([&](DerWriter& s) {  // IssuerAndSerialNumber
    s.Raw(issuer_der);
    s.Raw(serial_der);
  });
  p.signer_id_der_ = std::move(sid).Finish();
  KYSO_ASSIGN_OR_RETURN(Bytes scv2, SigningCertificateV2Der(o.signer_cert, issuer_der, serial_der));
  p.signed_attrs_der_ = SignedAttributesSetDer(content_type_der, digest, scv2, o.signing_time);
  return p;
}

Status PreparedCms::AddValidationData(std::span<const Bytes> certificates_der,
                                     std::span<const Bytes> crls_der,
                                     std::span<const Bytes> ocsp_responses_der) {
  auto check = [](const Bytes& der, const char* what) -> Status {
    if (der.size() > kMaxCmsUnsignedAttributeLen || !IsDerSequence(der)) {
      return InvalidArgumentError(std::string(what) + " is not one DER SEQUENCE of at most 1 MiB");
    }
    return OkStatus();
  };
  for (const Bytes& c : certificates_der) {
    KYSO_RETURN_IF_ERROR(check(c, "certificate"));
    if (std::find(certificates_der_.begin(), certificates_der_.end(), c) == certificates_der_.end()) {
      certificates_der_.push_back(c);
    }
  }
  if (certificates_der_.size() > kMaxCmsCertificates) {
    return InvalidArgumentError("more than " + std::to_string(kMaxCmsCertificates) +
                                " certificates for one CMS signature");
  }
  for (const Bytes& crl : crls_der) {
    KYSO_RETURN_IF_ERROR(check(crl, "CRL"));
    if (std::find(revocation_der_.begin(), revocation_der_.end(), crl) == revocation_der_.end()) {
      revocation_der_.push_back(crl);
    }
  }
  // RFC 5940 3: OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse }, as [1].
  static constexpr uint8_t kOidRiOcspResponse[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02};
  for (const Bytes& ocsp : ocsp_responses_der) {
    KYSO_RETURN_IF_ERROR(check(ocsp, "OCSP response"));
    DerWriter w(ocsp.size() + 16);
    w.Constructed(0xa1, [&](DerWriter& other) {
      other.Oid(kOidRiOcspResponse);
      other.Raw(ocsp);
    });
    Bytes der = std::move(w).Finish();
    if (std::find(revocation_der_.begin(), revocation_der_.end(), der) == revocation_der_.end()) {
      revocation_der_.push_back(std::move(der));
      other_revocation_ = true;
    }
  }
  if (revocation_der_.size() > 16) return InvalidArgumentError("more than 16 revocation items");
  return OkStatus();
}

Result<Bytes> PreparedCms::Finish(ByteSpan signature,
                                  std::span<const Bytes> unsigned_attributes_der) && {
  if (signature.empty() || signature.size() > kMaxCmsSignatureLen) {
    return InvalidArgumentError("CMS signature value empty or longer than 1024 octets");
  }
  KYSO_RETURN_IF_ERROR(VerifySignature(signer_key_.get(), alg_, signed_attrs_der_, signature),
                       "CMS signature");
  if (unsigned_attributes_der.size() > kMaxCmsUnsignedAttributes) {
    return InvalidArgumentError("more than " + std::to_string(kMaxCmsUnsignedAttributes) +
                                " unsigned attributes");
  }
  for (const Bytes& attr : unsigned_attributes_der) {
    KYSO_RETURN_IF_ERROR(CheckUnsignedAttribute(attr));
  }
  DerWriter w(encap_content_der_.size() + TotalLen(certificates_der_) + TotalLen(revocation_der_) +
              signed_attrs_der_.size() +
              signature.size() + TotalLen(unsigned_attributes_der) + 1024);
  w.Sequence([&](DerWriter& content_info) {
    content_info.Oid(kOidSignedData);
    content_info.Explicit(0, [&](DerWriter& e) {
      e.Sequence([&](DerWriter& sd) {  // SignedData
        sd.Integer(other_revocation_ ? 5 : version_);
        sd.Set([&](DerWriter& algs) { algs.Raw(digest_alg_der_); });
        sd.Raw(encap_content_der_);
        if (!certificates_der_.empty()) {
          WriteSetOf(sd, 0xa0, std::move(certificates_der_));  // certificates [0] IMPLICIT
        }
        if (!revocation_der_.empty()) {
          WriteSetOf(sd, 0xa1, std::move(revocation_der_));  // crls [1] IMPLICIT
        }
        sd.Set([&](DerWriter& infos) {
          infos.Sequence([&](DerWriter& si) {  // SignerInfo
            si.Integer(1);                     // version 1: sid is issuerAndSerialNumber
            si.Raw(signer_id_der_);
            si.Raw(digest_alg_der_);
            // signedAttrs [0] IMPLICIT: the signed SET with its tag replaced.
            static constexpr uint8_t kSignedAttrsTag = 0xa0;
            si.Raw(ByteSpan(&kSignedAttrsTag, 1));
            si.Raw(ByteSpan(signed_attrs_der_).subspan(1));
            si.Raw(SignerInfoAlgorithmDer(alg_));
            si.OctetString(signature);
            if (!unsigned_attributes_der.empty()) {
              WriteSetOf(si, 0xa1,
                         std::vector<Bytes>(unsigned_attributes_der.begin(),
                                            unsigned_attributes_der.end()));
            }
          });
        });
      });
    });
  });
  return std::move(w).Finish();
}

Result<Bytes> SignCms(const CmsSignOptions& options, Signer& signer) {
  if (options.signer_cert == nullptr) {
    return InvalidArgumentError("CMS signature needs a signer certificate");
  }
  const EVP_PKEY* cert_key = X509_get0_pubkey(options.signer_cert);
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, signer.public_key()) != 1) {
    return InvalidArgumentError("signer certificate is not for the signing key");
  }
  KYSO_ASSIGN_OR_RETURN(PreparedCms prepared, PreparedCms::Prepare(options, signer.algorithm()));
  KYSO_ASSIGN_OR_RETURN(Bytes signature, signer.Sign(prepared.SignedAttributesDer()), "sign CMS");
  return std::move(prepared).Finish(signature);
}

}  // namespace kyso::pkix
