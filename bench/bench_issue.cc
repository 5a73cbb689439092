// kyso_bench_issue: certificate issuance throughput against the signing limit of the machine.
//
// It creates a deployment in a temporary folder exactly as `kyso init` does (issuing CA
// RSA-2048 on SoftHSM2), makes N PKCS#10 requests in-process, then times what the CLI's
// issue-batch does: ParseCertRequest on every CSR (signature check included) and
// Authority::IssueBatch, which records each chunk durably, signs on the token and commits.
// The result is set against `openssl speed rsa2048` (sign/s on one core), measured in the
// same run. A breakdown follows: phases of IssueBatch (seen through an SQLite tracer),
// raw token signing without kyso, and IssueBatch with an in-process key and with no signing
// at all, which bound what the token and what kyso's own work cost.
//
// Usage: kyso_bench_issue [-n N] [--threads-list 2,1] [--no-breakdown]

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstring>
#include <map>
#include <thread>

#include "bench_common.h"
#include "kyso/ca/authority.h"
#include "kyso/cli/deployment.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"
#include "kyso/token/token.h"

namespace kyso::bench {
namespace {

constexpr int kKeyPool = 256;

struct Options {
  int n = 10000;
  bool breakdown = true;
  int raw_signs = 3000;
};


ca::Subject SubjectFor(int i) {
  return ca::Subject{"Nguyễn Văn Bench " + std::to_string(i),
                     "bench" + std::to_string(i) + "@dongnai.gov.vn", "Sở Nội vụ",
                     {"Phòng Công nghệ thông tin"}};
}

struct Requests {
  std::vector<pkix::CertRequest> csrs;
  std::vector<ca::Subject> subjects;
  std::vector<ca::IssueRequest> reqs;
};

// Parse runs ParseCertRequests over every CSR on `threads` threads, as CmdCertIssueBatch
// does before issuing.
Requests Parse(const std::vector<Bytes>& ders, int threads) {
  Requests r;
  r.csrs.reserve(ders.size());
  std::vector<Result<pkix::CertRequest>> parsed = pkix::ParseCertRequests(ders, threads);
  for (std::size_t i = 0; i < ders.size(); ++i) {
    r.csrs.push_back(Must(std::move(parsed[i]), "parse CSR"));
    r.subjects.push_back(SubjectFor(static_cast<int>(i)));
  }
  for (std::size_t i = 0; i < ders.size(); ++i) {
    r.reqs.push_back(ca::IssueRequest{ca::Profile::kIndividual, &r.csrs[i], r.subjects[i],
                                      std::nullopt});
  }
  return r;
}

// CheckAll fails the benchmark unless every request was issued; it also verifies a sample
// of the certificates against the issuing CA's key.
void CheckAll(const std::vector<Result<ca::Issued>>& results, const EVP_PKEY* issuer_key,
              bool verify) {
  for (const auto& r : results) {
    if (!r.ok()) Die("issuance failed: " + r.status().ToString());
  }
  if (!verify) return;
  for (std::size_t i = 0; i < results.size(); i += std::max<std::size_t>(1, results.size() / 16)) {
    auto cert = Must(pkix::ParseCertificate(results[i]->cert_der), "parse issued certificate");
    if (X509_verify(cert.get(), const_cast<EVP_PKEY*>(issuer_key)) != 1) {
      Die("issued certificate " + results[i]->serial_hex + " does not verify");
    }
  }
}

// RawSignRate signs `count` messages with `signer` from `threads` threads; signatures/s.
double RawSignRate(pkix::Signer& signer, int threads, int count) {
  const Bytes msg(1000, 0x5a);
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  Stopwatch w;
  auto work = [&] {
    while (next++ < count) {
      if (!signer.Sign(msg).ok()) failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failed) Die("raw sign failed");
  return count / w.Elapsed();
}

// SoftKeys is a KeyFactory that generates keys in-process and remembers them, so the same
// keys can sign for an Authority after CreateHierarchy.
struct SoftKeys {
  std::map<std::string, ossl::UniquePtr<EVP_PKEY>, std::less<>> keys;

  Result<std::unique_ptr<pkix::Signer>> Make(std::string_view label, KeySpec spec) {
    EVP_PKEY* k = nullptr;
    switch (spec) {
      case KeySpec::kRsa2048: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
      case KeySpec::kRsa3072: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}); break;
      case KeySpec::kRsa4096: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096}); break;
      case KeySpec::kEcP256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
      case KeySpec::kEcP384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    }
    if (k == nullptr) return InternalError("keygen");
    keys.emplace(std::string(label), ossl::UniquePtr<EVP_PKEY>(k));
    return Signer(label);
  }

  Result<std::unique_ptr<pkix::Signer>> Signer(std::string_view label) {
    auto it = keys.find(label);
    if (it == keys.end()) return NotFoundError("no soft key " + std::string(label));
    EVP_PKEY_up_ref(it->second.get());
    ossl::UniquePtr<EVP_PKEY> k(it->second.get());
    KYSO_ASSIGN_OR_RETURN(pkix::SignatureAlgorithm alg, pkix::DefaultAlgorithmFor(k.get(), false));
    KYSO_ASSIGN_OR_RETURN(auto s, pkix::KeySigner::Create(std::move(k), alg));
    return std::unique_ptr<pkix::Signer>(std::move(s));
  }
};

