#include "kyso/ca/tsa.h"

#include <gtest/gtest.h>

#include "kyso/ca/testing.h"
#include <openssl/err.h>
#include <openssl/ts.h>

#include <map>

#include "kyso/base/temp_dir.h"
#include "kyso/ca/authority.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {
namespace {

const Time kStart = Utc(2026, 6, 1, 8);

Bytes Request(const EVP_MD* md, const char* policy = nullptr, bool cert_req = true) {
  ossl::UniquePtr<TS_REQ> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), 1);
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* alg = X509_ALGOR_new();
  X509_ALGOR_set_md(alg, md);
  TS_MSG_IMPRINT_set_algo(imprint, alg);
  X509_ALGOR_free(alg);
  Bytes digest(static_cast<std::size_t>(EVP_MD_get_size(md)), 0x11);
  TS_MSG_IMPRINT_set_msg(imprint, digest.data(), static_cast<int>(digest.size()));
  TS_REQ_set_msg_imprint(req.get(), imprint);
  TS_MSG_IMPRINT_free(imprint);
  if (policy != nullptr) {
    ossl::UniquePtr<ASN1_OBJECT> p(OBJ_txt2obj(policy, 1));
    TS_REQ_set_policy_id(req.get(), p.get());
  }
  TS_REQ_set_cert_req(req.get(), cert_req ? 1 : 0);
  return ossl::ToDer(i2d_TS_REQ, static_cast<const TS_REQ*>(req.get()));
}

class TsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore((dir_ / "kyso.db").string(), clock_)).value();
    config_.ca.root_key = KeySpec::kEcP256;
    config_.ca.issuing_key = KeySpec::kEcP256;
    config_.ca.ocsp_key = KeySpec::kEcP256;
    config_.ca.tsa_key = KeySpec::kEcP256;
    KeyFactory factory = testing::RecordingKeyFactory(&keys_);
    Status s = CreateHierarchy(config_, *store_, factory, clock_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    root_ = Load(kRoot);
    issuing_ = Load(kIssuing);
  }

  ossl::UniquePtr<X509> Load(std::string_view role) {
    Result<store::CaKey> key = store_->GetCaKey(role);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return std::move(pkix::ParseCertificate(key->cert_der)).value();
  }

  std::unique_ptr<TimestampAuthority> Open() {
    auto tsa = TimestampAuthority::Create(Load(kTsa), std::move(keys_[std::string(kTsaKeyLabel)]),
                                          issuing_.get(), config_.ca.tsa_policy_oid, clock_);
    EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
    return std::move(tsa).value();
  }

  // Verify runs OpenSSL's RFC 3161 verifier with the root as the only anchor.
  bool Verify(ByteSpan request, ByteSpan response) {
    const unsigned char* p = request.data();
    ossl::UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(request.size())));
    p = response.data();
    ossl::UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response.size())));
    if (!req || !resp) return false;
    TS_VERIFY_CTX* ctx = TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr);
    TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, root_.get());
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store),
                               (clock_.Now() + std::chrono::hours(1)).time_since_epoch().count());
    TS_VERIFY_CTX_set_store(ctx, store);
    const int ok = TS_RESP_verify_response(ctx, resp.get());
    TS_VERIFY_CTX_free(ctx);
    ERR_clear_error();
    return ok == 1;
  }

  TempDir dir_{"kyso-tsa"};
  FakeClock clock_{kStart};
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::map<std::string, std::unique_ptr<pkix::Signer>> keys_;
  ossl::UniquePtr<X509> root_;
  ossl::UniquePtr<X509> issuing_;
};

TEST_F(TsaTest, HierarchyHasATimestampingCertificate) {
  ossl::UniquePtr<X509> tsa = Load(kTsa);
  EXPECT_EQ(X509_check_purpose(tsa.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(X509_get_extended_key_usage(tsa.get()), static_cast<uint32_t>(XKU_TIMESTAMP));
  const int eku = X509_get_ext_by_NID(tsa.get(), NID_ext_key_usage, -1);
  ASSERT_GE(eku, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(tsa.get(), eku)), 1);
  EXPECT_EQ(X509_get_key_usage(tsa.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION));
  EXPECT_EQ(X509_check_issued(issuing_.get(), tsa.get()), X509_V_OK);
  EXPECT_EQ(*pkix::ToTime(X509_get0_notAfter(tsa.get())), AddYears(kStart, kTsaCertYears));
  EXPECT_FALSE(TsaCertDue(tsa.get(), kStart));
  EXPECT_TRUE(TsaCertDue(tsa.get(), AddYears(kStart, kTsaCertYears) - std::chrono::days(30)));
  Result<store::CertificateRecord> rec =
      store_->GetCertificate(pkix::SerialHex(X509_get0_serialNumber(tsa.get())));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->profile, "tsa");
}

