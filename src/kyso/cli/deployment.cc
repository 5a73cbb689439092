#include "kyso/cli/deployment.h"

#include "kyso/base/file.h"

#include "kyso/base/calendar.h"
#include "kyso/ca/audit_checkpoint.h"
#include "kyso/pkix/x509.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kyso::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxSecretFileLen = 4096;
constexpr std::size_t kMaxConfigLen = 1 << 20;

// RandomPin gives 32 hex digits (128 bits) as a secret.
Result<SecretString> RandomPin() { return RandomSecret(32, "0123456789abcdef"); }

Result<Config> LoadConfig(const HomePaths& home) {
  if (!fs::exists(home.config())) {
    return NotFoundError(home.dir.string() + " is not a kyso home (no kyso.toml); run kyso init");
  }
  KYSO_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(home.config(), kMaxConfigLen));
  return ParseConfig(text);
}

Result<SecretString> UserPin(const HomePaths& home) {
  if (const char* env = std::getenv("KYSO_CA_PIN"); env != nullptr && *env != '\0') {
    return SecretString(env);
  }
  return ReadSecretFile(home.user_pin());
}

}  // namespace

void PointSoftHsmAt(const fs::path& dir) {
  // SoftHSM2 reads SOFTHSM2_CONF once, when the module is initialised.
  const HomePaths home{fs::absolute(dir)};
  if (fs::exists(home.softhsm_conf())) {
    ::setenv("SOFTHSM2_CONF", home.softhsm_conf().c_str(), 1);
  }
}

Status WritePrivateFile(const fs::path& path, std::string_view data) {
  const std::string p = path.string();
  FILE* f = nullptr;
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) f = ::fdopen(fd, "wb");
  if (f == nullptr) return FailedPreconditionError("cannot create " + p + " (it must not exist yet)");
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size() &&
                  std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  std::fclose(f);
  if (!ok) return InternalError("cannot write " + p);
  return OkStatus();
}

Status WriteFileAtomic(const fs::path& path, std::string_view data) {
  KYSO_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path));
  KYSO_RETURN_IF_ERROR(file.Append(AsBytes(data)));
  return std::move(file).Commit();
}

Result<SecretString> RandomSecret(std::size_t len, std::string_view alphabet) {
  if (alphabet.empty() || alphabet.size() > 256) return InvalidArgumentError("bad alphabet");
  // Rejection sampling: bytes at or above the largest multiple of the alphabet's size are
  // drawn again, so every character is equally likely.
  const unsigned limit = 256 - 256 % static_cast<unsigned>(alphabet.size());
  std::string out;
  out.reserve(len);
  uint8_t raw[64];
  while (out.size() < len) {
    if (RAND_bytes(raw, sizeof(raw)) != 1) return InternalError("no randomness for a secret");
    for (uint8_t b : raw) {
      if (b < limit && out.size() < len) out.push_back(alphabet[b % alphabet.size()]);
    }
  }
  Cleanse(raw, sizeof(raw));
  SecretString secret(out);
  Cleanse(out.data(), out.size());
  return secret;
}

Result<std::string> ReadFileLimited(const fs::path& path, std::size_t max_len) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string());
  // Read in chunks up to the limit: the buffer grows with the file, never to the limit, and
  // pipes and devices (no size to ask) are bounded the same way.
  std::string data;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size <= max_len) data.reserve(static_cast<std::size_t>(size));
  char chunk[1 << 16];
  while (in && data.size() <= max_len) {
    in.read(chunk, sizeof(chunk));
    data.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  Cleanse(chunk, sizeof(chunk));  // it may have held a PIN (ReadSecretFile)
  if (data.size() > max_len) {
    return InvalidArgumentError(path.string() + " is larger than " + std::to_string(max_len / 1024) + " KiB");
  }
  return data;
}

Result<SecretString> ReadSecretFile(const fs::path& path) {
  KYSO_ASSIGN_OR_RETURN(std::string data, ReadFileLimited(path, kMaxSecretFileLen));
  std::size_t len = data.size();
  if (len > 0 && data[len - 1] == '\n') --len;
  if (len > 0 && data[len - 1] == '\r') --len;
  SecretString secret(std::string_view(data).substr(0, len));
  Cleanse(data.data(), data.size());
  return secret;
}

