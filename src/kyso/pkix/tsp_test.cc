#include "kyso/pkix/tsp.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ts.h>

#include <string>

#include "kyso/pkix/cms.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {
namespace {

const Time kGenTime = Utc(2027, 3, 4, 5, 6, 7);
// The TSA policy of the tests: 2.16.704.1.99.2.1.
const Bytes kPolicy = *EncodeOidBody("2.16.704.1.99.2.1");
constexpr std::string_view kDocument = "Công văn số 12/UBND-VP — bản gửi đi\n";

Bytes Sha(const EVP_MD* md, std::string_view data) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  EVP_Digest(data.data(), data.size(), out.data(), nullptr, md, nullptr);
  return out;
}

// RequestSpec describes a TimeStampReq built with OpenSSL's own encoder, as `openssl ts
// -query` builds it.
struct RequestSpec {
  const EVP_MD* md = EVP_sha256();
  std::size_t digest_len = 0;  // 0: the digest's own length
  long version = 1;
  std::size_t nonce_len = 8;  // 0: no nonce
  bool cert_req = true;
  const char* policy = nullptr;
  bool extension = false;
};

Bytes MakeRequest(const RequestSpec& spec) {
  ossl::UniquePtr<TS_REQ> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), spec.version);
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* alg = X509_ALGOR_new();
  X509_ALGOR_set_md(alg, spec.md);
  TS_MSG_IMPRINT_set_algo(imprint, alg);
  X509_ALGOR_free(alg);
  Bytes digest = Sha(spec.md, kDocument);
  if (spec.digest_len != 0) digest.resize(spec.digest_len, 0x5a);
  TS_MSG_IMPRINT_set_msg(imprint, digest.data(), static_cast<int>(digest.size()));
  TS_REQ_set_msg_imprint(req.get(), imprint);
  TS_MSG_IMPRINT_free(imprint);
  if (spec.nonce_len != 0) {
    Bytes n(spec.nonce_len, 0x42);
    ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
    ossl::UniquePtr<ASN1_INTEGER> nonce(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    TS_REQ_set_nonce(req.get(), nonce.get());
  }
  if (spec.policy != nullptr) {
    ossl::UniquePtr<ASN1_OBJECT> p(OBJ_txt2obj(spec.policy, 1));
    TS_REQ_set_policy_id(req.get(), p.get());
  }
  TS_REQ_set_cert_req(req.get(), spec.cert_req ? 1 : 0);
  if (spec.extension) {
    ossl::UniquePtr<X509_EXTENSION> ext(
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "CA:FALSE"));
    TS_REQ_add_ext(req.get(), ext.get(), -1);
  }
  return ossl::ToDer(i2d_TS_REQ, static_cast<const TS_REQ*>(req.get()));
}

TspFailure FailureOf(ByteSpan der) {
  TspFailure f = TspFailure::kSystemFailure;
  Result<TimeStampReq> r = ParseTimeStampReq(der, &f);
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  return f;
}

TEST(TimeStampReqTest, ParsesWhatOpensslWrites) {
  const Bytes der = MakeRequest({.policy = "2.16.704.1.99.2.1"});
  Result<TimeStampReq> r = ParseTimeStampReq(der);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->hash_nid, NID_sha256);
  EXPECT_EQ(r->hashed_message, Sha(EVP_sha256(), kDocument));
  EXPECT_TRUE(r->cert_req);
  EXPECT_EQ(r->req_policy_oid_body, kPolicy);
  ASSERT_TRUE(r->nonce_der.has_value());
  EXPECT_EQ(r->nonce_der->size(), 2u + 8u);
  EXPECT_TRUE(IsDerSequence(der));
}

