#pragma once

// Test support: the cheap mutation fuzzing the PDF tests run in every build (the libFuzzer
// harnesses in fuzz/ go further). Never used by the program.

#include <cstddef>
#include <cstdint>
#include <random>

#include "kyso/base/bytes.h"

namespace kyso::testutil {

// MutatePdfLike applies 1 to 8 edits to `data`: a random byte, a byte of PDF syntax
// ("0123456789 <>[]/()R\n"), or a deletion. `data` must not be empty.
inline void MutatePdfLike(Bytes& data, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && !data.empty(); ++e) {
    const std::size_t at = rng() % data.size();
    switch (rng() % 3) {
      case 0:
        data[at] = static_cast<uint8_t>(rng());
        break;
      case 1:
        data[at] = static_cast<uint8_t>("0123456789 <>[]/()R\n"[rng() % 20]);
        break;
      default:
        data.erase(data.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }
}

}  // namespace kyso::testutil
