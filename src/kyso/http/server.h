#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kyso/base/status.h"

namespace kyso::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string content_type;
  std::string body;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // shared_body, when set, is sent instead of `body` without copying it.
  std::shared_ptr<const std::string> shared_body;
  std::string cache_control;  // empty: none
};

using Handler = std::function<Response(const Request&)>;
// Reply sends the response to a request; call it exactly once, from any thread.
using Reply = std::function<void(Response)>;
// AsyncHandler may answer later, from another thread: slow work (a signature) then does not
// hold a server thread that cached answers need.
using AsyncHandler = std::function<void(Request, Reply)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int threads = 0;                         // 0: one per core
  std::size_t max_body_len = 64 * 1024;    // larger bodies get 413
  std::size_t max_header_len = 8 * 1024;
  std::chrono::seconds idle_timeout{30};   // a connection idle or slow this long is closed
};

// Server is an HTTP/1.1 server on Boost.Beast with keep-alive, bounded request sizes and
// timeouts. The handler is called on the server's threads and must be thread-safe.
class Server final {
 public:
  Server(ServerOptions options, Handler handler);
  Server(ServerOptions options, AsyncHandler handler);
  ~Server();
  Server(const Server&) = delete;

  // Start binds and starts serving; returns the bound port.
  Result<uint16_t> Start();
  // Stop stops accepting, lets requests in flight finish (up to `grace`), then stops threads.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // Wait blocks until Stop has completed, or until SIGTERM/SIGINT when `handle_signals`.
  void Wait(bool handle_signals);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// BlockTerminationSignals blocks SIGTERM and SIGINT in the calling thread and every thread it
// starts afterwards, so Server::Wait(true) can take them with sigwait. Call it first in main's
// thread, before any thread is started.
void BlockTerminationSignals();

// WaitForTerminationSignal blocks until SIGTERM or SIGINT (blocked beforehand with
// BlockTerminationSignals) and returns which.
int WaitForTerminationSignal();

}  // namespace kyso::http
