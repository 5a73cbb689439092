// kyso_bench_workflow: the registration workflow (issue 3) against bare issuance, and
// `request list` over a million stored requests.
//
// Part 1, workflow vs bare issuance. A deployment is created in a temporary folder
// (InitDeployment, default keys: issuing CA RSA-2048 on SoftHSM2), the demo agency tree is
// imported, and N new-individual requests (one Mẫu 01 row each, filed by the focal person of
// SKHCN for a person at SKHCN.CDS, with a CSR from a small pool given through
// FilingInput::read_file) are filed with Workflow::File and then approved with
// Workflow::Decide by the provider, which fulfils them (issues on the token). In the same
// run, Authority::IssueBatch issues N certificates from parsed CSRs as `kyso cert
// issue-batch` does. The ratio workflow time / bare issuance time is the headline (goal
// <= 1.5). An SQLite tracer counts the transactions per request and the time in them and in
// their COMMITs (WAL, synchronous=FULL: one fsync each), and the fsync latency of the disk
// is measured with a bare SQLite table. The same people are then filed as one request of N
// rows (the workflow's existing batch path), and a projection runs the N requests through
// the store's existing span APIs (one InsertRequests, one TransitionRequests, one
// IssueBatch) to show what a batch API in the workflow would give.
//
// Part 2, `request list`. A second deployment's `requests` table is filled by direct SQL
// with 1,000,000 rows, and Workflow::List (what `kyso request list` runs) and
// Store::ListRequests are timed for the console, a state, overdue, a focal person (subtree),
// focal + state, each with the default limit of 100 and for the second page. Median of 20.
// Queries over the goal get EXPLAIN QUERY PLAN and are re-timed with candidate indexes on the
// throw-away database.
//
// Usage: kyso_bench_workflow [-n 10000] [--list-rows 1000000] [--runs 20]
//                            [--skip-workflow] [--skip-list] [--no-projection] [--no-experiments]

#include <openssl/pem.h>
#include <sys/wait.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bench_common.h"
#include "kyso/base/calendar.h"
#include "kyso/ca/authority.h"
#include "kyso/cli/deployment.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"
#include "kyso/ra/agency_tree.h"
#include "kyso/ra/forms/forms.h"
#include "kyso/ra/workflow.h"

#ifndef KYSO_SOURCE_DIR
#define KYSO_SOURCE_DIR "."
#endif

namespace kyso::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kKeyPool = 256;   // P-256 keys behind the bare-issuance CSRs
constexpr int kCsrPool = 64;    // CSR files the workflow's rows point at
constexpr double kListGoalMs = 100;

struct Options {
  int n = 10000;
  int64_t list_rows = 1000000;
  int runs = 20;
  bool workflow = true;
  bool list = true;
  bool projection = true;
  bool experiments = true;
  std::string agencies = std::string(KYSO_SOURCE_DIR) + "/../shared/domain/demo-agencies.csv";
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename T>
double D(T v) {
  return static_cast<double>(v);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[k];
}

// ---------------------------------------------------------------------------------------------
// TxnTracer: every statement kyso's store runs, seen through SQLITE_TRACE_PROFILE on every
// connection opened after Install(). Transactions are classified by their first write (the
// SQL text of sqlite_store.cc; a change there shows as "other", never as a build failure).
// Reads outside transactions are summed. The gap between the COMMIT of an issuance's record
// transaction and the BEGIN of its complete transaction is signing plus assembling.

class TxnTracer {
 public:
  enum Kind { kFile, kTransition, kRecord, kComplete, kFulfil, kOther, kKindCount };
  static constexpr const char* kNames[kKindCount] = {
      "file (INSERT requests + audit)", "transition (UPDATE requests state)",
      "record (INSERT certificates)",   "complete (certificates issued)",
      "fulfil (subscriber, lineage)",   "other"};

  struct PerKind {
    int64_t txns = 0;
    int64_t statements = 0;  // inside the transaction, BEGIN and COMMIT excluded
    int64_t audit_rows = 0;
    double txn_s = 0;     // BEGIN start to COMMIT end
    double commit_s = 0;  // the COMMIT statement alone: WAL write + fsync
  };
  struct Totals {
    std::array<PerKind, kKindCount> kinds{};
    int64_t reads = 0;
    double read_s = 0;
    int64_t signs = 0;
    double sign_s = 0;
    int64_t Txns() const {
      int64_t t = 0;
      for (const PerKind& k : kinds) t += k.txns;
      return t;
    }
    double TxnSeconds() const {
      double t = 0;
      for (const PerKind& k : kinds) t += k.txn_s;
      return t;
    }
    double CommitSeconds() const {
      double t = 0;
      for (const PerKind& k : kinds) t += k.commit_s;
      return t;
    }
    int64_t AuditRows() const {
      int64_t t = 0;
      for (const PerKind& k : kinds) t += k.audit_rows;
      return t;
    }
  };

  static TxnTracer& Get() {
    static TxnTracer t;
    return t;
  }
  void Install() {
    static const bool once = [] {
      return sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(&TxnTracer::OnOpen)) == SQLITE_OK;
    }();
    if (!once) Die("sqlite3_auto_extension");
  }
  void SetEnabled(bool on) { enabled_ = on; }
  Totals Take() {
    std::lock_guard lock(mu_);
    Totals t = totals_;
    totals_ = Totals{};
    return t;
  }
  // Capture keeps the expanded SQL of the last request listing (for EXPLAIN QUERY PLAN).
  void SetCapture(bool on) {
    std::lock_guard lock(mu_);
    capture_ = on;
    captured_.clear();
  }
  std::string captured() {
    std::lock_guard lock(mu_);
    return captured_;
  }

