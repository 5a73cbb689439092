#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kyso/base/bytes.h"
#include "kyso/base/config.h"
#include "kyso/base/secret.h"
#include "kyso/base/status.h"
#include "kyso/pkix/signer.h"

namespace kyso::token {

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

  // WrapSecret encrypts a small secret (a PIN) under an AES-256-GCM key on the token
  // labelled `key_label`, generating that key the first time. The result is nonce||ciphertext.
  Result<Bytes> WrapSecret(std::string_view key_label, const SecretString& secret);
  Result<SecretString> UnwrapSecret(std::string_view key_label, ByteSpan wrapped);

  struct Impl;

 private:
  explicit Token(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace kyso::token