// CopyPublicKey is what Prepare now does instead of X509_set_pubkey (pkix::CopyPublicKeyInfo).
bool CopyPublicKey(X509* cert, const X509_REQ* req) {
  return pkix::CopyPublicKeyInfo(cert, X509_REQ_get_X509_PUBKEY(const_cast<X509_REQ*>(req))).ok();
}

// PublicKeyExperiment times the costliest call of Prepare against CopyPublicKey, and splits
// CSR parsing into decoding and signature verification.
void PublicKeyExperiment(const std::vector<Bytes>& ders, const Requests& r) {
  const std::size_t m = std::min<std::size_t>(2000, r.csrs.size());
  Stopwatch w;
  for (std::size_t i = 0; i < m; ++i) {
    ossl::UniquePtr<X509> c(X509_new());
    if (X509_set_pubkey(c.get(), r.csrs[i].public_key.get()) != 1) Die("X509_set_pubkey");
  }
  const double set_us = 1e6 * w.Elapsed() / static_cast<double>(m);
  w.Restart();
  for (std::size_t i = 0; i < m; ++i) {
    ossl::UniquePtr<X509> c(X509_new());
    if (!CopyPublicKey(c.get(), r.csrs[i].req.get())) Die("CopyPublicKey");
  }
  const double copy_us = 1e6 * w.Elapsed() / static_cast<double>(m);
  // Both give the same DER SubjectPublicKeyInfo.
  for (std::size_t i = 0; i < std::min<std::size_t>(m, 16); ++i) {
    ossl::UniquePtr<X509> a(X509_new()), b(X509_new());
    if (X509_set_pubkey(a.get(), r.csrs[i].public_key.get()) != 1 || !CopyPublicKey(b.get(), r.csrs[i].req.get())) {
      Die("public key copy");
    }
    unsigned char *da = nullptr, *db = nullptr;
    const int la = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(a.get()), &da);
    const int lb = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(b.get()), &db);
    const bool same = la > 0 && la == lb && std::memcmp(da, db, static_cast<size_t>(la)) == 0;
    OPENSSL_free(da);
    OPENSSL_free(db);
    if (!same) Die("CopyPublicKey gives a different SubjectPublicKeyInfo");
  }
  w.Restart();
  std::vector<ossl::UniquePtr<X509_REQ>> reqs;
  for (std::size_t i = 0; i < m; ++i) {
    const unsigned char* p = ders[i].data();
    reqs.emplace_back(d2i_X509_REQ(nullptr, &p, static_cast<long>(ders[i].size())));
  }
  const double d2i_us = 1e6 * w.Elapsed() / static_cast<double>(m);
  w.Restart();
  for (std::size_t i = 0; i < m; ++i) {
    if (X509_REQ_verify(reqs[i].get(), X509_REQ_get0_pubkey(reqs[i].get())) != 1) Die("verify");
  }
  const double verify_us = 1e6 * w.Elapsed() / static_cast<double>(m);
  std::cout << "public key into the certificate (" << m << " CSRs):\n"
            << "  X509_set_pubkey (what Prepare does)           " << Fixed(set_us, 1) << " us\n"
            << "  copy the CSR's SubjectPublicKeyInfo fields    " << Fixed(copy_us, 1)
            << " us (same DER)\n"
            << "CSR parse split: d2i_X509_REQ " << Fixed(d2i_us, 1) << " us (decodes the key), X509_REQ_verify "
            << Fixed(verify_us, 1) << " us\n";
  Emit("prepare.x509_set_pubkey_us", Fixed(set_us, 1));
  Emit("prepare.copy_spki_us", Fixed(copy_us, 1));
  Emit("parse.d2i_us", Fixed(d2i_us, 1));
  Emit("parse.verify_us", Fixed(verify_us, 1));
}

