#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/ca/authority.h"
#include "kyso/ca/tsa.h"
#include "kyso/store/store.h"
#include "kyso/token/token.h"

namespace kyso::cli {

// HomePaths names the files of a deployment's home folder.
struct HomePaths {
  explicit HomePaths(std::filesystem::path home) : dir(std::move(home)) {}
  std::filesystem::path dir;
  std::filesystem::path config() const { return dir / "kyso.toml"; }
  std::filesystem::path database() const { return dir / "kyso.db"; }
  std::filesystem::path softhsm_conf() const { return dir / "softhsm2.conf"; }
  std::filesystem::path tokens() const { return dir / "tokens"; }
  std::filesystem::path secrets() const { return dir / "secrets"; }
  std::filesystem::path user_pin() const { return secrets() / "user.pin"; }
  std::filesystem::path so_pin_wrapped() const { return secrets() / "so.pin.wrapped"; }
};

struct InitOptions {
  std::string home;
  std::string public_url;           // empty: the default
  std::string root_key;             // empty: the default
  std::string issuing_key;
  std::string ocsp_key;
  std::string tsa_key;
};

// InitDeployment creates a deployment: the home folder (mode 0700), a SoftHSM2 token under
// it (unless the config names another module), fresh SO and user PINs — the user PIN in a
// file only the owner can read, the SO PIN wrapped by a key on the token — the CA hierarchy
// with its keys on the token, the database, and the first CRLs. It refuses a folder that
// already holds a deployment. PINs are never printed or logged.
Status InitDeployment(const InitOptions& options);

// Deployment is an opened home folder: its config, store, token and CA.
class Deployment final {
 public:
  // Open reads DIR/kyso.toml, points SoftHSM2 at DIR/softhsm2.conf, logs in to the token with
  // the PIN from KYSO_CA_PIN or DIR/secrets/user.pin, and opens the store and the CA.
  // With `with_ca` false only the config and store are opened: for reading records and the
  // audit log without the token's PIN.
  static Result<std::unique_ptr<Deployment>> Open(const std::string& home, bool with_ca = true);

  const Config& config() const { return config_; }
  store::Store& store() { return *store_; }
  ca::Authority& authority() { return *authority_; }
  const Clock& clock() const { return clock_; }
  // token is the CA's token (null when opened without the CA).
  token::Token* token() { return token_.get(); }

  // Checkpoint signs the audit chain's head with the audit key on the token (made the first
  // time it is needed), every `every` events, or now when `every` is 0. Needs the CA open.
  Result<bool> Checkpoint(std::string_view actor, int64_t every);

  // OpenTsa gives the timestamp authority: its key (label from the store's "tsa" role, or
  // kyso-tsa) and certificate. Deployments made before the TSA get both now, and a certificate
  // with less than ca::kTsaRenewBefore left is renewed for the same key; either is recorded
  // like any issuance under `actor`. Needs the CA open.
  Result<std::unique_ptr<ca::TimestampAuthority>> OpenTsa(std::string_view actor);
  // RenewTsaIfDue issues a new certificate for `tsa`'s key when its current one is due
  // (ca::TsaCertDue) and switches `tsa` to it. Returns whether it renewed.
  Result<bool> RenewTsaIfDue(ca::TimestampAuthority& tsa, std::string_view actor);

 private:
  Deployment() = default;
  Result<ossl::UniquePtr<X509>> IssueTsaCert(const pkix::Signer& tsa_key,
                                             std::string_view key_label, std::string_view actor);
  SystemClock clock_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<token::Token> token_;
  std::unique_ptr<ca::Authority> authority_;
};

// ReadFileLimited reads a whole file of at most `max_len` bytes; a larger one is refused.
Result<std::string> ReadFileLimited(const std::filesystem::path& path, std::size_t max_len);

// WritePrivateFile creates `path` readable and writable by its owner only (mode 0600) and
// writes `data`; an existing file is refused, never overwritten.
Status WritePrivateFile(const std::filesystem::path& path, std::string_view data);

// WriteFileAtomic writes `data` to a temporary file beside `path`, syncs it and renames it
// over `path`: readers see the old file or the whole new one, never a part.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data);

// RandomSecret draws `len` characters uniformly from `alphabet` (PINs, passwords).
Result<SecretString> RandomSecret(std::size_t len, std::string_view alphabet);

// PointSoftHsmAt makes SoftHSM2 in this process use the deployment's configuration, so a
// subscriber's SoftHSM2 token (tests, the demo) lives beside the CA's.
void PointSoftHsmAt(const std::filesystem::path& home);

// kWrapKeyLabel is the AES key on the CA's token that wraps SO PINs.
inline constexpr std::string_view kWrapKeyLabel = "kyso-wrap";

// ReadSecretFile reads a PIN or password file; one trailing newline is not part of it.
Result<SecretString> ReadSecretFile(const std::filesystem::path& path);

}  // namespace kyso::cli
