// libFuzzer harness over the TS 102 204 message parser: every byte the MSSP (or, in the
// simulator, a client) sends reaches ParseMessage first. It must answer any input with a
// Message or a Status, within the size limit, without crashing, hanging or reading a file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kyso/mss/soap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  kyso::Result<kyso::mss::Message> m = kyso::mss::ParseMessage(input);
  if (m.ok() && m->signature) {
    // Touch the decoded bytes so a bad length shows up under ASan.
    volatile uint8_t sink = 0;
    for (uint8_t b : *m->signature) sink = static_cast<uint8_t>(sink ^ b);
    (void)sink;
  }
  return 0;
}