void PrintPhases(const std::string& label, const PhaseTimes& p, double total, int n) {
  const double other = total - p.prepare - p.record - p.sign - p.complete;
  auto pct = [&](double v) { return Fixed(100.0 * v / total, 0) + "%"; };
  std::cout << "  " << label << ": total " << Fixed(total, 2) << " s = " << Fixed(n / total, 0)
            << " /s over " << p.chunks << " chunks\n"
            << "    prepare  " << Fixed(p.prepare, 3) << " s " << pct(p.prepare) << "  ("
            << Fixed(1e6 * p.prepare / n, 1) << " us/cert)\n"
            << "    record   " << Fixed(p.record, 3) << " s " << pct(p.record) << "  ("
            << Fixed(1e3 * p.record / std::max(1, p.chunks), 1) << " ms/chunk)\n"
            << "    sign     " << Fixed(p.sign, 3) << " s " << pct(p.sign) << "  ("
            << Fixed(1e6 * p.sign / n, 1) << " us/cert wall, incl. assembling)\n"
            << "    complete " << Fixed(p.complete, 3) << " s " << pct(p.complete) << "  ("
            << Fixed(1e3 * p.complete / std::max(1, p.chunks), 1) << " ms/chunk)\n"
            << "    other    " << Fixed(other, 3) << " s " << pct(other) << "\n";
}

