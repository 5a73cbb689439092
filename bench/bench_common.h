// Helpers shared by kyso's benchmarks: timing, temporary folders, running peer tools, and
// an SQLite tracer and Signer wrappers so a phase breakdown can be taken without touching
// src/.
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

#include <sqlite3.h>

#include "kyso/base/status.h"
#include "kyso/pkix/signer.h"

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

// PhaseTimes splits an Authority::IssueBatch call into its phases as seen from the database:
// from the start of a chunk until the transaction that records it is "prepare" (validation
// and TBSCertificate building), that transaction is "record", the gap until the transaction
// that completes the chunk is "sign" (token signing on the worker threads plus assembling),
// and that transaction is "complete". CRL generation adds the revoked-list query, the CRL
// number transaction and the CRL-storing transaction.
struct PhaseTimes {
  double prepare = 0, record = 0, sign = 0, complete = 0, list_revoked = 0, put_crl = 0,
         crl_number = 0;
  int chunks = 0;
};

// SqlTracer watches every SQLite connection the process opens after Install() (through
// sqlite3_auto_extension, so kyso's own store connection too) with SQLITE_TRACE_PROFILE, and
// attributes transactions to phases by the statements they contain. It depends on no kyso
// interface, only on the SQL text of sqlite_store.cc: if that changes, phases read zero
// rather than the benchmark failing to build.
class SqlTracer {
 public:
  static SqlTracer& Get() {
    static SqlTracer t;
    return t;
  }
  // Install must run before the connections to watch are opened.
  void Install() {
    static const bool once = [] {
      return sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(&SqlTracer::OnOpen)) == SQLITE_OK;
    }();
    if (!once) Die("sqlite3_auto_extension");
  }
  // Mark starts a measured batch.
  void Mark() {
    std::lock_guard lock(mu_);
    last_ = Clock_::now();
    times_ = PhaseTimes{};
  }
  PhaseTimes Take() {
    std::lock_guard lock(mu_);
    PhaseTimes t = times_;
    times_ = PhaseTimes{};
    return t;
  }

 private:
  enum class Kind { kNone, kRecord, kComplete, kPutCrl, kCrlNumber };

  static int OnOpen(sqlite3* db, char**, const void*) {
    sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, &SqlTracer::OnTrace, &Get());
    return SQLITE_OK;
  }
  static int OnTrace(unsigned type, void* ctx, void* p, void* x) {
    if (type != SQLITE_TRACE_PROFILE) return 0;
    const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(p));
    const auto ns = *static_cast<const sqlite3_int64*>(x);
    if (sql != nullptr) static_cast<SqlTracer*>(ctx)->OnStatement(sql, ns);
    return 0;
  }
  void OnStatement(std::string_view sql, int64_t ns) {
    const auto end = Clock_::now();
    const auto start = end - std::chrono::nanoseconds(ns);
    std::lock_guard lock(mu_);
    if (sql.starts_with("BEGIN")) {
      txn_start_ = start;
      kind_ = Kind::kNone;
    } else if (sql.starts_with("COMMIT") || sql.starts_with("ROLLBACK")) {
      const double dur = Seconds(end - txn_start_);
      switch (kind_) {
        case Kind::kRecord:
          times_.prepare += Seconds(txn_start_ - last_);
          times_.record += dur;
          ++times_.chunks;
          last_ = end;
          break;
        case Kind::kComplete:
          times_.sign += Seconds(txn_start_ - last_);
          times_.complete += dur;
          last_ = end;
          break;
        case Kind::kPutCrl: times_.put_crl += dur; break;
        case Kind::kCrlNumber: times_.crl_number += dur; break;
        case Kind::kNone: break;
      }
      kind_ = Kind::kNone;
    } else if (sql.find("INSERT INTO certificates(") != std::string_view::npos) {
      kind_ = Kind::kRecord;
    } else if (sql.find("SET state = 'issued'") != std::string_view::npos) {
      kind_ = Kind::kComplete;
    } else if (sql.find("INSERT INTO crls") != std::string_view::npos) {
      kind_ = Kind::kPutCrl;
    } else if (sql.find("INSERT INTO crl_numbers") != std::string_view::npos) {
      kind_ = Kind::kCrlNumber;
    } else if (sql.find("SELECT serial, revoked_at") != std::string_view::npos) {
      times_.list_revoked += static_cast<double>(ns) / 1e9;
    }
  }

  std::mutex mu_;
  Clock_::time_point last_ = Clock_::now();
  Clock_::time_point txn_start_ = Clock_::now();
  Kind kind_ = Kind::kNone;
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

// MakeCsrs builds `n` DER CSRs signed with SHA-256 by keys drawn from a pool of P-256 keys.
inline std::vector<Bytes> MakeCsrs(int n, int key_pool = 256) {
  std::vector<ossl::UniquePtr<EVP_PKEY>> keys;
  for (int i = 0; i < key_pool; ++i) {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (k == nullptr) Die("P-256 keygen");
    keys.emplace_back(k);
  }
  std::vector<Bytes> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    const std::string cn = "bench subscriber " + std::to_string(i);
    EVP_PKEY* key = keys[static_cast<std::size_t>(i % key_pool)].get();
    if (X509_REQ_set_version(req.get(), 0) != 1 ||
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.data()),
                                   static_cast<int>(cn.size()), -1, 0) != 1 ||
        X509_REQ_set_pubkey(req.get(), key) != 1 ||
        X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) {
      Die("build CSR");
    }
    unsigned char* der = nullptr;
    const int len = i2d_X509_REQ(req.get(), &der);
    if (len <= 0) Die("encode CSR");
    out.emplace_back(der, der + len);
    OPENSSL_free(der);
  }
  return out;
}

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
