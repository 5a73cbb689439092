#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "kyso/pkix/crl.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/ocsp.h"
#include "kyso/pkix/signer.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {
namespace {

std::unique_ptr<KeySigner> Key(std::string_view spec, bool pss = false) {
  auto k = KeySigner::Generate(spec, pss);
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return std::move(k).value();
}

ossl::UniquePtr<X509> SelfSigned(Signer& signer, const char* cn) {
  ossl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  Bytes serial = *RandomSerial();
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  EXPECT_TRUE(SetTime(X509_getm_notBefore(cert.get()), Utc(2026, 1, 1)).ok());
  EXPECT_TRUE(SetTime(X509_getm_notAfter(cert.get()), Utc(2036, 1, 1)).ok());
  X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(signer.public_key()));
  EXPECT_TRUE(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE").ok());
  EXPECT_TRUE(AddExtension(cert.get(), NID_subject_key_identifier, "hash").ok());
  auto signed_cert = SignCertificate(cert.get(), signer);
  EXPECT_TRUE(signed_cert.ok()) << signed_cert.status().ToString();
  return std::move(signed_cert).value();
}

class SignerAlgorithms : public testing::TestWithParam<std::pair<const char*, bool>> {};

TEST_P(SignerAlgorithms, SignedCertificateVerifiesWithOpenSsl) {
  auto signer = Key(GetParam().first, GetParam().second);
  ossl::UniquePtr<X509> cert = SelfSigned(*signer, "Nguyễn Văn Ấn");
  EXPECT_EQ(X509_verify(cert.get(), const_cast<EVP_PKEY*>(signer->public_key())), 1);
  EXPECT_EQ(NameUtf8(X509_get_subject_name(cert.get())), "CN=Nguyễn Văn Ấn");
  EXPECT_EQ(SerialBytes(X509_get_serialNumber(cert.get())).size(), kSerialLen);
}

INSTANTIATE_TEST_SUITE_P(R7_2, SignerAlgorithms,
                         testing::Values(std::make_pair("rsa-2048", false),
                                         std::make_pair("rsa-2048", true),
                                         std::make_pair("ec-p256", false),
                                         std::make_pair("ec-p384", false)));

TEST(PublicKeyTest, CopyPublicKeyInfoMatchesSetPubkey) {
  for (const char* spec : {"rsa-2048", "ec-p256", "ec-p384"}) {
    auto key = Key(spec);
    ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
    X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key->public_key()));
    ossl::UniquePtr<X509> a(X509_new()), b(X509_new());
    X509_set_pubkey(a.get(), const_cast<EVP_PKEY*>(key->public_key()));
    ASSERT_TRUE(CopyPublicKeyInfo(b.get(), X509_REQ_get_X509_PUBKEY(req.get())).ok()) << spec;
    EXPECT_EQ(ossl::ToDer(i2d_X509_PUBKEY, static_cast<const X509_PUBKEY*>(X509_get_X509_PUBKEY(a.get()))),
              ossl::ToDer(i2d_X509_PUBKEY, static_cast<const X509_PUBKEY*>(X509_get_X509_PUBKEY(b.get()))))
        << spec;
    // The copy is bytes only: the key decodes from the certificate once it is encoded.
    const Bytes spki = ossl::ToDer(i2d_X509_PUBKEY, static_cast<const X509_PUBKEY*>(X509_get_X509_PUBKEY(b.get())));
    const unsigned char* p = spki.data();
    ossl::UniquePtr<EVP_PKEY> decoded(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
    EXPECT_EQ(EVP_PKEY_eq(decoded.get(), key->public_key()), 1) << spec;
  }
}

TEST(SerialTest, TwentyOctetsPositive) {
  for (int i = 0; i < 200; ++i) {
    Bytes s = *RandomSerial();
    ASSERT_EQ(s.size(), 20u);
    EXPECT_EQ(s[0] & 0x80, 0);
    EXPECT_NE(s[0], 0);
  }
}

TEST(DerTest, OidAndLongLengths) {
  EXPECT_EQ(HexEncode(*EncodeOidBody("2.5.29.32")), "551d20");
  EXPECT_EQ(HexEncode(*EncodeOidBody("1.2.840.113549.1.1.11")), "2a864886f70d01010b");
  EXPECT_FALSE(EncodeOidBody("1").ok());
  EXPECT_FALSE(EncodeOidBody("1..2").ok());
  DerWriter w;
  Bytes big(300, 0xab);
  w.OctetString(big);
  Bytes out = std::move(w).Finish();
  EXPECT_EQ(HexEncode(ByteSpan(out).subspan(0, 4)), "0482012c");
  DerWriter ints;
  ints.Integer(0);
  ints.Integer(128);
  ints.Integer(-1);
  EXPECT_EQ(HexEncode(std::move(ints).Finish()), "020100020200800201ff");
}

std::string MakeCsrPem(const char* key_spec, const EVP_MD* md) {
  auto signer = Key(key_spec);
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(signer->public_key()));
  X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(signer->public_key()), md);
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

TEST(CsrTest, R7_2_AcceptsStrongRefusesWeak) {
  EXPECT_TRUE(ParseCertRequest(AsBytes(MakeCsrPem("rsa-2048", EVP_sha256()))).ok());
  EXPECT_TRUE(ParseCertRequest(AsBytes(MakeCsrPem("ec-p256", EVP_sha256()))).ok());
  auto sha1 = ParseCertRequest(AsBytes(MakeCsrPem("rsa-2048", EVP_sha1())));
  ASSERT_FALSE(sha1.ok());
  EXPECT_EQ(sha1.status().code(), Code::kInvalidArgument);
  // RSA-1024: generated directly since KeySigner refuses it.
  ossl::UniquePtr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), weak.get());
  X509_REQ_sign(req.get(), weak.get(), EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  Bytes d(der, der + len);
  OPENSSL_free(der);
  EXPECT_EQ(ParseCertRequest(d).status().code(), Code::kInvalidArgument);
}