int Main(int argc, char** argv) {
  Options opt;
  std::vector<int> thread_list = {2, 1};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-n" && i + 1 < argc) {
      opt.n = std::stoi(argv[++i]);
    } else if (a == "--no-breakdown") {
      opt.breakdown = false;
    } else if (a == "--threads-list" && i + 1 < argc) {
      thread_list.clear();
      std::istringstream s(argv[++i]);
      for (std::string t; std::getline(s, t, ',');) thread_list.push_back(std::stoi(t));
    } else {
      std::cerr << "usage: kyso_bench_issue [-n N] [--threads-list 2,1] [--no-breakdown]\n";
      return 2;
    }
  }

  std::cout << "== kyso issuance benchmark ==\n"
            << "cores " << std::thread::hardware_concurrency() << ", load " << Fixed(LoadAverage(), 2)
            << ", N = " << opt.n << " CSRs (EC P-256, pool of " << kKeyPool << " keys)\n";

  SqlTracer::Get().Install();  // before any database is opened
  TempDir tmp("kyso-bench-issue");
  const std::string home = (tmp.path() / "home").string();
  Stopwatch w;
  cli::InitOptions init;
  init.home = home;
  Must(cli::InitDeployment(init), "init deployment");
  const double init_s = w.Elapsed();
  auto d = Must(cli::Deployment::Open(home), "open deployment");
  ca::Authority& authority = d->authority();
  const EVP_PKEY* issuer_key = X509_get0_pubkey(authority.issuing_cert());
  std::cout << "deployment: " << home << " (init " << Fixed(init_s, 1)
            << " s; issuing CA RSA-" << EVP_PKEY_get_bits(issuer_key) << " on SoftHSM2)\n";

  w.Restart();
  const std::vector<Bytes> ders = MakeCsrs(opt.n);
  std::cout << "made " << opt.n << " CSRs in " << Fixed(w.Elapsed(), 2) << " s (not counted)\n";

  // Peer: openssl speed, one core, measured now so it sees the same machine state.
  std::cout << "running openssl speed -seconds 3 rsa2048 ...\n" << std::flush;
  const double speed1 = OpensslSpeedRsaSign(2048, 3).value_or(0);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  double speed_multi = 0;
  if (cores > 1) {
    std::cout << "running openssl speed -seconds 3 -multi " << cores << " rsa2048 ...\n" << std::flush;
    speed_multi = OpensslSpeedRsaSign(2048, 3, cores).value_or(0);
  }
  if (speed1 <= 0) Die("could not run or parse `openssl speed rsa2048`");

  // Headline: the deployment's Authority, as `kyso cert issue-batch` uses it.
  std::cout << "\n-- issuance (ParseCertRequest + Authority::IssueBatch, as the CLI) --\n";
  std::cout << "threads  parse_s  issue_s  total_s  issued/s  openssl_1core/s  ratio  cpu_util\n";
  std::map<int, double> rate_by_threads;
  for (int threads : thread_list) {
    const double cpu0 = CpuSeconds();
    Stopwatch t;
    Requests r = Parse(ders, threads);
    const double parse_s = t.Elapsed();
    t.Restart();
    auto results = authority.IssueBatch(r.reqs, "bench", threads);
    const double issue_s = t.Elapsed();
    const double cpu = CpuSeconds() - cpu0;
    CheckAll(results, issuer_key, true);
    const double total = parse_s + issue_s;
    const double rate = opt.n / total;
    rate_by_threads[threads] = rate;
    std::cout << "  " << threads << "      " << Fixed(parse_s, 2) << "     " << Fixed(issue_s, 2)
              << "     " << Fixed(total, 2) << "     " << Fixed(rate, 0) << "      "
              << Fixed(speed1, 0) << "           " << Fixed(rate / speed1, 2) << "   "
              << Fixed(cpu / total, 2) << " cores\n";
    Emit("issue.threads" + std::to_string(threads) + ".per_s", Fixed(rate, 0));
    Emit("issue.threads" + std::to_string(threads) + ".parse_s", Fixed(parse_s, 3));
    Emit("issue.threads" + std::to_string(threads) + ".ratio_vs_openssl_1core", Fixed(rate / speed1, 2));
  }
  Emit("openssl.speed.rsa2048.sign_per_s.1core", Fixed(speed1, 0));
  if (speed_multi > 0) {
    Emit("openssl.speed.rsa2048.sign_per_s.multi" + std::to_string(cores), Fixed(speed_multi, 0));
    std::cout << "openssl speed -multi " << cores << ": " << Fixed(speed_multi, 0)
              << " sign/s (all cores); 2-thread issuance / that = "
              << Fixed(rate_by_threads.count(2) ? rate_by_threads[2] / speed_multi : 0, 2) << "\n";
  }

  if (!opt.breakdown) return 0;

  // Breakdown. A second login to the same token gives signers over the same keys; an
  // Authority over them and an instrumented store shows where IssueBatch spends its time.
  std::cout << "\n-- where the time goes --\n";
  const SecretString pin = Must(cli::ReadSecretFile(cli::HomePaths(home).user_pin()), "read PIN");
  auto token = Must(token::Token::Open(d->config().token.module, d->config().token.label, pin),
                    "open token");
  const bool pss = d->config().ca.rsa_pss;
  auto label = [&](std::string_view role) {
    return Must(d->store().GetCaKey(role), "CA key").key_label;
  };
  auto token_signers = [&]() {
    ca::CaSigners s;
    s.root = Must(token->FindSigner(label(ca::kRoot), pss), "root signer");
    s.issuing = Must(token->FindSigner(label(ca::kIssuing), pss), "issuing signer");
    s.ocsp = Must(token->FindSigner(label(ca::kOcsp), pss), "ocsp signer");
    return s;
  };
  SystemClock clock;

  // 1. Raw signing: the token signer and OpenSSL in-process, no kyso around them.
  {
    auto tok = Must(token->FindSigner(label(ca::kIssuing), pss), "issuing signer");
    auto soft = Must(pkix::KeySigner::Generate("rsa-2048"), "soft key");
    const double tok1 = RawSignRate(*tok, 1, opt.raw_signs);
    const double tok2 = RawSignRate(*tok, 2, opt.raw_signs);
    const double soft1 = RawSignRate(*soft, 1, opt.raw_signs);
    const double soft2 = RawSignRate(*soft, 2, opt.raw_signs);
    std::cout << "raw RSA-2048 signatures/s (" << opt.raw_signs << " each, no kyso):\n"
              << "  SoftHSM2 token signer  1 thread " << Fixed(tok1, 0) << "  2 threads "
              << Fixed(tok2, 0) << "\n"
              << "  OpenSSL in-process     1 thread " << Fixed(soft1, 0) << "  2 threads "
              << Fixed(soft2, 0) << "\n"
              << "  token / in-process: " << Fixed(tok1 / soft1, 2) << " (1 thread), "
              << Fixed(tok2 / soft2, 2) << " (2 threads)\n";
    Emit("raw.token.sign_per_s.threads1", Fixed(tok1, 0));
    Emit("raw.token.sign_per_s.threads2", Fixed(tok2, 0));
    Emit("raw.soft.sign_per_s.threads1", Fixed(soft1, 0));
    Emit("raw.soft.sign_per_s.threads2", Fixed(soft2, 0));
  }

  // 2. Phases of IssueBatch on the token key.
  Requests r = Parse(ders, cores);
  SqlTracer& timing = SqlTracer::Get();
  {
    ca::CaSigners s = token_signers();
    auto* issuing = new TimingSigner(std::move(s.issuing));
    s.issuing.reset(issuing);
    auto inst = Must(ca::Authority::Open(d->config(), d->store(), std::move(s), clock), "authority");
    for (int threads : thread_list) {
      issuing->Reset();
      timing.Mark();
      Stopwatch t;
      auto results = inst->IssueBatch(r.reqs, "bench", threads);
      const double total = t.Elapsed();
      CheckAll(results, issuer_key, false);
      const PhaseTimes p = timing.Take();
      PrintPhases("token signer, " + std::to_string(threads) + " thread(s)", p, total, opt.n);
      std::cout << "    token C_Sign: " << Fixed(1e3 * issuing->thread_seconds() / static_cast<double>(issuing->count()), 3)
                << " ms per signature per thread (openssl speed: "
                << Fixed(1e3 / speed1, 3) << " ms); sign-phase parallelism "
                << Fixed(issuing->thread_seconds() / p.sign, 2) << "\n";
      const std::string k = "phase.threads" + std::to_string(threads) + ".";
      Emit(k + "prepare_s", Fixed(p.prepare, 3));
      Emit(k + "record_s", Fixed(p.record, 3));
      Emit(k + "sign_s", Fixed(p.sign, 3));
      Emit(k + "complete_s", Fixed(p.complete, 3));
    }
  }

  PublicKeyExperiment(ders, r);

  // 3. The same code with signing removed (FixedSigner): kyso's own ceiling.
  {
    ca::CaSigners s = token_signers();
    const Bytes sig = Must(s.issuing->Sign(Bytes(16, 1)), "sample signature");
    s.issuing = std::make_unique<FixedSigner>(std::move(s.issuing), sig);
    auto inst = Must(ca::Authority::Open(d->config(), d->store(), std::move(s), clock), "authority");
    timing.Mark();
    Stopwatch t;
    auto results = inst->IssueBatch(r.reqs, "bench", 2);
    const double total = t.Elapsed();
    CheckAll(results, issuer_key, false);
    PrintPhases("no signing (fixed signature), 2 threads", timing.Take(), total, opt.n);
    Emit("issue.nosign.per_s", Fixed(opt.n / total, 0));
  }

  // 4. The same code with an in-process RSA-2048 issuing key: the token's cost.
  {
    TempDir soft_tmp("kyso-bench-soft");
    Config config = d->config();
    config.ca.root_key = KeySpec::kRsa2048;  // the root never signs here; keep setup short
    auto store = Must(store::OpenSqliteStore((soft_tmp.path() / "kyso.db").string(), clock), "store");
    SqlTracer& soft_timing = SqlTracer::Get();
    SoftKeys keys;
    Must(ca::CreateHierarchy(config, *store, [&](std::string_view l, KeySpec spec) {
           return keys.Make(l, spec);
         }, clock), "soft hierarchy");
    ca::CaSigners s;
    s.root = Must(keys.Signer(Must(store->GetCaKey(ca::kRoot), "key").key_label), "root");
    s.issuing = Must(keys.Signer(Must(store->GetCaKey(ca::kIssuing), "key").key_label), "issuing");
    s.ocsp = Must(keys.Signer(Must(store->GetCaKey(ca::kOcsp), "key").key_label), "ocsp");
    const EVP_PKEY* soft_issuer = s.issuing->public_key();
    auto inst = Must(ca::Authority::Open(config, *store, std::move(s), clock), "authority");
    for (int threads : thread_list) {
      soft_timing.Mark();
      Stopwatch t;
      auto results = inst->IssueBatch(r.reqs, "bench", threads);
      const double total = t.Elapsed();
      CheckAll(results, soft_issuer, true);
      PrintPhases("in-process RSA-2048 key (no token), " + std::to_string(threads) + " thread(s)",
                  soft_timing.Take(), total, opt.n);
      Emit("issue.softkey.threads" + std::to_string(threads) + ".per_s", Fixed(opt.n / total, 0));
    }
  }
  std::cout << "load at end: " << Fixed(LoadAverage(), 2) << "\n";
  return 0;
}

}  // namespace
}  // namespace kyso::bench

int main(int argc, char** argv) { return kyso::bench::Main(argc, argv); }