// What kyso's TSA client sends is what its TSA (and openssl's) reads.
TEST(TimeStampReqTest, ClientRequestRoundTrips) {
  const Bytes digest = Sha(EVP_sha256(), kDocument);
  const Bytes nonce = {0x81, 2, 3, 4, 5, 6, 7, 8};  // top bit set: a 0x00 is prepended
  Result<Bytes> der = EncodeTimeStampReq(NID_sha256, digest, nonce, true);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  Result<TimeStampReq> r = ParseTimeStampReq(*der);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->hashed_message, digest);
  EXPECT_TRUE(r->cert_req);
  ASSERT_TRUE(r->nonce_der.has_value());
  EXPECT_EQ(r->nonce_der->size(), 2u + 9u);
  EXPECT_EQ(EncodeTimeStampReq(NID_sha1, Bytes(20), {}, false).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(EncodeTimeStampReq(NID_sha256, Bytes(20), {}, false).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(EncodeTimeStampReq(NID_sha256, digest, Bytes(33, 1), false).status().code(), Code::kInvalidArgument);
}

TEST(TimeStampReqTest, AcceptsSha384AndSha512WithoutNonce) {
  for (const EVP_MD* md : {EVP_sha384(), EVP_sha512()}) {
    Result<TimeStampReq> r =
        ParseTimeStampReq(MakeRequest({.md = md, .nonce_len = 0, .cert_req = false}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->hash_nid, EVP_MD_get_type(md));
    EXPECT_FALSE(r->nonce_der.has_value());
    EXPECT_FALSE(r->cert_req);
  }
}

TEST(TimeStampReqTest, RefusesSha1AndUnknownDigestsAsBadAlg) {
  EXPECT_EQ(FailureOf(MakeRequest({.md = EVP_sha1()})), TspFailure::kBadAlg);
  EXPECT_EQ(FailureOf(MakeRequest({.md = EVP_md5()})), TspFailure::kBadAlg);
  EXPECT_EQ(FailureOf(MakeRequest({.md = EVP_sha224()})), TspFailure::kBadAlg);
}

TEST(TimeStampReqTest, RefusesMalformedRequests) {
  EXPECT_EQ(FailureOf(MakeRequest({.digest_len = 20})), TspFailure::kBadDataFormat);
  EXPECT_EQ(FailureOf(MakeRequest({.version = 2})), TspFailure::kBadRequest);
  EXPECT_EQ(FailureOf(MakeRequest({.nonce_len = 33})), TspFailure::kBadRequest);
  EXPECT_EQ(FailureOf(MakeRequest({.extension = true})), TspFailure::kUnacceptedExtension);
  EXPECT_EQ(FailureOf({}), TspFailure::kBadDataFormat);
  EXPECT_EQ(FailureOf(AsBytes("not a request")), TspFailure::kBadDataFormat);
  EXPECT_EQ(FailureOf(Bytes(kMaxTimeStampReqLen + 1, 0x30)), TspFailure::kBadRequest);
  EXPECT_FALSE(IsDerSequence(AsBytes("not a request")));
  // Trailing data after a good request, and BER (a long-form length that DER forbids).
  Bytes trailing = MakeRequest({});
  trailing.push_back(0);
  EXPECT_EQ(FailureOf(trailing), TspFailure::kBadDataFormat);
  EXPECT_FALSE(IsDerSequence(trailing));
  Bytes ber = MakeRequest({});
  ASSERT_LT(ber[1], 0x80);
  ber.insert(ber.begin() + 1, 0x81);
  EXPECT_EQ(FailureOf(ber), TspFailure::kBadDataFormat);
  EXPECT_FALSE(IsDerSequence(ber));
}

TEST(TimeStampReqTest, EveryTruncationIsRefusedWithoutCrashing) {
  const Bytes der = MakeRequest({});
  for (std::size_t n = 0; n < der.size(); ++n) {
    EXPECT_FALSE(ParseTimeStampReq(ByteSpan(der).first(n)).ok()) << n;
  }
}

// Tsa is a test CA and a TSA certificate under it (critical EKU timeStamping only).
struct Tsa {
  std::unique_ptr<KeySigner> ca_key;
  ossl::UniquePtr<X509> ca;
  std::unique_ptr<KeySigner> key;
  ossl::UniquePtr<X509> cert;
};

Tsa MakeTsa(const char* spec) {
  Tsa t;
  t.ca_key = std::move(KeySigner::Generate("ec-p256")).value();
  t.ca = testutil::MakeTestCert(*t.ca_key, nullptr, t.ca_key->public_key(), "Kyso Test CA", true);
  t.key = std::move(KeySigner::Generate(spec)).value();
  t.cert = testutil::MakeTestCert(*t.ca_key, t.ca.get(), t.key->public_key(), "Kyso Test TSA", false,
                                  "timeStamping");
  return t;
}

Bytes Grant(const Tsa& tsa, ByteSpan request_der, TstInfoOptions options) {
  Result<TimeStampReq> req = ParseTimeStampReq(request_der);
  EXPECT_TRUE(req.ok()) << req.status().ToString();
  const Bytes serial = *RandomSerial();
  Result<Bytes> tst = EncodeTstInfo(*req, serial, options);
  EXPECT_TRUE(tst.ok()) << tst.status().ToString();
  Result<Bytes> token =
      SignTimeStampToken(*tst, tsa.cert.get(), {tsa.ca.get()}, req->cert_req, *tsa.key);
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  return EncodeTimeStampGranted(*token);
}

// VerifyWithOpenssl runs OpenSSL's RFC 3161 verifier (what `openssl ts -verify` does) against
// the request, with the test CA as the only anchor, at a fixed time.
bool VerifyWithOpenssl(const Tsa& tsa, ByteSpan request_der, ByteSpan response_der,
                       bool give_tsa_cert) {
  const unsigned char* p = request_der.data();
  ossl::UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der.size())));
  p = response_der.data();
  ossl::UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  if (!req || !resp) return false;
  TS_VERIFY_CTX* ctx = TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr);
  TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, tsa.ca.get());
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store),
                             Utc(2027, 6, 1).time_since_epoch().count());
  TS_VERIFY_CTX_set_store(ctx, store);
  if (give_tsa_cert) {
    STACK_OF(X509)* certs = sk_X509_new_null();
    X509_up_ref(tsa.cert.get());
    sk_X509_push(certs, tsa.cert.get());
    TS_VERIFY_CTS_set_certs(ctx, certs);
  }
  const int ok = TS_RESP_verify_response(ctx, resp.get());
  TS_VERIFY_CTX_free(ctx);
  ERR_clear_error();
  return ok == 1;
}

