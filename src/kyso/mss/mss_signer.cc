#include "kyso/mss/mss_signer.h"

#include <openssl/ecdsa.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "kyso/mss/http_client.h"

namespace kyso::mss {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t kSha256Len = 32;
constexpr milliseconds kMinTimeout{1000};
constexpr milliseconds kMaxTimeout{10 * 60 * 1000};
constexpr milliseconds kMinPollInterval{100};

// MSS status codes that are not errors.
constexpr int kRequestOk = 100;
constexpr int kSignature = 500;
constexpr int kValidSignature = 502;
constexpr int kOutstanding = 504;

struct CodeText {
  int mss_code;
  Code code;
  const char* text;  // for a person; " (MSS <code> <NAME>)" is appended
};

// What each TS 102 204 error status means for kyso's caller (see mss_signer.h).
const CodeText kCodeTexts[] = {
    {101, Code::kInvalidArgument, "MSSP báo yêu cầu ký có tham số sai"},
    {102, Code::kInvalidArgument, "MSSP báo yêu cầu ký thiếu tham số"},
    {103, Code::kInvalidArgument, "Dữ liệu cần ký dài quá mức MSSP chấp nhận"},
    {104, Code::kUnauthenticated,
     "MSSP từ chối quyền truy cập của kyso: AP_ID hoặc mật khẩu AP sai, hoặc kyso chưa được cấp "
     "dịch vụ này"},
    {105, Code::kNotFound, "Số thuê bao {} chưa đăng ký dịch vụ ký số SIM PKI với MSSP"},
    {106, Code::kInvalidArgument, "MSSP yêu cầu thực hiện bắt tay (handshake) trước khi ký"},
    {107, Code::kInvalidArgument, "MSSP không xử lý được kiểu MIME hoặc cách mã hóa của dữ liệu"},
    {108, Code::kInvalidArgument, "Phiên bản giao thức của kyso không tương thích với MSSP"},
    {109, Code::kInvalidArgument, "MSSP không hỗ trợ hồ sơ chữ ký (SignatureProfile) đã cấu hình"},
    {208, kTimeoutCode, "Hết thời gian chờ xác nhận trên điện thoại"},
    {209, Code::kUnavailable,
     "MSSP không liên lạc được với điện thoại của thuê bao {} (máy tắt hoặc mất sóng)"},
    {401, Code::kPermissionDenied, "Người ký đã từ chối ký trên điện thoại"},
    {402, Code::kFailedPrecondition,
     "Mã PIN ký số của SIM PKI đã bị khóa; cần mở khóa SIM trước khi ký tiếp"},
    {403, Code::kFailedPrecondition, "Thẻ SIM PKI đã bị khóa"},
    {404, Code::kNotFound, "Không tìm thấy khóa ký trên SIM PKI của số thuê bao {}"},
    {405, Code::kNotFound, "MSSP không tìm thấy địa chỉ (URL) cần cho giao dịch"},
    {406, Code::kUnavailable, "Lỗi trong quá trình ký trên điện thoại"},
    {407, Code::kUnavailable, "Đăng ký SIM PKI với MSSP không thành công"},
    {422, Code::kNotFound, "MSSP không tìm thấy chứng thư số của số thuê bao {}"},
    {423, Code::kUnavailable, "MSSP gặp sự cố với danh sách chứng thư bị thu hồi (CRL)"},
    {424, Code::kUnavailable, "Danh sách chứng thư bị thu hồi (CRL) của MSSP đã hết hạn"},
    {425, Code::kUnavailable, "MSSP không kiểm tra được chứng thư số"},
    {501, Code::kInternal, "MSSP báo chứng thư số của người ký đã bị thu hồi"},
    {503, Code::kInternal, "MSSP báo chữ ký không hợp lệ"},
    {780, Code::kUnavailable, "MSSP hiện không cung cấp được dịch vụ"},
    {900, Code::kUnavailable, "Lỗi nội bộ của MSSP"},
};

std::string Fill(std::string_view text, std::string_view msisdn) {
  std::string out(text);
  if (const auto at = out.find("{}"); at != std::string::npos) out.replace(at, 2, msisdn);
  return out;
}

std::string CodeSuffix(int mss_code) {
  std::string out = " (MSS " + std::to_string(mss_code);
  if (const std::string_view name = StatusCodeName(mss_code); !name.empty()) {
    out += " " + std::string(name);
  }
  return out + ")";
}

struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

std::string WholeSeconds(milliseconds ms) { return std::to_string((ms.count() + 999) / 1000); }

class MssSigner final : public pkix::Signer {
 public:
  MssSigner(MssOptions options, HttpUrl url, HttpUrl status_url, ossl::UniquePtr<EVP_PKEY> key,
            pkix::SignatureAlgorithm alg)
      : options_(std::move(options)),
        url_(std::move(url)),
        status_url_(std::move(status_url)),
        key_(std::move(key)),
        alg_(alg),
        ec_field_len_(static_cast<std::size_t>((EVP_PKEY_get_bits(key_.get()) + 7) / 8)) {}

