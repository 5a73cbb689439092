#include "kyso/verify/path.h"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "kyso/pkix/signer.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/x509.h"

namespace kyso::verify {
namespace {

using pkix::KeySigner;
using pkix::testutil::MakeTestCert;

std::unique_ptr<KeySigner> NewKey() { return std::move(KeySigner::Generate("ec-p256")).value(); }

// KeySigner's public_key() is the whole in-process key: what the OpenSSL signing calls of
// these tests need.
EVP_PKEY* PrivateKey(const KeySigner& k) { return const_cast<EVP_PKEY*>(k.public_key()); }

struct Revocation {
  const X509* cert;
  Time at;
  int reason;  // CRL_REASON_*
};

// MakeCrl signs a CRL by `issuer` listing `revoked`, valid 2026-01-01..2040-01-01.
Bytes MakeCrl(const X509* issuer, const KeySigner& key, std::vector<Revocation> revoked = {}) {
  ossl::UniquePtr<X509_CRL> crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer));
  ossl::UniquePtr<ASN1_STRING> t1(
      ASN1_TIME_set(nullptr, static_cast<time_t>(Utc(2026, 1, 1).time_since_epoch().count())));
  ossl::UniquePtr<ASN1_STRING> t2(
      ASN1_TIME_set(nullptr, static_cast<time_t>(Utc(2040, 1, 1).time_since_epoch().count())));
  X509_CRL_set1_lastUpdate(crl.get(), t1.get());
  X509_CRL_set1_nextUpdate(crl.get(), t2.get());
  for (const Revocation& r : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(entry, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(r.cert)));
    ossl::UniquePtr<ASN1_STRING> when(
        ASN1_TIME_set(nullptr, static_cast<time_t>(r.at.time_since_epoch().count())));
    X509_REVOKED_set_revocationDate(entry, when.get());
    ossl::UniquePtr<ASN1_STRING> reason(ASN1_ENUMERATED_new());
    ASN1_ENUMERATED_set(reason.get(), r.reason);
    X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason.get(), 0, 0);
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, const_cast<X509*>(issuer), nullptr, nullptr, crl.get(), 0);
  if (X509_EXTENSION* akid =
          X509V3_EXT_conf_nid(nullptr, &v3, NID_authority_key_identifier, "keyid")) {
    X509_CRL_add_ext(crl.get(), akid, -1);
    X509_EXTENSION_free(akid);
  }
  X509_CRL_sort(crl.get());
  EXPECT_GT(X509_CRL_sign(crl.get(), PrivateKey(key), EVP_sha256()), 0);
  return ossl::ToDer(i2d_X509_CRL, crl.get());
}

// MakeOcsp signs an OCSP response about `cert` by its issuer itself.
Bytes MakeOcsp(const X509* cert, const X509* issuer, const KeySigner& issuer_key, bool revoked) {
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_BASICRESP_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
  ossl::UniquePtr<ASN1_STRING> this_update(
      ASN1_TIME_set(nullptr, static_cast<time_t>(Utc(2027, 1, 1).time_since_epoch().count())));
  ossl::UniquePtr<ASN1_STRING> next_update(
      ASN1_TIME_set(nullptr, static_cast<time_t>(Utc(2027, 1, 8).time_since_epoch().count())));
  ossl::UniquePtr<ASN1_STRING> revoked_at(
      ASN1_TIME_set(nullptr, static_cast<time_t>(Utc(2026, 12, 1).time_since_epoch().count())));
  EXPECT_NE(OCSP_basic_add1_status(
                basic.get(), id, revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD,
                revoked ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
                revoked ? revoked_at.get() : nullptr, this_update.get(), next_update.get()),
            nullptr);
  OCSP_CERTID_free(id);
  EXPECT_EQ(OCSP_basic_sign(basic.get(), const_cast<X509*>(issuer), PrivateKey(issuer_key),
                            EVP_sha256(), nullptr, OCSP_NOCERTS),
            1);
  ossl::UniquePtr<OCSP_RESPONSE> resp(
      OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  return ossl::ToDer(i2d_OCSP_RESPONSE, resp.get());
}

// Pki is a root, an intermediate CA and a leaf (MakeTestCert: valid 2026..2036), with a CRL
// from the root (about the intermediate) and one from the intermediate (about the leaf).
class PathTest : public testing::Test {
 protected:
  void SetUp() override {
    root_key_ = NewKey();
    ca_key_ = NewKey();
    leaf_key_ = NewKey();
    root_ = MakeTestCert(*root_key_, nullptr, root_key_->public_key(), "Kyso Root", true);
    ca_ = MakeTestCert(*root_key_, root_.get(), ca_key_->public_key(), "Kyso CA", true);
    leaf_ = MakeTestCert(*ca_key_, ca_.get(), leaf_key_->public_key(), "Nguyễn Văn Ấn", false);
    root_crl_ = MakeCrl(root_.get(), *root_key_);
    ca_crl_ = MakeCrl(ca_.get(), *ca_key_);
  }

  PathOptions Options() const {
    PathOptions o;
    o.anchors = {root_.get()};
    o.untrusted = {ca_.get()};
    o.crls_der = {root_crl_, ca_crl_};
    o.at = Utc(2027, 1, 2);
    return o;
  }

  PathResult Run(const PathOptions& o, const X509* cert = nullptr) {
    Result<PathResult> r = ValidatePath(cert ? cert : leaf_.get(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : PathResult{};
  }

  std::unique_ptr<KeySigner> root_key_, ca_key_, leaf_key_;
  ossl::UniquePtr<X509> root_, ca_, leaf_;
  Bytes root_crl_, ca_crl_;
};

TEST_F(PathTest, ValidPathIsTotalPassed) {
  PathResult r = Run(Options());
  EXPECT_EQ(r.indication, Indication::kTotalPassed) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kNone);
  ASSERT_EQ(r.chain.size(), 3u);
  EXPECT_EQ(X509_cmp(r.chain[0].get(), leaf_.get()), 0);
  EXPECT_EQ(X509_cmp(r.chain[2].get(), root_.get()), 0);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(IndicationName(r.indication), "TOTAL_PASSED");
}

TEST_F(PathTest, RevokedLeafIsTotalFailedRevoked) {
  PathOptions o = Options();
  o.crls_der = {root_crl_, MakeCrl(ca_.get(), *ca_key_,
                                   {{leaf_.get(), Utc(2026, 6, 1), CRL_REASON_KEY_COMPROMISE}})};
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kTotalFailed) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kRevoked);
  EXPECT_EQ(r.failing_index, 0u);
  ASSERT_TRUE(r.revoked_at.has_value());
  EXPECT_EQ(*r.revoked_at, Utc(2026, 6, 1));
  EXPECT_EQ(r.revocation_reason, pkix::CrlReason::kKeyCompromise);
  EXPECT_NE(r.message_vi.find("thu hồi"), std::string::npos) << r.message_vi;
  EXPECT_EQ(SubIndicationName(r.sub), "REVOKED");
}

