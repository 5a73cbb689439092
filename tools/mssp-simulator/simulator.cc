#include "simulator.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "kyso/mss/soap.h"
#include "state.h"

namespace kyso::mssp_sim {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr int kRequestOk = 100;
constexpr int kSignature = 500;
constexpr int kOutstanding = 504;
constexpr auto kForgetAfter = std::chrono::minutes(15);

struct Outcome {
  int code = 0;
  std::optional<Bytes> signature;
};

// Transaction is one signature request, from MSS_SignatureReq to its final answer.
struct Transaction {
  std::string mssp_trans_id;
  mss::Message request;
  Bytes digest;
  Behavior behavior = Behavior::kSign;
  bool rsa = true;
  steady_clock::time_point answer_at;  // when the phone answers (or the request expires)

  std::mutex mu;
  std::optional<Outcome> outcome;  // guarded by mu; decided once
};

http::Response Xml(unsigned status, std::string body) {
  return http::Response{status, "text/xml; charset=utf-8", std::move(body), nullptr, ""};
}

http::Response Fault(int code, std::string_view detail) {
  return Xml(500, mss::BuildFault(code, detail));
}

// DigestFrom takes the SHA-256 digest out of DataToBeSigned: 32 bytes, or the 51-byte
// DigestInfo some APs send for RSA SIMs.
std::optional<Bytes> DigestFrom(const Bytes& dtbs) {
  if (dtbs.size() == 32) return dtbs;
  constexpr std::size_t kPrefixLen = sizeof(pkix::kSha256DigestInfoPrefix);
  if (dtbs.size() == kPrefixLen + 32 &&
      std::equal(std::begin(pkix::kSha256DigestInfoPrefix), std::end(pkix::kSha256DigestInfoPrefix),
                 dtbs.begin())) {
    return Bytes(dtbs.begin() + kPrefixLen, dtbs.end());
  }
  return std::nullopt;
}


}  // namespace

Result<Behavior> ParseBehavior(std::string_view name) {
  if (name == "sign") return Behavior::kSign;
  if (name == "refuse") return Behavior::kRefuse;
  if (name == "pin-blocked") return Behavior::kPinBlocked;
  if (name == "timeout") return Behavior::kTimeout;
  if (name == "wrong-key") return Behavior::kWrongKey;
  return InvalidArgumentError("unknown behavior '" + std::string(name) +
                              "' (sign|refuse|pin-blocked|timeout|wrong-key)");
}

std::string_view BehaviorName(Behavior b) {
  switch (b) {
    case Behavior::kSign:
      return "sign";
    case Behavior::kRefuse:
      return "refuse";
    case Behavior::kPinBlocked:
      return "pin-blocked";
    case Behavior::kTimeout:
      return "timeout";
    case Behavior::kWrongKey:
      return "wrong-key";
  }
  return "?";
}

struct Simulator::Impl {
  Impl(std::unique_ptr<token::Token> t, SimulatorOptions o)
      : token(std::move(t)), options(std::move(o)) {}

  void Handle(http::Request req, http::Reply reply);
  void OnSignature(mss::Message m, http::Reply reply);
  http::Response OnStatus(const mss::Message& m);
  const Outcome& Decide(Transaction& tx);
  Outcome Sign(const Transaction& tx);
  Result<std::string> WrongKeyLabel(bool rsa);
  http::Response Answer(const Transaction& tx, bool status_query, const Outcome& o) const;
  std::shared_ptr<Transaction> Remember(mss::Message m, Bytes digest, Behavior b, bool rsa);
  std::shared_ptr<Transaction> Find(const std::string& mssp_trans_id);
  void Shutdown();

  const std::unique_ptr<token::Token> token;  // thread-safe; shared by all threads
  const SimulatorOptions options;

  // server is declared before `phone`, so it outlives the phone's pending replies, which hold
  // the server's connections.
  std::unique_ptr<http::Server> server;
  asio::io_context phone;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> phone_work;
  std::vector<std::thread> phone_threads;

  std::mutex mu;
  std::map<std::string, std::shared_ptr<Transaction>> transactions;  // guarded by mu
  uint64_t next_id = 1;                                              // guarded by mu
  std::mutex wrong_key_mu;  // serializes creating the wrong-key keys
  bool stopped = false;
};

