// libFuzzer harness: OCSP requests as the responder receives them (POST body).
#include <cstddef>
#include <cstdint>

#include "kyso/pkix/ocsp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto req = kyso::pkix::ParseOcspRequest(kyso::ByteSpan(data, size));
  if (req.ok()) {
    if (req->ids.empty() || req->ids.size() > kyso::pkix::kMaxOcspSingleRequests) __builtin_trap();
  } else if (req.status().code() != kyso::Code::kInvalidArgument) {
    __builtin_trap();
  }
  return 0;
}
