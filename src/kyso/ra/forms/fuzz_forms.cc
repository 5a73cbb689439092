// libFuzzer harness: Mẫu 01 and Mẫu 02 CSV files as a focal person uploads them (R9.6).
// Beyond "no crash", it traps when a batch is neither rows nor errors, when a rejected batch
// still carries rows, or when a reason would break FormatErrors' one-line-per-error shape.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kyso/ra/forms/forms.h"

namespace {

template <typename Row>
void CheckParsed(const kyso::ra::forms::Parsed<Row>& parsed) {
  if (parsed.rows.empty() == parsed.errors.empty()) __builtin_trap();
  for (const auto& e : parsed.errors) {
    if (e.reason.empty() || e.reason.find('\n') != std::string::npos ||
        e.column.find('\n') != std::string::npos) {
      __builtin_trap();
    }
  }
  (void)kyso::ra::forms::FormatErrors(parsed.errors);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  namespace forms = kyso::ra::forms;
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  const year_month_day today = 2026y / June / 15d;
  // The default limits, and small ones so that every limit is reached on short inputs.
  for (const forms::Limits& limits : {forms::Limits{}, forms::Limits{4096, 4, 48, 16}}) {
    auto table = forms::ReadCsv(csv, limits);
    if (!table.ok() && table.status().code() != kyso::Code::kInvalidArgument) __builtin_trap();
    CheckParsed(forms::ParseMau01(csv, today, limits));
    CheckParsed(forms::ParseMau02(csv, limits));
  }
  return 0;
}