 private:
  // SQLite's own profile time comes from the VFS clock in whole milliseconds, too coarse for
  // statements of microseconds; TRACE_STMT marks each statement's start with a steady clock.
  static int OnOpen(sqlite3* db, char**, const void*) {
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, &TxnTracer::OnTrace, &Get());
    return SQLITE_OK;
  }
  static int OnTrace(unsigned type, void* ctx, void* p, void* x) {
    auto* self = static_cast<TxnTracer*>(ctx);
    if (!self->enabled_.load(std::memory_order_relaxed)) return 0;
    auto* stmt = static_cast<sqlite3_stmt*>(p);
    if (type == SQLITE_TRACE_STMT) {
      std::lock_guard lock(self->mu_);
      self->starts_[stmt] = Clock_::now();
      return 0;
    }
    if (type != SQLITE_TRACE_PROFILE) return 0;
    const char* sql = sqlite3_sql(stmt);
    if (sql != nullptr) self->OnStatement(stmt, sql, *static_cast<const sqlite3_int64*>(x));
    return 0;
  }
  void OnStatement(sqlite3_stmt* stmt, std::string_view sql, int64_t ns) {
    const auto end = Clock_::now();
    std::lock_guard lock(mu_);
    auto start = end - std::chrono::nanoseconds(ns);
    if (auto it = starts_.find(stmt); it != starts_.end()) {
      start = it->second;
      starts_.erase(it);
    }
    const double dur = Seconds(end - start);
    if (sql.starts_with("BEGIN")) {
      in_txn_ = true;
      txn_start_ = start;
      kind_ = kKindCount;
      statements_ = 0;
      audit_ = 0;
      return;
    }
    if (sql.starts_with("COMMIT") || sql.starts_with("ROLLBACK")) {
      const Kind k = kind_ == kKindCount ? kOther : kind_;
      PerKind& pk = totals_.kinds[k];
      ++pk.txns;
      pk.statements += statements_;
      pk.audit_rows += audit_;
      pk.txn_s += Seconds(end - txn_start_);
      pk.commit_s += dur;
      if (k == kRecord) {
        record_end_ = end;
        record_open_ = true;
      }
      in_txn_ = false;
      return;
    }
    if (in_txn_) {
      ++statements_;
      if (sql.find("INSERT INTO audit_events") != std::string_view::npos) ++audit_;
      if (kind_ != kKindCount) return;
      if (sql.find("INSERT INTO requests(") != std::string_view::npos) {
        kind_ = kFile;
      } else if (sql.find("UPDATE requests SET state = ?") != std::string_view::npos) {
        kind_ = kTransition;
      } else if (sql.find("INSERT INTO certificates(") != std::string_view::npos) {
        kind_ = kRecord;
      } else if (sql.find("SET state = 'issued'") != std::string_view::npos) {
        kind_ = kComplete;
        if (record_open_) {
          totals_.sign_s += Seconds(txn_start_ - record_end_);
          ++totals_.signs;
          record_open_ = false;
        }
      } else if (sql.find("SET state = 'fulfilled'") != std::string_view::npos) {
        kind_ = kFulfil;
      }
      return;
    }
    if (sql.starts_with("SELECT")) {
      ++totals_.reads;
      totals_.read_s += dur;
      if (capture_ && sql.find("FROM requests WHERE 1") != std::string_view::npos) {
        char* e = sqlite3_expanded_sql(stmt);
        if (e != nullptr) {
          captured_ = e;
          sqlite3_free(e);
        }
      }
    }
  }

  std::atomic<bool> enabled_{false};
  std::mutex mu_;
  std::map<sqlite3_stmt*, Clock_::time_point> starts_;
  bool in_txn_ = false;
  Kind kind_ = kKindCount;
  int64_t statements_ = 0, audit_ = 0;
  Clock_::time_point txn_start_{}, record_end_{};
  bool record_open_ = false;
  bool capture_ = false;
  std::string captured_;
  Totals totals_;
};

// ---------------------------------------------------------------------------------------------
// Direct SQLite access for the probes, the fill and EXPLAIN (never kyso's connection).

class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Die("open " + path.string());
    sqlite3_busy_timeout(db_, 30000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  sqlite3* get() const { return db_; }
  void Exec(const std::string& sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      Die("sqlite: " + sql.substr(0, 200) + ": " + msg);
    }
  }
  // Rows runs a query and gives its rows as text.
  std::vector<std::vector<std::string>> Rows(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      Die("prepare: " + sql.substr(0, 200) + ": " + sqlite3_errmsg(db_));
    }
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        row.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// CommitLatency times `count` one-row transactions on a fresh WAL table: with
// synchronous=FULL each COMMIT fsyncs the WAL, which bounds any design that commits per
// request.
// With `warm` transactions first, the WAL has been checkpointed and restarted (at 1000
// pages), so later commits overwrite blocks of the WAL file instead of growing it.
double CommitLatencyMs(const fs::path& path, const char* synchronous, int count, int warm) {
  RawDb db(path);
  db.Exec("PRAGMA journal_mode=WAL");
  db.Exec(std::string("PRAGMA synchronous=") + synchronous);
  db.Exec("CREATE TABLE IF NOT EXISTS t(x BLOB)");
  for (int i = 0; i < warm; ++i) db.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (randomblob(300)); COMMIT");
  Stopwatch w;
  for (int i = 0; i < count; ++i) db.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (randomblob(300)); COMMIT");
  return 1e3 * w.Elapsed() / count;
}

// ---------------------------------------------------------------------------------------------
// CSRs.


std::string DerToPem(const Bytes& der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) Die("d2i_X509_REQ");
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) Die("PEM_write_bio_X509_REQ");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// ---------------------------------------------------------------------------------------------
// Mẫu 01 rows.

constexpr const char* kMau01Header =
    "ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki,csr\n";

std::string PersonName(int i) {
  static const char* family[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng"};
  static const char* middle[] = {"Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh"};
  static const char* given[] = {"An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Nhung", "Phúc", "Quân", "Tâm"};
  const auto u = static_cast<unsigned>(i);
  return std::string(family[u % 8]) + " " + middle[(u / 8) % 6] + " " + given[(u / 48) % 11];
}

std::string Cccd(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0792%08d", i);
  return buf;
}

std::string Email(int i) { return "cv" + std::to_string(i) + "@dongnai.gov.vn"; }

std::string Mau01Row(int i) {
  return PersonName(i) + ",15/03/1985," + Cccd(i) + ",10/05/2021,Cục Cảnh sát QLHC về TTXH," + Email(i) +
         ",SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,,csr" + std::to_string(i % kCsrPool) + ".pem\n";
}

std::string Mau01(int i) { return std::string(kMau01Header) + Mau01Row(i); }

// ---------------------------------------------------------------------------------------------
// Part 1.

struct BareResult {
  double parse_s = 0, issue_s = 0;
  double total() const { return parse_s + issue_s; }
};

// BareIssue is `kyso cert issue-batch`: ParseCertRequests and IssueBatch on 2 threads.
BareResult BareIssue(ca::Authority& authority, const std::vector<Bytes>& ders, const std::string& org,
                     const std::vector<std::string>& units) {
  BareResult r;
  Stopwatch w;
  std::vector<Result<pkix::CertRequest>> parsed = pkix::ParseCertRequests(ders, 2);
  std::vector<pkix::CertRequest> csrs;
  csrs.reserve(ders.size());
  for (auto& p : parsed) csrs.push_back(Must(std::move(p), "parse CSR"));
  std::vector<ca::IssueRequest> reqs;
  reqs.reserve(ders.size());
  for (std::size_t i = 0; i < csrs.size(); ++i) {
    const int k = static_cast<int>(i);
    reqs.push_back(ca::IssueRequest{ca::Profile::kIndividual, &csrs[i],
                                    ca::Subject{PersonName(k), Email(k), org, units}, std::nullopt});
  }
  r.parse_s = w.Elapsed();
  w.Restart();
  auto results = authority.IssueBatch(reqs, "bench", 2);
  r.issue_s = w.Elapsed();
  const EVP_PKEY* issuer_key = X509_get0_pubkey(authority.issuing_cert());
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) Die("bare issuance failed: " + results[i].status().ToString());
    if (i % std::max<std::size_t>(1, results.size() / 8) == 0) {
      auto cert = Must(pkix::ParseCertificate(results[i]->cert_der), "parse certificate");
      if (X509_verify(cert.get(), const_cast<EVP_PKEY*>(issuer_key)) != 1) Die("certificate does not verify");
    }
  }
  return r;
}

