#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace kyso {

// SecretString holds a PIN, password or other secret text. It is wiped on destruction and on
// move-from, cannot be copied by accident, and prints as "[redacted]".
class SecretString final {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view value) : value_(value) {}
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  ~SecretString();

  // Copy makes an explicit duplicate, for the rare place that must keep two.
  SecretString Copy() const { return SecretString(value_); }

  bool empty() const { return value_.empty(); }
  std::size_t size() const { return value_.size(); }
  // reveal gives the secret to the one call that needs it (C_Login, a KDF). Never log it.
  std::string_view reveal() const { return value_; }

  friend std::ostream& operator<<(std::ostream& os, const SecretString&) {
    return os << "[redacted]";
  }

 private:
  void Wipe();
  std::string value_;
};

// SecretEquals compares two secrets in time that depends only on their lengths.
bool SecretEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Cleanse overwrites memory in a way the compiler does not remove.
void Cleanse(void* p, std::size_t len);

}  // namespace kyso
