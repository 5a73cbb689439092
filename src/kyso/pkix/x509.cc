#include "kyso/pkix/x509.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstring>

#include "kyso/pkix/der.h"

namespace kyso::pkix {

Result<ossl::UniquePtr<X509>> ParseCertificate(ByteSpan in) {
  if (in.size() > kMaxCertificateLen) {
    return InvalidArgumentError("certificate larger than 64 KiB");
  }
  return ossl::ParsePemOrDer<X509>(in, PEM_read_bio_X509, d2i_X509, "certificate");
}

Bytes CertificateDer(const X509* cert) { return ossl::ToDer(i2d_X509, cert); }

std::string PemEncode(ByteSpan der, std::string_view label) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), std::string(label).c_str(), "", der.data(), static_cast<long>(der.size()));
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string CertificatePem(const X509* cert) { return PemEncode(CertificateDer(cert), "CERTIFICATE"); }

Result<Bytes> RandomSerial() {
  // RFC 5280 4.1.2.2: positive, at most 20 octets. 20 random bytes with the top bit cleared
  // carry 159 bits of entropy and encode without a leading zero; all-zero is redrawn.
  Bytes serial(kSerialLen);
  for (;;) {
    if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
      return ossl::Error("random serial");
    }
    serial[0] &= 0x7f;
    if (serial[0] != 0) return serial;  // a leading zero octet would shorten the INTEGER
  }
}

Bytes SerialBytes(const ASN1_INTEGER* serial) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

std::string SerialHex(const ASN1_INTEGER* serial) { return HexEncode(SerialBytes(serial)); }

std::string NameUtf8(const X509_NAME* name) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Bytes NameDer(const X509_NAME* name) { return ossl::ToDer(i2d_X509_NAME, name); }

Result<Time> ToTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return InvalidArgumentError("malformed time");
  }
  return Utc(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1),
             static_cast<unsigned>(tm.tm_mday), tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Status SetTime(ASN1_TIME* out, Time t) {
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after (RFC 5280 4.1.2.5).
  if (ASN1_TIME_set(out, static_cast<time_t>(t.time_since_epoch().count())) == nullptr) {
    return ossl::Error("set time");
  }
  return OkStatus();
}

Status CopyPublicKeyInfo(X509* cert, const X509_PUBKEY* from) {
  ASN1_OBJECT* alg = nullptr;
  const unsigned char* key = nullptr;
  int key_len = 0;
  X509_ALGOR* params = nullptr;
  if (X509_PUBKEY_get0_param(&alg, &key, &key_len, &params, from) != 1) {
    return ossl::Error(Code::kInvalidArgument, "unreadable public key");
  }
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, params);
  void* pval_copy = nullptr;
  if (ptype == V_ASN1_OBJECT) {
    pval_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(pval));
  } else if (ptype == V_ASN1_SEQUENCE) {
    pval_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval));
  } else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
    return InvalidArgumentError("public key has unsupported algorithm parameters");
  }
  auto* key_copy = static_cast<unsigned char*>(OPENSSL_memdup(key, static_cast<std::size_t>(key_len)));
  ASN1_OBJECT* alg_copy = OBJ_dup(alg);
  if (key_copy == nullptr || alg_copy == nullptr ||
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), alg_copy, ptype, pval_copy, key_copy,
                             key_len) != 1) {
    OPENSSL_free(key_copy);
    ASN1_OBJECT_free(alg_copy);
    return ossl::Error("copy public key");
  }
  return OkStatus();
}

Bytes KeyIdentifier(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_pubkey_digest(cert, EVP_sha1(), md, &len);
  return Bytes(md, md + len);
}

namespace {
Status SetAlgorithm(const X509_ALGOR* target, SignatureAlgorithm alg) {
  const Bytes der = AlgorithmIdentifierDer(alg);
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509_ALGOR> parsed(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
  // OpenSSL 3.0 exposes the TBS AlgorithmIdentifier only as const; it is owned by the
  // certificate we are building, so writing it is sound (shared/notes/external-signing.md).
  if (!parsed || X509_ALGOR_copy(const_cast<X509_ALGOR*>(target), parsed.get()) != 1) {
    return ossl::Error("set signature algorithm");
  }
  return OkStatus();
}
}  // namespace

Result<Bytes> PrepareCertificateTbs(X509* cert, SignatureAlgorithm alg) {
  KYSO_RETURN_IF_ERROR(SetAlgorithm(X509_get0_tbs_sigalg(cert), alg));
  unsigned char* out = nullptr;
  const int len = i2d_re_X509_tbs(cert, &out);
  if (len <= 0) return ossl::Error("encode TBSCertificate");
  Bytes tbs(out, out + len);
  OPENSSL_free(out);
  return tbs;
}

Bytes AssembleSigned(ByteSpan tbs_der, SignatureAlgorithm alg, ByteSpan signature) {
  DerWriter w(tbs_der.size() + signature.size() + 64);
  w.Sequence([&](DerWriter& s) {
    s.Raw(tbs_der);
    s.Raw(AlgorithmIdentifierDer(alg));
    s.BitString(signature);
  });
  return std::move(w).Finish();
}

Result<ossl::UniquePtr<X509>> SignCertificate(X509* cert, Signer& signer) {
  KYSO_ASSIGN_OR_RETURN(Bytes tbs, PrepareCertificateTbs(cert, signer.algorithm()));
  KYSO_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(tbs));
  return ParseCertificate(AssembleSigned(tbs, signer.algorithm(), sig));
}

Result<ossl::UniquePtr<X509_EXTENSION>> MakeExtension(int nid, std::string_view value,
                                                      X509* issuer, X509* subject) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  const std::string v(value);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, v.c_str());
  if (ext == nullptr) return ossl::Error("extension " + std::string(OBJ_nid2sn(nid)));
  return ossl::UniquePtr<X509_EXTENSION>(ext);
}

Status AddExtension(X509* cert, int nid, std::string_view value, X509* issuer) {
  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ext,
                        MakeExtension(nid, value, issuer != nullptr ? issuer : cert, cert));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return ossl::Error("add extension");
  return OkStatus();
}

}  // namespace kyso::pkix
