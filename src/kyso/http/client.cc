#include "kyso/http/client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

#include "kyso/base/secret.h"

namespace kyso::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

constexpr uint32_t kMaxHeaderLen = 16 * 1024;
constexpr std::chrono::seconds kConnectTimeout{10};

Result<std::string> ParsePort(std::string_view port) {
  if (port.empty()) return std::string("80");
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535) {
    return InvalidArgumentError("URL: cổng không hợp lệ");
  }
  return std::string(port);
}

Result<bhttp::request<bhttp::string_body>> MakeRequest(HttpRequestSpec& spec) {
  const bhttp::verb verb = bhttp::string_to_verb(spec.method);
  if (verb == bhttp::verb::unknown) {
    return InvalidArgumentError("unknown HTTP method '" + spec.method + "'");
  }
  const Url& url = spec.url;
  bhttp::request<bhttp::string_body> req(verb, url.target, 11);
  req.set(bhttp::field::host, url.host.find(':') == std::string::npos
                                  ? url.host + ":" + url.port
                                  : "[" + url.host + "]:" + url.port);
  req.set(bhttp::field::user_agent, spec.user_agent);
  if (!spec.content_type.empty()) req.set(bhttp::field::content_type, spec.content_type);
  for (const auto& [name, value] : spec.headers) req.set(name, value);
  req.keep_alive(false);
  req.body() = std::move(spec.body);
  req.prepare_payload();
  return req;
}

// Exchange is one HTTP exchange on a private io_context: resolve, connect, write, read the
// header, read the body. One timer bounds it: first the connect deadline, then the overall
// one; when it fires it cancels whatever step is pending.
class Exchange final {
 public:
  Exchange(const HttpRequestSpec& spec, bhttp::request<bhttp::string_body> req,
           steady_clock::time_point deadline, std::size_t max_response_len)
      : spec_(spec), req_(std::move(req)), deadline_(deadline), max_len_(max_response_len) {
    parser_.body_limit(max_response_len);
    parser_.header_limit(kMaxHeaderLen);
  }
  ~Exchange() {
    if (spec_.secret_body) Cleanse(req_.body().data(), req_.body().size());
  }

  Result<HttpResponse> Run() {
    Arm(std::min(deadline_, steady_clock::now() + kConnectTimeout));
    resolver_.async_resolve(
        spec_.url.host, spec_.url.port,
        [this](beast::error_code ec, tcp::resolver::results_type r) {
          if (ec) return Finish(ec, "phân giải tên");
          stream_.async_connect(
              r, [this](beast::error_code ec2, const tcp::endpoint&) { OnConnect(ec2); });
        });
    ioc_.run();
    return Outcome();
  }

 private:
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

  Result<HttpResponse> Outcome() {
    const std::string& url = spec_.url.text;
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
      return Status(Code::kDeadlineExceeded,
                    spec_.peer + " tại " + url + " không trả lời kịp thời hạn");
    }
    if (connect_timed_out_) {
      return UnavailableError("Không kết nối được tới " + spec_.peer + " tại " + url + " trong " +
                              std::to_string(kConnectTimeout.count()) + " giây");
    }
    if (result_ == bhttp::error::body_limit || result_ == bhttp::error::header_limit) {
      return UnavailableError(spec_.peer + " tại " + url + " trả lời lớn hơn " +
                              std::to_string(max_len_ / 1024) + " KiB; đã bỏ qua");
    }
    return UnavailableError("Không liên lạc được với " + spec_.peer + " tại " + url + " (" +
                            stage_ + ": " + result_.message() + ")");
  }

  const HttpRequestSpec& spec_;
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

Result<Url> ParseUrl(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.starts_with("https://")) {
    return InvalidArgumentError("URL " + std::string(url) +
                                ": https chưa được hỗ trợ; hãy đặt một proxy TLS (ví dụ stunnel) "
                                "phía trước và dùng http:// tới proxy");
  }
  if (!url.starts_with(kHttp)) {
    return InvalidArgumentError("URL phải có dạng http://máy:cổng/đường-dẫn, không phải '" +
                                std::string(url) + "'");
  }
  Url out;
  out.text = std::string(url);
  std::string_view rest = url.substr(kHttp.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("URL: thiếu ']'");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return InvalidArgumentError("URL: cổng không hợp lệ");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.host.find_first_of("@ \t") != std::string::npos) {
    return InvalidArgumentError("URL: thiếu tên máy hoặc tên máy không hợp lệ");
  }
  if (out.target.find_first_of(" \t\r\n") != std::string::npos) {
    return InvalidArgumentError("URL: đường dẫn chứa ký tự không hợp lệ");
  }
  KYSO_ASSIGN_OR_RETURN(out.port, ParsePort(port));
  return out;
}

Result<HttpResponse> Send(HttpRequestSpec spec, steady_clock::time_point deadline,
                          std::size_t max_response_len) {
  KYSO_ASSIGN_OR_RETURN(auto req, MakeRequest(spec));
  Exchange exchange(spec, std::move(req), deadline, max_response_len);
  return exchange.Run();
}

Result<HttpResponse> HttpRequest(std::string_view method, std::string_view url,
                                 std::string_view content_type, std::string body,
                                 steady_clock::time_point deadline, std::size_t max_response_len) {
  HttpRequestSpec spec;
  spec.method = std::string(method);
  KYSO_ASSIGN_OR_RETURN(spec.url, ParseUrl(url));
  spec.content_type = std::string(content_type);
  spec.body = std::move(body);
  return Send(std::move(spec), deadline, max_response_len);
}

}  // namespace kyso::http
