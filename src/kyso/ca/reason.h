#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/status.h"
#include "kyso/ca/profile.h"
#include "kyso/pkix/crl.h"

namespace kyso::ca {

// RevocationReason is a reason a revocation is asked for: an RFC 5280 reason name
// ("keyCompromise") or one of the cases of R12.1 (ND68 Art. 17, "device-lost"), each mapped
// to the CRLReason code that goes in the CRL and OCSP.
struct RevocationReason {
  std::string_view name;
  pkix::CrlReason code;
  std::optional<Profile> only_for;  // R12.1 cases that apply to one kind of subscriber
  std::string_view description;     // Vietnamese, as officers read it
};

// ParseReason accepts the names listed by ReasonNames(). Unknown names are kInvalidArgument.
Result<RevocationReason> ParseReason(std::string_view name);
// CheckReasonFits refuses an R12.1 case that does not apply to the certificate's profile.
Status CheckReasonFits(const RevocationReason& reason, std::string_view profile);
std::string_view ReasonName(pkix::CrlReason code);
// ReasonNames lists every accepted name, for --help.
std::string ReasonNames();

}  // namespace kyso::ca
