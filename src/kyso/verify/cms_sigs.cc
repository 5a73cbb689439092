#include "kyso/verify/cms_sigs.h"

#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>

#include "kyso/verify/algorithms.h"
#include "kyso/verify/signer_info.h"

namespace kyso::verify {
namespace {

struct X509StackFree {
  void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); }
};
struct CrlStackFree {
  void operator()(STACK_OF(X509_CRL)* s) const { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};

std::optional<Time> SigningTime(CMS_SignerInfo* si) {
  const int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (idx < 0) return std::nullopt;
  const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0);
  if (t == nullptr) return std::nullopt;
  std::tm tm{};
  const ASN1_TIME* time = t->type == V_ASN1_UTCTIME ? t->value.utctime
                          : t->type == V_ASN1_GENERALIZEDTIME ? t->value.generalizedtime
                                                               : nullptr;
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return Time(std::chrono::seconds(timegm(&tm)));
}

std::vector<Bytes> TimestampTokens(CMS_SignerInfo* si) {
  std::vector<Bytes> out;
  for (int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1); idx >= 0;
       idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, idx)) {
    X509_ATTRIBUTE* attr = CMS_unsigned_get_attr(si, idx);
    for (int v = 0; v < X509_ATTRIBUTE_count(attr); ++v) {
      const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(attr, v);
      if (t != nullptr && t->type == V_ASN1_SEQUENCE) {
        out.emplace_back(t->value.sequence->data, t->value.sequence->data + t->value.sequence->length);
      }
    }
  }
  return out;
}

// InheritDsaParameters returns a copy of `cert` whose DSA key, which lacks its parameters, has
// them from the nearest issuer among `pool` that has them (RFC 5280 6.1.4 (f); PKITS 4.1.5).
// The copy's own signature no longer verifies: it serves only to check what `cert`'s key signed.
ossl::UniquePtr<X509> InheritDsaParameters(const X509* cert, const std::vector<ossl::UniquePtr<X509>>& pool) {
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  const ASN1_OBJECT* alg = nullptr;
  const unsigned char* y_der = nullptr;
  int y_len = 0;
  if (spki == nullptr || X509_PUBKEY_get0_param(const_cast<ASN1_OBJECT**>(&alg), &y_der, &y_len, nullptr,
                                                const_cast<X509_PUBKEY*>(spki)) != 1 ||
      OBJ_obj2nid(alg) != NID_dsa || X509_get0_pubkey(cert) != nullptr) {
    ERR_clear_error();
    return nullptr;  // not a DSA key that OpenSSL could not read for lack of parameters
  }
  const X509* at = cert;
  for (int depth = 0; depth < 16; ++depth) {
    const X509* issuer = nullptr;
    for (const auto& c : pool) {
      if (c.get() != at && X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(at)) == 0) {
        issuer = c.get();
        break;
      }
    }
    if (issuer == nullptr) return nullptr;
    EVP_PKEY* issuer_key = X509_get0_pubkey(issuer);
    if (issuer_key != nullptr && EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_DSA) {
      // y is the DER INTEGER in the subjectPublicKey; p, q, g come from the issuer.
      const unsigned char* p = y_der;
      ossl::UniquePtr<ASN1_STRING> y_int(d2i_ASN1_INTEGER(nullptr, &p, y_len));
      ossl::UniquePtr<BIGNUM> y(y_int ? ASN1_INTEGER_to_BN(y_int.get(), nullptr) : nullptr);
      BIGNUM *bp = nullptr, *bq = nullptr, *bg = nullptr;
      EVP_PKEY_get_bn_param(issuer_key, OSSL_PKEY_PARAM_FFC_P, &bp);
      EVP_PKEY_get_bn_param(issuer_key, OSSL_PKEY_PARAM_FFC_Q, &bq);
      EVP_PKEY_get_bn_param(issuer_key, OSSL_PKEY_PARAM_FFC_G, &bg);
      ossl::UniquePtr<BIGNUM> pp(bp), pq(bq), pg(bg);
      if (!y || !pp || !pq || !pg) {
        ERR_clear_error();
        return nullptr;
      }
      OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, pp.get());
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_Q, pq.get());
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, pg.get());
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y.get());
      OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
      OSSL_PARAM_BLD_free(bld);
      ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
      EVP_PKEY* full = nullptr;
      const bool made = ctx && params && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
                        EVP_PKEY_fromdata(ctx.get(), &full, EVP_PKEY_PUBLIC_KEY, params) == 1;
      OSSL_PARAM_free(params);
      ossl::UniquePtr<EVP_PKEY> key(full);
      ossl::UniquePtr<X509> copy(X509_dup(cert));
      if (!made || !copy || X509_set_pubkey(copy.get(), key.get()) != 1) {
        ERR_clear_error();
        return nullptr;
      }
      return copy;
    }
    at = issuer;
  }
  return nullptr;
}

