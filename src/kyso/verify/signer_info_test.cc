// signer_info: a SignerInfo's signature over its DER signed attributes, the attribute rules of
// RFC 5652 11 and countersignatures, on messages made here and on EU DSS's samples
// (../shared/testdata/dss-signatures/cades, skipped when absent) where OpenSSL's
// CMS_SignerInfo_verify and DSS disagree.
#include "kyso/verify/signer_info.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include <filesystem>
#include <fstream>

#include "kyso/pkix/signer.h"
#include "kyso/pkix/testing.h"
#include "kyso/verify/cms_sigs.h"

namespace kyso::verify {
namespace {

namespace fs = std::filesystem;

fs::path Samples() {
  return fs::path(KYSO_SOURCE_DIR) / ".." / "shared" / "testdata" / "dss-signatures" / "cades";
}

Bytes ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

ossl::UniquePtr<CMS_ContentInfo> ParseCms(const Bytes& der) {
  const unsigned char* p = der.data();
  return ossl::UniquePtr<CMS_ContentInfo>(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
}

CMS_SignerInfo* FirstSigner(CMS_ContentInfo* cms) {
  return sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
}

// Signed is a CMS SignedData over "kyso" made by OpenSSL with a fresh key.
struct Signed {
  std::unique_ptr<pkix::KeySigner> key;
  ossl::UniquePtr<X509> cert;
  ossl::UniquePtr<CMS_ContentInfo> cms;
};

Signed MakeSigned(std::string_view spec) {
  Signed s;
  s.key = std::move(pkix::KeySigner::Generate(spec)).value();
  s.cert = pkix::testutil::MakeTestCert(*s.key, nullptr, s.key->public_key(), "Signer", false);
  ossl::UniquePtr<BIO> data(BIO_new_mem_buf("kyso", 4));
  s.cms.reset(CMS_sign(s.cert.get(), const_cast<EVP_PKEY*>(s.key->public_key()), nullptr,
                       data.get(), CMS_BINARY));
  return s;
}

TEST(SignerInfo, VerifiesWhatOpenSslSigned) {
  for (const char* spec : {"ec-p256", "rsa-2048"}) {
    Signed s = MakeSigned(spec);
    ASSERT_TRUE(s.cms) << spec;
    CMS_SignerInfo* si = FirstSigner(s.cms.get());
    EXPECT_TRUE(VerifySignerInfoSignature(si, X509_get0_pubkey(s.cert.get())).ok()) << spec;
    EXPECT_EQ(SignedAttributesProblem(si, false), "") << spec;
    EXPECT_EQ(SignedAttributesDer(si).front(), 0x31);
    // An attribute added after signing is not covered by the signature.
    ASSERT_EQ(
        CMS_signed_add1_attr_by_NID(si, NID_pkcs9_challengePassword, V_ASN1_UTF8STRING, "x", 1), 1);
    const Status v = VerifySignerInfoSignature(si, X509_get0_pubkey(s.cert.get()));
    EXPECT_FALSE(v.ok()) << spec;
    EXPECT_NE(v.message().find("does not verify"), std::string::npos) << v.message();
  }
}

TEST(SignerInfo, SignatureAlgorithmNamingOnlyTheKeyType) {
  Signed s = MakeSigned("ec-p256");
  ASSERT_TRUE(s.cms);
  CMS_SignerInfo* si = FirstSigner(s.cms.get());
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, nullptr, &sig_alg);
  // id-ecPublicKey with the SignerInfo's digest algorithm: ecdsa-with-SHA256.
  ASSERT_EQ(X509_ALGOR_set0(sig_alg, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_UNDEF, nullptr),
            1);
  EXPECT_TRUE(VerifySignerInfoSignature(si, X509_get0_pubkey(s.cert.get())).ok());
  // A curve is not a signature algorithm (DSS: pades-unsupported-signature-algorithm.pdf), nor
  // is rsaEncryption one for an EC key.
  for (int nid : {NID_X9_62_prime256v1, NID_rsaEncryption}) {
    ASSERT_EQ(X509_ALGOR_set0(sig_alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, nullptr), 1);
    const Status v = VerifySignerInfoSignature(si, X509_get0_pubkey(s.cert.get()));
    EXPECT_EQ(v.message(), "unknown signature algorithm") << OBJ_nid2sn(nid);
  }
}

TEST(SignerInfo, AttributeRules) {
  Signed s = MakeSigned("ec-p256");
  ASSERT_TRUE(s.cms);
  CMS_SignerInfo* si = FirstSigner(s.cms.get());
  EXPECT_EQ(SignedAttributesProblem(si, true),
            "a countersignature's signed attributes hold content-type");
  ASSERT_GE(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1), 0);
  ossl::UniquePtr<ASN1_STRING> when(ASN1_TIME_set(nullptr, 0));
  ASSERT_EQ(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, V_ASN1_UTCTIME, when.get(), -1),
            1);
  EXPECT_EQ(SignedAttributesProblem(si, false),
            "the signed attributes hold the signing-time attribute 2 times");
}