TEST(TimeStampTokenTest, OpensslVerifiesGrantedTokens) {
  for (const char* spec : {"rsa-2048", "ec-p256", "ec-p384"}) {
    SCOPED_TRACE(spec);
    const Tsa tsa = MakeTsa(spec);
    const Bytes req = MakeRequest({.policy = "2.16.704.1.99.2.1"});
    const Bytes resp = Grant(tsa, req,
                             {.policy_oid_body = kPolicy,
                              .gen_time = kGenTime,
                              .gen_time_fraction = std::chrono::milliseconds(250),
                              .accuracy = std::chrono::milliseconds(1500),
                              .tsa_name = X509_get_subject_name(tsa.cert.get())});
    EXPECT_TRUE(VerifyWithOpenssl(tsa, req, resp, false));

    Result<TimeStampResp> parsed = ParseTimeStampResp(resp);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->status, PkiStatus::kGranted);
    EXPECT_EQ(parsed->policy_oid, "2.16.704.1.99.2.1");
    EXPECT_EQ(parsed->hash_nid, NID_sha256);
    EXPECT_EQ(parsed->hashed_message, Sha(EVP_sha256(), kDocument));
    EXPECT_EQ(parsed->gen_time, kGenTime);
    EXPECT_EQ(parsed->serial.size(), kTsaSerialLen);
    EXPECT_EQ(parsed->nonce_der, ParseTimeStampReq(req)->nonce_der);

    // The token is a SignedData of id-ct-TSTInfo that OpenSSL's CMS reader accepts as is.
    Result<Bytes> token = TimeStampTokenFrom(resp);
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(*token, parsed->token_der);
    const unsigned char* p = token->data();
    ossl::UniquePtr<CMS_ContentInfo> cms(
        d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token->size())));
    ASSERT_TRUE(cms);
    EXPECT_EQ(OBJ_obj2nid(CMS_get0_eContentType(cms.get())), NID_id_smime_ct_TSTInfo);
    STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
    EXPECT_EQ(sk_X509_num(certs), 2);  // certReq: the TSA certificate and its CA
    sk_X509_pop_free(certs, X509_free);
  }
}

TEST(TimeStampTokenTest, WithoutCertReqTheTokenCarriesNoCertificates) {
  const Tsa tsa = MakeTsa("ec-p256");
  const Bytes req = MakeRequest({.nonce_len = 0, .cert_req = false});
  const Bytes resp = Grant(tsa, req, {.policy_oid_body = kPolicy, .gen_time = kGenTime});
  Result<Bytes> token = TimeStampTokenFrom(resp);
  ASSERT_TRUE(token.ok());
  const unsigned char* p = token->data();
  ossl::UniquePtr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token->size())));
  ASSERT_TRUE(cms);
  STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
  EXPECT_EQ(certs, nullptr);
  sk_X509_pop_free(certs, X509_free);
  EXPECT_FALSE(VerifyWithOpenssl(tsa, req, resp, false));  // nothing to find the signer by
  EXPECT_TRUE(VerifyWithOpenssl(tsa, req, resp, true));
}

