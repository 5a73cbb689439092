#include "kyso/verify/signer_info.h"

#include <openssl/rsa.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace kyso::verify {
namespace {

// AttributeStack is a stack that borrows `si`'s signed attributes, for the ASN1_ITEM functions.
struct AttrStackFree {
  void operator()(STACK_OF(X509_ATTRIBUTE) * s) const { sk_X509_ATTRIBUTE_free(s); }
};
using AttributeStack = std::unique_ptr<STACK_OF(X509_ATTRIBUTE), AttrStackFree>;

AttributeStack SignedAttributes(CMS_SignerInfo* si) {
  const int n = CMS_signed_get_attr_count(si);
  if (n <= 0) return nullptr;
  AttributeStack attrs(sk_X509_ATTRIBUTE_new_null());
  for (int i = 0; attrs && i < n; ++i) {
    if (sk_X509_ATTRIBUTE_push(attrs.get(), CMS_signed_get_attr(si, i)) <= 0) return nullptr;
  }
  return attrs;
}

// Instances counts `si`'s signed attributes of type `nid`; `values` gets the value count of the
// last one.
int Instances(CMS_SignerInfo* si, const ASN1_OBJECT* type, int* values, int* last = nullptr) {
  int count = 0;
  for (int idx = CMS_signed_get_attr_by_OBJ(si, type, -1); idx >= 0;
       idx = CMS_signed_get_attr_by_OBJ(si, type, idx)) {
    ++count;
    *values = X509_ATTRIBUTE_count(CMS_signed_get_attr(si, idx));
    if (last != nullptr) *last = idx;
  }
  return count;
}

int Instances(CMS_SignerInfo* si, int nid, int* values) {
  return Instances(si, OBJ_nid2obj(nid), values);
}

// Der appends a definite-length DER TLV.
void Der(Bytes& out, uint8_t tag, ByteSpan content) {
  out.push_back(tag);
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
  } else {
    int len_bytes = 0;
    for (std::size_t m = n; m > 0; m >>= 8) ++len_bytes;
    out.push_back(static_cast<uint8_t>(0x80 | len_bytes));
    for (int i = len_bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  }
  out.insert(out.end(), content.begin(), content.end());
}

// HoldSignerInfo wraps one DER SignerInfo in a SignedData without content, so that OpenSSL,
// which does not export a SignerInfo parser, reads it.
ossl::UniquePtr<CMS_ContentInfo> HoldSignerInfo(ByteSpan signer_info) {
  static constexpr uint8_t kSignedDataOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                               0xf7, 0x0d, 0x01, 0x07, 0x02};
  static constexpr uint8_t kDataOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x07, 0x01};
  static constexpr uint8_t kVersion[] = {0x02, 0x01, 0x01};
  Bytes encap, infos, signed_data, explicit_content, content_info;
  Der(encap, 0x30, ByteSpan(kDataOid, sizeof kDataOid));
  Der(infos, 0x31, signer_info);
  Bytes body(kVersion, kVersion + sizeof kVersion);
  Der(body, 0x31, {});  // digestAlgorithms
  body.insert(body.end(), encap.begin(), encap.end());
  body.insert(body.end(), infos.begin(), infos.end());
  Der(signed_data, 0x30, body);
  Der(explicit_content, 0xa0, signed_data);
  Bytes ci(kSignedDataOid, kSignedDataOid + sizeof kSignedDataOid);
  ci.insert(ci.end(), explicit_content.begin(), explicit_content.end());
  Der(content_info, 0x30, ci);
  const unsigned char* p = content_info.data();
  ossl::UniquePtr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(content_info.size())));
  if (!cms || p != content_info.data() + content_info.size()) {
    ERR_clear_error();
    return nullptr;
  }
  return cms;
}

// Tlv is one definite-length DER element read from `in` at `pos`, which moves past it.
struct Tlv {
  uint8_t tag = 0;
  ByteSpan whole;
  ByteSpan content;
};

bool ReadTlv(ByteSpan in, std::size_t& pos, Tlv& out) {
  if (pos + 2 > in.size()) return false;
  const std::size_t start = pos;
  out.tag = in[pos++];
  std::size_t len = in[pos++];
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    if (n == 0 || n > 4 || pos + n > in.size()) return false;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[pos++];
  }
  if (len > in.size() - pos) return false;
  out.content = in.subspan(pos, len);
  pos += len;
  out.whole = in.subspan(start, pos - start);
  return true;
}

