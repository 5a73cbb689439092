#include "kyso/verify/cert_check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kyso/base/temp_dir.h"
#include "kyso/ca/testing.h"
#include "kyso/http/ca_routes.h"
#include "kyso/http/server.h"
#include "kyso/pkix/x509.h"
#include "kyso/store/store.h"

namespace kyso::verify {
namespace {

// ---- A kyso CA served over HTTP on port 0 ------------------------------------------------

// CaFixture makes a real kyso CA (MakeTestAuthority) whose certificates point at a kyso
// server on port 0 answering with http::CaRoutes, so every check talks to a real OCSP
// responder and CRL endpoint. `ocsp_down_` and `crl_down_` make those endpoints answer 503.
class CaFixture : public testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.threads = 2;
    server_ = std::make_unique<http::Server>(server_options, [this](const http::Request& r) {
      const bool ocsp = r.target.starts_with("/ocsp");
      const bool crl = r.target.starts_with("/crl/");
      ++requests_;
      if ((ocsp && ocsp_down_) || (crl && crl_down_) || routes_ == nullptr) {
        return http::Response{503, "text/plain", "down\n", nullptr, ""};
      }
      return routes_.load()->Handle(r);
    });
    Result<uint16_t> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    config_.ca.public_url = "http://127.0.0.1:" + std::to_string(*port);
    config_.ca.root_key = KeySpec::kEcP384;
    config_.ca.issuing_key = KeySpec::kEcP256;
    config_.ca.ocsp_key = KeySpec::kEcP256;
    store_ = std::move(store::OpenSqliteStore((dir_ / "kyso.db").string(), clock_)).value();
    auto ca = ca::testing::MakeTestAuthority(config_, *store_, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(ca).value();
    owned_routes_ = std::make_unique<http::CaRoutes>(*ca_, 1);
    routes_ = owned_routes_.get();
  }

  void TearDown() override {
    server_->Stop(std::chrono::milliseconds(200));
    routes_ = nullptr;
    owned_routes_.reset();
    ca_.reset();
    store_.reset();
  }

  ossl::UniquePtr<X509> Issue() {
    auto csr = pkix::ParseCertRequest(AsBytes(ca::testing::CsrPem()));
    EXPECT_TRUE(csr.ok());
    ca::IssueRequest request{
        ca::Profile::kIndividual, &*csr,
        ca::Subject{"Nguyễn Văn An", "an@dongnai.gov.vn", "Sở Khoa học và Công nghệ", {}}, 365};
    Result<ca::Issued> issued = ca_->Issue(request, "console");
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return std::move(pkix::ParseCertificate(issued->cert_der)).value();
  }

  void Revoke(const X509* cert, std::string_view reason) {
    const std::string serial = pkix::SerialHex(X509_get0_serialNumber(cert));
    ASSERT_TRUE(ca_->Revoke(serial, *ca::ParseReason(reason), "console").ok());
    ASSERT_TRUE(owned_routes_->Refresh().ok());
  }

