#include "kyso/ra/password.h"

#include <argon2.h>
#include <openssl/rand.h>

namespace kyso::ra {

namespace {
constexpr uint32_t kTime = 2;
constexpr uint32_t kMemoryKib = 19 * 1024;
constexpr uint32_t kLanes = 1;
constexpr std::size_t kSaltLen = 16;
constexpr std::size_t kHashLen = 32;
constexpr std::size_t kMinPasswordLen = 8;
}  // namespace

Result<std::string> HashPassword(const SecretString& password) {
  if (password.size() < kMinPasswordLen) {
    return InvalidArgumentError("R14.2: a password needs at least 8 characters");
  }
  uint8_t salt[kSaltLen];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return InternalError("no randomness for a salt");
  std::string encoded(argon2_encodedlen(kTime, kMemoryKib, kLanes, kSaltLen, kHashLen, Argon2_id), '\0');
  const int rc = argon2id_hash_encoded(kTime, kMemoryKib, kLanes, password.reveal().data(),
                                       password.size(), salt, sizeof(salt), kHashLen,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return InternalError(std::string("argon2: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(const SecretString& password, const std::string& phc) {
  return argon2id_verify(phc.c_str(), password.reveal().data(), password.size()) == ARGON2_OK;
}

}  // namespace kyso::ra