TEST_F(TsaTest, GrantsTokensOpensslVerifies) {
  auto tsa = Open();
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
    const Bytes req = Request(md, "2.16.704.1.99.2.1", md != EVP_sha512());
    Result<Bytes> resp = tsa->Respond(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    Result<pkix::TimeStampResp> parsed = pkix::ParseTimeStampResp(*resp);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->status, pkix::PkiStatus::kGranted) << parsed->status_string;
    EXPECT_EQ(parsed->gen_time, kStart);
    EXPECT_EQ(parsed->policy_oid, config_.ca.tsa_policy_oid);
    if (md != EVP_sha512()) {
      EXPECT_TRUE(Verify(req, *resp));  // without certReq the token has no certificate
    }
  }
  EXPECT_EQ(tsa->stats().granted, 3u);
}

TEST_F(TsaTest, RejectsSha1OtherPoliciesAndGarbage) {
  auto tsa = Open();
  Result<Bytes> sha1 = tsa->Respond(Request(EVP_sha1()));
  ASSERT_TRUE(sha1.ok());
  Result<pkix::TimeStampResp> r = pkix::ParseTimeStampResp(*sha1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, pkix::PkiStatus::kRejection);
  EXPECT_EQ(r->failure_bits, std::vector<int>{static_cast<int>(pkix::TspFailure::kBadAlg)});

  Result<Bytes> policy = tsa->Respond(Request(EVP_sha256(), "1.2.3.4"));
  ASSERT_TRUE(policy.ok());
  r = pkix::ParseTimeStampResp(*policy);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failure_bits,
            std::vector<int>{static_cast<int>(pkix::TspFailure::kUnacceptedPolicy)});

  // A DER SEQUENCE that is no TimeStampReq is answered in RFC 3161's terms; non-DER is not.
  const Bytes empty_sequence = {0x30, 0x00};
  Result<Bytes> bad = tsa->Respond(empty_sequence);
  ASSERT_TRUE(bad.ok());
  r = pkix::ParseTimeStampResp(*bad);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failure_bits, std::vector<int>{static_cast<int>(pkix::TspFailure::kBadDataFormat)});
  EXPECT_EQ(tsa->Respond(AsBytes("hello")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(tsa->stats().rejected, 4u);
  EXPECT_EQ(tsa->stats().granted, 0u);
}

TEST_F(TsaTest, ExpiredCertificateGivesSystemFailureAndRenewalFixesIt) {
  auto tsa = Open();
  clock_.Set(AddYears(kStart, kTsaCertYears) + std::chrono::hours(1));
  Result<Bytes> resp = tsa->Respond(Request(EVP_sha256()));
  ASSERT_TRUE(resp.ok());
  Result<pkix::TimeStampResp> r = pkix::ParseTimeStampResp(*resp);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failure_bits, std::vector<int>{static_cast<int>(pkix::TspFailure::kSystemFailure)});
  EXPECT_EQ(tsa->stats().failed, 1u);
  EXPECT_FALSE(tsa->last_failure().empty());

  EXPECT_TRUE(TsaCertDue(tsa->certificate().get(), clock_.Now()));
  auto issuing_key = std::move(keys_["kyso-issuing"]);
  // The TSA key stays in the authority; a second signer over it stands in for the token.
  Result<ossl::UniquePtr<X509>> renewed = IssueTsaCert(
      config_.ca, *store_, issuing_.get(), *issuing_key,
      *std::move(pkix::KeySigner::Create(
                     ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_dup(
                         const_cast<EVP_PKEY*>(X509_get0_pubkey(tsa->certificate().get())))),
                     pkix::SignatureAlgorithm::kEcdsaSha256))
           .value(),
      kTsaKeyLabel, clock_.Now(), "test");
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  ASSERT_TRUE(tsa->SetCertificate(std::move(renewed).value()).ok());
  r = pkix::ParseTimeStampResp(*tsa->Respond(Request(EVP_sha256())));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, pkix::PkiStatus::kGranted) << r->status_string;
  EXPECT_EQ(X509_cmp(Load(kTsa).get(), tsa->certificate().get()), 0);
}

}  // namespace
}  // namespace kyso::ca