  CertCheckOptions Options() {
    CertCheckOptions o;
    o.anchors = {ca_->root_cert()};
    o.untrusted = {ca_->issuing_cert()};
    o.at = clock_.Now() + std::chrono::minutes(1);
    o.cache = &cache_;
    o.fetch_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  Bytes LatestCrl(std::string_view issuer) { return (*store_->LatestCrl(issuer))->der; }

  FakeClock clock_{Utc(2026, 11, 25, 8)};
  Config config_;
  TempDir dir_{"kyso-verify"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ca::Authority> ca_;
  std::unique_ptr<http::CaRoutes> owned_routes_;
  std::atomic<http::CaRoutes*> routes_{nullptr};
  std::atomic<bool> ocsp_down_{false};
  std::atomic<bool> crl_down_{false};
  std::atomic<int> requests_{0};
  RevocationCache cache_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(CaFixture, R5_1_GoodCertificateIsOkByOcsp) {
  auto cert = Issue();
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, CertCheckStatus::kOk) << r->message << " / " << r->diagnostic;
  EXPECT_EQ(r->leaf_revocation_source, RevocationSource::kOcsp);
  EXPECT_EQ(r->chain_der.size(), 3u);
  EXPECT_EQ(r->ocsp_responses_der.size(), 1u);  // the leaf's
  EXPECT_EQ(r->crls_der.size(), 1u);            // the issuing CA's, from the root CRL
}

TEST_F(CaFixture, R5_1_RevokedCertificateGivesTimeAndReason) {
  auto cert = Issue();
  clock_.Advance(std::chrono::minutes(10));
  Revoke(cert.get(), "keyCompromise");
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, CertCheckStatus::kRevoked) << r->message << " / " << r->diagnostic;
  EXPECT_EQ(r->failing_index, 0u);
  EXPECT_EQ(r->revocation_reason, pkix::CrlReason::kKeyCompromise);
  ASSERT_TRUE(r->revoked_at.has_value());
  EXPECT_EQ(*r->revoked_at, clock_.Now());
  EXPECT_NE(r->message.find("keyCompromise"), std::string::npos);  // R5.4, shown to the signer
}

TEST_F(CaFixture, R5_1_ExpiredCertificate) {
  auto cert = Issue();
  CertCheckOptions o = Options();
  o.at = *pkix::ToTime(X509_get0_notAfter(cert.get())) + std::chrono::hours(24);
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kExpired);
  EXPECT_EQ(r->failing_index, 0u);
}

TEST_F(CaFixture, R5_1_NotYetValidCertificate) {
  auto cert = Issue();
  CertCheckOptions o = Options();
  o.at = clock_.Now() - std::chrono::hours(24);
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kNotYetValid);
}

// SelfSigned makes a self-signed EC CA certificate, for an anchor nothing chains to.
ossl::UniquePtr<X509> SelfSigned(Time at);

TEST_F(CaFixture, R5_1_UntrustedRoot) {
  auto cert = Issue();
  CertCheckOptions o = Options();
  auto other = SelfSigned(clock_.Now());
  o.anchors = {other.get()};
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kUntrusted);
  // Without the intermediate no path exists either.
  o = Options();
  o.untrusted.clear();
  EXPECT_EQ(CheckSigningCertificate(cert.get(), o)->status, CertCheckStatus::kUntrusted);
}

TEST_F(CaFixture, R5_1_OcspDownFallsBackToCrl) {
  auto good = Issue();
  auto bad = Issue();
  Revoke(bad.get(), "affiliationChanged");
  ocsp_down_ = true;
  Result<CertCheck> r = CheckSigningCertificate(good.get(), Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kOk) << r->message << " / " << r->diagnostic;
  EXPECT_EQ(r->leaf_revocation_source, RevocationSource::kCrl);
  EXPECT_TRUE(r->ocsp_responses_der.empty());
  r = CheckSigningCertificate(bad.get(), Options());
  EXPECT_EQ(r->status, CertCheckStatus::kRevoked);
  EXPECT_EQ(r->revocation_reason, pkix::CrlReason::kAffiliationChanged);
}

TEST_F(CaFixture, R5_1_BothDownIsRevocationUnknown) {
  auto cert = Issue();
  ocsp_down_ = true;
  crl_down_ = true;
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kRevocationUnknown) << r->diagnostic;
  EXPECT_EQ(r->failing_index, 0u);  // the signer's certificate is the one named
  // A stopped server (connection refused) is the same verdict, not an error.
  server_->Stop(std::chrono::milliseconds(200));
  ocsp_down_ = false;
  crl_down_ = false;
  r = CheckSigningCertificate(cert.get(), Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kRevocationUnknown) << r->diagnostic;
}

TEST_F(CaFixture, CachesRevocationDataByUrl) {
  auto a = Issue();
  auto b = Issue();
  ocsp_down_ = true;  // CRLs only: one per URL
  ASSERT_EQ(CheckSigningCertificate(a.get(), Options())->status, CertCheckStatus::kOk);
  const int after_first = requests_;
  ASSERT_EQ(CheckSigningCertificate(b.get(), Options())->status, CertCheckStatus::kOk);
  EXPECT_EQ(requests_ - after_first, 1);  // OCSP tried again (down), both CRLs from the cache
  cache_.Clear();
  ASSERT_EQ(CheckSigningCertificate(b.get(), Options())->status, CertCheckStatus::kOk);
  EXPECT_EQ(requests_ - after_first, 4);
}