// ParseAlgorithm reads an AlgorithmIdentifier whose tag may be an IMPLICIT one.
ossl::UniquePtr<X509_ALGOR> ParseAlgorithm(const Tlv& t) {
  Bytes der(t.whole.begin(), t.whole.end());
  der[0] = 0x30;
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509_ALGOR> alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
  if (!alg || p != der.data() + der.size()) {
    ERR_clear_error();
    return nullptr;
  }
  return alg;
}

// SameAlgorithm compares two AlgorithmIdentifiers, absent parameters matching NULL ones.
bool SameAlgorithm(const X509_ALGOR* a, const X509_ALGOR* b) {
  if (OBJ_cmp(a->algorithm, b->algorithm) != 0) return false;
  const auto empty = [](const ASN1_TYPE* t) { return t == nullptr || t->type == V_ASN1_NULL; };
  if (empty(a->parameter) || empty(b->parameter)) return empty(a->parameter) && empty(b->parameter);
  return ASN1_TYPE_cmp(a->parameter, b->parameter) == 0;
}

// AlgorithmProtectionProblem checks the CMSAlgorithmProtection attribute (RFC 6211) of `si`,
// when present: its algorithms must be the SignerInfo's own.
std::string AlgorithmProtectionProblem(CMS_SignerInfo* si) {
  // id-aa-CMSAlgorithmProtection, which OpenSSL 3.0 has no name for.
  ossl::UniquePtr<ASN1_OBJECT> type(OBJ_txt2obj("1.2.840.113549.1.9.52", 1));
  if (!type) return {};
  int values = 0, idx = -1;
  const int count = Instances(si, type.get(), &values, &idx);
  if (count == 0) return {};
  if (count > 1 || values != 1) return "the CMSAlgorithmProtection attribute is not single-valued";
  const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0);
  if (t == nullptr || t->type != V_ASN1_SEQUENCE) {
    return "the CMSAlgorithmProtection attribute is malformed";
  }
  const ByteSpan value(t->value.sequence->data,
                       static_cast<std::size_t>(t->value.sequence->length));
  std::size_t pos = 0;
  Tlv seq, digest, signature;
  if (!ReadTlv(value, pos, seq) || seq.tag != 0x30 || pos != value.size()) {
    return "the CMSAlgorithmProtection attribute is malformed";
  }
  pos = 0;
  if (!ReadTlv(seq.content, pos, digest) || digest.tag != 0x30 ||
      !ReadTlv(seq.content, pos, signature) || signature.tag != 0xa1 || pos != seq.content.size()) {
    return "the CMSAlgorithmProtection attribute does not name a digest and a signature algorithm";
  }
  ossl::UniquePtr<X509_ALGOR> protected_digest = ParseAlgorithm(digest);
  ossl::UniquePtr<X509_ALGOR> protected_signature = ParseAlgorithm(signature);
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &sig_alg);
  if (!protected_digest || !protected_signature || digest_alg == nullptr || sig_alg == nullptr) {
    return "the CMSAlgorithmProtection attribute is malformed";
  }
  if (!SameAlgorithm(protected_digest.get(), digest_alg)) {
    return "CMSAlgorithmProtection names another digest algorithm";
  }
  if (!SameAlgorithm(protected_signature.get(), sig_alg)) {
    return "CMSAlgorithmProtection names another signature algorithm";
  }
  return {};
}

}  // namespace

