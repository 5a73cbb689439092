#include "kyso/base/secret.h"

#include <openssl/crypto.h>

namespace kyso {

void Cleanse(void* p, std::size_t len) {
  if (len > 0) {
    OPENSSL_cleanse(p, len);
  }
}

void SecretString::Wipe() {
  // Wipe the whole capacity: short-string buffers and reallocated tails hold copies too.
  value_.resize(value_.capacity());
  Cleanse(value_.data(), value_.size());
  value_.clear();
}

SecretString::SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
  other.Wipe();
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

SecretString::~SecretString() { Wipe(); }

bool SecretEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kyso
