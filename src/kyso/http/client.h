#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kyso/base/status.h"

namespace kyso::http {

// Url is a parsed http:// URL.
struct Url {
  std::string host;    // without brackets for IPv6
  std::string port;    // "80" when the URL names none
  std::string target;  // path and query; "/" when empty
  std::string text;    // the URL as given, for messages
};

// ParseUrl accepts http://host[:port][/path]. https:// is refused with a message saying so
// (kyso speaks no TLS as a client yet; put a TLS proxy such as stunnel in front). Failures are
// kInvalidArgument, in Vietnamese, naming the URL.
Result<Url> ParseUrl(std::string_view url);

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// HttpRequestSpec is one request in full, for callers that need more than HttpRequest's
// arguments (extra headers, a secret body).
struct HttpRequestSpec {
  std::string method = "GET";
  Url url;
  std::string content_type;  // empty: no Content-Type header
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string user_agent = "kyso";
  // peer names the other side in messages ("MSSP", "máy chủ OCSP"); default "máy chủ".
  std::string peer = "máy chủ";
  // secret_body wipes the request body after sending (it may hold a password).
  bool secret_body = false;
};

// Send makes one HTTP/1.1 exchange on a fresh connection and reads the whole answer, whatever
// its HTTP status; redirects are returned, never followed. Everything, name resolution
// included, ends by `deadline` (connecting by at most 10 s): past it the error is
// kDeadlineExceeded. Unreachable hosts, broken connections and answers over
// `max_response_len` (body) or 16 KiB (header) are kUnavailable naming the URL. Thread-safe:
// nothing is shared between calls.
Result<HttpResponse> Send(HttpRequestSpec spec, std::chrono::steady_clock::time_point deadline,
                          std::size_t max_response_len);

// HttpRequest is Send for the common case: `method` ("GET", "POST") to `url`, with
// `content_type` and `body` when not empty. URL errors are kInvalidArgument (https included).
Result<HttpResponse> HttpRequest(std::string_view method, std::string_view url,
                                 std::string_view content_type, std::string body,
                                 std::chrono::steady_clock::time_point deadline,
                                 std::size_t max_response_len);

}  // namespace kyso::http
