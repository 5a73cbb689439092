// Helpers shared by kyso's benchmarks: timing, temporary folders, running peer tools, and
// instrumented wrappers around the Store and Signer interfaces so a phase breakdown can be
// taken without touching src/.
//
// Benchmarks are not tests: they print numbers and ratios, and exit non-zero only when
// something they measured produced a wrong answer.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kyso/pkix/signer.h"
#include "kyso/store/store.h"

namespace kyso::bench {

using Clock_ = std::chrono::steady_clock;

inline double Seconds(Clock_::duration d) { return std::chrono::duration<double>(d).count(); }

// Stopwatch measures wall time from construction or Restart.
class Stopwatch {
 public:
  Stopwatch() : start_(Clock_::now()) {}
  void Restart() { start_ = Clock_::now(); }
  double Elapsed() const { return Seconds(Clock_::now() - start_); }

 private:
  Clock_::time_point start_;
};

// CpuSeconds is the user+system CPU time of this process so far.
inline double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] inline void Die(const std::string& what) {
  std::cerr << "bench: " << what << "\n";
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

inline void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

// TempDir makes a fresh folder under $KYSO_BENCH_TMP (default /tmp) and removes it on exit
// unless KYSO_BENCH_KEEP is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    const char* base = std::getenv("KYSO_BENCH_TMP");
    std::string templ = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" +
                        prefix + ".XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) Die("mkdtemp " + templ);
    path_ = templ;
  }
  ~TempDir() {
    if (std::getenv("KYSO_BENCH_KEEP") != nullptr) {
      std::cerr << "bench: kept " << path_ << "\n";
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// RunCommand runs a shell command and returns its standard output (stderr is left alone)
// and exit status.
struct CommandResult {
  int status = -1;
  std::string out;
};
inline CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

// OpensslSpeedRsaSign runs `openssl speed -seconds S [-multi M] rsaBITS` and returns the
// sign/s column of its summary line ("rsa 2048 bits 0.000693s 0.000020s 1443.0 49262.6").
// With -multi the summary line is the sum over the processes.
inline std::optional<double> OpensslSpeedRsaSign(int bits, int seconds, int multi = 1) {
  std::string cmd = "openssl speed -seconds " + std::to_string(seconds);
  if (multi > 1) cmd += " -multi " + std::to_string(multi);
  cmd += " rsa" + std::to_string(bits) + " 2>/dev/null";
  const CommandResult r = RunCommand(cmd);
  std::istringstream lines(r.out);
  std::optional<double> sign;
  const std::string key = "rsa " + std::to_string(bits) + " bits";
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    // The sign/s value is the next-to-last field.
    std::istringstream fields(line.substr(at + key.size()));
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.size() < 2) continue;
    try {
      sign = std::stod(f[f.size() - 2]);
    } catch (...) {
    }
  }
  return sign;
}

// LoadAverage is the 1-minute load average (to flag a busy machine in the output).
inline double LoadAverage() {
  double l[1] = {0};
  if (getloadavg(l, 1) != 1) return -1;
  return l[0];
}

// PhaseClock splits an Authority::IssueBatch call into its phases by watching the store:
// everything from the start of a chunk until RecordIssuances is "prepare" (validation and
// TBSCertificate building), RecordIssuances is "record", the gap until CompleteIssuances is
// "sign" (token signing on the worker threads plus assembling the certificates), and
// CompleteIssuances is "complete". Mark() starts a batch.
struct PhaseTimes {
  double prepare = 0, record = 0, sign = 0, complete = 0, list_revoked = 0, put_crl = 0,
         crl_number = 0;
  int chunks = 0;
};

// TimingStore delegates to a real store and attributes wall time to phases (see PhaseTimes).
// It is not meant for concurrent IssueBatch calls.
class TimingStore final : public store::Store {
 public:
  explicit TimingStore(store::Store& inner) : inner_(inner) {}

  void Mark() { last_ = Clock_::now(); }
  PhaseTimes Take() {
    PhaseTimes t = times_;
    times_ = PhaseTimes{};
    return t;
  }

