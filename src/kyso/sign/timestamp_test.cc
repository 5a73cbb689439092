#include "kyso/sign/timestamp.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>

#include "kyso/http/server.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/tsp.h"
#include "kyso/sign/testing.h"
#include "kyso/verify/timestamp_token.h"

namespace kyso::sign {
namespace {

// Answer is how the test TSA behaves.
enum class Answer { kGood, kOtherNonce, kRejection, kHttpError, kGarbage };

// TestTsa is an RFC 3161 server on a free loopback port, built from kyso's own TSP pieces.
class TestTsa {
 public:
  TestTsa() : server_({.listen = "127.0.0.1:0", .threads = 1}, [this](const http::Request& r) { return Handle(r); }) {
    key_ = std::move(pkix::KeySigner::Generate("ec-p256")).value();
    root_ = pkix::testutil::MakeTestCert(*key_, nullptr, key_->public_key(), "TSA", false, "timeStamping");
    port_ = *server_.Start();
  }
  ~TestTsa() { server_.Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/tsa"; }
  void set_answer(Answer a) { answer_ = a; }

 private:
  http::Response Handle(const http::Request& req) {
    http::Response resp;
    resp.content_type = "application/timestamp-reply";
    if (answer_ == Answer::kHttpError) return {.status = 500};
    if (answer_ == Answer::kGarbage) {
      resp.body = "not DER";
      return resp;
    }
    if (answer_ == Answer::kRejection) {
      const Bytes r = pkix::EncodeTimeStampRejection(pkix::TspFailure::kBadAlg, "thử nghiệm");
      resp.body.assign(r.begin(), r.end());
      return resp;
    }
    Result<pkix::TimeStampReq> parsed = pkix::ParseTimeStampReq(AsBytes(req.body));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (answer_ == Answer::kOtherNonce) parsed->nonce_der = Bytes{0x02, 0x01, 0x07};
    static constexpr uint8_t kPolicy[] = {0x2a, 0x03};
    pkix::TstInfoOptions o;
    o.policy_oid_body = kPolicy;
    o.gen_time = Utc(2026, 11, 25, 7, 0, 0);
    const uint8_t serial[] = {1};
    const Bytes tst = *pkix::EncodeTstInfo(*parsed, serial, o);
    const Bytes token = *pkix::SignTimeStampToken(tst, root_.get(), {}, true, *key_);
    const Bytes r = pkix::EncodeTimeStampGranted(token);
    resp.body.assign(r.begin(), r.end());
    return resp;
  }

  std::unique_ptr<pkix::KeySigner> key_;
  ossl::UniquePtr<X509> root_;
  std::atomic<Answer> answer_{Answer::kGood};
  http::Server server_;
  uint16_t port_ = 0;
};

Bytes Digest() {
  Bytes d(32);
  SHA256(reinterpret_cast<const uint8_t*>("abc"), 3, d.data());
  return d;
}

TEST(HttpTimestamperTest, GetsATokenOverTheDigest) {
  TestTsa tsa;
  auto client = NewHttpTimestamper(tsa.url(), std::chrono::seconds(5));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<Bytes> token = (*client)->Timestamp(Digest());
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(pkix::IsDerSequence(*token));
}

TEST(HttpTimestamperTest, RefusesAnswersThatAreNotAboutTheRequest) {
  TestTsa tsa;
  auto client = NewHttpTimestamper(tsa.url(), std::chrono::seconds(5));
  ASSERT_TRUE(client.ok());
  const std::pair<Answer, Code> cases[] = {{Answer::kOtherNonce, Code::kUnavailable},
                                           {Answer::kRejection, Code::kFailedPrecondition},
                                           {Answer::kHttpError, Code::kUnavailable},
                                           {Answer::kGarbage, Code::kUnavailable}};
  for (const auto& [answer, code] : cases) {
    tsa.set_answer(answer);
    Result<Bytes> token = (*client)->Timestamp(Digest());
    EXPECT_EQ(token.status().code(), code) << static_cast<int>(answer) << " " << token.status().ToString();
    EXPECT_NE(token.status().message().find("dấu thời gian"), std::string::npos) << token.status().message();
  }
  EXPECT_EQ((*client)->Timestamp(Bytes(20)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(NewHttpTimestamper("https://tsa.example/", std::chrono::seconds(1)).status().code(),
            Code::kInvalidArgument);
}

// What goes into a document is checked first: the TSA's signature and certificate path to the
// anchors (with the timeStamping EKU) and the imprint.
TEST(VerifyTimestampTokenTest, AcceptsOnlyTrustedTokensOverTheDigest) {
  testing::InProcessTimestamper tsa(Utc(2026, 11, 25, 7, 0, 0));
  const Bytes digest = Digest();
  Result<Bytes> token = tsa.Timestamp(digest);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  Result<verify::VerifiedTimestamp> v = verify::VerifyTimestampToken(*token, digest, {tsa.root()}, {});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(X509_cmp(v->tsa_cert.get(), tsa.tsa_certificate()), 0);
  EXPECT_EQ(v->gen_time, Utc(2026, 11, 25, 7, 0, 0));
  EXPECT_FALSE(v->certificates.empty());

  Bytes other = digest;
  other[0] ^= 1;
  EXPECT_EQ(verify::VerifyTimestampToken(*token, other, {tsa.root()}, {}).status().code(), Code::kFailedPrecondition);
  testing::InProcessTimestamper stranger(Utc(2026, 11, 25, 7, 0, 0));
  EXPECT_EQ(verify::VerifyTimestampToken(*token, digest, {stranger.root()}, {}).status().code(), Code::kFailedPrecondition);
  Bytes broken = *token;
  broken[broken.size() - 3] ^= 1;  // inside the TSA's signature value
  EXPECT_EQ(verify::VerifyTimestampToken(broken, digest, {tsa.root()}, {}).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(verify::VerifyTimestampToken(Bytes{0x30, 0x00}, digest, {tsa.root()}, {}).status().code(), Code::kFailedPrecondition);
}

// A token signed by a certificate without the timeStamping EKU is refused (RFC 3161 2.3), even
// though its path to the root is good.
TEST(VerifyTimestampTokenTest, RequiresTheTimeStampingEku) {
  auto root_key = std::move(pkix::KeySigner::Generate("ec-p256")).value();
  auto root = pkix::testutil::MakeTestCert(*root_key, nullptr, root_key->public_key(), "Root", true);
  auto key = std::move(pkix::KeySigner::Generate("ec-p256")).value();
  auto no_eku = pkix::testutil::MakeTestCert(*root_key, root.get(), key->public_key(), "Not a TSA", false);
  const Bytes digest = Digest();
  const uint8_t nonce[] = {1, 2};
  const Bytes req_der = *pkix::EncodeTimeStampReq(NID_sha256, digest, nonce, true);
  const pkix::TimeStampReq req = *pkix::ParseTimeStampReq(req_der);
  static constexpr uint8_t kPolicy[] = {0x2a, 0x03};
  pkix::TstInfoOptions o;
  o.policy_oid_body = kPolicy;
  o.gen_time = Utc(2026, 11, 25, 7, 0, 0);
  const uint8_t serial[] = {9};
  const Bytes tst = *pkix::EncodeTstInfo(req, serial, o);
  const Bytes token = *pkix::SignTimeStampToken(tst, no_eku.get(), {}, true, *key);
  EXPECT_EQ(verify::VerifyTimestampToken(token, digest, {root.get()}, {}).status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace kyso::sign
