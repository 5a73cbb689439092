// libFuzzer harness over DecodePng: the signature or seal image a civil servant hands to
// `kyso sign pdf --image`. Any input gets a RasterImage or a Status, within the size limits.
#include <cstddef>
#include <cstdint>

#include "kyso/sign/png.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto image = kyso::sign::DecodePng(kyso::ByteSpan(data, size));
  if (image.ok() && image->rgb.size() != static_cast<std::size_t>(image->width) * image->height * 3) {
    __builtin_trap();
  }
  return 0;
}
