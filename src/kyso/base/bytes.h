#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/status.h"

namespace kyso {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// HexEncode gives lowercase hex without separators.
std::string HexEncode(ByteSpan bytes);
// HexDigitValue gives 0..15 for a hex digit of either case, -1 for anything else.
int HexDigitValue(char c);
// HexDecode accepts upper or lower case, no separators; odd length or other characters fail.
Result<Bytes> HexDecode(std::string_view hex);

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace kyso