TEST_F(CaFixture, R5_1_OfflineWithSuppliedCrls) {
  auto good = Issue();
  auto bad = Issue();
  Revoke(bad.get(), "keyCompromise");
  server_->Stop(std::chrono::milliseconds(200));
  CertCheckOptions o = Options();
  o.revocation = RevocationMode::kOffline;
  o.crls_der = {LatestCrl(ca::kRoot), LatestCrl(ca::kIssuing)};
  Result<CertCheck> r = CheckSigningCertificate(good.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, CertCheckStatus::kOk) << r->diagnostic;
  EXPECT_EQ(r->leaf_revocation_source, RevocationSource::kCrl);
  EXPECT_EQ(CheckSigningCertificate(bad.get(), o)->status, CertCheckStatus::kRevoked);
  // A CRL past its nextUpdate is no answer.
  o.at = clock_.Now() + config_.ca.crl_interval + std::chrono::hours(1);
  EXPECT_EQ(CheckSigningCertificate(good.get(), o)->status, CertCheckStatus::kRevocationUnknown);
  // Nothing supplied for the leaf: unknown, not OK.
  o = Options();
  o.revocation = RevocationMode::kOffline;
  o.crls_der = {LatestCrl(ca::kRoot)};
  EXPECT_EQ(CheckSigningCertificate(good.get(), o)->status, CertCheckStatus::kRevocationUnknown);
  // Garbage is an error of the caller.
  o.crls_der = {Bytes{0x30, 0x00}};
  EXPECT_EQ(CheckSigningCertificate(good.get(), o).status().code(), Code::kInvalidArgument);
}

TEST_F(CaFixture, OfflineCrlSignedByAnotherKeyIsNotUsed) {
  auto cert = Issue();
  // The issuing CA's CRL presented as the root's: same name check fails; a CRL with the right
  // name but a bad signature is refused too.
  Bytes crl = LatestCrl(ca::kIssuing);
  crl[crl.size() - 5] ^= 0x01;  // inside the signature
  CertCheckOptions o = Options();
  o.revocation = RevocationMode::kOffline;
  o.crls_der = {LatestCrl(ca::kRoot), crl};
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, CertCheckStatus::kRevocationUnknown);
}

TEST_F(CaFixture, OfflineSuppliedOcspResponse) {
  auto cert = Issue();
  Result<CertCheck> online = CheckSigningCertificate(cert.get(), Options());
  ASSERT_TRUE(online.ok());
  ASSERT_EQ(online->ocsp_responses_der.size(), 1u);
  server_->Stop(std::chrono::milliseconds(200));
  CertCheckOptions o = Options();
  o.revocation = RevocationMode::kOffline;
  o.ocsp_responses_der = online->ocsp_responses_der;
  o.crls_der = {LatestCrl(ca::kRoot)};
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kOk) << r->diagnostic;
  EXPECT_EQ(r->leaf_revocation_source, RevocationSource::kOcsp);
  // A response whose signed data was changed (producedAt, the first time in ResponseData) is
  // no answer.
  Bytes tampered = online->ocsp_responses_der[0];
  const std::string_view text = AsString(tampered);
  const auto pos = text.find("20261125");
  ASSERT_NE(pos, std::string_view::npos);
  tampered[pos + 7] = '4';
  o.ocsp_responses_der = {tampered};
  EXPECT_EQ(CheckSigningCertificate(cert.get(), o)->status, CertCheckStatus::kRevocationUnknown);
  // Past the response's nextUpdate it no longer answers.
  o.ocsp_responses_der = online->ocsp_responses_der;
  o.at = clock_.Now() + config_.ca.ocsp_validity + std::chrono::hours(1);
  EXPECT_EQ(CheckSigningCertificate(cert.get(), o)->status, CertCheckStatus::kRevocationUnknown);
}

TEST_F(CaFixture, RevocationAfterAnEarlierCheckIsSeen) {
  // OCSP answers are not cached, and OCSP is asked before the cached CRLs.
  auto cert = Issue();
  ASSERT_EQ(CheckSigningCertificate(cert.get(), Options())->status, CertCheckStatus::kOk);
  Revoke(cert.get(), "cessationOfOperation");
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kRevoked) << r->diagnostic;
  EXPECT_EQ(r->revocation_reason, pkix::CrlReason::kCessationOfOperation);
}