Status InitDeployment(const InitOptions& o) {
  const HomePaths home{fs::absolute(o.home)};
  if (fs::exists(home.config())) {
    return AlreadyExistsError(home.dir.string() + " already holds a kyso deployment");
  }
  Config config;
  if (!o.public_url.empty()) config.ca.public_url = o.public_url;
  if (!o.root_key.empty()) { KYSO_ASSIGN_OR_RETURN(config.ca.root_key, ParseKeySpec(o.root_key)); }
  if (!o.issuing_key.empty()) {
    KYSO_ASSIGN_OR_RETURN(config.ca.issuing_key, ParseKeySpec(o.issuing_key));
  }
  if (!o.ocsp_key.empty()) { KYSO_ASSIGN_OR_RETURN(config.ca.ocsp_key, ParseKeySpec(o.ocsp_key)); }
  if (!o.tsa_key.empty()) { KYSO_ASSIGN_OR_RETURN(config.ca.tsa_key, ParseKeySpec(o.tsa_key)); }
  // The calendar's days are data the officers keep up to date (R14.1): write them out.
  for (const Date& d : WorkingCalendar::VietnamHolidays2026And2027()) {
    config.ra.holidays.push_back(FormatDate(d));
  }
  for (const Date& d : WorkingCalendar::VietnamMakeupWorkingDays2026And2027()) {
    config.ra.makeup_working_days.push_back(FormatDate(d));
  }
  // Validate what the user gave before anything is created.
  KYSO_ASSIGN_OR_RETURN(config, ParseConfig(FormatConfig(config)));

  std::error_code ec;
  fs::create_directories(home.dir, ec);
  fs::create_directories(home.tokens(), ec);
  fs::create_directories(home.secrets(), ec);
  if (ec) return FailedPreconditionError("cannot create " + home.dir.string() + ": " + ec.message());
  fs::permissions(home.dir, fs::perms::owner_all, ec);
  fs::permissions(home.secrets(), fs::perms::owner_all, ec);
  fs::permissions(home.tokens(), fs::perms::owner_all, ec);
  if (!fs::exists(home.softhsm_conf())) {
    std::ofstream conf(home.softhsm_conf());
    conf << "# SoftHSM2 token of this kyso deployment\n"
         << "directories.tokendir = " << home.tokens().string() << "\n"
         << "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
  }
  PointSoftHsmAt(home.dir);

  KYSO_ASSIGN_OR_RETURN(SecretString so_pin, RandomPin());
  KYSO_ASSIGN_OR_RETURN(SecretString user_pin, RandomPin());
  KYSO_RETURN_IF_ERROR(token::Token::Initialize(config.token.module, config.token.label, so_pin,
                                                user_pin), "token");
  KYSO_ASSIGN_OR_RETURN(auto tok, token::Token::Open(config.token.module, config.token.label,
                                                     user_pin), "token");
  KYSO_ASSIGN_OR_RETURN(Bytes wrapped_so, tok->WrapSecret(kWrapKeyLabel, so_pin), "wrap SO PIN");
  KYSO_RETURN_IF_ERROR(WritePrivateFile(home.so_pin_wrapped(), AsString(wrapped_so)));
  {
    std::string pin_line = std::string(user_pin.reveal()) + "\n";
    Status s = WritePrivateFile(home.user_pin(), pin_line);
    Cleanse(pin_line.data(), pin_line.size());
    KYSO_RETURN_IF_ERROR(s);
  }

  SystemClock clock;
  KYSO_ASSIGN_OR_RETURN(auto store, store::OpenSqliteStore(home.database().string(), clock));
  // SQLite gives its -wal and -shm files the database's mode.
  fs::permissions(home.database(), fs::perms::owner_read | fs::perms::owner_write, ec);
  token::Token* t = tok.get();
  const bool pss = config.ca.rsa_pss;
  ca::KeyFactory keys = [t, pss](std::string_view label, KeySpec spec) {
    return t->GenerateKeyPair(label, spec, pss);
  };
  KYSO_RETURN_IF_ERROR(ca::CreateHierarchy(config, *store, keys, clock));
  // The config is written last: its presence marks a complete deployment.
  std::ofstream out(home.config());
  out << FormatConfig(config);
  out.close();
  if (!out) return InternalError("cannot write " + home.config().string());
  return OkStatus();
}

Result<bool> Deployment::Checkpoint(std::string_view actor, int64_t every) {
  if (!token_) return FailedPreconditionError("the CA token is not open");
  Result<std::unique_ptr<pkix::Signer>> key = token_->FindSigner(ca::kAuditKeyLabel, false);
  if (!key.ok() && key.status().code() == Code::kNotFound) {
    // Deployments made before signed checkpoints get their audit key now.
    key = token_->GenerateKeyPair(ca::kAuditKeyLabel, KeySpec::kEcP256, false);
    if (key.ok()) {
      const Bytes spki = ossl::ToDer(i2d_PUBKEY, (*key)->public_key());
      KYSO_RETURN_IF_ERROR(store_->PutCaKey(
          store::CaKey{std::string(ca::kAuditRole), std::string(ca::kAuditKeyLabel), spki},
          store::AuditEvent{std::string(actor), "audit.key", std::string(ca::kAuditKeyLabel), "{}"}));
    }
  }
  if (!key.ok()) return key.status().WithContext("audit key");
  return ca::Checkpoint(*store_, **key, actor, every);
}

