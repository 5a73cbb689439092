// libFuzzer harness: PKCS#10 requests as `kyso cert issue --csr` reads them.
#include <cstddef>
#include <cstdint>

#include "kyso/pkix/csr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto csr = kyso::pkix::ParseCertRequest(kyso::ByteSpan(data, size));
  if (!csr.ok() && csr.status().code() != kyso::Code::kInvalidArgument) __builtin_trap();
  return 0;
}
