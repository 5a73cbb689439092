#include "kyso/mss/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

#include "kyso/base/secret.h"
#include "kyso/mss/mss_signer.h"

namespace kyso::mss {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

constexpr uint32_t kMaxHeaderLen = 16 * 1024;

bhttp::request<bhttp::string_body> MakeRequest(const HttpUrl& url, std::string_view soap_action,
                                               std::string body) {
  bhttp::request<bhttp::string_body> req(bhttp::verb::post, url.target, 11);
  req.set(bhttp::field::host, url.host.find(':') == std::string::npos
                                  ? url.host + ":" + url.port
                                  : "[" + url.host + "]:" + url.port);
  req.set(bhttp::field::user_agent, "kyso-mss");
  req.set(bhttp::field::content_type, "text/xml; charset=utf-8");
  req.set("SOAPAction", "\"" + std::string(soap_action) + "\"");
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.starts_with("https://")) {
    return InvalidArgumentError("URL MSSP " + std::string(url) +
                                ": https chưa được hỗ trợ; hãy đặt một proxy TLS (ví dụ stunnel) "
                                "phía trước và dùng http:// tới proxy");
  }
  if (!url.starts_with(kHttp)) {
    return InvalidArgumentError("URL MSSP phải có dạng http://máy:cổng/đường-dẫn, không phải '" +
                                std::string(url) + "'");
  }
  HttpUrl out;
  out.text = std::string(url);
  std::string_view rest = url.substr(kHttp.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("URL MSSP: thiếu ']'");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return InvalidArgumentError("URL MSSP: cổng không hợp lệ");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.host.find_first_of("@ \t") != std::string::npos) {
    return InvalidArgumentError("URL MSSP: thiếu tên máy hoặc tên máy không hợp lệ");
  }
  if (port.empty()) {
    out.port = "80";
  } else {
    unsigned p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535) {
      return InvalidArgumentError("URL MSSP: cổng không hợp lệ");
    }
    out.port = std::string(port);
  }
  return out;
}

namespace {

// PostOp is one HTTP exchange on a private io_context: resolve, connect, write, read the
// header, read the body. One timer bounds it: first the connect deadline, then the overall
// one; when it fires it cancels whatever step is pending.
class PostOp final {
 public:
  PostOp(const HttpUrl& url, bhttp::request<bhttp::string_body> req,
         steady_clock::time_point deadline, std::size_t max_response_len)
      : url_(url), req_(std::move(req)), deadline_(deadline), max_len_(max_response_len) {
    parser_.body_limit(max_response_len);
    parser_.header_limit(kMaxHeaderLen);
  }
  ~PostOp() { Cleanse(req_.body().data(), req_.body().size()); }  // it may hold AP_PWD

  Result<HttpResponse> Run(bool* timed_out_out) {
    Arm(std::min(deadline_, steady_clock::now() + kConnectTimeout));
    resolver_.async_resolve(
        url_.host, url_.port, [this](beast::error_code ec, tcp::resolver::results_type r) {
          if (ec) return Finish(ec, "phân giải tên");
          stream_.async_connect(
              r, [this](beast::error_code ec2, const tcp::endpoint&) { OnConnect(ec2); });
        });
    ioc_.run();
    return Outcome(timed_out_out);
  }

 private:
  static constexpr std::chrono::seconds kConnectTimeout{10};

  void Arm(steady_clock::time_point when) {
    const bool overall = when >= deadline_;
    timer_.expires_at(when);
    timer_.async_wait([this, overall](beast::error_code ec) {
      if (ec) return;  // cancelled or re-armed
      (overall ? timed_out_ : connect_timed_out_) = true;
      resolver_.cancel();
      beast::error_code ignored;
      stream_.socket().close(ignored);
    });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Finish(ec, "kết nối");
    Arm(deadline_);
    bhttp::async_write(stream_, req_, [this](beast::error_code ec2, std::size_t) {
      if (ec2) return Finish(ec2, "gửi yêu cầu");
      bhttp::async_read_header(stream_, buffer_, parser_,
                               [this](beast::error_code ec3, std::size_t) { OnHeader(ec3); });
    });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return Finish(ec, "đọc trả lời");
    // Boost 1.74's response parser drops its body_limit error when the body's first bytes
    // arrive together with the header, so the declared length is checked here.
    if (parser_.content_length() && *parser_.content_length() > max_len_) {
      return Finish(bhttp::error::body_limit, "đọc trả lời");
    }
    bhttp::async_read(stream_, buffer_, parser_,
                      [this](beast::error_code ec2, std::size_t) { Finish(ec2, "đọc trả lời"); });
  }

  void Finish(beast::error_code ec, const char* stage) {
    result_ = ec;
    stage_ = stage;
    timer_.cancel();
  }

  Result<HttpResponse> Outcome(bool* timed_out_out) {
    if (!result_ && parser_.is_done()) {
      HttpResponse out;
      out.status = parser_.get().result_int();
      out.content_type = std::string(parser_.get()[bhttp::field::content_type]);
      out.body = std::move(parser_.get().body());
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return out;
    }
    if (timed_out_) {
      if (timed_out_out != nullptr) *timed_out_out = true;
      return Status(kTimeoutCode, "MSSP tại " + url_.text + " không trả lời kịp thời hạn");
    }
    if (connect_timed_out_) {
      return UnavailableError("Không kết nối được tới MSSP tại " + url_.text + " trong " +
                              std::to_string(kConnectTimeout.count()) + " giây");
    }
    if (result_ == bhttp::error::body_limit) {
      return UnavailableError("MSSP tại " + url_.text + " trả lời lớn hơn " +
                              std::to_string(max_len_ / 1024) + " KiB; đã bỏ qua");
    }
    return UnavailableError("Không liên lạc được với MSSP tại " + url_.text + " (" + stage_ + ": " +
                            result_.message() + ")");
  }

  const HttpUrl& url_;
  asio::io_context ioc_;
  tcp::resolver resolver_{ioc_};
  beast::tcp_stream stream_{ioc_};
  asio::steady_timer timer_{ioc_};
  bhttp::request<bhttp::string_body> req_;
  bhttp::response_parser<bhttp::string_body> parser_;
  beast::flat_buffer buffer_;
  const steady_clock::time_point deadline_;
  const std::size_t max_len_;
  bool connect_timed_out_ = false;
  bool timed_out_ = false;
  beast::error_code result_;
  const char* stage_ = "";
};

}  // namespace

Result<HttpResponse> HttpPost(const HttpUrl& url, std::string_view soap_action, std::string body,
                              steady_clock::time_point deadline, std::size_t max_response_len,
                              bool* timed_out) {
  PostOp op(url, MakeRequest(url, soap_action, std::move(body)), deadline, max_response_len);
  return op.Run(timed_out);
}

}  // namespace kyso::mss