void PrintTxns(const std::string& label, const TxnTracer::Totals& t, double wall, int n) {
  std::cout << "  " << label << ": wall " << Fixed(wall, 2) << " s, " << Fixed(D(t.Txns()) / n, 2)
            << " write transactions/request, " << Fixed(D(t.AuditRows()) / n, 2)
            << " audit rows/request, " << Fixed(D(t.reads) / n, 1) << " reads/request\n";
  std::cout << "    transaction kind                     count   txn s   commit s  ms/txn  (commit ms)\n";
  for (int k = 0; k < TxnTracer::kKindCount; ++k) {
    const TxnTracer::PerKind& p = t.kinds[static_cast<std::size_t>(k)];
    if (p.txns == 0) continue;
    char buf[256];
    std::snprintf(buf, sizeof(buf), "    %-36s %6lld  %6.2f  %8.2f  %6.3f  (%.3f)\n", TxnTracer::kNames[k],
                  static_cast<long long>(p.txns), p.txn_s, p.commit_s, 1e3 * p.txn_s / double(p.txns),
                  1e3 * p.commit_s / double(p.txns));
    std::cout << buf;
  }
  const double sql = t.TxnSeconds() + t.read_s;
  std::cout << "    reads outside transactions           " << t.reads << " in " << Fixed(t.read_s, 3) << " s\n";
  if (t.signs > 0) {
    std::cout << "    token signing + assembling (gap record->complete) " << Fixed(t.sign_s, 2) << " s, "
              << Fixed(1e6 * t.sign_s / double(t.signs), 0) << " us/request\n";
  }
  const double rest = wall - sql - t.sign_s;
  std::cout << "    = in write transactions " << Fixed(t.TxnSeconds(), 2) << " s ("
            << Fixed(100 * t.TxnSeconds() / wall, 0) << "%, of which COMMIT " << Fixed(t.CommitSeconds(), 2)
            << " s), reads " << Fixed(t.read_s, 2) << " s, signing " << Fixed(t.sign_s, 2)
            << " s, kyso CPU outside SQLite " << Fixed(rest, 2) << " s (" << Fixed(1e6 * rest / n, 0)
            << " us/request)\n";
}

struct WorkflowNumbers {
  double bare_s = 0, bare_before_s = 0, bare_after_s = 0;
  double file_s = 0, decide_s = 0;
  double projected_s = 0;
  double multi_file_s = 0, multi_decide_s = 0;
  double batch_file_s = 0, batch_decide_s = 0;
};

