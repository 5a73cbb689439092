#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/config.h"
#include "kyso/base/secret.h"
#include "kyso/base/status.h"
#include "kyso/pkix/signer.h"

namespace kyso::token {

// PinState is what a token says about a PIN's wrong tries (CKF_*_PIN_COUNT_LOW, _FINAL_TRY,
// _LOCKED). Hardware tokens set these flags; SoftHSM2 never does.
enum class PinState { kOk, kCountLow, kFinalTry, kLocked };
std::string_view PinStateName(PinState s);  // ok, count_low, final_try, locked

// TokenInfo is a token's CK_TOKEN_INFO, read without logging in.
struct TokenInfo {
  std::string label;
  std::string manufacturer;
  std::string model;
  std::string serial;  // CK_TOKEN_INFO.serialNumber, trimmed
  bool initialized = false;
  bool user_pin_initialized = false;
  PinState user_pin = PinState::kOk;
  PinState so_pin = PinState::kOk;
  std::size_t min_pin_len = 0;
  std::size_t max_pin_len = 0;
};

// Token is one PKCS#11 token, found by label in a module loaded by path, with the user
// logged in. Keys are generated on the token with CKA_SENSITIVE=true and
// CKA_EXTRACTABLE=false and are used by handle; no private key ever leaves it.
//
// A Token is thread-safe. It keeps a pool of sessions, so signers made from it can sign from
// several threads at once. Signers keep the token's state alive (shared ownership), so they
// may outlive the Token object.
class Token final {
 public:
  // Initialize takes the first free (uninitialized) slot of `module_path`, initializes a
  // token there with `label` and `so_pin`, and sets `user_pin`. Refuses when a token with
  // that label already exists.
  static Status Initialize(const std::string& module_path, std::string_view label,
                           const SecretString& so_pin, const SecretString& user_pin);

  // Describe reads the token labelled `label` in `module_path`; kNotFound when there is none.
  static Result<TokenInfo> Describe(const std::string& module_path, std::string_view label);

  // Personalise makes a subscriber's token ready for its holder, with `so_pin` as its SO PIN
  // and `user_pin` as its user PIN. When no initialized token is labelled `label`, the first
  // free slot is initialized (C_InitToken). Otherwise the token is re-initialized (C_InitToken
  // destroys every object and unsets the user PIN) with the first of `current_so_pins` it
  // accepts, tried in order — each wrong one costs the token an SO try — and its SO PIN is
  // changed to `so_pin` (C_SetPIN) when that differs. kFailedPrecondition when the token is
  // initialized and no current SO PIN is given; kPermissionDenied when none is accepted.
  // `changed`, when given, tells after a failure whether the token was already changed.
  static Status Personalise(const std::string& module_path, std::string_view label,
                            std::span<const SecretString* const> current_so_pins,
                            const SecretString& so_pin, const SecretString& user_pin,
                            bool* changed = nullptr);

  // Unblock sets a new user PIN through the security officer (C_Login as SO, C_InitPIN): how
  // a PKI Token locked by wrong PINs is recovered (R13.1). Keys and certificates stay as they
  // are. kPermissionDenied when the SO PIN is wrong or locked.
  static Status Unblock(const std::string& module_path, std::string_view label,
                        const SecretString& so_pin, const SecretString& new_user_pin);

  // Open loads the module, finds the token labelled `label` and logs the user in.
  static Result<std::unique_ptr<Token>> Open(const std::string& module_path,
                                             std::string_view label,
                                             const SecretString& user_pin);
  ~Token();

  // GenerateKeyPair makes a key pair labelled `key_label` (also its CKA_ID) and returns its
  // signer. Refuses when a key with that label exists.
  Result<std::unique_ptr<pkix::Signer>> GenerateKeyPair(std::string_view key_label,
                                                        KeySpec spec, bool rsa_pss);
  // FindSigner returns a signer over the existing private key labelled `key_label`; the
  // algorithm is chosen by pkix::DefaultAlgorithmFor.
  Result<std::unique_ptr<pkix::Signer>> FindSigner(std::string_view key_label, bool rsa_pss);

  // SignDigest signs a SHA-256 digest computed elsewhere with the key labelled `key_label`.
  // WARNING: it signs any 32 bytes it is given, with no idea what they are the digest of; it
  // exists for the MSSP simulator, which plays a SIM. kyso's own signatures go through
  // FindSigner, which hashes what it signs.
  //
  // The signature is made the private key labelled `key_label`: RSA PKCS#1 v1.5 over the DigestInfo
  // (CKM_RSA_PKCS), or ECDSA (CKM_ECDSA) returned as DER.
  Result<Bytes> SignDigest(std::string_view key_label, ByteSpan sha256_digest);

  // SetKeyId gives the key pair labelled `key_label` the CKA_ID `id`. Tools pair a key with
  // its certificate by CKA_ID; kyso uses the certificate's subjectKeyIdentifier.
  Status SetKeyId(std::string_view key_label, ByteSpan id);

  // WriteCertificate stores an X.509 certificate object (public, on the token) with `label`
  // and CKA_ID `id`; `authority` marks a CA certificate (CKA_CERTIFICATE_CATEGORY 2).
  Status WriteCertificate(std::string_view label, ByteSpan id, ByteSpan cert_der, bool authority);

  // Certificates gives the DER of every X.509 certificate object on the token (at most 64):
  // the holder's certificate and the CA certificates enrolment wrote beside it.
  Result<std::vector<Bytes>> Certificates();

  // WrapSecret encrypts a small secret (a PIN) under an AES-256-GCM key on the token
  // labelled `key_label`, generating that key the first time. The result is nonce||ciphertext.
  // `context` is authenticated, not stored: UnwrapSecret succeeds only with the same context,
  // so a wrapped secret moved to another record (another token's SO PIN) does not unwrap.
  Result<Bytes> WrapSecret(std::string_view key_label, const SecretString& secret,
                           std::string_view context = {});
  Result<SecretString> UnwrapSecret(std::string_view key_label, ByteSpan wrapped,
                                    std::string_view context = {});

  struct Impl;

 private:
  explicit Token(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace kyso::token
