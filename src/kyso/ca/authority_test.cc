#include "kyso/ca/authority.h"

#include <gtest/gtest.h>

#include "kyso/ca/testing.h"
#include <openssl/pem.h>

#include "kyso/base/temp_dir.h"

#include "kyso/ca/ocsp_responder.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {
namespace {

pkix::CertRequest MakeCsr(const char* spec = "rsa-2048") {
  auto key = pkix::KeySigner::Generate(spec);
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  EVP_PKEY* pk = const_cast<EVP_PKEY*>((*key)->public_key());
  X509_REQ_set_pubkey(req.get(), pk);
  X509_REQ_sign(req.get(), pk, EVP_sha256());
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  Bytes d(der, der + len);
  OPENSSL_free(der);
  return std::move(pkix::ParseCertRequest(d)).value();
}

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore((dir_ / "kyso.db").string(), clock_)).value();
    config_.ca.root_key = KeySpec::kEcP384;
    config_.ca.issuing_key = KeySpec::kEcP256;
    config_.ca.ocsp_key = KeySpec::kEcP256;
    KeyFactory factory = testing::RecordingKeyFactory(&keys_);
    Status s = CreateHierarchy(config_, *store_, factory, clock_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto ca = Authority::Open(config_, *store_,
                              CaSigners{std::move(keys_["kyso-root"]),
                                        std::move(keys_["kyso-issuing"]),
                                        std::move(keys_["kyso-ocsp"])},
                              clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(ca).value();
  }
  void TearDown() override {
    ca_.reset();
    store_.reset();
  }

  IssueRequest Request(const pkix::CertRequest& csr, std::optional<int> days = std::nullopt) {
    return IssueRequest{Profile::kIndividual, &csr,
                        Subject{"Nguyễn Thị Hồng Nhung", "nhung@dongnai.gov.vn",
                                "Sở Khoa học và Công nghệ", {"Phòng Bưu chính"}},
                        days};
  }

  // Verify runs OpenSSL's own path validation, with the latest CRLs when `crls`.
  int Verify(ByteSpan der, bool crls) {
    auto cert = pkix::ParseCertificate(der);
    ossl::UniquePtr<X509_STORE> st(X509_STORE_new());
    X509_STORE_add_cert(st.get(), ca_->root_cert());
    if (crls) {
      for (const char* issuer : {"root", "issuing"}) {
        auto rec = store_->LatestCrl(issuer);
        const unsigned char* p = (*rec)->der.data();
        X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>((*rec)->der.size()));
        X509_STORE_add_crl(st.get(), crl);
        X509_CRL_free(crl);
      }
      X509_STORE_set_flags(st.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    STACK_OF(X509)* chain = sk_X509_new_null();
    sk_X509_push(chain, ca_->issuing_cert());
    ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), st.get(), cert->get(), chain);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                               static_cast<time_t>(clock_.Now().time_since_epoch().count() + 60));
    X509_verify_cert(ctx.get());
    const int err = X509_STORE_CTX_get_error(ctx.get());
    sk_X509_free(chain);
    return err;
  }

  FakeClock clock_{Utc(2026, 11, 25, 8)};
  Config config_;
  TempDir dir_{"kyso-ca"};
  std::unique_ptr<store::Store> store_;
  std::map<std::string, std::unique_ptr<pkix::Signer>> keys_;
  std::unique_ptr<Authority> ca_;
};

TEST_F(AuthorityTest, R7_1_IssuedCertificateHasVietnameseSubjectAndVerifies) {
  auto csr = MakeCsr();
  Result<Issued> issued = ca_->Issue(Request(csr), "console");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->serial_hex.size(), 40u);
  auto cert = pkix::ParseCertificate(issued->cert_der);
  EXPECT_EQ(pkix::NameUtf8(X509_get_subject_name(cert->get())),
            "emailAddress=nhung@dongnai.gov.vn,CN=Nguyễn Thị Hồng Nhung,OU=Phòng Bưu chính,"
            "O=Sở Khoa học và Công nghệ,ST=Đồng Nai,C=VN");
  EXPECT_EQ(Verify(issued->cert_der, true), X509_V_OK);
  auto rec = store_->GetCertificate(issued->serial_hex);
  EXPECT_EQ(rec->state, store::CertState::kIssued);
  EXPECT_EQ(rec->cert_der, issued->cert_der);
  // Profile R7.3: individual keys sign documents.
  EXPECT_TRUE(X509_get_key_usage(cert->get()) & KU_NON_REPUDIATION);
  EXPECT_TRUE(X509_get_extended_key_usage(cert->get()) & XKU_SMIME);
}

