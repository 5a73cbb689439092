#include "kyso/http/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <csignal>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace kyso::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AsyncHandler& handler, const ServerOptions& options,
          std::atomic<int>& active)
      : stream_(std::move(socket)), handler_(handler), options_(options), active_(active) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_len);
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_len));
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      ++active_;
      return Send(MakeError(413, "request too large\n"), false);
    }
    if (ec) return Close();
    ++active_;  // a request in flight; idle keep-alive connections do not delay Stop
    auto& req = parser_->get();
    Request r{std::string(req.method_string()), std::string(req.target()),
              std::string(req[bhttp::field::content_type]), std::move(req.body())};
    const bool keep_alive = req.keep_alive();
    Reply reply = [self = shared_from_this(), keep_alive](Response resp) {
      // dispatch: a reply made inside the handler is sent inline, on the session strand.
      asio::dispatch(self->stream_.get_executor(), [self, keep_alive, resp = std::move(resp)]() mutable {
        self->Send(std::move(resp), keep_alive);
      });
    };
    try {
      handler_(std::move(r), std::move(reply));
    } catch (const std::exception&) {
      Send(MakeError(500, "internal error\n"), false);
    }
  }

  static Response MakeError(unsigned status, std::string body) {
    return Response{status, "text/plain; charset=utf-8", std::move(body), nullptr, ""};
  }

  void Send(Response r, bool keep_alive) {
    // The body is sent from shared, immutable storage: a large CRL goes out to many clients
    // without a copy per request.
    body_ = r.shared_body ? std::move(r.shared_body)
                          : std::make_shared<const std::string>(std::move(r.body));
    auto res = std::make_shared<bhttp::response<bhttp::span_body<const char>>>(
        static_cast<bhttp::status>(r.status), 11);
    res->set(bhttp::field::server, "kyso");
    res->set(bhttp::field::content_type, r.content_type);
    if (!r.cache_control.empty()) res->set(bhttp::field::cache_control, r.cache_control);
    res->keep_alive(keep_alive);
    res->body() = boost::beast::span<const char>(body_->data(), body_->size());
    res->prepare_payload();
    response_ = res;
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         self->response_.reset();
                         self->body_.reset();
                         --self->active_;
                         if (ec || !keep_alive) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<void> response_;
  std::shared_ptr<const std::string> body_;
  const AsyncHandler& handler_;
  const ServerOptions& options_;
  std::atomic<int>& active_;
};

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("--listen wants HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("--listen: '" + host + "' is not an IP address");
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return InvalidArgumentError("--listen: bad port");
  return tcp::endpoint(addr, static_cast<uint16_t>(port));
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  AsyncHandler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> active{0};
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        std::make_shared<Session>(std::move(s), handler, options, active)->Start();
      }
      Accept();
    });
  }
};

Server::Server(ServerOptions options, AsyncHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

Server::Server(ServerOptions options, Handler handler)
    : Server(std::move(options), [h = std::move(handler)](Request r, Reply reply) {
        reply(h(r));
      }) {}

Server::~Server() { Stop(std::chrono::milliseconds(0)); }

Result<uint16_t> Server::Start() {
  KYSO_ASSIGN_OR_RETURN(tcp::endpoint ep, ParseListen(impl_->options.listen));
  beast::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + impl_->options.listen + ": " + ec.message());
  }
  const uint16_t port = impl_->acceptor.local_endpoint().port();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  int n = impl_->options.threads > 0 ? impl_->options.threads
                                     : static_cast<int>(std::thread::hardware_concurrency());
  n = std::max(1, n);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return port;
}

void Server::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped || impl_->threads.empty()) {
      impl_->stopped = true;
      impl_->cv.notify_all();
      return;
    }
    impl_->stopped = true;
  }
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  // Let requests in flight finish; idle keep-alive connections are cut at the deadline.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->cv.notify_all();
}

namespace {
sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  const sigset_t set = TerminationSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void Server::Wait(bool handle_signals) {
  if (handle_signals) {
    WaitForTerminationSignal();
    Stop();
    return;
  }
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

}  // namespace kyso::http