TEST(SignerInfo, NoSignedAttributes) {
  Signed s;
  s.key = std::move(pkix::KeySigner::Generate("ec-p256")).value();
  s.cert = pkix::testutil::MakeTestCert(*s.key, nullptr, s.key->public_key(), "Signer", false);
  ossl::UniquePtr<BIO> data(BIO_new_mem_buf("kyso", 4));
  s.cms.reset(CMS_sign(s.cert.get(), const_cast<EVP_PKEY*>(s.key->public_key()), nullptr,
                       data.get(), CMS_BINARY | CMS_NOATTR));
  ASSERT_TRUE(s.cms);
  CMS_SignerInfo* si = FirstSigner(s.cms.get());
  EXPECT_TRUE(SignedAttributesDer(si).empty());
  EXPECT_EQ(SignedAttributesProblem(si, false), "");
  EXPECT_FALSE(VerifySignerInfoSignature(si, X509_get0_pubkey(s.cert.get())).ok());
}

// VerifyDss verifies the first SignerInfo of a DSS sample both ways: with
// VerifySignerInfoSignature, and with OpenSSL's CMS_SignerInfo_verify.
std::pair<bool, bool> VerifyDss(const std::string& name) {
  const Bytes der = ReadAll(Samples() / name);
  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(der);
  EXPECT_TRUE(cms) << name;
  if (!cms) return {false, false};
  CMS_set1_signers_certs(cms.get(), nullptr, 0);
  CMS_SignerInfo* si = FirstSigner(cms.get());
  X509* signer = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, &signer, nullptr, nullptr);
  EXPECT_NE(signer, nullptr) << name;
  const bool ours = VerifySignerInfoSignature(si, X509_get0_pubkey(signer)).ok();
  const bool openssl = CMS_SignerInfo_verify(si) == 1;
  ERR_clear_error();
  return {ours, openssl};
}

TEST(SignerInfo, DssSamplesWhereOpenSslDiffers) {
  if (!fs::exists(Samples() / "dss-667")) GTEST_SKIP() << "no DSS samples at " << Samples();
  // Signed over the sorted (DER) attributes, sent unsorted: DSS intact+valid.
  EXPECT_EQ(VerifyDss("dss-667/BER_reordered_prova.txt.p7m"), std::make_pair(true, false));
  // Signed over the attributes as sent, unsorted: DSS "not technically valid".
  EXPECT_EQ(VerifyDss("dss-646/CAdES_A_DETACHED.csig"), std::make_pair(false, true));
  // RSASSA-PSS with SHA3-256 in its parameters, SHA-256 as the digest algorithm: DSS intact+valid.
  EXPECT_EQ(VerifyDss("dss-1419/CAdES-BpB-att-SHA256-SHA3_256withRSAandMGF1.p7m"),
            std::make_pair(true, false));
  EXPECT_EQ(VerifyDss("dss-1419/CAdES-BpB-att-SHA3_256-SHA3_256withRSA.p7m"),
            std::make_pair(true, true));
}

TEST(SignerInfo, DssAlgorithmProtection) {
  if (!fs::exists(Samples() / "evidence-record")) GTEST_SKIP() << "no DSS samples at " << Samples();
  // The signature verifies, but its CMSAlgorithmProtection gives the RSASSA-PSS parameters
  // without the trailerField the SignerInfo spells out: DSS finds it not intact.
  ossl::UniquePtr<CMS_ContentInfo> cms =
      ParseCms(ReadAll(Samples() / "evidence-record/C-E-ERS-basic-invalid-sig.p7m"));
  ASSERT_TRUE(cms);
  EXPECT_EQ(SignedAttributesProblem(FirstSigner(cms.get()), false),
            "CMSAlgorithmProtection names another signature algorithm");
  // Matching ones, with a NULL digest parameter the SignerInfo leaves out.
  cms = ParseCms(ReadAll(Samples() / "cades-broken-sig-tst-and-ats-v3.cms"));
  ASSERT_TRUE(cms);
  EXPECT_EQ(SignedAttributesProblem(FirstSigner(cms.get()), false), "");
}

TEST(SignerInfo, DssCounterSignatures) {
  if (!fs::exists(Samples() / "counterSig.p7m")) GTEST_SKIP() << "no DSS samples at " << Samples();
  // A countersignature with signingTime twice: DSS finds it not intact, its countersigned
  // signature valid.
  Result<CmsMessage> msg =
      ReadCms(ReadAll(Samples() / "cades-double-signing-time.p7m"), std::nullopt);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  ASSERT_EQ(msg->signatures.size(), 2u);
  EXPECT_TRUE(msg->signatures[0].signature_ok && msg->signatures[0].hash_ok)
      << msg->signatures[0].problem;
  EXPECT_TRUE(msg->signatures[1].counter_signature);
  EXPECT_TRUE(msg->signatures[1].hash_ok);
  EXPECT_FALSE(msg->signatures[1].signature_ok);
  EXPECT_EQ(msg->signatures[1].problem,
            "signed attributes: the signed attributes hold the signing-time attribute 2 times");
  // Good countersignatures: every one intact.
  for (const char* name : {"counterSig.p7m", "counterSignedLTA.p7s"}) {
    Result<CmsMessage> m = ReadCms(ReadAll(Samples() / name), std::nullopt);
    if (!m.ok()) continue;  // detached
    int counters = 0;
    for (const CmsSignature& s : m->signatures) {
      counters += s.counter_signature;
      EXPECT_TRUE(s.signature_ok && s.hash_ok) << name << ": " << s.problem;
    }
    EXPECT_GT(counters, 0) << name;
  }
}

}  // namespace
}  // namespace kyso::verify
