#pragma once

// Test support: how a kyso indication is judged against EU DSS's expectations for its
// validation samples (../shared/testdata/dss-signatures/expected.tsv), the rule of issue 6.
// Shared by dss_conformance_test.cc and xades_sigs_test.cc. Never used by the program.

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/verify/report.h"

namespace kyso::verify::dss {

// Want is what DSS's expectation asks of kyso's indication.
enum class Want { kNotFailed, kFailed, kNotPassed };

// Classify reads a row's expectation and hints; nullopt when the row is not classified.
inline std::optional<Want> Classify(const std::string& expectation, const std::string& hints) {
  std::vector<std::string> parts;
  std::istringstream in(expectation);
  std::string part;
  while (std::getline(in, part, '|')) {
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty() && part.rfind("n/a", 0) != 0) parts.push_back(part);
  }
  if (parts.empty()) return std::nullopt;
  bool all_valid = true, all_not = true;
  for (const std::string& p : parts) {
    all_valid &= p == "intact+valid";
    all_not &= p.rfind("NOT", 0) == 0;
  }
  if (all_valid) return hints.find("TOTAL_FAILED") != std::string::npos ? Want::kFailed : Want::kNotFailed;
  if (all_not) {
    return hints.find("INDETERMINATE") != std::string::npos ||
                   hints.find("signing certificate NOT identified") != std::string::npos
               ? Want::kNotPassed
               : Want::kFailed;
  }
  return std::nullopt;
}

// Agrees tells whether kyso's indication meets what DSS wants.
inline bool Agrees(Want want, std::string_view indication) {
  switch (want) {
    case Want::kNotFailed: return indication != kFailed;
    case Want::kFailed: return indication == kFailed;
    case Want::kNotPassed: return indication != kPassed;
  }
  return false;
}

}  // namespace kyso::verify::dss