TEST_F(AuthorityTest, R4_1_ValidityAtMostFiveYearsRefusedNotCapped) {
  auto csr = MakeCsr();
  auto ok = ca_->Issue(Request(csr), "console");
  ASSERT_TRUE(ok.ok());
  auto cert = pkix::ParseCertificate(ok->cert_der);
  EXPECT_EQ(*pkix::ToTime(X509_get0_notAfter(cert->get())), AddYears(clock_.Now(), 5));
  auto too_long = ca_->Issue(Request(csr, 5 * 366 + 2), "console");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), Code::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("R4.1"), std::string::npos);
  EXPECT_TRUE(ca_->Issue(Request(csr, 30), "console").ok());
  // root, issuing CA, OCSP responder and TSA, then the two issued here.
  EXPECT_EQ(*store_->CountCertificates(store::CertState::kIssued), 4 + 2);
  EXPECT_TRUE(store_->ListPending()->empty());
}

TEST_F(AuthorityTest, R4_3_SubscriberCannotOutliveIssuer) {
  clock_.Advance(std::chrono::days(365 * 7));  // issuing CA has 3 years left
  auto csr = MakeCsr();
  auto r = ca_->Issue(Request(csr), "console");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("R4.3"), std::string::npos);
  EXPECT_TRUE(ca_->Issue(Request(csr, 365), "console").ok());
}

TEST_F(AuthorityTest, RefusesBadSubjectAndStoresNothing) {
  auto csr = MakeCsr();
  IssueRequest r = Request(csr);
  r.subject.email = "not-an-email";
  EXPECT_EQ(ca_->Issue(r, "console").status().code(), Code::kInvalidArgument);
  r = Request(csr);
  r.subject.name = std::string(65, 'a');
  EXPECT_EQ(ca_->Issue(r, "console").status().code(), Code::kInvalidArgument);
  for (const char* bad : {"\xff\xfe", "Nguy\xc3", "a\nb", "a\xc2\x85" "b", "ab\xe2\x80\xae" "cd",
                          "\xc0\xaf", "\xed\xa0\x80"}) {
    r = Request(csr);
    r.subject.name = bad;
    EXPECT_EQ(ca_->Issue(r, "console").status().code(), Code::kInvalidArgument) << bad;
  }
  r = Request(csr);
  r.subject.name = "a\nb";
  EXPECT_NE(ca_->Issue(r, "console").status().message().find("control character"),
            std::string::npos);
  EXPECT_EQ(*store_->CountCertificates(store::CertState::kIssued), 4);  // the hierarchy's
}

TEST_F(AuthorityTest, RevocationShowsInCrlAndOcsp) {
  auto csr = MakeCsr("ec-p256");
  auto issued = ca_->Issue(Request(csr), "console");
  ASSERT_TRUE(issued.ok());
  OcspResponder ocsp(*store_, ca_->issuing_cert(), ca_->ocsp_cert().get(), ca_->ocsp_signer(), clock_,
                     std::chrono::hours(24));
  auto cert = pkix::ParseCertificate(issued->cert_der);
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert->get(), ca_->issuing_cert());
  OCSP_request_add0_id(req.get(), id);
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &der);
  Bytes req_der(der, der + len);
  OPENSSL_free(der);

  auto status_of = [&](const std::shared_ptr<const std::string>& resp_der) {
    ByteSpan resp = AsBytes(*resp_der);
    const unsigned char* p = resp.data();
    ossl::UniquePtr<OCSP_RESPONSE> r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(resp.size())));
    ossl::UniquePtr<OCSP_BASICRESP> b(OCSP_response_get1_basic(r.get()));
    ossl::UniquePtr<X509_STORE> st(X509_STORE_new());
    X509_STORE_add_cert(st.get(), ca_->root_cert());
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(st.get()),
                               static_cast<time_t>(clock_.Now().time_since_epoch().count() + 60));
    STACK_OF(X509)* chain = sk_X509_new_null();
    sk_X509_push(chain, ca_->issuing_cert());
    const int verified = OCSP_basic_verify(b.get(), chain, st.get(), 0);
    sk_X509_free(chain);
    EXPECT_EQ(verified, 1) << ossl::Error("ocsp verify").ToString();
    int status = -1, reason = 0;
    ASN1_GENERALIZEDTIME *rev = nullptr, *tu = nullptr, *nu = nullptr;
    OCSP_resp_find_status(b.get(), id, &status, &reason, &rev, &tu, &nu);
    return status;
  };

  EXPECT_EQ(status_of(ocsp.Respond(req_der)), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(ocsp.cached(), 1u);
  EXPECT_EQ(Verify(issued->cert_der, true), X509_V_OK);
  ASSERT_TRUE(ca_->Revoke(issued->serial_hex, *ParseReason("keyCompromise"), "console").ok());
  EXPECT_EQ(Verify(issued->cert_der, true), X509_V_ERR_CERT_REVOKED);
  ASSERT_TRUE(ocsp.Refresh().ok());
  EXPECT_EQ(ocsp.cached(), 0u);
  EXPECT_EQ(status_of(ocsp.Respond(req_der)), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(ca_->Revoke(issued->serial_hex, *ParseReason("keyCompromise"), "console").code(),
            Code::kFailedPrecondition);
  EXPECT_FALSE(store_->VerifyAudit()->first_bad_id.has_value());
}

TEST_F(AuthorityTest, R12_1_CasesMapToRfc5280AndFitTheProfile) {
  EXPECT_EQ(ParseReason("device-lost")->code, pkix::CrlReason::kKeyCompromise);
  EXPECT_EQ(ParseReason("position-changed")->code, pkix::CrlReason::kAffiliationChanged);
  EXPECT_EQ(ParseReason("dissolved")->code, pkix::CrlReason::kCessationOfOperation);
  EXPECT_EQ(ParseReason("nonsense").status().code(), Code::kInvalidArgument);
  auto csr = MakeCsr("ec-p256");
  auto issued = ca_->Issue(Request(csr), "console");  // an individual
  ASSERT_TRUE(issued.ok());
  Status wrong = ca_->Revoke(issued->serial_hex, *ParseReason("dissolved"), "console");
  EXPECT_EQ(wrong.code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetCertificate(issued->serial_hex)->revoked_at, std::nullopt);
  ASSERT_TRUE(ca_->Revoke(issued->serial_hex, *ParseReason("retired"), "console").ok());
  EXPECT_EQ(store_->GetCertificate(issued->serial_hex)->reason,
            pkix::CrlReason::kCessationOfOperation);
}

TEST_F(AuthorityTest, OcspSignerRenewsBeforeItExpires) {
  std::shared_ptr<X509> first = ca_->ocsp_cert();
  EXPECT_FALSE(*ca_->RenewOcspSigner("console"));  // fresh: nothing to do
  clock_.Advance(std::chrono::days(61));           // 29 of 90 days left
  ASSERT_TRUE(*ca_->RenewOcspSigner("console"));
  std::shared_ptr<X509> renewed = ca_->ocsp_cert();
  EXPECT_NE(X509_cmp(first.get(), renewed.get()), 0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(first.get()), X509_get0_pubkey(renewed.get())), 1);
  EXPECT_EQ(*pkix::ToTime(X509_get0_notBefore(renewed.get())), clock_.Now());
  EXPECT_EQ(X509_check_issued(ca_->issuing_cert(), renewed.get()), X509_V_OK);
  // The store names the new certificate, so the next process loads it.
  auto key = store_->GetCaKey(kOcsp);
  EXPECT_EQ(key->cert_der, pkix::CertificateDer(renewed.get()));
  EXPECT_FALSE(store_->VerifyAudit()->first_bad_id.has_value());
}