TEST_F(CaFixture, OcspNonceIsSentAndChecked) {
  auto cert = Issue();
  CertCheckOptions o = Options();
  o.ocsp_nonce = true;
  Result<CertCheck> r = CheckSigningCertificate(cert.get(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CertCheckStatus::kOk) << r->diagnostic;
  EXPECT_EQ(r->leaf_revocation_source, RevocationSource::kOcsp);
}

TEST_F(CaFixture, RefusesToRunWithoutAnchorOrCertificate) {
  auto cert = Issue();
  CertCheckOptions o = Options();
  o.anchors.clear();
  EXPECT_EQ(CheckSigningCertificate(cert.get(), o).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckSigningCertificate(nullptr, Options()).status().code(), Code::kInvalidArgument);
}

TEST_F(CaFixture, AnchorsFromAStoreAndPemBundle) {
  auto cert = Issue();
  const std::string bundle =
      pkix::CertificatePem(ca_->root_cert()) + pkix::CertificatePem(ca_->issuing_cert());
  Result<std::vector<ossl::UniquePtr<X509>>> certs = ParseCertificates(AsBytes(bundle));
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 2u);
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), (*certs)[0].get());
  CertCheckOptions o = Options();
  o.anchors.clear();
  o.anchor_store = store.get();
  o.untrusted = {(*certs)[1].get()};
  EXPECT_EQ(CheckSigningCertificate(cert.get(), o)->status, CertCheckStatus::kOk);
}

// ---- Hand-made chains: key usage and R7.2 ------------------------------------------------

ossl::UniquePtr<EVP_PKEY> Key(const char* spec) {
  auto signer = pkix::KeySigner::Generate(spec);
  if (signer.ok()) {
    return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_dup(const_cast<EVP_PKEY*>((*signer)->public_key())));
  }
  // Outside R7.2: kyso will not make it, so ask OpenSSL directly.
  return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
}

ossl::UniquePtr<X509> MakeCert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                               Time at, const std::vector<std::pair<int, std::string>>& exts) {
  ossl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1000 + static_cast<long>(std::strlen(cn)));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  EXPECT_TRUE(pkix::SetTime(X509_getm_notBefore(cert.get()), at - std::chrono::hours(24)).ok());
  EXPECT_TRUE(
      pkix::SetTime(X509_getm_notAfter(cert.get()), at + std::chrono::hours(24 * 365)).ok());
  X509_set_pubkey(cert.get(), key);
  EXPECT_TRUE(pkix::AddExtension(cert.get(), NID_subject_key_identifier, "hash").ok());
  EXPECT_TRUE(
      pkix::AddExtension(cert.get(), NID_authority_key_identifier, "keyid:always", issuer).ok());
  for (const auto& [nid, value] : exts) {
    EXPECT_TRUE(pkix::AddExtension(cert.get(), nid, value, issuer).ok()) << value;
  }
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

ossl::UniquePtr<X509> SelfSigned(Time at) {
  auto key = Key("ec-p256");
  return MakeCert("Other Root", key.get(), nullptr, nullptr, at,
                  {{NID_basic_constraints, "critical,CA:TRUE"},
                   {NID_key_usage, "critical,keyCertSign,cRLSign"}});
}

