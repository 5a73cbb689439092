// kyso_bench_crl: CRL generation time for large revocation lists against `openssl ca -gencrl`.
//
// A deployment is created in a temporary folder (issuing CA RSA-2048 on SoftHSM2). Its
// store is filled by direct SQL with revoked certificates (random 20-octet serials, reason
// keyCompromise), and the same entries are written to an `openssl ca` index.txt. For each size
// (default 100,000 then 1,000,000) it times Authority::GenerateCrl("issuing") — read the
// revoked list from SQLite, encode the TBSCertList, sign on the token, store the CRL — and
// `openssl ca -gencrl` over the index with a software RSA-2048 CA key. Both CRLs are checked
// with `openssl crl` (parse and signature) and in-process (entry count).
//
// It also times what `kyso serve` does every 200 ms with such a CRL in the store
// (CaRoutes::Refresh reads the latest CRLs back from SQLite).
//
// Usage: kyso_bench_crl [--sizes 100000,1000000]

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include <cstring>
#include <thread>

#include "bench_common.h"
#include "kyso/ca/authority.h"
#include "kyso/ca/reason.h"
#include "kyso/cli/deployment.h"
#include "kyso/http/ca_routes.h"
#include "kyso/pkix/crl.h"
#include "kyso/pkix/x509.h"
#include "kyso/token/token.h"

namespace kyso::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kReasonKeyCompromise = 1;

std::string Hex(const uint8_t* p, std::size_t n, bool upper) {
  static const char* lower_digits = "0123456789abcdef";
  static const char* upper_digits = "0123456789ABCDEF";
  const char* d = upper ? upper_digits : lower_digits;
  std::string s(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = d[p[i] >> 4];
    s[2 * i + 1] = d[p[i] & 15];
  }
  return s;
}

// OpensslTime formats YYMMDDHHMMSSZ as index.txt wants it.
std::string OpensslTime(int64_t secs) {
  const time_t t = static_cast<time_t>(secs);
  tm g{};
  gmtime_r(&t, &g);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%y%m%d%H%M%SZ", &g);
  return buf;
}

void Sql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "?";
    sqlite3_free(err);
    Die(std::string("sqlite: ") + sql + ": " + msg);
  }
}

// Populate adds `count` revoked certificates of the issuing CA to kyso.db and the same
// entries to index.txt.
void Populate(const fs::path& db_path, const fs::path& index_path, int64_t count, int blob_bytes) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) Die("open " + db_path.string());
  sqlite3_busy_timeout(db, 10000);
  Sql(db, "PRAGMA synchronous=OFF");
  Sql(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* st = nullptr;
  const char* ins =
      "INSERT INTO certificates(serial, issuer, profile, subject, not_before, not_after, state,"
      " tbs_der, cert_der, recorded_at, issued_at, revoked_at, revocation_reason)"
      " VALUES (?, 'issuing', 'individual', 'CN=x', ?, ?, 'issued', ?, ?, ?, ?, ?, ?)";
  if (sqlite3_prepare_v2(db, ins, -1, &st, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db));
  std::ofstream index(index_path, std::ios::app);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<uint8_t> rnd(static_cast<std::size_t>(count) * 24);
  if (RAND_bytes(rnd.data(), static_cast<int>(rnd.size())) != 1) Die("RAND_bytes");
  std::string line;
  for (int64_t i = 0; i < count; ++i) {
    uint8_t* serial = rnd.data() + i * 24;
    serial[0] = static_cast<uint8_t>((serial[0] & 0x7f) | 0x01);  // 20 octets, positive, no 00
    uint32_t jitter;
    std::memcpy(&jitter, serial + 20, 4);
    const int64_t not_before = now - 400 * 86400;
    const int64_t not_after = now + 2 * 365 * 86400;
    const int64_t revoked_at = now - static_cast<int64_t>(jitter % (365 * 86400));
    const std::string lower = Hex(serial, 20, false);
    sqlite3_bind_text(st, 1, lower.data(), static_cast<int>(lower.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, not_before);
    sqlite3_bind_int64(st, 3, not_after);
    sqlite3_bind_zeroblob(st, 4, blob_bytes);  // tbs_der
    sqlite3_bind_zeroblob(st, 5, blob_bytes);  // cert_der
    sqlite3_bind_int64(st, 6, not_before);
    sqlite3_bind_int64(st, 7, not_before);
    sqlite3_bind_int64(st, 8, revoked_at);
    sqlite3_bind_int64(st, 9, kReasonKeyCompromise);
    if (sqlite3_step(st) != SQLITE_DONE) Die(std::string("insert: ") + sqlite3_errmsg(db));
    sqlite3_reset(st);
    line.clear();
    line += "R\t";
    line += OpensslTime(not_after);
    line += "\t";
    line += OpensslTime(revoked_at);
    line += ",keyCompromise\t";
    line += Hex(serial, 20, true);
    line += "\tunknown\t/CN=x\n";
    index << line;
  }
  sqlite3_finalize(st);
  Sql(db, "COMMIT");
  sqlite3_close(db);
  index.close();
  if (!index) Die("write " + index_path.string());
}

// InsertIssued adds one issued, unrevoked certificate and returns its serial.
std::string InsertIssued(const fs::path& db_path) {
  uint8_t serial[20];
  if (RAND_bytes(serial, sizeof(serial)) != 1) Die("RAND_bytes");
  serial[0] = static_cast<uint8_t>((serial[0] & 0x7f) | 0x01);
  const std::string hex = Hex(serial, 20, false);
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) Die("open " + db_path.string());
  sqlite3_busy_timeout(db, 10000);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string sql =
      "INSERT INTO certificates(serial, issuer, profile, subject, not_before, not_after, state,"
      " tbs_der, cert_der, recorded_at, issued_at) VALUES ('" + hex + "', 'issuing', 'individual',"
      " 'CN=x', " + std::to_string(now) + ", " + std::to_string(now + 86400 * 365) +
      ", 'issued', x'3000', x'3000', " + std::to_string(now) + ", " + std::to_string(now) + ")";
  Sql(db, sql.c_str());
  sqlite3_close(db);
  return hex;
}

