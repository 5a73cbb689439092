// kyso serve: the CA's public HTTP endpoints plus the upkeep a running CA owes its relying
// parties — picking up revocations made by other processes, reissuing CRLs before they go
// stale, and completing issuances a crash left recorded but unsigned.

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <thread>

#include "kyso/ca/audit_checkpoint.h"
#include "kyso/cli/commands.h"
#include "kyso/http/ca_routes.h"
#include "kyso/http/server.h"

namespace kyso::cli {

namespace {

constexpr auto kRefreshEvery = std::chrono::milliseconds(200);
constexpr auto kUpkeepEvery = std::chrono::seconds(60);
// Long enough that no live process is still signing a row it recorded (a slow HSM signs a
// 512-certificate slice in well under a minute); a race is harmless anyway: the store keeps
// the first certificate completed for a serial.
constexpr auto kRecoverAfter = std::chrono::minutes(5);

// LogTsaStats logs how many timestamps were answered since it last did. Timestamps are not
// audit events (a busy TSA answers thousands an hour, each about someone else's document);
// their counts go to the log instead, and a token's serial is in the token its owner keeps.
void LogTsaStats(const ca::TimestampAuthority& tsa, ca::TsaStats& logged) {
  const ca::TsaStats now = tsa.stats();
  if (now.granted == logged.granted && now.rejected == logged.rejected &&
      now.failed == logged.failed) {
    return;
  }
  spdlog::info("timestamps: {} granted, {} rejected, {} failed (since start: {}, {}, {})",
               now.granted - logged.granted, now.rejected - logged.rejected,
               now.failed - logged.failed, now.granted, now.rejected, now.failed);
  if (now.failed != logged.failed) spdlog::error("timestamp failed: {}", tsa.last_failure());
  logged = now;
}

// Upkeep reissues a CRL once half its interval has passed, renews the OCSP responder's
// certificate before it expires and completes interrupted issuances.
void Upkeep(Deployment& deployment, http::CaRoutes& routes) {
  ca::Authority& authority = deployment.authority();
  const Time now = authority.clock().Now();
  for (std::string_view issuer : {ca::kRoot, ca::kIssuing}) {
    auto latest = authority.store().LatestCrl(issuer);
    if (!latest.ok()) {
      spdlog::warn("upkeep: {}", latest.status().ToString());
      continue;
    }
    if (*latest && now < (*latest)->this_update + ((*latest)->next_update - (*latest)->this_update) / 2) {
      continue;
    }
    auto crl = authority.GenerateCrl(issuer, "serve");
    if (crl.ok()) {
      spdlog::info("published {} CRL number {}", issuer, crl->number);
    } else {
      spdlog::error("publishing {} CRL failed: {}", issuer, crl.status().ToString());
    }
  }
  auto renewed = authority.RenewOcspSigner("serve");
  if (!renewed.ok()) {
    spdlog::error("renewing the OCSP responder certificate failed: {}", renewed.status().ToString());
  } else if (*renewed) {
    routes.responder().SetResponderCert(authority.ocsp_cert().get());
    spdlog::info("renewed the OCSP responder certificate");
  }
  if (auto cp = deployment.Checkpoint("serve", ca::kCheckpointEvery); !cp.ok()) {
    spdlog::error("signing an audit checkpoint failed: {}", cp.status().ToString());
  }
  auto recovered = authority.RecoverPending(kRecoverAfter, "serve");
  if (!recovered.ok()) {
    spdlog::error("recovering recorded issuances failed: {}", recovered.status().ToString());
  } else if (*recovered > 0) {
    spdlog::warn("completed {} issuances left recorded by an interrupted process", *recovered);
  }
}

}  // namespace

Status CmdServe(const ServeArgs& args, std::ostream& out) {
  http::BlockTerminationSignals();
  KYSO_ASSIGN_OR_RETURN(auto d, Deployment::Open(args.home));
  // Made here, not in Deployment::Open: only the server signs timestamps, and a deployment
  // made before the TSA gets its key and certificate on its first start.
  KYSO_ASSIGN_OR_RETURN(auto tsa, d->OpenTsa("serve"), "timestamp authority");
  http::CaRoutes routes(d->authority(), 2, tsa.get());
  http::ServerOptions options;
  options.listen = args.listen.empty() ? d->config().server.listen : args.listen;
  options.threads = args.threads > 0 ? args.threads : d->config().server.threads;
  http::Server server(options, http::AsyncHandler([&routes](http::Request r, http::Reply reply) {
                        routes.HandleAsync(std::move(r), std::move(reply));
                      }));
  Upkeep(*d, routes);
  KYSO_ASSIGN_OR_RETURN(uint16_t port, server.Start());

  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  const std::string base = "http://" + host + ":" + std::to_string(port);
  out << "kyso serving on " << base << "\n"
      << "  OCSP         " << base << "/ocsp\n"
      << "  TSA          " << base << "/tsa\n"
      << "  issuing CRL  " << base << "/crl/issuing.crl\n"
      << "  root CRL     " << base << "/crl/root.crl\n"
      << "  issuing CA   " << base << "/ca/issuing.crt\n"
      << "  root CA      " << base << "/ca/root.crt\n"
      << "  TSA cert     " << base << "/ca/tsa.crt\n"
      << "  health       " << base << "/healthz\n"
      << std::flush;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  ca::TsaStats tsa_logged;
  std::thread upkeep([&] {
    auto next_upkeep = std::chrono::steady_clock::now() + kUpkeepEvery;
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, kRefreshEvery, [&] { return stopping; })) {
      lock.unlock();
      if (Status s = routes.Refresh(); !s.ok()) spdlog::warn("refresh: {}", s.ToString());
      if (std::chrono::steady_clock::now() >= next_upkeep) {
        Upkeep(*d, routes);
        if (auto renewed = d->RenewTsaIfDue(*tsa, "serve"); !renewed.ok()) {
          spdlog::error("renewing the TSA certificate failed: {}", renewed.status().ToString());
        } else if (*renewed) {
          spdlog::info("renewed the TSA certificate");
        }
        LogTsaStats(*tsa, tsa_logged);
        next_upkeep = std::chrono::steady_clock::now() + kUpkeepEvery;
      }
      lock.lock();
    }
  });
  server.Wait(/*handle_signals=*/true);
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  upkeep.join();
  LogTsaStats(*tsa, tsa_logged);
  spdlog::info("kyso serve stopped");
  return OkStatus();
}

}  // namespace kyso::cli