Result<ossl::UniquePtr<X509>> Deployment::IssueTsaCert(const pkix::Signer& tsa_key,
                                                       std::string_view key_label,
                                                       std::string_view actor) {
  // The issuing CA's key signs the TSA certificate; Authority keeps its own signer private,
  // so take a second one over the same token key.
  KYSO_ASSIGN_OR_RETURN(store::CaKey issuing_rec, store_->GetCaKey(ca::kIssuing));
  KYSO_ASSIGN_OR_RETURN(auto issuing, token_->FindSigner(issuing_rec.key_label, config_.ca.rsa_pss),
                        "issuing key");
  return ca::IssueTsaCert(config_.ca, *store_, authority_->issuing_cert(), *issuing, tsa_key,
                          key_label, clock_.Now(), actor);
}

Result<std::unique_ptr<ca::TimestampAuthority>> Deployment::OpenTsa(std::string_view actor) {
  if (!token_ || !authority_) return FailedPreconditionError("the CA token is not open");
  const bool pss = config_.ca.rsa_pss;
  Result<store::CaKey> rec = store_->GetCaKey(ca::kTsa);
  if (!rec.ok() && rec.status().code() != Code::kNotFound) return rec.status();
  const std::string label = rec.ok() ? rec->key_label : std::string(ca::kTsaKeyLabel);
  Result<std::unique_ptr<pkix::Signer>> key = token_->FindSigner(label, pss);
  if (!key.ok() && key.status().code() == Code::kNotFound && !rec.ok()) {
    // Deployments made before the timestamp authority get its key now.
    key = token_->GenerateKeyPair(label, config_.ca.tsa_key, pss);
  }
  if (!key.ok()) return key.status().WithContext("TSA key");
  ossl::UniquePtr<X509> cert;
  if (rec.ok()) {
    KYSO_ASSIGN_OR_RETURN(cert, pkix::ParseCertificate(rec->cert_der), "TSA certificate");
  }
  if (!cert || ca::TsaCertDue(cert.get(), clock_.Now())) {
    KYSO_ASSIGN_OR_RETURN(cert, IssueTsaCert(**key, label, actor), "TSA certificate");
  }
  return ca::TimestampAuthority::Create(std::move(cert), std::move(key).value(),
                                        authority_->issuing_cert(), config_.ca.tsa_policy_oid,
                                        clock_);
}

Result<bool> Deployment::RenewTsaIfDue(ca::TimestampAuthority& tsa, std::string_view actor) {
  const std::shared_ptr<const X509> current = tsa.certificate();
  if (!ca::TsaCertDue(current.get(), clock_.Now())) return false;
  KYSO_ASSIGN_OR_RETURN(store::CaKey rec, store_->GetCaKey(ca::kTsa));
  KYSO_ASSIGN_OR_RETURN(auto key, token_->FindSigner(rec.key_label, config_.ca.rsa_pss), "TSA key");
  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, IssueTsaCert(*key, rec.key_label, actor));
  KYSO_RETURN_IF_ERROR(tsa.SetCertificate(std::move(cert)));
  return true;
}

Result<std::unique_ptr<Deployment>> Deployment::Open(const std::string& dir, bool with_ca) {
  const HomePaths home{fs::absolute(dir)};
  std::unique_ptr<Deployment> d(new Deployment());
  KYSO_ASSIGN_OR_RETURN(d->config_, LoadConfig(home));
  if (!with_ca) {
    KYSO_ASSIGN_OR_RETURN(d->store_, store::OpenSqliteStore(home.database().string(), d->clock_));
    return d;
  }
  PointSoftHsmAt(home.dir);
  KYSO_ASSIGN_OR_RETURN(SecretString pin, UserPin(home));
  KYSO_ASSIGN_OR_RETURN(d->token_, token::Token::Open(d->config_.token.module,
                                                      d->config_.token.label, pin), "token");
  KYSO_ASSIGN_OR_RETURN(d->store_, store::OpenSqliteStore(home.database().string(), d->clock_));
  const bool pss = d->config_.ca.rsa_pss;
  ca::CaSigners signers;
  KYSO_ASSIGN_OR_RETURN(auto root_key, d->store_->GetCaKey(ca::kRoot));
  KYSO_ASSIGN_OR_RETURN(auto issuing_key, d->store_->GetCaKey(ca::kIssuing));
  KYSO_ASSIGN_OR_RETURN(auto ocsp_key, d->store_->GetCaKey(ca::kOcsp));
  KYSO_ASSIGN_OR_RETURN(signers.root, d->token_->FindSigner(root_key.key_label, pss));
  KYSO_ASSIGN_OR_RETURN(signers.issuing, d->token_->FindSigner(issuing_key.key_label, pss));
  KYSO_ASSIGN_OR_RETURN(signers.ocsp, d->token_->FindSigner(ocsp_key.key_label, pss));
  KYSO_ASSIGN_OR_RETURN(d->authority_, ca::Authority::Open(d->config_, *d->store_,
                                                           std::move(signers), d->clock_));
  return d;
}

}  // namespace kyso::cli
