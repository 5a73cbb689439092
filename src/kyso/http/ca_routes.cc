#include "kyso/http/ca_routes.h"

#include <openssl/evp.h>

#include <boost/asio/post.hpp>

#include <cctype>

#include "kyso/pkix/ocsp.h"
#include "kyso/pkix/x509.h"

namespace kyso::http {

namespace {

constexpr std::string_view kOcspPrefix = "/ocsp";
constexpr std::string_view kTsaPath = "/tsa";
// RFC 3161 3.4: the media types of a TimeStampReq and a TimeStampResp over HTTP.
constexpr std::string_view kTsaQueryType = "application/timestamp-query";
constexpr std::string_view kTsaReplyType = "application/timestamp-reply";

Response Der(std::string body, std::string type, std::string cache = "") {
  return Response{200, std::move(type), std::move(body), nullptr, std::move(cache)};
}

Response Plain(unsigned status, std::string body) {
  return Response{status, "text/plain; charset=utf-8", std::move(body), nullptr, ""};
}

std::string ToString(const Bytes& b) { return std::string(AsString(b)); }

// MediaType gives a Content-Type's type/subtype in lower case, without parameters.
std::string MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  std::string out(content_type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<std::string> DecodeOcspGetPath(std::string_view suffix) {
  // RFC 5019 5: the request is base64, then URL-encoded.
  std::string b64;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (suffix[i] == '%') {
      if (i + 2 >= suffix.size()) return InvalidArgumentError("bad URL escape");
      const int hi = HexDigitValue(suffix[i + 1]);
      const int lo = HexDigitValue(suffix[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgumentError("bad URL escape");
      b64.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else {
      b64.push_back(suffix[i]);
    }
  }
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > pkix::kMaxOcspRequestLen * 4 / 3 + 4) {
    return InvalidArgumentError("bad base64 length");
  }
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0) return InvalidArgumentError("bad base64");
  std::size_t pad = 0;
  if (b64.back() == '=') ++pad;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

CaRoutes::CaRoutes(ca::Authority& authority, int signing_threads, ca::TimestampAuthority* tsa)
    : authority_(authority),
      responder_(authority.store(), authority.issuing_cert(), authority.ocsp_cert().get(),
                 authority.ocsp_signer(), authority.clock(), authority.config().ca.ocsp_validity),
      tsa_(tsa),
      signing_pool_(static_cast<std::size_t>(std::max(1, signing_threads))),
      root_der_(ToString(pkix::CertificateDer(authority.root_cert()))),
      issuing_der_(ToString(pkix::CertificateDer(authority.issuing_cert()))) {
  (void)Refresh();
}

CaRoutes::~CaRoutes() { signing_pool_.join(); }

Status CaRoutes::Reload(std::string_view issuer, PublishedCrl& crl) {
  // Polled every 200 ms: read the whole CRL only when its number moved.
  KYSO_ASSIGN_OR_RETURN(int64_t number, authority_.store().LatestCrlNumber(issuer));
  {
    std::lock_guard lock(mu_);
    if (number == crl.number) return OkStatus();
  }
  KYSO_ASSIGN_OR_RETURN(auto latest, authority_.store().LatestCrl(issuer));
  if (!latest) return OkStatus();
  auto der = std::make_shared<const std::string>(ToString(latest->der));
  std::lock_guard lock(mu_);
  crl = PublishedCrl{latest->number, std::move(der)};
  return OkStatus();
}

Status CaRoutes::Refresh() {
  KYSO_RETURN_IF_ERROR(responder_.Refresh(), "OCSP refresh");
  KYSO_RETURN_IF_ERROR(Reload(ca::kRoot, root_crl_));
  return Reload(ca::kIssuing, issuing_crl_);
}

Response CaRoutes::Handle(const Request& r) {
  const std::string_view path = r.target;
  if (path == kOcspPrefix || path.starts_with("/ocsp/")) return Ocsp(r);
  if (path == kTsaPath) {
    if (std::optional<Response> refused = TsaPrecheck(r)) return std::move(*refused);
    return Tsa(r);
  }
  if (r.method != "GET" && r.method != "HEAD") return Plain(405, "method not allowed\n");
  if (path == "/crl/issuing.crl") return Crl(ca::kIssuing);
  if (path == "/crl/root.crl") return Crl(ca::kRoot);
  if (path == "/ca/issuing.crt") return Der(issuing_der_, "application/pkix-cert", "max-age=3600");
  if (path == "/ca/root.crt") return Der(root_der_, "application/pkix-cert", "max-age=3600");
  if (path == "/ca/tsa.crt" && tsa_ != nullptr) {
    return Der(ToString(pkix::CertificateDer(tsa_->certificate().get())), "application/pkix-cert",
               "max-age=3600");
  }
  if (path == "/healthz") return Plain(200, "ok\n");
  return Plain(404, "not found\n");
}

Response CaRoutes::Crl(std::string_view issuer) {
  std::shared_ptr<const std::string> der;
  {
    std::lock_guard lock(mu_);
    der = issuer == ca::kRoot ? root_crl_.der : issuing_crl_.der;
  }
  if (!der) return Plain(503, "no CRL yet\n");
  return Response{200, "application/pkix-crl", "", std::move(der), "max-age=60"};
}

Result<std::string> CaRoutes::OcspDer(const Request& r, Response* error) const {
  if (r.method == "POST") {
    if (r.target != kOcspPrefix && r.target != "/ocsp/") {
      *error = Plain(404, "not found\n");
      return NotFoundError("");
    }
    return r.body;
  }
  if (r.method == "GET") {
    // "/ocsp" alone, or "/ocsp/" and the request; DecodeOcspGetPath refuses an empty one.
    const std::string_view target = r.target;
    const std::string_view suffix =
        target.size() > kOcspPrefix.size() ? target.substr(kOcspPrefix.size() + 1) : "";
    Result<std::string> decoded = DecodeOcspGetPath(suffix);
    if (!decoded.ok()) {
      *error = Der(ToString(pkix::EncodeOcspError(pkix::OcspResponseStatus::kMalformedRequest)),
                   "application/ocsp-response");
    }
    return decoded;
  }
  *error = Plain(405, "method not allowed\n");
  return InvalidArgumentError("");
}

namespace {
Response OcspResponse(const Request& r, std::shared_ptr<const std::string> der) {
  return Response{200, "application/ocsp-response", "", std::move(der),
                  r.method == "GET" ? "max-age=300, public, no-transform, must-revalidate" : ""};
}
}  // namespace

Response CaRoutes::Ocsp(const Request& r) {
  Response error;
  Result<std::string> der = OcspDer(r, &error);
  if (!der.ok()) return error;
  return OcspResponse(r, responder_.Respond(AsBytes(*der)));
}

std::optional<Response> CaRoutes::TsaPrecheck(const Request& r) const {
  if (tsa_ == nullptr) return Plain(404, "not found\n");
  if (r.method != "POST") return Plain(405, "POST a TimeStampReq to /tsa (RFC 3161 3.4)\n");
  if (MediaType(r.content_type) != kTsaQueryType) {
    return Plain(415, "Content-Type must be application/timestamp-query (RFC 3161 3.4)\n");
  }
  return std::nullopt;
}

Response CaRoutes::Tsa(const Request& r) {
  // RFC 3161 answers a bad request with a TimeStampResp (status rejection, a failInfo and a
  // reason) and HTTP 200; only a body that is not DER at all cannot be answered in its terms.
  Result<Bytes> resp = tsa_->Respond(AsBytes(r.body));
  if (!resp.ok()) return Plain(400, std::string(resp.status().message()) + "\n");
  return Der(ToString(*resp), std::string(kTsaReplyType));
}

void CaRoutes::HandleAsync(Request r, Reply reply) {
  const std::string_view path = r.target;
  if (path == kTsaPath) {
    if (std::optional<Response> refused = TsaPrecheck(r)) return reply(std::move(*refused));
    boost::asio::post(signing_pool_, [this, r = std::move(r), reply = std::move(reply)] {
      reply(Tsa(r));
    });
    return;
  }
  if (path != kOcspPrefix && !path.starts_with("/ocsp/")) return reply(Handle(r));
  Response error;
  Result<std::string> der = OcspDer(r, &error);
  if (!der.ok()) return reply(std::move(error));
  if (auto cached = responder_.CachedAnswer(AsBytes(*der))) {
    return reply(OcspResponse(r, std::move(cached)));
  }
  boost::asio::post(signing_pool_, [this, r = std::move(r), der = std::move(der).value(),
                                    reply = std::move(reply)] {
    reply(OcspResponse(r, responder_.Respond(AsBytes(der))));
  });
}

}  // namespace kyso::http