std::string MakePssCsrPem(const EVP_MD* md) {
  auto signer = Key("rsa-2048");
  EVP_PKEY* pk = const_cast<EVP_PKEY*>(signer->public_key());
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), pk);
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pk);
  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
  EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md);
  X509_REQ_sign_ctx(req.get(), ctx.get());
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

TEST(CsrTest, R7_2_PssMustUseSha256OrStronger) {
  EXPECT_TRUE(ParseCertRequest(AsBytes(MakePssCsrPem(EVP_sha256()))).ok());
  EXPECT_EQ(ParseCertRequest(AsBytes(MakePssCsrPem(EVP_sha1()))).status().code(),
            Code::kInvalidArgument);
}

TEST(CsrTest, RefusesBadSignatureGarbageAndOversize) {
  std::string pem = MakeCsrPem("rsa-2048", EVP_sha256());
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::UniquePtr<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  Bytes d(der, der + len);
  OPENSSL_free(der);
  d[d.size() - 5] ^= 0x01;  // inside the signature
  EXPECT_EQ(ParseCertRequest(d).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseCertRequest(AsBytes("garbage")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseCertRequest(Bytes(kMaxCsrLen + 1, 0x30)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseCertRequest({}).status().code(), Code::kInvalidArgument);
}

TEST(CrlTest, EncodedCrlParsesAndVerifiesInOpenSsl) {
  auto ca = Key("ec-p256");
  ossl::UniquePtr<X509> ca_cert = SelfSigned(*ca, "CA");
  CrlParams params{NameDer(X509_get_subject_name(ca_cert.get())), KeyIdentifier(ca_cert.get()),
                   42, Utc(2026, 11, 25), Utc(2026, 11, 26)};
  std::vector<RevokedEntry> revoked = {
      {Bytes{0x01, 0x02}, Utc(2026, 11, 1), CrlReason::kKeyCompromise},
      {Bytes{0x7f, 0xff}, Utc(2026, 11, 2), CrlReason::kUnspecified},
  };
  Bytes tbs = EncodeTbsCrl(params, ca->algorithm(), revoked);
  Bytes der = AssembleSigned(tbs, ca->algorithm(), *ca->Sign(tbs));
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_verify(crl.get(), const_cast<EVP_PKEY*>(ca->public_key())), 1);
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 2);
  int crit = 0;
  ossl::UniquePtr<ASN1_INTEGER> num(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, &crit, nullptr)));
  EXPECT_EQ(ASN1_INTEGER_get(num.get()), 42);
  X509_REVOKED* r0 = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl.get()), 0);
  ossl::UniquePtr<ASN1_ENUMERATED> reason(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(r0, NID_crl_reason, &crit, nullptr)));
  EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), 1);
}

TEST(OcspTest, ResponseVerifiesWithOpenSslAndEchoesNonce) {
  auto ca = Key("ec-p256");
  ossl::UniquePtr<X509> ca_cert = SelfSigned(*ca, "CA");
  ossl::UniquePtr<X509> leaf = SelfSigned(*ca, "leaf");
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf.get(), ca_cert.get());
  OCSP_request_add0_id(req.get(), id);
  OCSP_request_add1_nonce(req.get(), nullptr, 16);
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  Bytes req_der(der, der + len);
  OPENSSL_free(der);

  Result<OcspRequest> parsed = ParseOcspRequest(req_der);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->ids.size(), 1u);
  ASSERT_TRUE(parsed->nonce.has_value());
  OcspSingle single{&parsed->ids[0], CertStatus::kRevoked, Utc(2026, 11, 20),
                    CrlReason::kKeyCompromise, Utc(2026, 11, 25), Utc(2026, 11, 26)};
  Bytes rd = EncodeOcspResponseData(KeyIdentifier(ca_cert.get()), Utc(2026, 11, 25),
                                    std::span(&single, 1), parsed->nonce);
  Bytes resp = EncodeOcspResponse(rd, ca->algorithm(), *ca->Sign(rd), CertificateDer(ca_cert.get()));

  const unsigned char* p = resp.data();
  ossl::UniquePtr<OCSP_RESPONSE> r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(resp.size())));
  ASSERT_TRUE(r);
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(r.get()));
  ASSERT_TRUE(basic);
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca_cert.get());
  // NOCHECKS: this toy CA signs for itself; delegated-responder checks run in tests/interop.
  EXPECT_EQ(OCSP_basic_verify(basic.get(), nullptr, store.get(), OCSP_TRUSTOTHER | OCSP_NOCHECKS), 1)
      << ossl::Error("verify").ToString();
  EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 1);
  int status = 0, reason = 0;
  ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
  ASSERT_EQ(OCSP_resp_find_status(basic.get(), id, &status, &reason, &rev, &thisupd, &nextupd), 1);
  EXPECT_EQ(status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(reason, 1);
}

TEST(OcspTest, RefusesMalformedAndOversizedNonce) {
  EXPECT_EQ(ParseOcspRequest(AsBytes("x")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseOcspRequest(Bytes(kMaxOcspRequestLen + 1, 0x30)).status().code(),
            Code::kInvalidArgument);
  auto ca = Key("ec-p256");
  ossl::UniquePtr<X509> ca_cert = SelfSigned(*ca, "CA");
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), ca_cert.get(), ca_cert.get()));
  OCSP_request_add1_nonce(req.get(), nullptr, 33);
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  Bytes req_der(der, der + len);
  OPENSSL_free(der);
  EXPECT_EQ(ParseOcspRequest(req_der).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::pkix