WorkflowNumbers RunWorkflowPart(const Options& opt, const std::string& agencies_csv) {
  WorkflowNumbers out;
  TxnTracer& tracer = TxnTracer::Get();
  std::cout << "\n== part 1: workflow (File + Decide) vs bare issuance, N = " << opt.n << " ==\n";
  TempDir tmp("kyso-bench-wf");
  const std::string home = (tmp.path() / "home").string();
  Stopwatch w;
  cli::InitOptions init;
  init.home = home;
  Must(cli::InitDeployment(init), "init deployment");
  auto d = Must(cli::Deployment::Open(home), "open deployment");
  auto agencies = Must(ra::ParseAgencyCsv(agencies_csv, {}), "agencies CSV");
  Must(d->store().UpsertAgencies(agencies, "console"), "import agencies");
  ra::Workflow wf(d->config(), d->store(), &d->authority(), d->clock());
  Must(wf.Load(), "workflow load");
  const EVP_PKEY* issuer_key = X509_get0_pubkey(d->authority().issuing_cert());
  std::cout << "deployment " << home << " (init+open " << Fixed(w.Elapsed(), 1) << " s, issuing CA RSA-"
            << EVP_PKEY_get_bits(issuer_key) << " on SoftHSM2), " << agencies.size() << " agencies\n";

  // Disk: what one fsync'd commit costs here.
  const double commit_grow_ms = CommitLatencyMs(tmp.path() / "probe-grow.db", "FULL", 300, 5);
  const double commit_full_ms = CommitLatencyMs(tmp.path() / "probe.db", "FULL", 300, 2500);
  const double commit_normal_ms = CommitLatencyMs(tmp.path() / "probe-normal.db", "NORMAL", 300, 2500);
  std::cout << "SQLite WAL commit of one small row (bare table, same disk): synchronous=FULL "
            << Fixed(commit_full_ms, 3) << " ms (" << Fixed(commit_grow_ms, 3)
            << " ms while the WAL file grows), synchronous=NORMAL " << Fixed(commit_normal_ms, 3) << " ms\n";
  Emit("wf.commit_full_ms", Fixed(commit_full_ms, 3));
  Emit("wf.commit_grow_ms", Fixed(commit_grow_ms, 3));
  Emit("wf.commit_normal_ms", Fixed(commit_normal_ms, 3));

  w.Restart();
  const std::vector<Bytes> ders = MakeCsrs(opt.n);
  std::map<std::string, std::string> files;
  for (int i = 0; i < kCsrPool && i < opt.n; ++i) {
    files["csr" + std::to_string(i) + ".pem"] = DerToPem(ders[static_cast<std::size_t>(i)]);
  }
  std::cout << "made " << opt.n << " CSRs (EC P-256) in " << Fixed(w.Elapsed(), 1) << " s (not counted)\n";
  auto [org, units] = wf.agencies().SubjectPath("SKHCN.CDS");

  // Bare issuance, before.
  tracer.SetEnabled(true);
  (void)tracer.Take();
  const BareResult bare1 = BareIssue(d->authority(), ders, org, units);
  const TxnTracer::Totals bare_txns = tracer.Take();
  std::cout << "\nbare issuance (ParseCertRequests + IssueBatch, 2 threads): parse " << Fixed(bare1.parse_s, 2)
            << " s + issue " << Fixed(bare1.issue_s, 2) << " s = " << Fixed(bare1.total(), 2) << " s, "
            << Fixed(opt.n / bare1.total(), 0) << "/s; " << bare_txns.Txns() << " write transactions ("
            << Fixed(D(bare_txns.Txns()) / opt.n, 4) << "/certificate)\n";

  // The workflow.
  const ra::Actor focal{"dau_moi_skhcn", ra::Role::kFocal, "SKHCN"};
  const ra::Actor provider{"cuc_ctsbmtt", ra::Role::kProvider, ""};
  ra::FilingInput in;
  in.kind = ra::RequestKind::kNewIndividual;
  in.read_file = [&files](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return NotFoundError("no file " + path);
    return it->second;
  };
  std::vector<std::string> rows(static_cast<std::size_t>(opt.n));
  for (int i = 0; i < opt.n; ++i) rows[static_cast<std::size_t>(i)] = Mau01(i);

  std::vector<int64_t> ids;
  ids.reserve(rows.size());
  std::vector<double> file_lat, decide_lat;
  file_lat.reserve(rows.size());
  decide_lat.reserve(rows.size());
  (void)tracer.Take();
  Stopwatch phase;
  for (std::string& r : rows) {
    in.rows_csv = std::move(r);
    Stopwatch one;
    ids.push_back(Must(wf.File(focal, in), "file"));
    file_lat.push_back(one.Elapsed());
  }
  out.file_s = phase.Elapsed();
  const TxnTracer::Totals file_txns = tracer.Take();
  phase.Restart();
  for (int64_t id : ids) {
    Stopwatch one;
    Must(wf.Decide(provider, id, true, ""), "decide " + std::to_string(id));
    decide_lat.push_back(one.Elapsed());
  }
  out.decide_s = phase.Elapsed();
  const TxnTracer::Totals decide_txns = tracer.Take();

  // Every request is fulfilled with one certificate; a sample verifies.
  for (std::size_t i = 0; i < ids.size(); i += std::max<std::size_t>(1, ids.size() / 16)) {
    auto v = Must(wf.Show(ra::Actor::Console(), ids[i]), "show");
    if (v.record.state != "fulfilled" || v.record.certificate_serials.size() != 1) {
      Die("request " + std::to_string(ids[i]) + " is " + v.record.state);
    }
    auto rec = Must(d->store().GetCertificate(v.record.certificate_serials[0]), "certificate");
    auto cert = Must(pkix::ParseCertificate(rec.cert_der), "parse certificate");
    if (X509_verify(cert.get(), const_cast<EVP_PKEY*>(issuer_key)) != 1) Die("workflow certificate does not verify");
  }
  {
    store::RequestFilter f;
    f.state = "fulfilled";
    f.limit = 10000;
    std::size_t fulfilled = 0;
    for (;;) {
      auto page = Must(d->store().ListRequests(f), "list");
      fulfilled += page.size();
      if (page.size() < f.limit) break;
      f.before_id = page.back().id;
    }
    if (fulfilled != ids.size()) Die("fulfilled " + std::to_string(fulfilled) + " of " + std::to_string(ids.size()));
  }

  // The batch path the workflow already has: one Mẫu 01 of N rows is one request; Decide
  // issues all its rows with one IssueBatch and fulfils them in one transaction.
  constexpr int kMaxMau01Rows = 20000;  // forms::Limits::max_rows
  if (opt.n <= kMaxMau01Rows) {
    std::string big = kMau01Header;
    for (int i = 0; i < opt.n; ++i) big += Mau01Row(opt.n + i);  // CCCDs not used above
    in.rows_csv = std::move(big);
    (void)tracer.Take();
    Stopwatch mw;
    const int64_t id = Must(wf.File(focal, in), "file one request of N rows");
    out.multi_file_s = mw.Elapsed();
    const TxnTracer::Totals mf = tracer.Take();
    mw.Restart();
    Must(wf.Decide(provider, id, true, ""), "decide one request of N rows");
    out.multi_decide_s = mw.Elapsed();
    const TxnTracer::Totals md = tracer.Take();
    auto v = Must(wf.Show(ra::Actor::Console(), id), "show");
    if (v.record.state != "fulfilled" || v.record.certificate_serials.size() != static_cast<std::size_t>(opt.n)) {
      Die("the " + std::to_string(opt.n) + "-row request is " + v.record.state + " with " +
          std::to_string(v.record.certificate_serials.size()) + " certificates");
    }
    std::cout << "one request of " << opt.n << " Mẫu 01 rows (the workflow's own batch): File "
              << Fixed(out.multi_file_s, 2) << " s (" << mf.Txns() << " write txns, "
              << Fixed(mf.TxnSeconds(), 2) << " s in them), Decide " << Fixed(out.multi_decide_s, 2) << " s ("
              << md.Txns() << " write txns, " << Fixed(md.TxnSeconds(), 2) << " s in them, signing gaps "
              << Fixed(md.sign_s, 2) << " s)\n";
  }

  // The batch calls: N requests filed with FileMany and decided with DecideMany, in slices of
  // 512 (one transaction to file a slice, one to decide it, IssueBatch over the slice's rows,
  // one transaction to fulfil it).
  {
    constexpr std::size_t kSlice = 512;
    std::vector<ra::FilingInput> inputs;
    for (int i = 0; i < opt.n; ++i) {
      ra::FilingInput one = in;
      one.rows_csv = Mau01(2 * opt.n + i);
      inputs.push_back(std::move(one));
    }
    (void)tracer.Take();
    Stopwatch bw;
    std::vector<int64_t> batch_ids;
    for (std::size_t start = 0; start < inputs.size(); start += kSlice) {
      const std::size_t n = std::min(kSlice, inputs.size() - start);
      auto slice = Must(wf.FileMany(focal, std::span(inputs).subspan(start, n)), "FileMany");
      batch_ids.insert(batch_ids.end(), slice.begin(), slice.end());
    }
    out.batch_file_s = bw.Elapsed();
    const TxnTracer::Totals bf = tracer.Take();
    bw.Restart();
    for (std::size_t start = 0; start < batch_ids.size(); start += kSlice) {
      const std::size_t n = std::min(kSlice, batch_ids.size() - start);
      Must(wf.DecideMany(provider, std::span(batch_ids).subspan(start, n), true, ""), "DecideMany");
    }
    out.batch_decide_s = bw.Elapsed();
    const TxnTracer::Totals bd = tracer.Take();
    for (std::size_t i = 0; i < batch_ids.size(); i += std::max<std::size_t>(1, batch_ids.size() / 16)) {
      auto v = Must(wf.Show(ra::Actor::Console(), batch_ids[i]), "show");
      if (v.record.state != "fulfilled") Die("batch request " + std::to_string(batch_ids[i]) + " is " + v.record.state);
    }
    std::cout << opt.n << " requests through FileMany/DecideMany (slices of 512): File "
              << Fixed(out.batch_file_s, 2) << " s (" << bf.Txns() << " write txns), Decide "
              << Fixed(out.batch_decide_s, 2) << " s (" << bd.Txns() << " write txns)\n";
  }

  // Bare issuance, after (same machine state as late in the workflow run).
  (void)tracer.Take();
  const BareResult bare2 = BareIssue(d->authority(), ders, org, units);
  (void)tracer.Take();
  out.bare_before_s = bare1.total();
  out.bare_after_s = bare2.total();
  out.bare_s = (bare1.total() + bare2.total()) / 2;

  const double wf_s = out.file_s + out.decide_s;
  std::cout << "bare issuance again after the workflow: " << Fixed(bare2.total(), 2) << " s, "
            << Fixed(opt.n / bare2.total(), 0) << "/s\n\n";
  std::cout << "workflow: File " << Fixed(out.file_s, 2) << " s (" << Fixed(opt.n / out.file_s, 0)
            << "/s; p50 " << Fixed(1e3 * Median(file_lat), 2) << " ms, p99 "
            << Fixed(1e3 * Percentile(file_lat, 0.99), 2) << " ms), Decide " << Fixed(out.decide_s, 2) << " s ("
            << Fixed(opt.n / out.decide_s, 0) << "/s; p50 " << Fixed(1e3 * Median(decide_lat), 2) << " ms, p99 "
            << Fixed(1e3 * Percentile(decide_lat, 0.99), 2) << " ms)\n"
            << "end to end " << Fixed(wf_s, 2) << " s = " << Fixed(opt.n / wf_s, 0) << " requests/s; bare "
            << Fixed(out.bare_s, 2) << " s (mean of " << Fixed(bare1.total(), 2) << " and "
            << Fixed(bare2.total(), 2) << ") = " << Fixed(opt.n / out.bare_s, 0) << "/s\n"
            << "RATIO workflow / bare = " << Fixed(wf_s / out.bare_s, 2) << " (goal <= 1.5)\n";
  {
    const double batch = out.batch_file_s + out.batch_decide_s;
    std::cout << opt.n << " requests, FileMany + DecideMany: " << Fixed(batch, 2) << " s = "
              << Fixed(opt.n / batch, 0) << " requests/s, ratio to bare " << Fixed(batch / out.bare_s, 2)
              << " (goal <= 1.5)\n";
    Emit("wf.batch_s", Fixed(batch, 2));
    Emit("wf.batch_ratio", Fixed(batch / out.bare_s, 2));
  }
  if (out.multi_file_s > 0) {
    const double multi = out.multi_file_s + out.multi_decide_s;
    std::cout << "one request of " << opt.n << " rows: " << Fixed(multi, 2) << " s = " << Fixed(opt.n / multi, 0)
              << " certificates/s, ratio to bare " << Fixed(multi / out.bare_s, 2) << "\n";
    Emit("wf.multirow_s", Fixed(multi, 2));
    Emit("wf.multirow_ratio", Fixed(multi / out.bare_s, 2));
  }
  std::cout << "\n";
  std::cout << "where the workflow's time goes:\n";
  PrintTxns("File", file_txns, out.file_s, opt.n);
  PrintTxns("Decide", decide_txns, out.decide_s, opt.n);
  const double commits = file_txns.CommitSeconds() + decide_txns.CommitSeconds();
  const int64_t txns = file_txns.Txns() + decide_txns.Txns();
  std::cout << "  all: " << txns << " write transactions (" << Fixed(D(txns) / opt.n, 2)
            << "/request) against " << bare_txns.Txns() << " for bare issuance; COMMITs alone "
            << Fixed(commits, 2) << " s = " << Fixed(100 * commits / wf_s, 0) << "% of the workflow, "
            << Fixed(commits / out.bare_s, 2) << "x the whole bare issuance\n";
  // What File's own CPU is made of: its two heavy steps, timed alone on one thread.
  {
    const std::size_t m = std::min<std::size_t>(2000, rows.size());
    const auto today = LocalDate(d->clock().Now());
    Stopwatch mw;
    for (std::size_t i = 0; i < m; ++i) {
      auto parsed = ra::forms::ParseMau01(Mau01(static_cast<int>(i)), today);
      if (parsed.rows.size() != 1) Die("Mẫu 01 row does not parse");
    }
    const double mau01_us = 1e6 * mw.Elapsed() / D(m);
    mw.Restart();
    for (std::size_t i = 0; i < m; ++i) {
      const std::string& pem = files["csr" + std::to_string(i % kCsrPool) + ".pem"];
      auto csr = Must(pkix::ParseCertRequest(AsBytes(pem)), "parse CSR");
      (void)ossl::ToDer(i2d_X509_REQ, static_cast<const X509_REQ*>(csr.req.get()));
    }
    const double csr_us = 1e6 * mw.Elapsed() / D(m);
    std::cout << "  File's CPU, parts timed alone: forms::ParseMau01 of one row " << Fixed(mau01_us, 0)
              << " us, ParseCertRequest (PEM, verify) + DER re-encode " << Fixed(csr_us, 0)
              << " us; Decide parses the CSR again (ParseCertRequest on the stored DER)\n";
    Emit("wf.file_mau01_us", Fixed(mau01_us, 0));
    Emit("wf.file_csr_us", Fixed(csr_us, 0));
  }
  Emit("wf.n", std::to_string(opt.n));
  Emit("wf.file_s", Fixed(out.file_s, 2));
  Emit("wf.decide_s", Fixed(out.decide_s, 2));
  Emit("wf.per_s", Fixed(opt.n / wf_s, 0));
  Emit("wf.bare_s", Fixed(out.bare_s, 2));
  Emit("wf.bare_per_s", Fixed(opt.n / out.bare_s, 0));
  Emit("wf.ratio", Fixed(wf_s / out.bare_s, 2));
  Emit("wf.txns_per_request", Fixed(D(txns) / opt.n, 2));
  Emit("wf.commit_s", Fixed(commits, 2));
  Emit("wf.file_p50_ms", Fixed(1e3 * Median(file_lat), 2));
  Emit("wf.decide_p50_ms", Fixed(1e3 * Median(decide_lat), 2));

  if (!opt.projection) return out;

  // Projection: the same requests through the store's span APIs, as a batch API in the
  // workflow would run them (checks per request stay; transactions and issuance are
  // grouped). Records are copied from the filed ones and filed again as new requests.
  std::cout << "\nprojection (what a batch File/Decide would cost; store span APIs, not timed through "
               "Workflow):\n";
  std::vector<store::RequestRecord> recs;
  recs.reserve(ids.size());
  for (int64_t id : ids) {
    store::RequestRecord r = Must(d->store().GetRequest(id), "get request");
    r.id = 0;
    r.state = "submitted";
    r.decided_by.clear();
    r.decided_at.reset();
    r.certificate_serials.clear();
    recs.push_back(std::move(r));
  }
  // Filing checks per request, as measured above: File's wall time minus its SQL.
  const double file_checks = out.file_s - file_txns.TxnSeconds() - file_txns.read_s;
  (void)tracer.Take();
  Stopwatch p;
  Must(d->store().InsertRequests(recs, {}, focal.name), "insert requests");
  const double insert_s = p.Elapsed();
  std::vector<int64_t> new_ids;
  for (const auto& r : recs) new_ids.push_back(r.id);
  p.Restart();
  Must(d->store().TransitionRequests(new_ids, "submitted", "approved", provider.name, "", provider.name),
       "transition");
  const double transition_s = p.Elapsed();
  p.Restart();
  std::vector<Bytes> req_ders;
  std::vector<store::FulfilledCertificate> fcs;
  std::vector<ca::Subject> subjects;
  for (const auto& r : recs) {
    const json payload = json::parse(r.payload);
    const json& row = payload["rows"][0];
    req_ders.push_back(Must(HexDecode(row["csr"].get<std::string>()), "csr hex"));
    const std::string workplace = row["co_quan"].get<std::string>();
    auto [o, u] = wf.agencies().SubjectPath(workplace);
    const std::string name = row["ho_ten"].get<std::string>();
    const std::string email = row["email"].get<std::string>();
    subjects.push_back(ca::Subject{name, email, o, u});
    json data = row;
    data.erase("csr");
    const store::Agency* managing = wf.agencies().ManagingAgency(workplace);
    store::FulfilledCertificate fc;
    fc.subscriber = store::Subscriber{0, "individual", managing ? managing->code : r.agency_code, workplace,
                                      name, email, data.dump()};
    fc.lineage = store::Lineage{"", 0, "new", "", false, r.id};
    fcs.push_back(std::move(fc));
  }
  const double payload_s = p.Elapsed();
  p.Restart();
  std::vector<Result<pkix::CertRequest>> parsed = pkix::ParseCertRequests(req_ders, 2);
  std::vector<pkix::CertRequest> csrs;
  for (auto& c : parsed) csrs.push_back(Must(std::move(c), "parse CSR"));
  std::vector<ca::IssueRequest> issue;
  for (std::size_t i = 0; i < csrs.size(); ++i) {
    issue.push_back(ca::IssueRequest{ca::Profile::kIndividual, &csrs[i], subjects[i], std::nullopt});
  }
  const double parse_s = p.Elapsed();
  p.Restart();
  auto issued = d->authority().IssueBatch(issue, provider.name, 2);
  const double issue_s = p.Elapsed();
  for (std::size_t i = 0; i < issued.size(); ++i) {
    if (!issued[i].ok()) Die("projection issuance: " + issued[i].status().ToString());
    fcs[i].lineage.serial = issued[i]->serial_hex;
  }
  (void)tracer.Take();
  p.Restart();
  for (std::size_t i = 0; i < recs.size(); ++i) {
    Must(d->store().Fulfil(recs[i].id, std::span(&fcs[i], 1), provider.name), "fulfil");
  }
  const double fulfil_s = p.Elapsed();
  const TxnTracer::Totals fulfil_txns = tracer.Take();
  const TxnTracer::PerKind& fk = fulfil_txns.kinds[TxnTracer::kFulfil];
  // One transaction for all: the statements stay, the COMMITs but one go.
  const double fulfil_batched = fk.txn_s - fk.commit_s + (fk.txns > 0 ? fk.commit_s / double(fk.txns) : 0);
  const double projected = file_checks + insert_s + transition_s + payload_s + parse_s + issue_s + fulfil_batched;
  // Filing checks are independent per row (CSR decoding and verification most of it): a batch
  // File could run them on both cores, as ParseCertRequests does.
  const double projected2 = projected - file_checks / 2;
  out.projected_s = projected;
  std::cout << "  filing checks (File minus its SQL, measured above)  " << Fixed(file_checks, 2) << " s ("
            << Fixed(1e6 * file_checks / opt.n, 0) << " us/request, one thread)\n"
            << "  InsertRequests, all " << recs.size() << " in one transaction        " << Fixed(insert_s, 2) << " s\n"
            << "  TransitionRequests submitted->approved, one txn   " << Fixed(transition_s, 2) << " s\n"
            << "  payload JSON -> subjects, subscribers (one thread) " << Fixed(payload_s, 2) << " s\n"
            << "  ParseCertRequests again (2 threads)               " << Fixed(parse_s, 2) << " s\n"
            << "  IssueBatch over all (chunks of 512, 2 threads)    " << Fixed(issue_s, 2) << " s\n"
            << "  Store::Fulfil, one transaction per request        " << Fixed(fulfil_s, 2) << " s ("
            << fk.txns << " txns, COMMIT " << Fixed(fk.commit_s, 2) << " s)\n"
            << "    as one transaction (statements kept, one COMMIT) " << Fixed(fulfil_batched, 2) << " s (estimate)\n"
            << "  projected batch workflow " << Fixed(projected, 2) << " s = " << Fixed(opt.n / projected, 0)
            << "/s, ratio to bare " << Fixed(projected / out.bare_s, 2) << " (with per-request Fulfil: "
            << Fixed((projected - fulfil_batched + fulfil_s) / out.bare_s, 2) << "; with the filing checks on 2 threads: "
            << Fixed(projected2 / out.bare_s, 2) << ")\n";
  Emit("wf.projected_batch_par_ratio", Fixed(projected2 / out.bare_s, 2));
  Emit("wf.projected_batch_s", Fixed(projected, 2));
  Emit("wf.projected_batch_ratio", Fixed(projected / out.bare_s, 2));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Part 2.

// FillRequests adds `count` requests by direct SQL in one transaction (synchronous=OFF on
// this connection only): ids 1..count, filed over 2026-2027 in id order, due 3-7 days after
// filing (so due dates spread over 2026-2027 and grow with id), states mixed, agencies
// uniform over the tree, new-individual payloads of the size the workflow stores.
void FillRequests(const fs::path& db_path, int64_t count, const std::vector<std::string>& agencies,
                  const std::string& individual_payload) {
  RawDb db(db_path);
  db.Exec("PRAGMA synchronous=OFF");
  db.Exec("BEGIN IMMEDIATE");
  sqlite3_stmt* st = nullptr;
  const char* ins =
      "INSERT INTO requests(id, kind, state, route, exchange_code, agency_code, filed_by, filed_at,"
      " due_date, decided_by, decided_at, reason, target_serial, payload, parent_request)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)";
  if (sqlite3_prepare_v2(db.get(), ins, -1, &st, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db.get()));
  std::mt19937_64 rng(20261125);
  // States: 10% submitted, 3% approved, 72% fulfilled, 6% rejected, 5% cancelled, 4% closed.
  struct Weighted {
    const char* name;
    int weight;
  };
  const Weighted states[] = {{"submitted", 10}, {"approved", 3}, {"fulfilled", 72},
                             {"rejected", 6},   {"cancelled", 5}, {"closed", 4}};
  const Weighted kinds[] = {{"new-individual", 70}, {"renew", 10}, {"change", 5},
                            {"revoke", 8},          {"handover", 5}, {"lost", 2}};
  auto pick = [&](const auto& table) {
    int r = static_cast<int>(rng() % 100);
    for (const Weighted& x : table) {
      if (r < x.weight) return x.name;
      r -= x.weight;
    }
    return table[0].name;
  };
  const int64_t t0 = Utc(2026, 1, 1, 2).time_since_epoch().count();  // 09:00 in Vietnam
  const int64_t span = 725LL * 86400;  // filed 2026-01-01 .. 2027-12-26, due up to 2027-12-31
  const std::string small_payload = "{\"fields\":{}}";
  for (int64_t i = 1; i <= count; ++i) {
    const int64_t filed = t0 + span * (i - 1) / std::max<int64_t>(1, count);
    const std::string kind = pick(kinds);
    const std::string state = pick(states);
    const bool provider = kind != "renew" && kind != "change";
    const std::string& agency = agencies[rng() % agencies.size()];
    const int64_t due = filed + static_cast<int64_t>(3 + rng() % 5) * 86400;
    const std::string due_date = FormatDate(LocalDate(Time(std::chrono::seconds(due))));
    const bool decided = state != "submitted" && state != "cancelled";
    const std::string& payload = kind == "new-individual" ? individual_payload : small_payload;
    sqlite3_bind_int64(st, 1, i);
    sqlite3_bind_text(st, 2, kind.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, state.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, provider ? "provider" : "authority", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, kind == "handover" || kind == "lost" ? "" : provider ? "G11.07.05" : "H19.5", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, agency.c_str(), -1, SQLITE_TRANSIENT);
    const std::string filed_by = "dau_moi_" + agency;
    sqlite3_bind_text(st, 7, filed_by.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, filed);
    sqlite3_bind_text(st, 9, due_date.c_str(), -1, SQLITE_TRANSIENT);
    if (decided) {
      sqlite3_bind_text(st, 10, provider ? "cuc_ctsbmtt" : "so_khcn", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 11, filed + 86400);
    } else {
      sqlite3_bind_null(st, 10);
      sqlite3_bind_null(st, 11);
    }
    sqlite3_bind_text(st, 12, state == "rejected" ? "hồ sơ thiếu" : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, provider && kind != "new-individual" ? "5a1f0c33d2e8b7a94c6e11f0d3b2a7c8e9f01234" : "",
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) Die(std::string("insert request: ") + sqlite3_errmsg(db.get()));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  db.Exec("COMMIT");
  db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

// PlanText gives EXPLAIN QUERY PLAN of `sql` as an indented tree, one line per step.
std::string PlanText(const RawDb& db, const std::string& sql, const std::string& indent) {
  // Columns: id, parent, notused, detail.
  const auto rows = db.Rows("EXPLAIN QUERY PLAN " + sql);
  std::map<std::string, int> depth;
  std::string out;
  for (const auto& r : rows) {
    const int dd = depth.count(r[1]) ? depth[r[1]] + 1 : 0;
    depth[r[0]] = dd;
    out += indent + std::string(static_cast<std::size_t>(2 * dd), ' ') + r[3] + "\n";
  }
  return out;
}

struct ListQuery {
  std::string name;
  ra::Actor actor;
  std::optional<std::string> state;
  bool overdue = false;
};

struct ListTiming {
  double wf_ms = 0, raw_ms = 0, page2_ms = 0;
  std::size_t rows = 0, rows2 = 0;
  std::string sql, sql2;
};

ListTiming TimeList(ra::Workflow& wf, store::Store& store, const ListQuery& q, int runs,
                    const std::string& today) {
  TxnTracer& tracer = TxnTracer::Get();
  ListTiming t;
  auto list = [&](std::optional<int64_t> before) {
    return Must(wf.List(q.actor, q.state, q.overdue, 100, before), "list " + q.name);
  };
  tracer.SetCapture(true);
  const auto page1 = list(std::nullopt);  // warm-up, and the SQL
  t.sql = tracer.captured();
  t.rows = page1.size();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    Stopwatch w;
    (void)list(std::nullopt);
    ms.push_back(1e3 * w.Elapsed());
  }
  t.wf_ms = Median(ms);
  store::RequestFilter f;
  f.state = q.state;
  if (q.overdue) f.due_before = today;
  if (q.actor.role == ra::Role::kFocal) f.agency_codes = wf.agencies().Subtree(q.actor.agency_code);
  f.limit = 100;
  ms.clear();
  for (int i = 0; i < runs; ++i) {
    Stopwatch w;
    (void)Must(store.ListRequests(f), "raw list");
    ms.push_back(1e3 * w.Elapsed());
  }
  t.raw_ms = Median(ms);
  if (!page1.empty()) {
    const int64_t before = page1.back().record.id;
    tracer.SetCapture(true);
    const auto page2 = list(before);
    t.sql2 = tracer.captured();
    t.rows2 = page2.size();
    ms.clear();
    for (int i = 0; i < runs; ++i) {
      Stopwatch w;
      (void)list(before);
      ms.push_back(1e3 * w.Elapsed());
    }
    t.page2_ms = Median(ms);
  }
  tracer.SetCapture(false);
  return t;
}

// InitInChild creates a deployment in a child process: SoftHSM2 reads its configuration once
// per process, so a second deployment (with its own token folder) cannot be initialised in
// the process that already opened part 1's token. Call before any thread exists.
void InitInChild(const std::string& home) {
  std::cout << std::flush;
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    cli::InitOptions init;
    init.home = home;
    const Status s = cli::InitDeployment(init);
    if (!s.ok()) std::cerr << "bench: init deployment " << home << ": " << s.ToString() << "\n";
    std::_Exit(s.ok() ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Die("init deployment " + home + " failed");
  }
}

void RunListPart(const Options& opt, const std::string& agencies_csv, const std::string& home) {
  TxnTracer& tracer = TxnTracer::Get();
  std::cout << "\n== part 2: request list over " << opt.list_rows << " stored requests (median of " << opt.runs
            << " runs, limit 100) ==\n";
  // `kyso request list` opens the deployment without the CA.
  auto d = Must(cli::Deployment::Open(home, false), "open deployment");
  auto agencies = Must(ra::ParseAgencyCsv(agencies_csv, {}), "agencies CSV");
  Must(d->store().UpsertAgencies(agencies, "console"), "import agencies");
  std::vector<std::string> codes;
  for (const auto& a : agencies) codes.push_back(a.code);

  // A new-individual payload as File stores it (one row with its CSR).
  const Bytes der = MakeCsrs(1, 1)[0];
  json row = {{"ho_ten", PersonName(7)}, {"ngay_sinh", "1985-03-15"}, {"cccd", Cccd(7)},
              {"ngay_cap", "2021-05-10"}, {"noi_cap", "Cục Cảnh sát QLHC về TTXH"}, {"email", Email(7)},
              {"co_quan", "SKHCN.CDS"}, {"tinh", "Đồng Nai"}, {"chuc_vu", "Chuyên viên"},
              {"dien_thoai", "0912345678"}, {"serial_cu", ""}, {"sim_pki", ""}, {"row", 2},
              {"csr", HexEncode(der)}};
  const std::string payload = json{{"fields", json::object()}, {"rows", json::array({row})}}.dump();

  tracer.SetEnabled(false);
  const fs::path db_path = cli::HomePaths(home).database();
  Stopwatch w;
  FillRequests(db_path, opt.list_rows, codes, payload);
  std::cout << "filled " << opt.list_rows << " requests in " << Fixed(w.Elapsed(), 1) << " s (payload "
            << payload.size() << " bytes for new-individual); database " << Fixed(D(fs::file_size(db_path)) / 1e6, 0)
            << " MB\n";
  RawDb raw(db_path);
  {
    const auto c = raw.Rows(
        "SELECT (SELECT COUNT(*) FROM requests WHERE state='submitted'),"
        " (SELECT COUNT(*) FROM requests WHERE state IN ('submitted','approved') AND due_date < '" +
        FormatDate(LocalDate(d->clock().Now())) +
        "'), (SELECT COUNT(*) FROM requests WHERE agency_code IN ('SKHCN','SKHCN.VP','SKHCN.CDS','SKHCN.TTCDS')),"
        " (SELECT COUNT(*) FROM requests WHERE agency_code IN ('SKHCN','SKHCN.VP','SKHCN.CDS','SKHCN.TTCDS')"
        " AND state='submitted')");
    std::cout << "matching rows: submitted " << c[0][0] << ", overdue " << c[0][1] << ", SKHCN subtree " << c[0][2]
              << ", SKHCN subtree submitted " << c[0][3] << "\n";
  }

  ra::Workflow wf(d->config(), d->store(), nullptr, d->clock());
  Must(wf.Load(), "workflow load");
  const std::string today = FormatDate(LocalDate(d->clock().Now()));
  const ra::Actor console = ra::Actor::Console();
  const ra::Actor focal{"dau_moi_skhcn", ra::Role::kFocal, "SKHCN"};
  const ra::Actor focal_small{"dau_moi_xdinhquan", ra::Role::kFocal, "X.DINHQUAN"};
  const std::vector<ListQuery> queries = {
      {"console, all", console, std::nullopt, false},
      {"console, --state submitted", console, "submitted", false},
      {"console, --overdue", console, std::nullopt, true},
      {"focal SKHCN (4 agencies)", focal, std::nullopt, false},
      {"focal SKHCN, --state submitted", focal, "submitted", false},
      {"focal SKHCN, --overdue", focal, std::nullopt, true},
      {"focal X.DINHQUAN (1 agency), --state approved", focal_small, "approved", false},
      {"focal X.DINHQUAN (1 agency), --overdue", focal_small, std::nullopt, true},
  };

  auto run_all = [&](const std::string& label) {
    std::cout << "\n" << label << "\n";
    std::cout << "  query                                        rows  Workflow::List ms  Store::ListRequests ms  "
                 "page 2 ms\n";
    std::vector<std::pair<ListQuery, ListTiming>> res;
    tracer.SetEnabled(true);
    for (const ListQuery& q : queries) {
      const ListTiming t = TimeList(wf, d->store(), q, opt.runs, today);
      char buf[256];
      const bool over = std::max({t.wf_ms, t.raw_ms, t.page2_ms}) >= kListGoalMs;
      std::snprintf(buf, sizeof(buf), "  %-44s %4zu  %17.2f  %22.2f  %9.2f%s\n", q.name.c_str(), t.rows, t.wf_ms,
                    t.raw_ms, t.page2_ms, over ? "  OVER GOAL" : "");
      std::cout << buf << std::flush;
      res.emplace_back(q, t);
    }
    tracer.SetEnabled(false);
    return res;
  };

  auto plan = [&](const std::string& sql) { return sql.empty() ? std::string() : PlanText(raw, sql, "    "); };
  auto res = run_all("as shipped (migrations up to now, no ANALYZE):");
  std::cout << "\nquery plans (EXPLAIN QUERY PLAN of the SQL the store ran, parameters bound):\n";
  std::vector<std::string> plans1, plans2;
  for (std::size_t i = 0; i < res.size(); ++i) {
    const auto& [q, t] = res[i];
    const bool over = std::max({t.wf_ms, t.raw_ms, t.page2_ms}) >= kListGoalMs;
    plans1.push_back(plan(t.sql));
    plans2.push_back(plan(t.sql2));
    std::cout << "  " << q.name << (over ? "  [OVER GOAL]" : "") << "\n" << plans1.back();
    if (!t.sql2.empty() && plans2.back() != plans1.back()) std::cout << "   page 2:\n" << plans2.back();
    if (over || t.wf_ms >= kListGoalMs / 5) {
      std::cout << "    SQL: ..." << t.sql.substr(std::min(t.sql.size(), t.sql.find(" WHERE 1"))) << "\n";
    }
    const std::string key = "list." + std::to_string(i);
    Emit(key + ".wf_ms", Fixed(t.wf_ms, 2));
    Emit(key + ".raw_ms", Fixed(t.raw_ms, 2));
    Emit(key + ".page2_ms", Fixed(t.page2_ms, 2));
  }
  if (!opt.experiments) return;

  // Candidate fixes, tried on this throw-away database (kyso's connection sees the schema
  // change). B is undone before A; C is B and A together.
  const std::string open_index =
      "CREATE INDEX requests_open_by_id ON requests(id, due_date, agency_code)"
      " WHERE state IN ('submitted', 'approved')";
  struct Fix {
    std::string name, setup, teardown;
  };
  const std::vector<Fix> fixes = {
      {"B: " + open_index, open_index, "DROP INDEX requests_open_by_id"},
      {"A: ANALYZE (planner statistics, no new index)", "ANALYZE", ""},
      {"C: B + ANALYZE", open_index + "; ANALYZE", ""},
  };
  std::vector<std::vector<std::pair<ListQuery, ListTiming>>> fixed;
  for (const Fix& f : fixes) {
    Stopwatch fw;
    raw.Exec(f.setup);
    std::cout << "\ncandidate fix " << f.name << " (" << Fixed(fw.Elapsed(), 1) << " s to apply)\n";
    fixed.push_back(run_all("with it:"));
    for (std::size_t i = 0; i < fixed.back().size(); ++i) {
      const ListTiming& t = fixed.back()[i].second;
      const std::string p1 = plan(t.sql), p2 = plan(t.sql2);
      if (p1 != plans1[i] || p2 != plans2[i]) {
        std::cout << "  plan changed: " << queries[i].name << "\n" << p1;
        if (!t.sql2.empty() && p2 != p1) std::cout << "   page 2:\n" << p2;
      }
    }
    if (!f.teardown.empty()) raw.Exec(f.teardown);
  }
  // D: the overdue SQL with the index named (a change to the store's query, not to the
  // schema alone), timed on a direct connection: rows stepped and every column read.
  std::cout << "\ncandidate fix D: B + `FROM requests INDEXED BY requests_open_by_id` in the overdue query"
               " (no statistics; direct SQLite, median of " << opt.runs << "):\n";
  raw.Exec("DROP TABLE IF EXISTS sqlite_stat1; DROP TABLE IF EXISTS sqlite_stat4");
  RawDb fresh(db_path);  // a connection that never loaded statistics
  for (std::size_t i = 0; i < res.size(); ++i) {
    if (!queries[i].overdue) continue;
    for (int page = 1; page <= 2; ++page) {
      std::string sql = page == 1 ? res[i].second.sql : res[i].second.sql2;
      const auto at = sql.find("FROM requests WHERE");
      if (sql.empty() || at == std::string::npos) continue;
      sql.insert(at + std::strlen("FROM requests"), " INDEXED BY requests_open_by_id");
      std::vector<double> ms;
      std::size_t n = 0;
      for (int r = 0; r < opt.runs + 1; ++r) {
        Stopwatch qw;
        n = fresh.Rows(sql).size();
        if (r > 0) ms.push_back(1e3 * qw.Elapsed());
      }
      std::cout << "  " << queries[i].name << ", page " << page << ": " << Fixed(Median(ms), 2) << " ms, " << n
                << " rows\n" << PlanText(fresh, sql, "    ");
      Emit("list." + std::to_string(i) + ".fixD.page" + std::to_string(page) + "_ms", Fixed(Median(ms), 2));
    }
  }
  std::cout << "\nsummary, Workflow::List median ms (page 1 / page 2):\n";
  std::cout << "  query                                           shipped          ";
  for (std::size_t k = 0; k < fixes.size(); ++k) std::cout << "fix " << fixes[k].name.substr(0, 1) << "            ";
  std::cout << "\n";
  for (std::size_t i = 0; i < res.size(); ++i) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "  %-46s %7.2f / %-7.2f", queries[i].name.c_str(), res[i].second.wf_ms,
                  res[i].second.page2_ms);
    std::cout << buf;
    for (std::size_t k = 0; k < fixed.size(); ++k) {
      std::snprintf(buf, sizeof(buf), "  %7.2f / %-7.2f", fixed[k][i].second.wf_ms, fixed[k][i].second.page2_ms);
      std::cout << buf;
    }
    std::cout << "\n";
  }
  for (std::size_t i = 0; i < res.size(); ++i) {
    for (std::size_t k = 0; k < fixed.size(); ++k) {
      Emit("list." + std::to_string(i) + ".fix" + fixes[k].name.substr(0, 1) + "_ms", Fixed(fixed[k][i].second.wf_ms, 2));
    }
  }
}