void Simulator::Impl::Handle(http::Request req, http::Reply reply) {
  if (req.method != "POST") {
    return reply(http::Response{405, "text/plain; charset=utf-8",
                                "kyso MSSP simulator: POST TS 102 204 SOAP requests here\n",
                                nullptr, ""});
  }
  Result<mss::Message> m = mss::ParseMessage(req.body);
  if (!m.ok()) return reply(Fault(101, m.status().message()));
  switch (m->type) {
    case mss::MessageType::kSignatureReq:
      return OnSignature(std::move(m).value(), std::move(reply));
    case mss::MessageType::kStatusReq:
      return reply(OnStatus(*m));
    default:
      return reply(Fault(101, "expected MSS_SignatureReq or MSS_StatusReq"));
  }
}

void Simulator::Impl::OnSignature(mss::Message m, http::Reply reply) {
  auto sim = token->FindSigner(SimKeyLabel(m.msisdn), false);
  if (!sim.ok()) {
    spdlog::info("msisdn={} mode={} -> 105 UNKNOWN_CLIENT (no SIM provisioned)", m.msisdn,
                 mss::MessagingModeName(m.mode));
    return reply(Fault(105, "no SIM provisioned for this MSISDN"));
  }
  std::optional<Bytes> digest = DigestFrom(m.data_to_be_signed);
  if (!digest) return reply(Fault(103, "DataToBeSigned must be a SHA-256 digest or DigestInfo"));
  const auto it = options.behavior_for.find(m.msisdn);
  const Behavior behavior = it != options.behavior_for.end() ? it->second : options.behavior;
  const bool rsa = (*sim)->algorithm() == pkix::SignatureAlgorithm::kRsaPkcs1Sha256;
  std::shared_ptr<Transaction> tx = Remember(std::move(m), std::move(*digest), behavior, rsa);
  if (tx->request.mode == mss::MessagingMode::kAsynchClientServer) {
    return reply(Answer(*tx, false, Outcome{kRequestOk, std::nullopt}));
  }
  // The phone answers later, on the phone's own threads.
  auto timer = std::make_shared<asio::steady_timer>(phone, tx->answer_at);
  timer->async_wait([this, tx, timer, reply = std::move(reply)](boost::system::error_code ec) {
    if (ec) return;
    reply(Answer(*tx, false, Decide(*tx)));
  });
}

http::Response Simulator::Impl::OnStatus(const mss::Message& m) {
  std::shared_ptr<Transaction> tx = Find(m.mssp_trans_id);
  if (!tx) return Fault(101, "unknown MSSP_TransID");
  if (steady_clock::now() < tx->answer_at) {
    return Answer(*tx, true, Outcome{kOutstanding, std::nullopt});
  }
  return Answer(*tx, true, Decide(*tx));
}

std::shared_ptr<Transaction> Simulator::Impl::Remember(mss::Message m, Bytes digest, Behavior b,
                                                       bool rsa) {
  auto tx = std::make_shared<Transaction>();
  const auto now = steady_clock::now();
  milliseconds wait = options.delay;
  if (b == Behavior::kTimeout) {
    // The phone never answers; the MSSP gives up after the AP's TimeOut, bounded by max_hold.
    wait = options.max_hold;
    if (m.timeout_seconds > 0) wait = std::min(wait, milliseconds(m.timeout_seconds * 1000LL));
  }
  tx->answer_at = now + wait;
  tx->request = std::move(m);
  tx->digest = std::move(digest);
  tx->behavior = b;
  tx->rsa = rsa;
  std::lock_guard lock(mu);
  std::erase_if(transactions,
                [&](const auto& e) { return e.second->answer_at + kForgetAfter < now; });
  tx->mssp_trans_id = "simtx" + std::to_string(next_id++);
  transactions[tx->mssp_trans_id] = tx;
  return tx;
}

std::shared_ptr<Transaction> Simulator::Impl::Find(const std::string& mssp_trans_id) {
  std::lock_guard lock(mu);
  const auto it = transactions.find(mssp_trans_id);
  return it == transactions.end() ? nullptr : it->second;
}