// ExecTimed runs SQL on its own connection and returns the seconds it took.
double ExecTimed(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) Die("open " + db_path.string());
  sqlite3_busy_timeout(db, 10000);
  Stopwatch w;
  Sql(db, sql.c_str());
  const double s = w.Elapsed();
  sqlite3_close(db);
  return s;
}

// QueryPlan gives SQLite's plan for ListRevoked's query.
std::string QueryPlan(const fs::path& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) Die("open " + db_path.string());
  sqlite3_stmt* st = nullptr;
  std::string plan;
  if (sqlite3_prepare_v2(db,
                         "EXPLAIN QUERY PLAN SELECT serial, revoked_at, revocation_reason FROM certificates"
                         " WHERE issuer = 'issuing' AND revoked_at IS NOT NULL ORDER BY serial",
                         -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (!plan.empty()) plan += "; ";
      plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return plan;
}

// CountEntries parses a CRL (DER or PEM) in-process, checks its signature with `key` and
// returns the number of revoked entries.
int64_t CountEntries(const Bytes& data, const EVP_PKEY* key, bool pem) {
  ossl::UniquePtr<X509_CRL> crl;
  if (pem) {
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = data.data();
    crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!crl) Die("CRL does not parse");
  if (X509_CRL_verify(crl.get(), const_cast<EVP_PKEY*>(key)) != 1) Die("CRL signature does not verify");
  return sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get()));
}

Bytes ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const fs::path& p, ByteSpan b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) Die("write " + p.string());
}

void RunOrDie(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) Die("command failed: " + cmd);
}

std::string Q(const fs::path& p) { return "'" + p.string() + "'"; }