TEST_F(PathTest, RevokedIntermediateIsTotalFailedRevoked) {
  PathOptions o = Options();
  o.crls_der = {MakeCrl(root_.get(), *root_key_, {{ca_.get(), Utc(2026, 3, 1), 0}}), ca_crl_};
  PathResult r = Run(o);
  EXPECT_EQ(r.sub, SubIndication::kRevoked) << r.diagnostic;
  EXPECT_EQ(r.failing_index, 1u);
}

TEST_F(PathTest, MissingCrlIsTryLaterUnlessNotRequired) {
  PathOptions o = Options();
  o.crls_der = {root_crl_};
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kIndeterminate) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kTryLater);
  EXPECT_EQ(r.failing_index, 0u);

  o.require_revocation = false;
  r = Run(o);
  EXPECT_EQ(r.indication, Indication::kTotalPassed) << r.diagnostic;
  EXPECT_EQ(r.warnings.size(), 1u);
}

TEST_F(PathTest, NationalPolicyWantsStatusWherePublished) {
  // A leaf naming a CRL distribution point, with no CRL supplied for it.
  ossl::UniquePtr<X509> unsigned_leaf(X509_dup(leaf_.get()));
  ASSERT_TRUE(pkix::AddExtension(unsigned_leaf.get(), NID_crl_distribution_points,
                                 "URI:http://crl.kyso.test/ca.crl")
                  .ok());
  Result<ossl::UniquePtr<X509>> leaf = pkix::SignCertificate(unsigned_leaf.get(), *ca_key_);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  PathOptions o = Options();
  o.crls_der = {root_crl_};
  o.require_revocation = false;
  PathResult r = Run(o, leaf->get());
  EXPECT_EQ(r.sub, SubIndication::kTryLater) << r.diagnostic;
  o.require_revocation_where_published = false;
  EXPECT_TRUE(Run(o, leaf->get()).passed());
  // A leaf with no distribution point, whose issuer's CRLs are not supplied: a warning only.
  o = Options();
  o.require_revocation = false;
  o.crls_der = {root_crl_};
  r = Run(o);
  EXPECT_TRUE(r.passed()) << r.diagnostic;
  EXPECT_EQ(r.warnings.size(), 1u);
}

TEST_F(PathTest, OcspResponsesGiveStatus) {
  PathOptions o = Options();
  o.crls_der = {root_crl_};
  o.ocsp_responses_der = {MakeOcsp(leaf_.get(), ca_.get(), *ca_key_, false)};
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kTotalPassed) << r.diagnostic;

  o.ocsp_responses_der = {MakeOcsp(leaf_.get(), ca_.get(), *ca_key_, true)};
  r = Run(o);
  EXPECT_EQ(r.indication, Indication::kTotalFailed) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kRevoked);
  ASSERT_TRUE(r.revoked_at.has_value());
  EXPECT_EQ(*r.revoked_at, Utc(2026, 12, 1));

  // A revoked answer wins over a CRL that says good.
  o.crls_der = {root_crl_, ca_crl_};
  r = Run(o);
  EXPECT_EQ(r.sub, SubIndication::kRevoked) << r.diagnostic;

  // An answer outside its validity window is no status.
  o.crls_der = {root_crl_};
  o.ocsp_responses_der = {MakeOcsp(leaf_.get(), ca_.get(), *ca_key_, false)};
  o.at = Utc(2027, 2, 1);
  r = Run(o);
  EXPECT_EQ(r.sub, SubIndication::kTryLater) << r.diagnostic;
}

