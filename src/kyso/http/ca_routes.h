#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "kyso/ca/authority.h"
#include "kyso/ca/ocsp_responder.h"
#include "kyso/http/server.h"

#include <boost/asio/thread_pool.hpp>

namespace kyso::http {

// CaRoutes serves the public endpoints of a CA: OCSP (RFC 6960 POST, RFC 5019 GET), the
// CRLs and CA certificates in DER, and a health check. Refresh() picks up revocations and
// new CRLs written by any process; call it often (kyso serve does, every 200 ms).
class CaRoutes final {
 public:
  explicit CaRoutes(ca::Authority& authority, int signing_threads = 2);
  ~CaRoutes();

  Response Handle(const Request& request);
  // HandleAsync answers cached OCSP requests and everything else at once, and signs fresh
  // OCSP responses on a pool of its own so the server's threads keep serving.
  void HandleAsync(Request request, Reply reply);
  Status Refresh();

  ca::OcspResponder& responder() { return responder_; }

 private:
  Response Ocsp(const Request& request);
  // OcspDer gives the DER request of a POST or GET, or the error response to send.
  Result<std::string> OcspDer(const Request& request, Response* error) const;
  Response Crl(std::string_view issuer);

  ca::Authority& authority_;
  ca::OcspResponder responder_;
  boost::asio::thread_pool signing_pool_;
  std::string root_der_;
  std::string issuing_der_;
  struct PublishedCrl {
    int64_t number = 0;
    std::shared_ptr<const std::string> der;
  };
  Status Reload(std::string_view issuer, PublishedCrl& crl);

  std::mutex mu_;
  PublishedCrl root_crl_;
  PublishedCrl issuing_crl_;
};

// DecodeOcspGetPath turns the path suffix of an RFC 5019 GET ("/ocsp/MEIw...%3D") into the
// DER request: URL-decoding, then base64.
Result<std::string> DecodeOcspGetPath(std::string_view suffix);

}  // namespace kyso::http