int Main(int argc, char** argv) {
  std::vector<int64_t> sizes = {100000, 1000000};
  int blob_bytes = 2;
  bool experiments = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--blob-bytes" && i + 1 < argc) {
      blob_bytes = std::stoi(argv[++i]);
    } else if (a == "--no-experiments") {
      experiments = false;
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::istringstream s(argv[++i]);
      for (std::string t; std::getline(s, t, ',');) sizes.push_back(std::stoll(t));
    } else {
      std::cerr << "usage: kyso_bench_crl [--sizes 100000,1000000] [--blob-bytes B]"
                   " [--no-experiments]\n";
      return 2;
    }
  }
  std::sort(sizes.begin(), sizes.end());

  std::cout << "== kyso CRL benchmark ==\n"
            << "cores " << std::thread::hardware_concurrency() << ", load "
            << Fixed(LoadAverage(), 2) << ", tbs_der and cert_der of " << blob_bytes
            << " bytes per row\n";
  SqlTracer::Get().Install();  // before any database is opened
  TempDir tmp("kyso-bench-crl");
  const fs::path home = tmp.path() / "home";
  const fs::path peer = tmp.path() / "openssl-ca";
  fs::create_directories(peer);
  cli::InitOptions init;
  init.home = home.string();
  Stopwatch w;
  Must(cli::InitDeployment(init), "init deployment");
  std::cout << "deployment: " << home.string() << " (init " << Fixed(w.Elapsed(), 1) << " s)\n";

  // The peer: a software RSA-2048 CA for `openssl ca`, same key type as kyso's issuing CA.
  {
    std::ofstream cnf(peer / "openssl.cnf");
    cnf << "[ ca ]\ndefault_ca = peer\n\n[ peer ]\n"
        << "dir = " << peer.string() << "\n"
        << "database = $dir/index.txt\n"
        << "certificate = $dir/ca.pem\n"
        << "private_key = $dir/ca.key\n"
        << "crlnumber = $dir/crlnumber\n"
        << "default_md = sha256\n"
        << "default_crl_days = 1\n"
        << "unique_subject = no\n"
        << "crl_extensions = crl_ext\n\n"
        << "[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n";
    std::ofstream(peer / "crlnumber") << "01\n";
    std::ofstream(peer / "index.txt.attr") << "unique_subject = no\n";
    std::ofstream(peer / "index.txt");
    RunOrDie("openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj '/CN=Peer CA'"
             " -keyout " + Q(peer / "ca.key") + " -out " + Q(peer / "ca.pem") + " 2>/dev/null");
  }
  ossl::UniquePtr<EVP_PKEY> peer_key;
  {
    const Bytes pem = ReadAll(peer / "ca.pem");
    auto cert = Must(pkix::ParseCertificate(pem), "peer CA cert");
    peer_key.reset(X509_get_pubkey(cert.get()));
  }

  int64_t have = 0;
  struct Row {
    int64_t n;
    double kyso_s, openssl_s, total2_s, list_s, number_s, encode_s, sign_s, put_s, refresh_s, get_s;
    std::size_t kyso_bytes, openssl_bytes;
  };
  std::vector<Row> rows;
  for (int64_t n : sizes) {
    w.Restart();
    Populate(home / "kyso.db", peer / "index.txt", n - have, blob_bytes);
    have = n;
    std::cout << "\n-- " << n << " revoked certificates (populated in " << Fixed(w.Elapsed(), 1)
              << " s, not counted) --\n" << std::flush;
    Row row{};
    row.n = n;

    // kyso: the deployment as the CLI opens it (`kyso crl`).
    auto d = Must(cli::Deployment::Open(home.string()), "open deployment");
    ca::Authority& authority = d->authority();
    const EVP_PKEY* issuer_key = X509_get0_pubkey(authority.issuing_cert());
    w.Restart();
    store::CrlRecord crl = Must(authority.GenerateCrl(ca::kIssuing, "bench"), "GenerateCrl");
    row.kyso_s = w.Elapsed();
    row.kyso_bytes = crl.der.size();
    const fs::path kyso_crl = tmp.path() / ("kyso-" + std::to_string(n) + ".crl");
    WriteAll(kyso_crl, crl.der);

    // Phases: the same GenerateCrl through an instrumented store and signer (a second login
    // to the same token), so list / number / encode / sign / store are seen separately.
    {
      const SecretString pin = Must(cli::ReadSecretFile(cli::HomePaths(home).user_pin()), "PIN");
      auto token = Must(token::Token::Open(d->config().token.module, d->config().token.label, pin),
                        "open token");
      const bool pss = d->config().ca.rsa_pss;
      auto signer = [&](std::string_view role) {
        return Must(token->FindSigner(Must(d->store().GetCaKey(role), "key").key_label, pss), "signer");
      };
      ca::CaSigners s;
      s.root = signer(ca::kRoot);
      auto* issuing = new TimingSigner(signer(ca::kIssuing));
      s.issuing.reset(issuing);
      s.ocsp = signer(ca::kOcsp);
      SqlTracer& timing = SqlTracer::Get();
      auto inst = Must(ca::Authority::Open(d->config(), d->store(), std::move(s), d->clock()), "authority");
      timing.Mark();
      Stopwatch p;
      (void)Must(inst->GenerateCrl(ca::kIssuing, "bench"), "GenerateCrl (instrumented)");
      row.total2_s = p.Elapsed();
      const PhaseTimes t = timing.Take();
      row.list_s = t.list_revoked;
      row.number_s = t.crl_number;
      row.put_s = t.put_crl;
      row.sign_s = issuing->thread_seconds();
      row.encode_s = row.total2_s - row.list_s - row.number_s - row.put_s - row.sign_s;
    }
    const int64_t kyso_entries = CountEntries(crl.der, issuer_key, false);

    // What `kyso serve` does every 200 ms: CaRoutes::Refresh reads the latest CRLs back.
    {
      http::CaRoutes routes(authority);
      Stopwatch p;
      constexpr int kRefreshes = 5;
      for (int i = 0; i < kRefreshes; ++i) Must(routes.Refresh(), "refresh");
      row.refresh_s = p.Elapsed() / kRefreshes;
      // GET /crl/issuing.crl: the handler's own cost (it shares one immutable copy).
      p.Restart();
      constexpr int kGets = 5;
      for (int i = 0; i < kGets; ++i) {
        http::Response resp = routes.Handle(http::Request{"GET", "/crl/issuing.crl", "", ""});
        if (resp.status != 200 || !resp.shared_body || resp.shared_body->size() != crl.der.size()) {
          Die("GET /crl/issuing.crl");
        }
      }
      row.get_s = p.Elapsed() / kGets;
    }
    d.reset();

    // The peer.
    const fs::path peer_crl = tmp.path() / ("openssl-" + std::to_string(n) + ".pem");
    w.Restart();
    RunOrDie("openssl ca -gencrl -batch -config " + Q(peer / "openssl.cnf") + " -out " +
             Q(peer_crl) + " 2>/dev/null");
    row.openssl_s = w.Elapsed();
    const Bytes peer_pem = ReadAll(peer_crl);
    row.openssl_bytes = peer_pem.size();
    const int64_t peer_entries = CountEntries(peer_pem, peer_key.get(), true);

    // Both CRLs parse and verify with the openssl tool too.
    const fs::path kyso_ca = tmp.path() / "kyso-issuing.pem";
    {
      auto d2 = Must(cli::Deployment::Open(home.string(), false), "open store");
      const Bytes der = Must(d2->store().GetCaKey(ca::kIssuing), "issuing cert").cert_der;
      std::ofstream(kyso_ca) << pkix::PemEncode(der, "CERTIFICATE");
    }
    RunOrDie("openssl crl -inform DER -noout -in " + Q(kyso_crl) + " -CAfile " + Q(kyso_ca) +
             " 2>&1 | grep -q 'verify OK'");
    RunOrDie("openssl crl -noout -in " + Q(peer_crl) + " -CAfile " + Q(peer / "ca.pem") +
             " 2>&1 | grep -q 'verify OK'");
    std::cout << "kyso    GenerateCrl      " << Fixed(row.kyso_s, 3) << " s  "
              << kyso_entries << " entries, " << row.kyso_bytes / 1024 << " KiB DER, openssl crl: verify OK\n"
              << "openssl ca -gencrl       " << Fixed(row.openssl_s, 3) << " s  " << peer_entries
              << " entries, " << row.openssl_bytes / 1024 << " KiB PEM, openssl crl: verify OK\n"
              << "openssl / kyso time      " << Fixed(row.openssl_s / row.kyso_s, 1) << "x\n"
              << "kyso phases (second, instrumented run: " << Fixed(row.total2_s, 3)
              << " s): ListRevoked " << Fixed(row.list_s, 3) << " s, NextCrlNumber "
              << Fixed(row.number_s, 3) << " s, encode+assemble " << Fixed(row.encode_s, 3)
              << " s, token sign " << Fixed(row.sign_s, 3) << " s, PutCrl " << Fixed(row.put_s, 3)
              << " s\n"
              << "kyso serve Refresh (every 200 ms) " << Fixed(1e3 * row.refresh_s, 1)
              << " ms each = " << Fixed(100.0 * row.refresh_s / 0.2, 1) << "% of a core\n"
              << "kyso GET /crl/issuing.crl handler " << Fixed(1e3 * row.get_s, 2)
              << " ms per request before any byte is sent\n";
    if (kyso_entries != n) Die("kyso CRL has " + std::to_string(kyso_entries) + " entries, want " + std::to_string(n));
    if (peer_entries != n) Die("openssl CRL has " + std::to_string(peer_entries) + " entries, want " + std::to_string(n));
    const std::string k = "crl." + std::to_string(n) + ".";
    Emit(k + "kyso_s", Fixed(row.kyso_s, 3));
    Emit(k + "openssl_s", Fixed(row.openssl_s, 3));
    Emit(k + "ratio_openssl_over_kyso", Fixed(row.openssl_s / row.kyso_s, 1));
    Emit(k + "kyso_list_s", Fixed(row.list_s, 3));
    Emit(k + "kyso_encode_s", Fixed(row.encode_s, 3));
    Emit(k + "kyso_sign_s", Fixed(row.sign_s, 3));
    Emit(k + "kyso_put_s", Fixed(row.put_s, 3));
    Emit(k + "serve_refresh_ms", Fixed(1e3 * row.refresh_s, 1));
    Emit(k + "serve_get_crl_ms", Fixed(1e3 * row.get_s, 2));
    rows.push_back(row);
  }
  if (experiments && !sizes.empty()) {
    const int64_t n = sizes.back();
    const fs::path db = home / "kyso.db";
    std::cout << "\n-- experiments at " << n << " revoked (not peer comparisons) --\n";
    // 1. One revocation: Authority::Revoke republishes the whole CRL before it returns.
    {
      const std::string serial = InsertIssued(db);
      auto d = Must(cli::Deployment::Open(home.string()), "open deployment");
      const auto reason = Must(ca::ParseReason("keyCompromise"), "reason");
      Stopwatch p;
      Must(d->authority().Revoke(serial, reason, "bench"), "Revoke");
      const double revoke_s = p.Elapsed();
      std::cout << "Authority::Revoke of one certificate (kyso cert revoke): " << Fixed(revoke_s, 3)
                << " s — it regenerates and stores the full CRL each time\n";
      Emit("crl." + std::to_string(n) + ".revoke_one_s", Fixed(revoke_s, 3));
    }
    // 2. ListRevoked with a covering index (on this throw-away database only).
    {
      std::cout << "ListRevoked plan now: " << QueryPlan(db) << "\n";
      const double index_s = ExecTimed(db,
          "CREATE INDEX bench_revoked_covering ON certificates(issuer, serial, revoked_at,"
          " revocation_reason) WHERE revoked_at IS NOT NULL");
      std::cout << "with covering index (built in " << Fixed(index_s, 2) << " s): " << QueryPlan(db) << "\n";
      auto d = Must(cli::Deployment::Open(home.string()), "open deployment");
      Stopwatch p;
      auto revoked = Must(d->store().ListRevoked(ca::kIssuing), "ListRevoked");
      const double list_s = p.Elapsed();
      p.Restart();
      (void)Must(d->authority().GenerateCrl(ca::kIssuing, "bench"), "GenerateCrl");
      const double gen_s = p.Elapsed();
      std::cout << "with covering index: ListRevoked " << Fixed(list_s, 3) << " s (" << revoked.size()
                << " entries), GenerateCrl " << Fixed(gen_s, 3) << " s\n";
      Emit("crl." + std::to_string(n) + ".covering.list_s", Fixed(list_s, 3));
      Emit("crl." + std::to_string(n) + ".covering.kyso_s", Fixed(gen_s, 3));
    }
  }
  std::cout << "load at end: " << Fixed(LoadAverage(), 2) << "\n";
  return 0;
}

}  // namespace
}  // namespace kyso::bench

int main(int argc, char** argv) { return kyso::bench::Main(argc, argv); }
