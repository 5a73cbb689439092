#include "kyso/mss/http_client.h"

#include "kyso/mss/mss_signer.h"

namespace kyso::mss {

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  Result<HttpUrl> parsed = http::ParseUrl(url);
  if (!parsed.ok()) return parsed.status().WithContext("MSSP");
  return parsed;
}

Result<HttpResponse> HttpPost(const HttpUrl& url, std::string_view soap_action, std::string body,
                              std::chrono::steady_clock::time_point deadline,
                              std::size_t max_response_len, bool* timed_out) {
  http::HttpRequestSpec spec;
  spec.method = "POST";
  spec.url = url;
  spec.content_type = "text/xml; charset=utf-8";
  spec.headers.emplace_back("SOAPAction", "\"" + std::string(soap_action) + "\"");
  spec.body = std::move(body);
  spec.user_agent = "kyso-mss";
  spec.peer = "MSSP";
  spec.secret_body = true;  // it may hold AP_PWD
  Result<HttpResponse> response = http::Send(std::move(spec), deadline, max_response_len);
  if (!response.ok() && response.status().code() == Code::kDeadlineExceeded) {
    static_assert(kTimeoutCode == Code::kDeadlineExceeded);
    if (timed_out != nullptr) *timed_out = true;
  }
  return response;
}

}  // namespace kyso::mss
