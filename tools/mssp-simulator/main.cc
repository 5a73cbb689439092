// kyso-mssp-simulator: a SIMULATED Mobile Signature Service Provider (ETSI TS 102 204) for
// kyso's tests and demos. The SIMs' keys live in a SoftHSM2 token in the state folder. Not an
// MSSP: it authenticates no AP and reaches no phone.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "kyso/http/server.h"
#include "simulator.h"
#include "state.h"

namespace kyso::mssp_sim {
namespace {

namespace fs = std::filesystem;

constexpr char kAbout[] =
    "kyso-mssp-simulator — a SIMULATED MSSP (ETSI TS 102 204 over SOAP 1.1) for kyso's tests\n"
    "and demos. It plays the operator's MSSP and the subscriber's phone; the SIMs' keys are test\n"
    "keys in a SoftHSM2 token under --state. It authenticates no AP and reaches no phone:\n"
    "NEVER use it in production.";

int Report(const Status& s) {
  if (s.ok()) return 0;
  std::cerr << "kyso-mssp-simulator: " << s.ToString() << "\n";
  return 1;
}

// WritePortFile writes the port through a temporary file and a rename, so a test polling for
// the file never reads it half-written.
Status WritePortFile(const std::string& path, uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return InternalError("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return InternalError("cannot write " + path + ": " + ec.message());
  return OkStatus();
}

struct ServeArgs {
  std::string state;
  std::string module = kDefaultModule;
  std::string port_file;
  int64_t delay_ms = 0;
  int64_t max_hold_ms = 120000;
  std::string behavior = "sign";
  std::vector<std::string> behavior_for;
  SimulatorOptions options;
};

Status Serve(ServeArgs& a) {
  if (a.delay_ms < 0 || a.max_hold_ms < 0) return InvalidArgumentError("delays must be >= 0");
  a.options.delay = std::chrono::milliseconds(a.delay_ms);
  a.options.max_hold = std::chrono::milliseconds(a.max_hold_ms);
  KYSO_ASSIGN_OR_RETURN(a.options.behavior, ParseBehavior(a.behavior));
  for (const std::string& item : a.behavior_for) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || !IsMsisdn(item.substr(0, eq))) {
      return InvalidArgumentError("--behavior-for wants MSISDN=BEHAVIOR, not '" + item + "'");
    }
    KYSO_ASSIGN_OR_RETURN(a.options.behavior_for[item.substr(0, eq)],
                          ParseBehavior(item.substr(eq + 1)));
  }
  KYSO_ASSIGN_OR_RETURN(auto token, OpenState(a.state, a.module));
  Simulator sim(std::move(token), a.options);
  KYSO_ASSIGN_OR_RETURN(const uint16_t port, sim.Start());
  spdlog::info(
      "SIMULATED MSSP (tests and demos only) listening on port {}; delay {} ms, "
      "behavior {}",
      port, a.delay_ms, a.behavior);
  if (!a.port_file.empty()) KYSO_RETURN_IF_ERROR(WritePortFile(a.port_file, port));
  sim.Wait();
  return OkStatus();
}

int Run(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S%z mssp-sim %l: %v");
  CLI::App app{kAbout};
  app.require_subcommand(1);
  std::string module = kDefaultModule;

  std::string init_state;
  auto* c_init = app.add_subcommand("init", "create a state folder with its own SoftHSM2 token");
  c_init->add_option("--state", init_state, "folder to create (0700)")->required();
  c_init->add_option("--module", module, "PKCS#11 module (default SoftHSM2)");

  std::string prov_state, msisdn, key = "ec-p256", out;
  auto* c_prov = app.add_subcommand(
      "provision", "make a SIM's key pair (label sim-MSISDN) and print its public key, PEM");
  c_prov->add_option("--state", prov_state, "state folder made by init")->required();
  c_prov->add_option("--msisdn", msisdn, "the SIM's number, digits, e.g. 84912345678")->required();
  c_prov->add_option("--key", key, "rsa-2048 | ec-p256 (default ec-p256)");
  c_prov->add_option("--out", out, "write the PEM SubjectPublicKeyInfo here instead of stdout");
  c_prov->add_option("--module", module, "PKCS#11 module (default SoftHSM2)");

  ServeArgs serve;
  auto* c_serve = app.add_subcommand("serve", "answer MSS_Signature and MSS_StatusQuery over HTTP");
  c_serve->add_option("--state", serve.state, "state folder made by init")->required();
  c_serve->add_option("--listen", serve.options.listen,
                      "HOST:PORT (default 127.0.0.1:0, any free port)");
  c_serve->add_option("--port-file", serve.port_file, "write the bound port here once listening");
  c_serve->add_option("--delay-ms", serve.delay_ms,
                      "how long the phone takes to answer (default 0)");
  c_serve->add_option("--max-hold-ms", serve.max_hold_ms,
                      "longest a 'timeout' request is held before 208 EXPIRED_TRANSACTION "
                      "(default 120000; the request's TimeOut also bounds it)");
  c_serve->add_option("--behavior", serve.behavior,
                      "what subscribers do: sign | refuse | pin-blocked | timeout | wrong-key");
  c_serve->add_option("--behavior-for", serve.behavior_for,
                      "MSISDN=BEHAVIOR for one SIM; repeatable");
  c_serve->add_option("--threads", serve.options.threads, "server threads (default 2)");
  c_serve->add_option("--module", serve.module, "PKCS#11 module (default SoftHSM2)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (c_init->parsed()) {
    Status s = InitState(init_state, module);
    if (s.ok()) std::cout << "simulator state created in " << init_state << "\n";
    return Report(s);
  }
  if (c_prov->parsed()) {
    Result<KeySpec> spec = ParseKeySpec(key);
    if (!spec.ok() || (*spec != KeySpec::kRsa2048 && *spec != KeySpec::kEcP256)) {
      return Report(InvalidArgumentError("--key wants rsa-2048 or ec-p256"));
    }
    auto token = OpenState(prov_state, module);
    if (!token.ok()) return Report(token.status());
    Result<std::string> pem = ProvisionSim(**token, msisdn, *spec);
    if (!pem.ok()) return Report(pem.status());
    if (out.empty()) {
      std::cout << *pem;
      return 0;
    }
    std::ofstream file(out, std::ios::trunc);
    file << *pem;
    return Report(file ? OkStatus() : InternalError("cannot write " + out));
  }
  // serve: block SIGTERM/SIGINT before any thread starts, so Wait can take them.
  http::BlockTerminationSignals();
  return Report(Serve(serve));
}

}  // namespace
}  // namespace kyso::mssp_sim

int main(int argc, char** argv) { return kyso::mssp_sim::Run(argc, argv); }