class LeafRulesTest : public testing::Test {
 protected:
  CertCheckStatus Check(const char* key_spec, const std::string& key_usage) {
    auto leaf_key = Key(key_spec);
    std::vector<std::pair<int, std::string>> exts = {{NID_basic_constraints, "critical,CA:FALSE"}};
    if (!key_usage.empty()) exts.emplace_back(NID_key_usage, key_usage);
    auto leaf = MakeCert("Signer", leaf_key.get(), root_.get(), root_key_.get(), at_, exts);
    CertCheckOptions o;
    o.anchors = {root_.get()};
    o.at = at_;
    o.revocation = RevocationMode::kOffline;  // no CDP, nothing supplied: unknown at the end
    Result<CertCheck> r = CheckSigningCertificate(leaf.get(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->status : CertCheckStatus::kOk;
  }
  Time at_ = Utc(2026, 11, 25, 8);
  ossl::UniquePtr<EVP_PKEY> root_key_ = Key("ec-p256");
  ossl::UniquePtr<X509> root_ = MakeCert("Test Root", root_key_.get(), nullptr, nullptr, at_,
                                         {{NID_basic_constraints, "critical,CA:TRUE"},
                                          {NID_key_usage, "critical,keyCertSign,cRLSign"}});
};

TEST_F(LeafRulesTest, R5_1_KeyUsageMustAllowSigning) {
  EXPECT_EQ(Check("ec-p256", "critical,keyAgreement"), CertCheckStatus::kBadKeyUsage);
  EXPECT_EQ(Check("ec-p256", ""), CertCheckStatus::kBadKeyUsage);
  // Passing the purpose and key checks, it reaches revocation, which has nothing to go on.
  EXPECT_EQ(Check("ec-p256", "critical,nonRepudiation"), CertCheckStatus::kRevocationUnknown);
  EXPECT_EQ(Check("ec-p384", "critical,digitalSignature"), CertCheckStatus::kRevocationUnknown);
}

TEST_F(LeafRulesTest, R7_2_WeakKeyRefused) {
  EXPECT_EQ(Check("rsa-1024", "critical,digitalSignature"), CertCheckStatus::kBadAlgorithm);
  EXPECT_EQ(Check("rsa-2048", "critical,digitalSignature"), CertCheckStatus::kRevocationUnknown);
}

TEST(FormatTest, R5_4_VietnameseTimeAndReason) {
  EXPECT_EQ(FormatTimeVn(Utc(2026, 11, 24, 17, 30, 5)), "25/11/2026 00:30:05 (giờ Việt Nam)");
  EXPECT_EQ(CrlReasonName(pkix::CrlReason::kKeyCompromise), "keyCompromise");
  EXPECT_EQ(CertCheckStatusName(CertCheckStatus::kRevocationUnknown), "revocation_unknown");
}

// ---- PKITS: the OpenSSL wiring against an independent suite ------------------------------

std::filesystem::path PkitsDir() {
  if (const char* env = std::getenv("KYSO_SHARED_TESTDATA")) {
    return std::filesystem::path(env) / "pkits";
  }
  return std::filesystem::path(KYSO_SOURCE_DIR) / ".." / "shared" / "testdata" / "pkits";
}

Bytes ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Pkits validates a PKITS end-entity certificate at the suite's time (2022-05-01) against
// its trust anchor, with the named intermediates and CRLs supplied offline.
class PkitsTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(PkitsDir() / "certs"))
      GTEST_SKIP() << "no PKITS at " << PkitsDir();
  }
  CertCheckStatus Run(const std::string& ee, std::vector<std::string> intermediates,
                      std::vector<std::string> crls) {
    auto load = [](const std::string& name) {
      return std::move(pkix::ParseCertificate(ReadFile(PkitsDir() / "certs" / name))).value();
    };
    auto anchor = load("TrustAnchorRootCertificate.crt");
    auto leaf = load(ee);
    std::vector<ossl::UniquePtr<X509>> pool;
    CertCheckOptions o;
    o.anchors = {anchor.get()};
    for (const auto& name : intermediates) {
      pool.push_back(load(name));
      o.untrusted.push_back(pool.back().get());
    }
    crls.push_back("TrustAnchorRootCRL.crl");
    for (const auto& name : crls) o.crls_der.push_back(ReadFile(PkitsDir() / "crls" / name));
    o.at = Utc(2022, 5, 1);
    o.revocation = RevocationMode::kOffline;
    o.purpose = Purpose::kAny;      // PKITS end entities are not document signers
    o.check_key_algorithm = false;  // nor R7.2 keys (RSA 1024)
    Result<CertCheck> r = CheckSigningCertificate(leaf.get(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->status : CertCheckStatus::kOk;
  }
};

TEST_F(PkitsTest, ValidSignatures_4_1_1) {
  EXPECT_EQ(Run("ValidCertificatePathTest1EE.crt", {"GoodCACert.crt"}, {"GoodCACRL.crl"}),
            CertCheckStatus::kOk);
}

TEST_F(PkitsTest, InvalidCaSignature_4_1_2) {
  EXPECT_EQ(Run("InvalidCASignatureTest2EE.crt", {"BadSignedCACert.crt"}, {"BadSignedCACRL.crl"}),
            CertCheckStatus::kUntrusted);
}

TEST_F(PkitsTest, InvalidEeSignature_4_1_3) {
  EXPECT_EQ(Run("InvalidEESignatureTest3EE.crt", {"GoodCACert.crt"}, {"GoodCACRL.crl"}),
            CertCheckStatus::kUntrusted);
}

TEST_F(PkitsTest, ExpiredEe_4_2_6) {
  EXPECT_EQ(Run("InvalidEEnotAfterDateTest6EE.crt", {"GoodCACert.crt"}, {"GoodCACRL.crl"}),
            CertCheckStatus::kExpired);
}

TEST_F(PkitsTest, NotYetValidEe_4_2_2) {
  EXPECT_EQ(Run("InvalidEEnotBeforeDateTest2EE.crt", {"GoodCACert.crt"}, {"GoodCACRL.crl"}),
            CertCheckStatus::kNotYetValid);
}

TEST_F(PkitsTest, RevokedEe_4_4_3) {
  EXPECT_EQ(Run("InvalidRevokedEETest3EE.crt", {"GoodCACert.crt"}, {"GoodCACRL.crl"}),
            CertCheckStatus::kRevoked);
}

TEST_F(PkitsTest, RevokedCa_4_4_2) {
  EXPECT_EQ(Run("InvalidRevokedCATest2EE.crt", {"RevokedsubCACert.crt", "GoodCACert.crt"},
                {"GoodCACRL.crl", "RevokedsubCACRL.crl"}),
            CertCheckStatus::kRevoked);
}

TEST_F(PkitsTest, BadCrlSignature_4_4_4) {
  // The only CRL of the CA is badly signed: no status, never OK.
  EXPECT_EQ(Run("InvalidBadCRLSignatureTest4EE.crt", {"BadCRLSignatureCACert.crt"},
                {"BadCRLSignatureCACRL.crl"}),
            CertCheckStatus::kRevocationUnknown);
}

// PKITS 4.14: a CRL with an issuing distribution point covers only the certificates whose
// CRL distribution point it names (RFC 5280 6.3.3 (b)(2)(i)).
TEST_F(PkitsTest, DistributionPoints_4_14) {
  const std::vector<std::string> one = {"distributionPoint1CACert.crt"};
  const std::vector<std::string> one_crl = {"distributionPoint1CACRL.crl"};
  const std::vector<std::string> two = {"distributionPoint2CACert.crt"};
  const std::vector<std::string> two_crl = {"distributionPoint2CACRL.crl"};
  EXPECT_EQ(Run("ValiddistributionPointTest1EE.crt", one, one_crl), CertCheckStatus::kOk);
  EXPECT_EQ(Run("InvaliddistributionPointTest2EE.crt", one, one_crl), CertCheckStatus::kRevoked);
  EXPECT_EQ(Run("InvaliddistributionPointTest3EE.crt", one, one_crl), CertCheckStatus::kRevocationUnknown);
  EXPECT_EQ(Run("ValiddistributionPointTest4EE.crt", one, one_crl), CertCheckStatus::kOk);
  EXPECT_EQ(Run("ValiddistributionPointTest5EE.crt", two, two_crl), CertCheckStatus::kOk);
  EXPECT_EQ(Run("InvaliddistributionPointTest6EE.crt", two, two_crl), CertCheckStatus::kRevoked);
  EXPECT_EQ(Run("ValiddistributionPointTest7EE.crt", two, two_crl), CertCheckStatus::kOk);
  EXPECT_EQ(Run("InvaliddistributionPointTest8EE.crt", two, two_crl), CertCheckStatus::kRevocationUnknown);
  EXPECT_EQ(Run("InvaliddistributionPointTest9EE.crt", two, two_crl), CertCheckStatus::kRevocationUnknown);
  EXPECT_EQ(Run("ValidNoissuingDistributionPointTest10EE.crt", {"NoissuingDistributionPointCACert.crt"},
                {"NoissuingDistributionPointCACRL.crl"}),
            CertCheckStatus::kOk);
}

}  // namespace
}  // namespace kyso::verify
