#include "kyso/sign/timestamp.h"

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>

#include "kyso/http/client.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/tsp.h"

namespace kyso::sign {
namespace {

// kNonceLen: 64 bits, what `openssl ts -query` sends; RFC 3161 asks for a large random number.
constexpr std::size_t kNonceLen = 8;

class HttpTimestamper final : public Timestamper {
 public:
  HttpTimestamper(http::Url url, std::chrono::milliseconds timeout)
      : url_(std::move(url)), timeout_(timeout) {}

  Result<Bytes> Timestamp(ByteSpan sha256_digest) override {
    Bytes nonce(kNonceLen);
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) return ossl::Error("nonce");
    nonce[0] &= 0x7f;  // positive, and its DER INTEGER keeps all 8 octets unless it leads with 0
    if (nonce[0] == 0) nonce[0] = 1;
    KYSO_ASSIGN_OR_RETURN(Bytes request,
                          pkix::EncodeTimeStampReq(NID_sha256, sha256_digest, nonce, true));
    http::HttpRequestSpec spec;
    spec.method = "POST";
    spec.url = url_;
    spec.content_type = "application/timestamp-query";
    spec.body.assign(request.begin(), request.end());
    spec.peer = "máy chủ dấu thời gian";
    KYSO_ASSIGN_OR_RETURN(
        http::HttpResponse resp,
        http::Send(std::move(spec), std::chrono::steady_clock::now() + timeout_,
                   pkix::kMaxTimeStampRespLen));
    if (resp.status != 200) {
      return UnavailableError("máy chủ dấu thời gian " + url_.text + " trả lời HTTP " +
                              std::to_string(resp.status));
    }
    Result<pkix::TimeStampResp> parsed = pkix::ParseTimeStampResp(AsBytes(resp.body));
    if (!parsed.ok()) {
      return UnavailableError("máy chủ dấu thời gian " + url_.text +
                              " trả lời không đúng RFC 3161: " + parsed.status().message());
    }
    if (parsed->status != pkix::PkiStatus::kGranted &&
        parsed->status != pkix::PkiStatus::kGrantedWithMods) {
      return FailedPreconditionError("máy chủ dấu thời gian " + url_.text + " từ chối cấp dấu" +
                                     (parsed->status_string.empty() ? std::string()
                                                                    : ": " + parsed->status_string));
    }
    // The answer must be about this request: same digest, same nonce (RFC 3161 2.4.2).
    pkix::DerWriter nonce_writer;
    nonce_writer.UnsignedInteger(nonce);
    const Bytes want_nonce = std::move(nonce_writer).Finish();
    if (parsed->hash_nid != NID_sha256 ||
        !std::equal(parsed->hashed_message.begin(), parsed->hashed_message.end(),
                    sha256_digest.begin(), sha256_digest.end()) ||
        !parsed->nonce_der || *parsed->nonce_der != want_nonce) {
      return UnavailableError("máy chủ dấu thời gian " + url_.text +
                              " trả về dấu thời gian không khớp với yêu cầu");
    }
    return std::move(parsed->token_der);
  }

 private:
  http::Url url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

Result<std::unique_ptr<Timestamper>> NewHttpTimestamper(const std::string& url,
                                                        std::chrono::milliseconds timeout) {
  KYSO_ASSIGN_OR_RETURN(http::Url parsed, http::ParseUrl(url));
  return std::unique_ptr<Timestamper>(new HttpTimestamper(std::move(parsed), timeout));
}

}  // namespace kyso::sign
