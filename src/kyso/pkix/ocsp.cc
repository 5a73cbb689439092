#include "kyso/pkix/ocsp.h"

#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {

namespace {
constexpr uint8_t kOidNonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};
constexpr uint8_t kOidBasic[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};

Bytes ToBytes(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  const unsigned char* d = ASN1_STRING_get0_data(s);
  return Bytes(d, d + ASN1_STRING_length(s));
}

Result<std::optional<Bytes>> ReadNonce(OCSP_REQUEST* req) {
  const int idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
  if (idx < 0) return std::optional<Bytes>();
  X509_EXTENSION* ext = OCSP_REQUEST_get_ext(req, idx);
  Bytes value = ToBytes(X509_EXTENSION_get_data(ext));
  // The extnValue holds an OCTET STRING with the nonce (RFC 8954 2.1); check its length.
  const unsigned char* p = value.data();
  ossl::UniquePtr<ASN1_OCTET_STRING> inner(
      d2i_ASN1_OCTET_STRING(nullptr, &p, static_cast<long>(value.size())));
  if (!inner || p != value.data() + value.size()) {
    return InvalidArgumentError("OCSP nonce is not an OCTET STRING");
  }
  const int len = ASN1_STRING_length(inner.get());
  if (len < 1 || static_cast<std::size_t>(len) > kMaxOcspNonceLen) {
    return InvalidArgumentError("OCSP nonce must be 1 to 32 octets (RFC 8954)");
  }
  return std::optional<Bytes>(std::move(value));
}

}  // namespace

Result<OcspRequest> ParseOcspRequest(ByteSpan der) {
  if (der.empty() || der.size() > kMaxOcspRequestLen) {
    return InvalidArgumentError("OCSP request empty or larger than 16 KiB");
  }
  const unsigned char* p = der.data();
  ossl::UniquePtr<OCSP_REQUEST> req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!req || p != der.data() + der.size()) {
    return ossl::Error(Code::kInvalidArgument, "malformed OCSP request");
  }
  const int count = OCSP_request_onereq_count(req.get());
  if (count <= 0 || static_cast<std::size_t>(count) > kMaxOcspSingleRequests) {
    return InvalidArgumentError("OCSP request must ask about 1 to 16 certificates");
  }
  OcspRequest out;
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), i));
    ASN1_OCTET_STRING* name_hash = nullptr;
    ASN1_OBJECT* md = nullptr;
    ASN1_OCTET_STRING* key_hash = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (OCSP_id_get0_info(&name_hash, &md, &key_hash, &serial, id) != 1) {
      return InvalidArgumentError("malformed OCSP CertID");
    }
    OcspCertId cid;
    cid.der = ossl::ToDer(i2d_OCSP_CERTID, static_cast<const OCSP_CERTID*>(id));
    if (cid.der.empty()) return ossl::Error("encode CertID");
    cid.hash_nid = OBJ_obj2nid(md);
    cid.issuer_name_hash = ToBytes(name_hash);
    cid.issuer_key_hash = ToBytes(key_hash);
    if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
      return InvalidArgumentError("OCSP CertID has a negative serial");
    }
    cid.serial = ToBytes(serial);
    out.ids.push_back(std::move(cid));
  }
  KYSO_ASSIGN_OR_RETURN(out.nonce, ReadNonce(req.get()));
  return out;
}

Bytes EncodeOcspResponseData(ByteSpan responder_key_hash, Time produced_at,
                             std::span<const OcspSingle> singles,
                             const std::optional<Bytes>& nonce) {
  DerWriter w(256 + singles.size() * 128);
  w.Sequence([&](DerWriter& rd) {
    rd.Explicit(2, [&](DerWriter& id) { id.OctetString(responder_key_hash); });  // byKey
    rd.GeneralizedTime(produced_at);
    rd.Sequence([&](DerWriter& list) {
      for (const OcspSingle& s : singles) {
        list.Sequence([&](DerWriter& sr) {
          sr.Raw(s.id->der);
          switch (s.status) {
            case CertStatus::kGood:
              sr.Primitive(0x80, {});  // good [0] IMPLICIT NULL
              break;
            case CertStatus::kRevoked:
              sr.Constructed(0xa1, [&](DerWriter& ri) {  // revoked [1] IMPLICIT RevokedInfo
                ri.GeneralizedTime(s.revoked_at);
                if (s.reason != CrlReason::kUnspecified) {
                  ri.Explicit(0, [&](DerWriter& r) { r.Enumerated(static_cast<int>(s.reason)); });
                }
              });
              break;
            case CertStatus::kUnknown:
              sr.Primitive(0x82, {});  // unknown [2] IMPLICIT UnknownInfo (NULL)
              break;
          }
          sr.GeneralizedTime(s.this_update);
          sr.Explicit(0, [&](DerWriter& nu) { nu.GeneralizedTime(s.next_update); });
        });
      }
    });
    if (nonce) {
      rd.Explicit(1, [&](DerWriter& wrap) {
        wrap.Sequence([&](DerWriter& exts) {
          exts.Sequence([&](DerWriter& ext) {
            ext.Oid(kOidNonce);
            ext.OctetString(*nonce);
          });
        });
      });
    }
  });
  return std::move(w).Finish();
}

Bytes EncodeOcspResponse(ByteSpan response_data, SignatureAlgorithm alg, ByteSpan signature,
                         ByteSpan responder_cert_der) {
  DerWriter w(response_data.size() + signature.size() + responder_cert_der.size() + 64);
  w.Sequence([&](DerWriter& resp) {
    resp.Enumerated(static_cast<int>(OcspResponseStatus::kSuccessful));
    resp.Explicit(0, [&](DerWriter& wrap) {
      wrap.Sequence([&](DerWriter& rb) {
        rb.Oid(kOidBasic);
        rb.OctetStringWrapping([&](DerWriter& os) {
          os.Sequence([&](DerWriter& basic) {
            basic.Raw(response_data);
            basic.Raw(AlgorithmIdentifierDer(alg));
            basic.BitString(signature);
            basic.Explicit(0, [&](DerWriter& certs) {
              certs.Sequence([&](DerWriter& seq) { seq.Raw(responder_cert_der); });
            });
          });
        });
      });
    });
  });
  return std::move(w).Finish();
}

Bytes EncodeOcspError(OcspResponseStatus status) {
  DerWriter w;
  w.Sequence([&](DerWriter& resp) { resp.Enumerated(static_cast<int>(status)); });
  return std::move(w).Finish();
}

}  // namespace kyso::pkix