// CheckSignedAttributes fills `s` for SignerInfo `si` that has signed attributes: their RFC 5652
// rules and the signature over their DER encoding, as EU DSS checks them (signer_info.h).
void CheckSignedAttributes(CMS_SignerInfo* si, X509* signer, bool counter_signature,
                           const std::vector<ossl::UniquePtr<X509>>& pool, CmsSignature& s) {
  ossl::UniquePtr<X509> inherited = InheritDsaParameters(signer, pool);
  if (std::string bad = SignedAttributesProblem(si, counter_signature); !bad.empty()) {
    s.problem = "signed attributes: " + bad;
  } else if (Status v = VerifySignerInfoSignature(
                 si, X509_get0_pubkey(inherited ? inherited.get() : signer));
             !v.ok()) {
    s.problem = "signature: " + v.message();
  } else {
    s.signature_ok = true;
  }
  ERR_clear_error();
}

// AddCounterSignatures appends the countersignatures of `si` (RFC 5652 11.4), and theirs, to
// `out`: each one's messageDigest is checked against `si`'s signature value, its signature like
// a SignerInfo's. A countersignature without signed attributes is not listed (not supported).
void AddCounterSignatures(CMS_SignerInfo* si, const std::vector<ossl::UniquePtr<X509>>& pool,
                          std::vector<CmsSignature>& out, int depth) {
  if (depth > 4 || out.size() >= 64) return;
  const ASN1_OCTET_STRING* parent_value = CMS_SignerInfo_get0_signature(si);
  const ByteSpan countersigned(ASN1_STRING_get0_data(parent_value),
                               static_cast<std::size_t>(ASN1_STRING_length(parent_value)));
  for (CounterSignature& c : CounterSignatures(si)) {
    if (CMS_signed_get_attr_count(c.signer_info) <= 0) continue;
    CmsSignature s;
    s.counter_signature = true;
    for (const auto& cert : pool) {
      if (CMS_SignerInfo_cert_cmp(c.signer_info, cert.get()) == 0) {
        X509_up_ref(cert.get());
        s.signer_cert.reset(cert.get());
        break;
      }
    }
    const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(c.signer_info);
    s.signature_value.assign(ASN1_STRING_get0_data(value),
                             ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
    s.signing_time = SigningTime(c.signer_info);
    s.timestamp_tokens = TimestampTokens(c.signer_info);
    X509_ALGOR* digest_alg = nullptr;
    X509_ALGOR* sig_alg = nullptr;
    CMS_SignerInfo_get0_algs(c.signer_info, nullptr, nullptr, &digest_alg, &sig_alg);
    s.digest_nid = WeakestDigest(SignatureHashNids(c.signer_info));
    if (!s.signer_cert) {
      s.problem = "the countersigner's certificate is not in the message";
    } else if (DigestAlgorithmsDisagree(digest_alg, sig_alg)) {
      s.hash_ok = true;
      s.problem = "the signature algorithm's hash is not the SignerInfo's digest algorithm";
    } else {
      CheckSignedAttributes(c.signer_info, s.signer_cert.get(), true, pool, s);
      const Status digest = VerifyCounterSignatureDigest(c.signer_info, countersigned);
      s.hash_ok = digest.ok();
      if (!s.hash_ok && s.problem.empty()) s.problem = digest.message();
    }
    out.push_back(std::move(s));
    AddCounterSignatures(c.signer_info, pool, out, depth + 1);
  }
  ERR_clear_error();
}

// Check verifies every SignerInfo of `cms` over `content` (null: the encapsulated content).
Result<CmsMessage> Check(CMS_ContentInfo* cms, BIO* content) {
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
    return InvalidArgumentError("tệp không phải chữ ký CMS (SignedData)");
  }
  CmsMessage msg;
  msg.detached = CMS_is_detached(cms) == 1;
  if (msg.detached && content == nullptr) {
    return InvalidArgumentError("chữ ký tách rời: cần tệp dữ liệu đã ký (--content FILE)");
  }
  std::unique_ptr<STACK_OF(X509), X509StackFree> certs(CMS_get1_certs(cms));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    X509* c = sk_X509_value(certs.get(), i);
    X509_up_ref(c);
    msg.certificates.emplace_back(c);
  }
  std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree> crls(CMS_get1_crls(cms));
  for (int i = 0; crls && i < sk_X509_CRL_num(crls.get()); ++i) {
    msg.crls.push_back(ossl::ToDer(i2d_X509_CRL, sk_X509_CRL_value(crls.get(), i)));
  }
  // Match each SignerInfo with its certificate (issuerAndSerialNumber or subjectKeyIdentifier).
  CMS_set1_signers_certs(cms, nullptr, 0);
  ERR_clear_error();
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
  if (infos == nullptr || sk_CMS_SignerInfo_num(infos) == 0) {
    return InvalidArgumentError("chữ ký CMS không có người ký nào (SignerInfo)");
  }
  // Read the content once through the digest BIOs CMS_dataInit sets up for every signer.
  // The digest BIOs are pushed on `content`, which stays the caller's: freed up to it (as
  // CMS_verify does), never past it.
  auto free_upto = [content](BIO* b) {
    while (b != nullptr && b != content) {
      BIO* next = BIO_pop(b);
      BIO_free(b);
      b = next;
    }
  };
  std::unique_ptr<BIO, decltype(free_upto)> chain(CMS_dataInit(cms, content), free_upto);
  if (!chain) return InvalidArgumentError("không đọc được nội dung đã ký: " + ossl::LastErrorText());
  char buf[16384];
  while (BIO_read(chain.get(), buf, sizeof buf) > 0) {
  }
  for (int i = 0; i < sk_CMS_SignerInfo_num(infos) && i < 64; ++i) {
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, i);
    CmsSignature s;
    X509* signer = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, &signer, nullptr, nullptr);
    if (signer != nullptr) {
      X509_up_ref(signer);
      s.signer_cert.reset(signer);
    }
    const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
    s.signature_value.assign(ASN1_STRING_get0_data(value), ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
    s.signing_time = SigningTime(si);
    s.timestamp_tokens = TimestampTokens(si);
    X509_ALGOR* digest_alg = nullptr;
    X509_ALGOR* sig_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &sig_alg);
    s.digest_nid = WeakestDigest(SignatureHashNids(si));
    const bool mismatch = DigestAlgorithmsDisagree(digest_alg, sig_alg);
    if (signer == nullptr) {
      s.problem = "the signer's certificate is not in the message";
    } else if (mismatch) {
      s.hash_ok = true;
      s.problem = "the signature algorithm's hash is not the SignerInfo's digest algorithm";
    } else if (CMS_signed_get_attr_count(si) >= 0) {
      // Over the DER signed attributes, as RFC 5652 5.4 and EU DSS: not CMS_SignerInfo_verify,
      // which hashes them in the order received (signer_info.h).
      CheckSignedAttributes(si, signer, false, msg.certificates, s);
      s.hash_ok = CMS_SignerInfo_verify_content(si, chain.get()) == 1;
      if (!s.hash_ok && s.problem.empty()) s.problem = "message digest: " + ossl::LastErrorText();
    } else {
      // No signed attributes: the signature is over the content's digest directly.
      s.hash_ok = s.signature_ok = CMS_SignerInfo_verify_content(si, chain.get()) == 1;
      if (!s.hash_ok) s.problem = "signature over the content: " + ossl::LastErrorText();
    }
    msg.signatures.push_back(std::move(s));
    AddCounterSignatures(si, msg.certificates, msg.signatures, 0);
  }
  ERR_clear_error();
  return msg;
}

}  // namespace