Bytes SignedAttributesDer(CMS_SignerInfo* si) {
  AttributeStack attrs = SignedAttributes(si);
  if (!attrs) return {};
  unsigned char* out = nullptr;
  // PKCS7_ATTR_SIGN is SET OF Attribute, which OpenSSL sorts when it encodes it.
  const int len = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(attrs.get()), &out,
                                ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

std::string SignedAttributesProblem(CMS_SignerInfo* si, bool counter_signature) {
  if (CMS_signed_get_attr_count(si) <= 0) return {};
  struct Rule {
    int nid;
    const char* name;
  };
  for (const Rule& r : {Rule{NID_pkcs9_contentType, "content-type"},
                        Rule{NID_pkcs9_messageDigest, "message-digest"},
                        Rule{NID_pkcs9_signingTime, "signing-time"}}) {
    int values = 0;
    const int count = Instances(si, r.nid, &values);
    if (count > 1) {
      return std::string("the signed attributes hold the ") + r.name + " attribute " +
             std::to_string(count) + " times";
    }
    if (count == 1 && values != 1) {
      return std::string("the ") + r.name + " attribute has " + std::to_string(values) +
             " values, not one";
    }
  }
  int values = 0;
  if (Instances(si, NID_pkcs9_messageDigest, &values) == 0) {
    return "the signed attributes lack message-digest";
  }
  const bool content_type = Instances(si, NID_pkcs9_contentType, &values) > 0;
  if (counter_signature && content_type) {
    return "a countersignature's signed attributes hold content-type";
  }
  if (!counter_signature && !content_type) return "the signed attributes lack content-type";
  if (Instances(si, NID_pkcs9_countersignature, &values) > 0) {
    return "a countersignature is among the signed attributes";
  }
  return AlgorithmProtectionProblem(si);
}

Status VerifySignerInfoSignature(CMS_SignerInfo* si, EVP_PKEY* key) {
  AttributeStack attrs = SignedAttributes(si);
  if (!attrs) return InvalidArgumentError("the SignerInfo has no signed attributes");
  if (key == nullptr) return InvalidArgumentError("no public key");
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &sig_alg);
  if (digest_alg == nullptr || sig_alg == nullptr) {
    return InvalidArgumentError("the SignerInfo lacks its algorithms");
  }
  // A signatureAlgorithm that names only the key type takes its hash from digestAlgorithm.
  const X509_ALGOR* alg = sig_alg;
  ossl::UniquePtr<X509_ALGOR> combined;
  int md = NID_undef, pk = NID_undef;
  if (OBJ_find_sigid_algs(OBJ_obj2nid(sig_alg->algorithm), &md, &pk) != 1) {
    // Only a key type's own OID, and that of the signer's key: not a curve's OID, say (DSS
    // sample pades-unsupported-signature-algorithm.pdf names prime256v1).
    const int key_type = EVP_PKEY_get_base_id(key);
    const int named = OBJ_obj2nid(sig_alg->algorithm);
    const bool bare = (named == NID_rsaEncryption && key_type == EVP_PKEY_RSA) ||
                      (named == NID_X9_62_id_ecPublicKey && key_type == EVP_PKEY_EC) ||
                      (named == NID_dsa && key_type == EVP_PKEY_DSA);
    int sig_nid = NID_undef;
    if (!bare ||
        OBJ_find_sigid_by_algs(&sig_nid, OBJ_obj2nid(digest_alg->algorithm), key_type) != 1) {
      return InvalidArgumentError("unknown signature algorithm");
    }
    combined.reset(X509_ALGOR_new());
    if (!combined ||
        X509_ALGOR_set0(combined.get(), OBJ_nid2obj(sig_nid),
                        key_type == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr) != 1) {
      return InternalError("X509_ALGOR_set0");
    }
    alg = combined.get();
  }
  const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
  ossl::UniquePtr<ASN1_STRING> bits(ASN1_STRING_type_new(V_ASN1_BIT_STRING));
  if (!bits || value == nullptr ||
      ASN1_STRING_set(bits.get(), ASN1_STRING_get0_data(value), ASN1_STRING_length(value)) != 1) {
    return InternalError("signature value");
  }
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  ERR_clear_error();
  if (ASN1_item_verify(ASN1_ITEM_rptr(PKCS7_ATTR_SIGN), alg, bits.get(), attrs.get(), key) != 1) {
    const std::string why = ossl::LastErrorText();
    return InvalidArgumentError("the signature over the signed attributes does not verify" +
                                (why.empty() ? "" : ": " + why));
  }
  return OkStatus();
}

