#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "kyso/base/status.h"
#include "kyso/http/client.h"

namespace kyso::mss {

// The MSS client is a thin layer over kyso's one HTTP client (http/client.h).
using HttpUrl = http::Url;
using HttpResponse = http::HttpResponse;

// ParseHttpUrl accepts http://host[:port][/path]. https:// is refused with a message saying
// so (put a TLS proxy such as stunnel in front until kyso speaks TLS to MSSPs).
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// HttpPost sends one SOAP 1.1 POST (Content-Type text/xml, the given SOAPAction) on a fresh
// connection and reads the whole answer, whatever its HTTP status. Everything, name
// resolution included, ends by `deadline`: then the error has kTimeoutCode (mss_signer.h)
// and `*timed_out` (when given) is set, which tells a timeout apart while kTimeoutCode is
// still kUnavailable. Unreachable hosts, broken connections and answers over
// `max_response_len` are kUnavailable naming the URL. Thread-safe: nothing is shared.
Result<HttpResponse> HttpPost(const HttpUrl& url, std::string_view soap_action, std::string body,
                              std::chrono::steady_clock::time_point deadline,
                              std::size_t max_response_len, bool* timed_out = nullptr);

}  // namespace kyso::mss
