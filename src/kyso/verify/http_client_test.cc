// Tests of http/client.h, kyso's one HTTP client. They live in verify's test binary, its
// first user, because src/kyso/http/CMakeLists.txt is shared with the CA routes' work.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "kyso/http/client.h"
#include "kyso/http/server.h"

namespace kyso::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class HttpClientTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    server_ = std::make_unique<Server>(options, [](const Request& r) {
      if (r.target == "/slow") std::this_thread::sleep_for(milliseconds(1500));
      if (r.target == "/big")
        return Response{200, "application/octet-stream", std::string(4096, 'x'), nullptr, ""};
      if (r.target == "/moved") return Response{302, "text/plain", "elsewhere", nullptr, ""};
      return Response{200, "text/plain",
                      r.method + " " + r.target + " " + r.content_type + " " + r.body, nullptr, ""};
    });
    Result<uint16_t> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }
  void TearDown() override { server_->Stop(milliseconds(2000)); }

  static steady_clock::time_point In(milliseconds d) { return steady_clock::now() + d; }

  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST_F(HttpClientTest, GetsAndPosts) {
  Result<HttpResponse> r =
      HttpRequest("GET", base_ + "/a?b=c", "", "", In(milliseconds(5000)), 1024);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "GET /a?b=c  ");
  r = HttpRequest("POST", base_ + "/ocsp", "application/ocsp-request", "xyz",
                  In(milliseconds(5000)), 1024);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "POST /ocsp application/ocsp-request xyz");
  EXPECT_EQ(r->content_type, "text/plain");
}

TEST_F(HttpClientTest, ReturnsRedirectsWithoutFollowing) {
  Result<HttpResponse> r =
      HttpRequest("GET", base_ + "/moved", "", "", In(milliseconds(5000)), 1024);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 302u);
}

TEST_F(HttpClientTest, BoundsResponseSizeAndTime) {
  EXPECT_EQ(
      HttpRequest("GET", base_ + "/big", "", "", In(milliseconds(5000)), 1024).status().code(),
      Code::kUnavailable);
  EXPECT_TRUE(HttpRequest("GET", base_ + "/big", "", "", In(milliseconds(5000)), 4096).ok());
  const auto start = steady_clock::now();
  EXPECT_EQ(
      HttpRequest("GET", base_ + "/slow", "", "", In(milliseconds(200)), 1024).status().code(),
      Code::kDeadlineExceeded);
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
}

TEST_F(HttpClientTest, RefusesHttpsAndBadUrls) {
  EXPECT_EQ(HttpRequest("GET", "https://ca.example.vn/crl", "", "", In(milliseconds(100)), 1024)
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ParseUrl("ldap://x/").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseUrl("http://:80/").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseUrl("http://h:99999/").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseUrl("http://h/a b").status().code(), Code::kInvalidArgument);
  Result<Url> u = ParseUrl("http://[::1]:8080/ocsp");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/ocsp");
  EXPECT_EQ(HttpRequest("BREW", base_, "", "", In(milliseconds(100)), 1024).status().code(),
            Code::kInvalidArgument);
}

TEST_F(HttpClientTest, UnreachableIsUnavailable) {
  // A port that was free a moment ago and has no listener: connection refused.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  EXPECT_EQ(HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/", "", "",
                        In(milliseconds(2000)), 1024)
                .status()
                .code(),
            Code::kUnavailable);
}

}  // namespace
}  // namespace kyso::http