TEST(TimeStampTokenTest, OpensslNoticesAChangedImprintOrNonce) {
  const Tsa tsa = MakeTsa("ec-p256");
  const Bytes req = MakeRequest({});
  const Bytes resp = Grant(tsa, req, {.policy_oid_body = kPolicy, .gen_time = kGenTime});
  EXPECT_TRUE(VerifyWithOpenssl(tsa, req, resp, false));
  EXPECT_FALSE(VerifyWithOpenssl(tsa, MakeRequest({.nonce_len = 9}), resp, false));
  EXPECT_FALSE(VerifyWithOpenssl(tsa, MakeRequest({.md = EVP_sha384()}), resp, false));
}

TEST(TstInfoTest, WritesGeneralizedTimeFractionsWithoutTrailingZeros) {
  const TimeStampReq req = *ParseTimeStampReq(MakeRequest({.nonce_len = 0}));
  const Bytes serial = {0x01};
  auto time_of = [&](std::optional<std::chrono::milliseconds> fraction) {
    Result<Bytes> tst = EncodeTstInfo(
        req, serial,
        {.policy_oid_body = kPolicy, .gen_time = kGenTime, .gen_time_fraction = fraction});
    EXPECT_TRUE(tst.ok());
    const std::string s(AsString(*tst));
    const std::size_t at = s.find("20270304");
    return at == std::string::npos ? std::string() : s.substr(at, s.find('Z', at) - at + 1);
  };
  EXPECT_EQ(time_of(std::nullopt), "20270304050607Z");
  EXPECT_EQ(time_of(std::chrono::milliseconds(0)), "20270304050607Z");
  EXPECT_EQ(time_of(std::chrono::milliseconds(500)), "20270304050607.5Z");
  EXPECT_EQ(time_of(std::chrono::milliseconds(120)), "20270304050607.12Z");
  EXPECT_EQ(time_of(std::chrono::milliseconds(7)), "20270304050607.007Z");
}

TEST(TstInfoTest, RefusesBadOptions) {
  const TimeStampReq req = *ParseTimeStampReq(MakeRequest({}));
  const Bytes serial = {0x01};
  EXPECT_EQ(EncodeTstInfo(req, serial, {.gen_time = kGenTime}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(EncodeTstInfo(req, Bytes(21, 1), {.policy_oid_body = kPolicy}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(EncodeTstInfo(
                req, serial,
                {.policy_oid_body = kPolicy, .gen_time_fraction = std::chrono::milliseconds(1000)})
                .status()
                .code(),
            Code::kInvalidArgument);
}

TEST(TimeStampRespTest, RejectionsCarryStatusStringAndFailInfo) {
  for (TspFailure f : {TspFailure::kBadAlg, TspFailure::kBadRequest, TspFailure::kBadDataFormat,
                       TspFailure::kUnacceptedPolicy, TspFailure::kUnacceptedExtension,
                       TspFailure::kSystemFailure}) {
    const Bytes der = EncodeTimeStampRejection(f, "không được: SHA-1");
    Result<TimeStampResp> r = ParseTimeStampResp(der);
    ASSERT_TRUE(r.ok()) << TspFailureName(f) << ": " << r.status().ToString();
    EXPECT_EQ(r->status, PkiStatus::kRejection);
    EXPECT_EQ(r->status_string, "không được: SHA-1");
    EXPECT_EQ(r->failure_bits, std::vector<int>{static_cast<int>(f)});
    EXPECT_TRUE(r->token_der.empty());
    Result<Bytes> token = TimeStampTokenFrom(der);
    EXPECT_EQ(token.status().code(), Code::kFailedPrecondition);
  }
  // OpenSSL's own reading of the failInfo bit (what `openssl ts -reply -text` prints).
  const Bytes der = EncodeTimeStampRejection(TspFailure::kBadAlg, "");
  const unsigned char* p = der.data();
  ossl::UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(resp);
  const ASN1_BIT_STRING* bits =
      TS_STATUS_INFO_get0_failure_info(TS_RESP_get_status_info(resp.get()));
  EXPECT_EQ(ASN1_BIT_STRING_get_bit(bits, TS_INFO_BAD_ALG), 1);
  EXPECT_EQ(ASN1_BIT_STRING_get_bit(bits, TS_INFO_BAD_REQUEST), 0);
}

TEST(TimeStampRespTest, RefusesGarbage) {
  EXPECT_EQ(ParseTimeStampResp(AsBytes("junk")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseTimeStampResp({}).status().code(), Code::kInvalidArgument);
  const Bytes granted_without_token = {0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_EQ(TimeStampTokenFrom(granted_without_token).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::pkix