std::vector<int> SignatureHashNids(CMS_SignerInfo* si) {
  std::vector<int> out;
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &sig_alg);
  out.push_back(digest_alg != nullptr ? OBJ_obj2nid(digest_alg->algorithm) : NID_undef);
  if (sig_alg == nullptr) return out;
  int md = NID_undef, pk = NID_undef;
  if (OBJ_find_sigid_algs(OBJ_obj2nid(sig_alg->algorithm), &md, &pk) == 1 && md != NID_undef) out.push_back(md);
  if (OBJ_obj2nid(sig_alg->algorithm) == NID_rsassaPss) {
    // RFC 4055: absent parameters mean SHA-1 for the hash and for MGF1.
    int param_type = V_ASN1_UNDEF;
    const void* param = nullptr;
    X509_ALGOR_get0(nullptr, &param_type, &param, sig_alg);
    RSA_PSS_PARAMS* pss = param_type == V_ASN1_SEQUENCE
                              ? static_cast<RSA_PSS_PARAMS*>(ASN1_TYPE_unpack_sequence(
                                    ASN1_ITEM_rptr(RSA_PSS_PARAMS), sig_alg->parameter))
                              : nullptr;
    out.push_back(pss == nullptr || pss->hashAlgorithm == nullptr ? NID_sha1 : OBJ_obj2nid(pss->hashAlgorithm->algorithm));
    // The MGF1 hash is maskGenAlgorithm's parameter (OpenSSL does not decode it into maskHash).
    int mgf1 = NID_sha1;
    if (pss != nullptr && pss->maskGenAlgorithm != nullptr) {
      mgf1 = NID_undef;
      if (OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 && pss->maskGenAlgorithm->parameter != nullptr &&
          pss->maskGenAlgorithm->parameter->type == V_ASN1_SEQUENCE) {
        if (X509_ALGOR* hash = static_cast<X509_ALGOR*>(ASN1_TYPE_unpack_sequence(
                ASN1_ITEM_rptr(X509_ALGOR), pss->maskGenAlgorithm->parameter))) {
          mgf1 = OBJ_obj2nid(hash->algorithm);
          X509_ALGOR_free(hash);
        }
      }
    }
    out.push_back(mgf1);
    RSA_PSS_PARAMS_free(pss);
    ERR_clear_error();
  }
  return out;
}

std::vector<CounterSignature> CounterSignatures(CMS_SignerInfo* si) {
  std::vector<CounterSignature> out;
  for (int idx = CMS_unsigned_get_attr_by_NID(si, NID_pkcs9_countersignature, -1); idx >= 0;
       idx = CMS_unsigned_get_attr_by_NID(si, NID_pkcs9_countersignature, idx)) {
    X509_ATTRIBUTE* attr = CMS_unsigned_get_attr(si, idx);
    for (int v = 0; v < X509_ATTRIBUTE_count(attr) && out.size() < 16; ++v) {
      const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(attr, v);
      ossl::UniquePtr<CMS_ContentInfo> holder;
      if (t != nullptr && t->type == V_ASN1_SEQUENCE) {
        // An ANY that is a SEQUENCE holds its whole encoding, header included.
        holder = HoldSignerInfo(
            ByteSpan(t->value.sequence->data, static_cast<std::size_t>(t->value.sequence->length)));
      }
      STACK_OF(CMS_SignerInfo)* infos = holder ? CMS_get0_SignerInfos(holder.get()) : nullptr;
      if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) continue;
      CMS_SignerInfo* counter = sk_CMS_SignerInfo_value(infos, 0);
      out.push_back({std::move(holder), counter});
    }
  }
  return out;
}

Status VerifyCounterSignatureDigest(CMS_SignerInfo* counter, ByteSpan countersigned_value) {
  const int idx = CMS_signed_get_attr_by_NID(counter, NID_pkcs9_messageDigest, -1);
  const ASN1_TYPE* t =
      idx >= 0 ? X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(counter, idx), 0) : nullptr;
  if (t == nullptr || t->type != V_ASN1_OCTET_STRING) {
    return InvalidArgumentError("the countersignature has no message-digest");
  }
  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(counter, nullptr, nullptr, &digest_alg, nullptr);
  const EVP_MD* md = digest_alg != nullptr ? EVP_get_digestbyobj(digest_alg->algorithm) : nullptr;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(countersigned_value.data(), countersigned_value.size(), digest,
                                  &len, md, nullptr) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the countersignature's digest algorithm is unknown");
  }
  const ASN1_OCTET_STRING* want = t->value.octet_string;
  if (static_cast<unsigned int>(ASN1_STRING_length(want)) != len ||
      !std::equal(digest, digest + len, ASN1_STRING_get0_data(want))) {
    return InvalidArgumentError(
        "the countersignature's message-digest is not the digest of the signature it countersigns");
  }
  return OkStatus();
}

}  // namespace kyso::verify