Result<CmsMessage> ReadCms(ByteSpan input, std::optional<ByteSpan> detached_content) {
  if (input.empty() || input.size() > kMaxCmsInputLen) {
    return InvalidArgumentError("tệp chữ ký rỗng hoặc lớn hơn 256 MiB");
  }
  ossl::UniquePtr<CMS_ContentInfo> cms;
  const std::string_view text = AsString(input);
  Bytes der;
  if (text.substr(0, 64).find("-----BEGIN") != std::string_view::npos) {
    // PEM ("CMS" or "PKCS7"): the base64 body is the DER ContentInfo.
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1) der.assign(data, data + len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    input = der;
  }
  const unsigned char* p = input.data();
  cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(input.size())));
  if (!cms) {
    ERR_clear_error();
    return InvalidArgumentError("tệp không phải chữ ký CMS (.p7s, .p7m)");
  }
  ossl::UniquePtr<BIO> content;
  if (detached_content) {
    content.reset(BIO_new_mem_buf(detached_content->data(), static_cast<int>(detached_content->size())));
  }
  return Check(cms.get(), content.get());
}

Result<CmsMessage> ReadSmime(ByteSpan eml) {
  if (eml.empty() || eml.size() > kMaxCmsInputLen) return InvalidArgumentError("thư S/MIME rỗng hoặc quá lớn");
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(eml.data(), static_cast<int>(eml.size())));
  BIO* signed_part = nullptr;
  ossl::UniquePtr<CMS_ContentInfo> cms(SMIME_read_CMS(bio.get(), &signed_part));
  ossl::UniquePtr<BIO> part(signed_part);
  if (!cms) {
    ERR_clear_error();
    return InvalidArgumentError("thư không phải S/MIME có chữ ký (multipart/signed)");
  }
  if (!part) return Check(cms.get(), nullptr);
  // RFC 8551 3.1.1: the signed MIME part is canonicalised to CRLF line ends before hashing.
  ossl::UniquePtr<BIO> canonical(BIO_new(BIO_s_mem()));
  char line[8192];
  int n = 0;
  while ((n = BIO_gets(part.get(), line, sizeof line)) > 0) {
    std::string_view l(line, static_cast<std::size_t>(n));
    const bool eol = !l.empty() && l.back() == '\n';
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
    BIO_write(canonical.get(), l.data(), static_cast<int>(l.size()));
    if (eol) BIO_write(canonical.get(), "\r\n", 2);
  }
  return Check(cms.get(), canonical.get());
}

bool DigestAlgorithmsDisagree(const X509_ALGOR* digest_alg, const X509_ALGOR* signature_alg) {
  int md_of_sig = NID_undef, pk_of_sig = NID_undef;
  return digest_alg != nullptr && signature_alg != nullptr &&
         OBJ_find_sigid_algs(OBJ_obj2nid(signature_alg->algorithm), &md_of_sig, &pk_of_sig) == 1 &&
         md_of_sig != NID_undef && md_of_sig != OBJ_obj2nid(digest_alg->algorithm);
}

bool LooksLikeSmime(ByteSpan input) {
  const std::string_view head = AsString(input).substr(0, 8192);
  return (head.find("multipart/signed") != std::string_view::npos ||
          head.find("application/pkcs7-mime") != std::string_view::npos ||
          head.find("application/x-pkcs7-mime") != std::string_view::npos) &&
         head.find("Content-Type:") != std::string_view::npos;
}

}  // namespace kyso::verify