  pkix::SignatureAlgorithm algorithm() const override { return alg_; }
  const EVP_PKEY* public_key() const override { return key_.get(); }

  Result<Bytes> Sign(ByteSpan tbs) override {
    const auto deadline = steady_clock::now() + options_.timeout;
    KYSO_ASSIGN_OR_RETURN(std::string request, BuildRequest(tbs));
    KYSO_ASSIGN_OR_RETURN(Message answer,
                          Exchange(url_, kActionSignature, std::move(request), deadline));
    if (answer.type != MessageType::kSignatureResp) {
      return InternalError("MSSP trả lời MSS_Signature bằng một thông điệp khác loại");
    }
    if (options_.mode == MessagingMode::kAsynchClientServer && answer.status_code == kRequestOk) {
      KYSO_ASSIGN_OR_RETURN(answer, Poll(answer.mssp_trans_id, deadline));
    }
    KYSO_ASSIGN_OR_RETURN(Bytes sig, SignatureFrom(answer));
    return Checked(std::move(sig), tbs);
  }

  // BuildRequest makes the MSS_SignatureReq for the SHA-256 of `tbs`. Also used once by
  // NewMssSigner to check the options' text fields.
  Result<std::string> BuildRequest(ByteSpan tbs) const {
    Bytes digest(kSha256Len);
    unsigned len = 0;
    if (EVP_Digest(tbs.data(), tbs.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
      return ossl::Error("SHA-256");
    }
    SignatureRequest r;
    r.ap = NewApInfo();
    r.mssp_id = options_.mssp_id;
    r.msisdn = options_.msisdn;
    if (options_.digest_info) {
      r.data_to_be_signed.assign(std::begin(pkix::kSha256DigestInfoPrefix),
                                 std::end(pkix::kSha256DigestInfoPrefix));
    }
    r.data_to_be_signed.insert(r.data_to_be_signed.end(), digest.begin(), digest.end());
    r.display_text = options_.display_text;
    r.signature_profile = options_.signature_profile;
    r.mss_format = options_.mss_format;
    r.mode = options_.mode;
    r.timeout_seconds = static_cast<int>(options_.timeout.count() / 1000);
    return BuildSignatureRequest(r);
  }

 private:
  ApInfo NewApInfo() const {
    static std::atomic<uint64_t> counter{0};
    uint8_t random[8] = {};
    if (RAND_bytes(random, sizeof(random)) != 1) {
      // Uniqueness then rests on the time and counter below; still an NCName.
      std::fill(std::begin(random), std::end(random), 0);
    }
    const auto now = std::chrono::system_clock::now();
    ApInfo ap;
    ap.ap_id = options_.ap_id;
    ap.trans_id = "kyso" + HexEncode(random) + "-" +
                  std::to_string(now.time_since_epoch().count() % 1000000000) + "-" +
                  std::to_string(counter.fetch_add(1));
    ap.instant = now;
    ap.password = &options_.ap_password;
    return ap;
  }

  Status TimeoutError() const {
    return Status(kTimeoutCode, "Hết thời gian chờ xác nhận trên điện thoại (số thuê bao " +
                                    options_.msisdn + ", sau " + WholeSeconds(options_.timeout) +
                                    " giây)");
  }

  // Exchange POSTs one message and reads the answer; a SOAP fault becomes its Status.
  Result<Message> Exchange(const HttpUrl& url, std::string_view action, std::string body,
                           steady_clock::time_point deadline) const {
    bool timed_out = false;
    Result<HttpResponse> http =
        HttpPost(url, action, std::move(body), deadline, kMaxMessageLen, &timed_out);
    if (!http.ok()) return timed_out ? TimeoutError() : http.status();
    Result<Message> parsed = ParseMessage(http->body);
    if (!parsed.ok()) {
      if (http->status != 200) {
        return UnavailableError("MSSP tại " + url.text + " trả lời HTTP " +
                                std::to_string(http->status));
      }
      return InternalError("MSSP tại " + url.text +
                           " trả lời không đúng TS 102 204: " + parsed.status().message());
    }
    if (parsed->type == MessageType::kFault) {
      if (parsed->status_code == 0) {
        return UnavailableError("MSSP tại " + url.text +
                                " báo lỗi SOAP: " + parsed->status_message);
      }
      return StatusForMssCode(parsed->status_code, options_.msisdn);
    }
    return parsed;
  }

  // Poll sends MSS_StatusQuery every poll_interval until the transaction is no longer
  // 504 OUTSTANDING_TRANSACTION or the deadline passes.
  Result<Message> Poll(const std::string& mssp_trans_id, steady_clock::time_point deadline) const {
    if (mssp_trans_id.empty()) {
      return InternalError("MSSP nhận yêu cầu bất đồng bộ nhưng không cho MSSP_TransID");
    }
    for (;;) {
      const auto now = steady_clock::now();
      if (now >= deadline) return TimeoutError();
      std::this_thread::sleep_for(
          std::min<steady_clock::duration>(options_.poll_interval, deadline - now));
      if (steady_clock::now() >= deadline) return TimeoutError();
      StatusQuery q{NewApInfo(), options_.mssp_id, mssp_trans_id};
      KYSO_ASSIGN_OR_RETURN(std::string body, BuildStatusQuery(q));
      KYSO_ASSIGN_OR_RETURN(Message m,
                            Exchange(status_url_, kActionStatusQuery, std::move(body), deadline));
      if (m.type != MessageType::kStatusResp && m.type != MessageType::kSignatureResp) {
        return InternalError("MSSP trả lời MSS_StatusQuery bằng một thông điệp khác loại");
      }
      if (m.status_code != kOutstanding) return m;
    }
  }

  Result<Bytes> SignatureFrom(const Message& m) const {
    if (m.status_code == kSignature || m.status_code == kValidSignature) {
      if (!m.signature || m.signature->empty()) {
        return InternalError("MSSP báo đã ký" + CodeSuffix(m.status_code) +
                             " nhưng không gửi chữ ký");
      }
      return *m.signature;
    }
    if (m.status_code == kRequestOk || m.status_code == kOutstanding) {
      return InternalError("MSSP trả lời" + CodeSuffix(m.status_code) + " không hợp với chế độ " +
                           std::string(MessagingModeName(options_.mode)));
    }
    return StatusForMssCode(m.status_code, options_.msisdn);
  }

  // Checked returns the signature in the form X.509 and CMS carry, after it verified against
  // the certificate's key: nothing the MSSP sends reaches the caller unchecked.
  Result<Bytes> Checked(Bytes sig, ByteSpan tbs) const {
    if (alg_ == pkix::SignatureAlgorithm::kEcdsaSha256) {
      Result<Bytes> der = NormalizeEcdsaSignature(sig, ec_field_len_);
      if (!der.ok()) return InternalError("MSSP trả về chữ ký ECDSA sai định dạng");
      sig = std::move(der).value();
    }
    if (!pkix::VerifySignature(key_.get(), alg_, tbs, sig).ok()) {
      return InternalError(
          "Chữ ký MSSP trả về không khớp với khóa công khai trong chứng thư của số thuê bao " +
          options_.msisdn + " (khóa trên SIM khác chứng thư, hoặc MSSP lỗi); chữ ký bị loại bỏ");
    }
    return sig;
  }

  const MssOptions options_;
  const HttpUrl url_;
  const HttpUrl status_url_;
  const ossl::UniquePtr<EVP_PKEY> key_;
  const pkix::SignatureAlgorithm alg_;
  const std::size_t ec_field_len_;
};


}  // namespace

Status StatusForMssCode(int status_code, std::string_view msisdn) {
  for (const CodeText& t : kCodeTexts) {
    if (t.mss_code == status_code) {
      return Status(t.code, Fill(t.text, msisdn) + CodeSuffix(status_code));
    }
  }
  if (status_code >= 700 && status_code < 800) {
    return UnavailableError("MSSP không cung cấp được dịch vụ chuyển vùng" +
                            CodeSuffix(status_code));
  }
  return UnavailableError("MSSP trả về mã trạng thái không xác định" + CodeSuffix(status_code));
}

Result<Bytes> NormalizeEcdsaSignature(ByteSpan sig, std::size_t field_len) {
  const unsigned char* p = sig.data();
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> parsed(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (parsed && p == sig.data() + sig.size()) {
    // Re-encode so that only strict DER passes as DER.
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(parsed.get(), &der);
    if (len > 0) {
      Bytes out(der, der + len);
      OPENSSL_free(der);
      if (out.size() == sig.size() && std::equal(out.begin(), out.end(), sig.begin())) return out;
    }
  }
  if (field_len > 0 && sig.size() == 2 * field_len) return pkix::EcdsaRawToDer(sig);
  return InvalidArgumentError("ECDSA signature is neither DER nor r||s");
}

Result<std::unique_ptr<pkix::Signer>> NewMssSigner(MssOptions options,
                                                   ossl::UniquePtr<EVP_PKEY> public_key) {
  if (!public_key) return InvalidArgumentError("SIM PKI: thiếu khóa công khai của chứng thư");
  KYSO_ASSIGN_OR_RETURN(const pkix::SignatureAlgorithm alg,
                        pkix::DefaultAlgorithmFor(public_key.get(), false));
  if (alg != pkix::SignatureAlgorithm::kRsaPkcs1Sha256 &&
      alg != pkix::SignatureAlgorithm::kEcdsaSha256) {
    return InvalidArgumentError("SIM PKI ký bằng RSA hoặc ECDSA P-256 với SHA-256; khóa này là " +
                                std::string(pkix::SignatureAlgorithmName(alg)));
  }
  if (options.digest_info && alg != pkix::SignatureAlgorithm::kRsaPkcs1Sha256) {
    return InvalidArgumentError("digest_info chỉ dùng được với khóa RSA");
  }
  if (!IsMsisdn(options.msisdn)) {
    return InvalidArgumentError("Số thuê bao (MSISDN) phải là dãy chữ số, ví dụ 84912345678");
  }
  if (options.timeout < kMinTimeout || options.timeout > kMaxTimeout) {
    return InvalidArgumentError("Thời gian chờ ký trên SIM phải từ 1 giây đến 10 phút");
  }
  if (options.poll_interval < kMinPollInterval || options.poll_interval > options.timeout) {
    return InvalidArgumentError("Chu kỳ hỏi trạng thái phải từ 100 ms đến thời gian chờ");
  }
  KYSO_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(options.url));
  KYSO_ASSIGN_OR_RETURN(
      HttpUrl status_url,
      ParseHttpUrl(options.status_url.empty() ? options.url : options.status_url));
  // Plain HTTP carries AP_PWD in clear text: only to this host (a TLS proxy on it, such as
  // stunnel), never across a network.
  const auto loopback = [](const HttpUrl& u) {
    return u.host == "127.0.0.1" || u.host == "localhost" || u.host == "::1";
  };
  if (!options.ap_password.empty() && (!loopback(url) || !loopback(status_url))) {
    return InvalidArgumentError("Mật khẩu AP_PWD không được gửi qua HTTP không mã hóa tới " + url.host +
                                "; dùng một proxy TLS trên máy này (http://127.0.0.1:...)");
  }
  auto signer = std::make_unique<MssSigner>(std::move(options), std::move(url),
                                            std::move(status_url), std::move(public_key), alg);
  const uint8_t probe[1] = {0};
  KYSO_RETURN_IF_ERROR(signer->BuildRequest(probe));  // rejects text XML cannot carry, now
  return std::unique_ptr<pkix::Signer>(std::move(signer));
}

}  // namespace kyso::mss