TEST_F(PathTest, ExpiredIsOutOfBoundsNoPoe) {
  PathOptions o = Options();
  o.at = Utc(2037, 1, 1);
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kIndeterminate) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kOutOfBoundsNoPoe);
}

TEST_F(PathTest, ValidityPeriodIncludesNotAfterAndBeatsMissingRevocation) {
  PathOptions o = Options();
  o.at = Utc(2036, 1, 1);  // MakeTestCert's notAfter, to the second: still valid
  EXPECT_TRUE(Run(o).passed()) << Run(o).diagnostic;
  o.at = Utc(2036, 1, 1, 0, 0, 1);
  EXPECT_EQ(Run(o).sub, SubIndication::kOutOfBoundsNoPoe);
  // OpenSSL meets the missing CRL first; the expiry is the verdict.
  o.crls_der = {root_crl_};
  PathResult r = Run(o);
  EXPECT_EQ(r.sub, SubIndication::kOutOfBoundsNoPoe) << r.diagnostic;
}

TEST_F(PathTest, NotYetValid) {
  PathOptions o = Options();
  o.at = Utc(2025, 6, 1);
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kIndeterminate) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kNotYetValid);
}

TEST_F(PathTest, UnknownAnchorIsNoCertificateChainFound) {
  auto other_key = NewKey();
  auto other = MakeTestCert(*other_key, nullptr, other_key->public_key(), "Other Root", true);
  PathOptions o = Options();
  o.anchors = {other.get()};
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kIndeterminate) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kNoCertificateChainFound);

  o = Options();
  o.untrusted.clear();  // the intermediate is missing
  r = Run(o);
  EXPECT_EQ(r.sub, SubIndication::kNoCertificateChainFound) << r.diagnostic;
}

TEST_F(PathTest, BadSignatureIsSigCryptoFailure) {
  auto forger = NewKey();
  auto forged = MakeTestCert(*forger, ca_.get(), leaf_key_->public_key(), "Forged", false);
  PathResult r = Run(Options(), forged.get());
  EXPECT_EQ(r.indication, Indication::kTotalFailed) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kSigCryptoFailure);
}

TEST_F(PathTest, PolicyAndCaConstraintsAreChainConstraintsFailure) {
  PathOptions o = Options();
  o.user_initial_policy_set = {"1.3.6.1.4.1.99999.1"};
  o.initial_explicit_policy = true;  // and the test certificates carry no policies
  PathResult r = Run(o);
  EXPECT_EQ(r.indication, Indication::kIndeterminate) << r.diagnostic;
  EXPECT_EQ(r.sub, SubIndication::kChainConstraintsFailure);

  // Without an explicit policy requirement, the same set passes (RFC 5280 6.1.5).
  o.initial_explicit_policy = false;
  EXPECT_TRUE(Run(o).passed());

  // A leaf certificate cannot issue.
  auto sub_key = NewKey();
  auto sub = MakeTestCert(*leaf_key_, leaf_.get(), sub_key->public_key(), "Sub", false);
  o = Options();
  o.untrusted.push_back(leaf_.get());
  o.crls_der.push_back(MakeCrl(leaf_.get(), *leaf_key_));
  r = Run(o, sub.get());
  EXPECT_FALSE(r.passed()) << r.diagnostic;
  EXPECT_NE(r.indication, Indication::kTotalPassed);
}

TEST_F(PathTest, AnIntermediateCanBeTheAnchor) {
  PathOptions o = Options();
  o.anchors = {ca_.get()};  // RFC 5280 6.1.1 (d): an anchor need not be self-signed
  o.untrusted.clear();
  PathResult r = Run(o);
  EXPECT_TRUE(r.passed()) << r.diagnostic;
  EXPECT_EQ(r.chain.size(), 2u);
}

TEST_F(PathTest, BadInputsAreErrors) {
  EXPECT_EQ(ValidatePath(nullptr, Options()).status().code(), Code::kInvalidArgument);
  PathOptions o = Options();
  o.anchors.clear();
  EXPECT_EQ(ValidatePath(leaf_.get(), o).status().code(), Code::kInvalidArgument);
  o = Options();
  o.crls_der.push_back(Bytes{0x30, 0x03, 0x02, 0x01});
  EXPECT_EQ(ValidatePath(leaf_.get(), o).status().code(), Code::kInvalidArgument);
  o = Options();
  o.user_initial_policy_set = {"not an oid"};
  EXPECT_EQ(ValidatePath(leaf_.get(), o).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::verify
