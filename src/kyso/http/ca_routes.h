#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kyso/ca/authority.h"
#include "kyso/ca/ocsp_responder.h"
#include "kyso/ca/tsa.h"
#include "kyso/http/server.h"

#include <boost/asio/thread_pool.hpp>

namespace kyso::http {

// CaRoutes serves the public endpoints of a CA: OCSP (RFC 6960 POST, RFC 5019 GET), the
// timestamp authority (RFC 3161 over HTTP, POST /tsa) when one is given, the CRLs and CA
// certificates in DER, and a health check. Refresh() picks up revocations and new CRLs
// written by any process; call it often (kyso serve does, every 200 ms).
class CaRoutes final {
 public:
  // `tsa`, when given, is borrowed and must outlive the routes; without it /tsa is 404.
  explicit CaRoutes(ca::Authority& authority, int signing_threads = 2,
                    ca::TimestampAuthority* tsa = nullptr);
  ~CaRoutes();

  Response Handle(const Request& request);
  // HandleAsync answers cached OCSP requests and everything else at once, and signs fresh
  // OCSP responses and timestamp tokens on a pool of its own so the server's threads keep
  // serving.
  void HandleAsync(Request request, Reply reply);
  Status Refresh();

  ca::OcspResponder& responder() { return responder_; }

 private:
  Response Ocsp(const Request& request);
  // OcspDer gives the DER request of a POST or GET, or the error response to send.
  Result<std::string> OcspDer(const Request& request, Response* error) const;
  Response Crl(std::string_view issuer);
  // TsaPrecheck answers what /tsa refuses without reading the body (no TSA, method, media
  // type); nullopt means the body goes to the TSA. Tsa signs: keep it off the server threads.
  std::optional<Response> TsaPrecheck(const Request& request) const;
  Response Tsa(const Request& request);

  ca::Authority& authority_;
  ca::OcspResponder responder_;
  ca::TimestampAuthority* tsa_;
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