int Main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-n" && i + 1 < argc) {
      opt.n = std::stoi(argv[++i]);
    } else if (a == "--list-rows" && i + 1 < argc) {
      opt.list_rows = std::stoll(argv[++i]);
    } else if (a == "--runs" && i + 1 < argc) {
      opt.runs = std::stoi(argv[++i]);
    } else if (a == "--agencies" && i + 1 < argc) {
      opt.agencies = argv[++i];
    } else if (a == "--skip-workflow") {
      opt.workflow = false;
    } else if (a == "--skip-list") {
      opt.list = false;
    } else if (a == "--no-projection") {
      opt.projection = false;
    } else if (a == "--no-experiments") {
      opt.experiments = false;
    } else {
      std::cerr << "usage: kyso_bench_workflow [-n 10000] [--list-rows 1000000] [--runs 20] [--agencies CSV]\n"
                   "                           [--skip-workflow] [--skip-list] [--no-projection] [--no-experiments]\n";
      return 2;
    }
  }
  if (opt.n < 1 || opt.n > 99999999 || opt.runs < 1 || opt.list_rows < 1) Die("bad sizes");
  const std::string agencies_csv = ReadText(opt.agencies);
  std::cout << "== kyso registration workflow benchmark ==\n"
            << "cores " << std::thread::hardware_concurrency() << ", load " << Fixed(LoadAverage(), 2) << "\n";
  TxnTracer::Get().Install();  // before any database is opened
  std::optional<TempDir> list_tmp;
  if (opt.list) {
    list_tmp.emplace("kyso-bench-wf-list");
    InitInChild((list_tmp->path() / "home").string());
  }
  if (opt.workflow) (void)RunWorkflowPart(opt, agencies_csv);
  if (opt.list) RunListPart(opt, agencies_csv, (list_tmp->path() / "home").string());
  std::cout << "load at end: " << Fixed(LoadAverage(), 2) << "\n";
  return 0;
}

}  // namespace
}  // namespace kyso::bench

int main(int argc, char** argv) { return kyso::bench::Main(argc, argv); }
