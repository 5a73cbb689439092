#pragma once

// A simulated MSSP (ETSI TS 102 204) for tests and demos: it answers MSS_Signature and
// MSS_StatusQuery like an operator's MSSP, with the "phone" played by a timer and the SIM's
// key held in SoftHSM2. It is not an MSSP: no AP authentication, no real phones.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "kyso/base/status.h"
#include "kyso/http/server.h"
#include "kyso/token/token.h"

namespace kyso::mssp_sim {

// Behavior is what the simulated subscriber does with a signature request.
enum class Behavior {
  kSign,        // enters the PIN: 500 SIGNATURE with the SIM key's signature
  kRefuse,      // presses cancel: 401 USER_CANCEL
  kPinBlocked,  // the SIM's PIN is blocked: 402 PIN_BLOCKED
  kTimeout,     // never answers: synch held until TimeOut/max_hold then 208; async stays 504
  kWrongKey,    // signs with another key than the SIM's (to exercise the AP's verification)
};
Result<Behavior> ParseBehavior(std::string_view name);  // "sign", "refuse", "pin-blocked", ...
std::string_view BehaviorName(Behavior b);

struct SimulatorOptions {
  std::string listen = "127.0.0.1:0";
  int threads = 2;
  std::chrono::milliseconds delay{0};          // how long the "phone" takes to answer
  std::chrono::milliseconds max_hold{120000};  // bound on holding a synch request (timeout)
  Behavior behavior = Behavior::kSign;
  std::map<std::string, Behavior> behavior_for;  // MSISDN -> behavior, overrides `behavior`
  std::string mssp_id = "http://mssp-simulator.kyso.invalid";
};

// Simulator serves POSTed SOAP on any path. Phones' delays run on timers of its own, so a
// slow phone holds no server thread.
class Simulator final {
 public:
  Simulator(std::unique_ptr<token::Token> token, SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Result<uint16_t> Start();
  // Wait blocks until SIGTERM/SIGINT (BlockTerminationSignals must have run first), then stops.
  void Wait();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kyso::mssp_sim