// Decide plays the subscriber once per transaction and logs the transaction's one line.
const Outcome& Simulator::Impl::Decide(Transaction& tx) {
  std::lock_guard lock(tx.mu);
  if (tx.outcome) return *tx.outcome;
  switch (tx.behavior) {
    case Behavior::kRefuse:
      tx.outcome = Outcome{401, std::nullopt};
      break;
    case Behavior::kPinBlocked:
      tx.outcome = Outcome{402, std::nullopt};
      break;
    case Behavior::kTimeout:
      tx.outcome = Outcome{208, std::nullopt};
      break;
    case Behavior::kSign:
    case Behavior::kWrongKey:
      tx.outcome = Sign(tx);
      break;
  }
  spdlog::info("tx={} msisdn={} mode={} behavior={} -> {} {}", tx.mssp_trans_id, tx.request.msisdn,
               mss::MessagingModeName(tx.request.mode), BehaviorName(tx.behavior), tx.outcome->code,
               mss::StatusCodeName(tx.outcome->code));
  return *tx.outcome;
}

Outcome Simulator::Impl::Sign(const Transaction& tx) {
  std::string label = SimKeyLabel(tx.request.msisdn);
  if (tx.behavior == Behavior::kWrongKey) {
    Result<std::string> wrong = WrongKeyLabel(tx.rsa);
    if (!wrong.ok()) {
      spdlog::error("wrong-key: {}", wrong.status().ToString());
      return Outcome{900, std::nullopt};
    }
    label = std::move(wrong).value();
  }
  Result<Bytes> sig = token->SignDigest(label, tx.digest);
  if (!sig.ok()) {
    spdlog::error("tx={} SignDigest: {}", tx.mssp_trans_id, sig.status().ToString());
    return Outcome{900, std::nullopt};
  }
  return Outcome{kSignature, std::move(sig).value()};
}

// WrongKeyLabel gives a key of the SIM's type that is not the SIM's, made on first use.
Result<std::string> Simulator::Impl::WrongKeyLabel(bool rsa) {
  const std::string label = rsa ? "sim-wrong-rsa" : "sim-wrong-ec";
  std::lock_guard lock(wrong_key_mu);
  if (token->FindSigner(label, false).ok()) return label;
  KYSO_RETURN_IF_ERROR(
      token->GenerateKeyPair(label, rsa ? KeySpec::kRsa2048 : KeySpec::kEcP256, false));
  return label;
}

http::Response Simulator::Impl::Answer(const Transaction& tx, bool status_query,
                                       const Outcome& o) const {
  const bool status = o.code == kRequestOk || o.code == kOutstanding || o.code == kSignature;
  // TS 102 204 reports errors of a synchronous request as SOAP faults; a status query
  // reports the transaction's final state in MSS_StatusResp.
  if (!status && !status_query) return Fault(o.code, "simulated subscriber");
  mss::ResponseParams p;
  p.ap_id = tx.request.ap_id;
  p.ap_trans_id = tx.request.ap_trans_id;
  p.mssp_id = options.mssp_id;
  p.mssp_trans_id = tx.mssp_trans_id;
  p.msisdn = tx.request.msisdn;
  p.status_code = o.code;
  p.signature = o.signature;
  return Xml(200, status_query ? mss::BuildStatusResponse(p) : mss::BuildSignatureResponse(p));
}

void Simulator::Impl::Shutdown() {
  if (stopped) return;
  stopped = true;
  // The phone first: pending timers are dropped, their connections closed unanswered.
  phone_work.reset();
  phone.stop();
  for (std::thread& t : phone_threads) t.join();
  phone_threads.clear();
  if (server) server->Stop(milliseconds(0));
}

Simulator::Simulator(std::unique_ptr<token::Token> token, SimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(token), std::move(options))) {}

Simulator::~Simulator() { impl_->Shutdown(); }

Result<uint16_t> Simulator::Start() {
  http::ServerOptions so;
  so.listen = impl_->options.listen;
  so.threads = impl_->options.threads;
  Impl* impl = impl_.get();
  impl_->server = std::make_unique<http::Server>(so, [impl](http::Request req, http::Reply reply) {
    impl->Handle(std::move(req), std::move(reply));
  });
  impl_->phone_work.emplace(impl_->phone.get_executor());
  for (int i = 0; i < 2; ++i) impl_->phone_threads.emplace_back([impl] { impl->phone.run(); });
  return impl_->server->Start();
}

void Simulator::Wait() {
  const int sig = http::WaitForTerminationSignal();
  spdlog::info("signal {}: stopping", sig);
  impl_->Shutdown();
}

}  // namespace kyso::mssp_sim