TEST_F(AuthorityTest, MalformedOcspGetsMalformedRequest) {
  OcspResponder ocsp(*store_, ca_->issuing_cert(), ca_->ocsp_cert().get(), ca_->ocsp_signer(), clock_,
                     std::chrono::hours(24));
  auto resp = ocsp.Respond(AsBytes("\x30\x03\x02\x01\x01"));
  EXPECT_EQ(HexEncode(AsBytes(*resp)), "30030a0101");
}

TEST_F(AuthorityTest, BatchIssuesInOrderAndRefusesOnlyBadOnes) {
  auto csr = MakeCsr("ec-p256");
  std::vector<IssueRequest> reqs;
  for (int i = 0; i < 600; ++i) reqs.push_back(Request(csr, i == 7 ? 99999 : 100));
  auto results = ca_->IssueBatch(reqs, "console", 2);
  ASSERT_EQ(results.size(), 600u);
  EXPECT_FALSE(results[7].ok());
  std::set<std::string> serials;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i == 7) continue;
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
    serials.insert(results[i]->serial_hex);
  }
  EXPECT_EQ(serials.size(), 599u);
  EXPECT_EQ(Verify(results[0]->cert_der, false), X509_V_OK);
  // Three events per hierarchy certificate (root, issuing, OCSP, TSA), two CRLs, two per issue.
  EXPECT_EQ(store_->VerifyAudit()->events, 4 * 3 + 2 + 599 * 2);
}

TEST_F(AuthorityTest, RecoverPendingSignsRecordedTbs) {
  // A crash between record and commit leaves a pending row; recovery completes it.
  auto csr = MakeCsr();
  auto issued = ca_->Issue(Request(csr), "console");
  store::CertificateRecord rec = *store_->GetCertificate(issued->serial_hex);
  Bytes serial(20, 0x11);
  store::PendingIssuance p{HexEncode(serial), "issuing", "individual", "CN=x", clock_.Now(),
                           clock_.Now() + std::chrono::hours(1), rec.tbs_der};
  ASSERT_TRUE(store_->RecordIssuances(std::span(&p, 1), "console").ok());
  EXPECT_EQ(*ca_->RecoverPending(std::chrono::seconds(60), "console"), 0);  // too recent
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(*ca_->RecoverPending(std::chrono::seconds(60), "console"), 1);
  EXPECT_EQ(store_->GetCertificate(p.serial_hex)->state, store::CertState::kIssued);
}

}  // namespace
}  // namespace kyso::ca
