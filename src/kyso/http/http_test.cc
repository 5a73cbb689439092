#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "kyso/http/ca_routes.h"
#include "kyso/http/server.h"

namespace kyso::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

struct Client {
  explicit Client(uint16_t port) : stream(ioc) {
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  bhttp::response<bhttp::string_body> Do(bhttp::verb verb, std::string target, std::string body = "") {
    bhttp::request<bhttp::string_body> req(verb, target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    req.body() = std::move(body);
    req.prepare_payload();
    bhttp::write(stream, req);
    bhttp::response<bhttp::string_body> res;
    beast::error_code ec;
    bhttp::read(stream, buffer, res, ec);
    return res;
  }
  boost::asio::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

TEST(ServerTest, ServesKeepsAliveAndBoundsBodies) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  options.max_body_len = 1024;
  Server server(options, [](const Request& r) {
    if (r.target == "/shared") {
      return Response{200, "text/plain", "", std::make_shared<const std::string>("shared"), ""};
    }
    return Response{200, "text/plain", r.method + " " + r.target + " " + std::to_string(r.body.size()),
                    nullptr, ""};
  });
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  ASSERT_NE(*port, 0);
  Client c(*port);
  EXPECT_EQ(c.Do(bhttp::verb::get, "/a").body(), "GET /a 0");
  EXPECT_EQ(c.Do(bhttp::verb::post, "/b", "xyz").body(), "POST /b 3");  // same connection
  EXPECT_EQ(c.Do(bhttp::verb::get, "/shared").body(), "shared");
  Client big(*port);
  EXPECT_EQ(big.Do(bhttp::verb::post, "/c", std::string(4096, 'x')).result_int(), 413);
  server.Stop();
}

TEST(ServerTest, RefusesBadListenAddress) {
  ServerOptions options;
  options.listen = "nonsense";
  Server server(options, [](const Request&) { return Response{}; });
  EXPECT_EQ(server.Start().status().code(), Code::kInvalidArgument);
}

TEST(OcspGetTest, DecodesUrlEncodedBase64) {
  EXPECT_EQ(*DecodeOcspGetPath("MEI%3D"), std::string("\x30\x42", 2));
  EXPECT_EQ(*DecodeOcspGetPath("AAEC"), std::string("\x00\x01\x02", 3));
  EXPECT_EQ(*DecodeOcspGetPath("q%2B%2F%2F"), std::string("\xab\xef\xff", 3));
  EXPECT_FALSE(DecodeOcspGetPath("%4").ok());
  EXPECT_FALSE(DecodeOcspGetPath("abc").ok());
  EXPECT_FALSE(DecodeOcspGetPath("").ok());
  EXPECT_FALSE(DecodeOcspGetPath("a%zz").ok());
}

}  // namespace
}  // namespace kyso::http