  Status PutCaKey(const store::CaKey& key, const store::AuditEvent& event) override {
    return inner_.PutCaKey(key, event);
  }
  Result<store::CaKey> GetCaKey(std::string_view role) override { return inner_.GetCaKey(role); }
  Status RecordIssuances(std::span<const store::PendingIssuance> pending,
                         std::string_view actor) override {
    const auto t0 = Clock_::now();
    times_.prepare += Seconds(t0 - last_);
    Status s = inner_.RecordIssuances(pending, actor);
    last_ = Clock_::now();
    times_.record += Seconds(last_ - t0);
    ++times_.chunks;
    return s;
  }
  Status CompleteIssuances(std::span<const store::IssuedCertificate> issued, Time at,
                           std::string_view actor) override {
    const auto t0 = Clock_::now();
    times_.sign += Seconds(t0 - last_);
    Status s = inner_.CompleteIssuances(issued, at, actor);
    last_ = Clock_::now();
    times_.complete += Seconds(last_ - t0);
    return s;
  }
  Status FailIssuance(std::string_view serial_hex, std::string_view why,
                      std::string_view actor) override {
    return inner_.FailIssuance(serial_hex, why, actor);
  }
  Result<std::vector<store::CertificateRecord>> ListPending() override {
    return inner_.ListPending();
  }
  Result<store::CertificateRecord> GetCertificate(std::string_view serial_hex) override {
    return inner_.GetCertificate(serial_hex);
  }
  Result<int64_t> CountCertificates(store::CertState state) override {
    return inner_.CountCertificates(state);
  }
  Status Revoke(std::string_view serial_hex, Time at, pkix::CrlReason reason,
                std::string_view case_name, std::string_view actor) override {
    return inner_.Revoke(serial_hex, at, reason, case_name, actor);
  }
  Result<std::vector<pkix::RevokedEntry>> ListRevoked(std::string_view issuer) override {
    Stopwatch w;
    auto r = inner_.ListRevoked(issuer);
    times_.list_revoked += w.Elapsed();
    return r;
  }
  Result<int64_t> NextCrlNumber(std::string_view issuer) override {
    Stopwatch w;
    auto r = inner_.NextCrlNumber(issuer);
    times_.crl_number += w.Elapsed();
    return r;
  }
  Status PutCrl(const store::CrlRecord& crl, std::string_view actor) override {
    Stopwatch w;
    Status s = inner_.PutCrl(crl, actor);
    times_.put_crl += w.Elapsed();
    return s;
  }
  Result<std::optional<store::CrlRecord>> LatestCrl(std::string_view issuer) override {
    return inner_.LatestCrl(issuer);
  }
  Result<std::vector<store::StatusChange>> StatusChangesSince(int64_t seq) override {
    return inner_.StatusChangesSince(seq);
  }
  Result<int64_t> LastStatusChange() override { return inner_.LastStatusChange(); }
  Status AppendAudit(const store::AuditEvent& event) override { return inner_.AppendAudit(event); }
  Result<store::AuditReport> VerifyAudit() override { return inner_.VerifyAudit(); }

 private:
  store::Store& inner_;
  Clock_::time_point last_ = Clock_::now();
  PhaseTimes times_;
};

// TimingSigner delegates to a real signer and sums the time spent inside Sign over all
// threads (thread-seconds), so it can be compared with the wall time of the sign phase.
class TimingSigner final : public pkix::Signer {
 public:
  explicit TimingSigner(std::unique_ptr<pkix::Signer> inner) : inner_(std::move(inner)) {}
  pkix::SignatureAlgorithm algorithm() const override { return inner_->algorithm(); }
  const EVP_PKEY* public_key() const override { return inner_->public_key(); }
  Result<Bytes> Sign(ByteSpan tbs) override {
    const auto t0 = Clock_::now();
    auto r = inner_->Sign(tbs);
    ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock_::now() - t0).count();
    ++count_;
    return r;
  }
  double thread_seconds() const { return static_cast<double>(ns_.load()) / 1e9; }
  int64_t count() const { return count_.load(); }
  void Reset() {
    ns_ = 0;
    count_ = 0;
  }

 private:
  std::unique_ptr<pkix::Signer> inner_;
  std::atomic<int64_t> ns_{0};
  std::atomic<int64_t> count_{0};
};

// FixedSigner answers every Sign with one precomputed signature of the right length: it
// removes the cost of signing so what remains is kyso's own overhead. The certificates it
// yields do not verify; use it only to measure.
class FixedSigner final : public pkix::Signer {
 public:
  FixedSigner(std::unique_ptr<pkix::Signer> inner, Bytes sig)
      : inner_(std::move(inner)), sig_(std::move(sig)) {}
  pkix::SignatureAlgorithm algorithm() const override { return inner_->algorithm(); }
  const EVP_PKEY* public_key() const override { return inner_->public_key(); }
  Result<Bytes> Sign(ByteSpan) override { return sig_; }

 private:
  std::unique_ptr<pkix::Signer> inner_;
  Bytes sig_;
};

inline std::string Fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// Result lines: "RESULT key value" on stdout, collected by bench/run.sh into its summary.
inline void Emit(const std::string& key, const std::string& value) {
  std::cout << "RESULT " << key << " " << value << "\n" << std::flush;
}

}  // namespace kyso::bench
