#pragma once

#include <string>
#include <string_view>

#include "kyso/base/status.h"

namespace kyso::ra {

// Role is what a user may do (R15.2, R14.2). kConsole is the operator at the deployment's
// console, with every right, audited as "console".
enum class Role { kProvider, kAuthority, kFocal, kSubscriber, kAuditor, kAdmin, kConsole };

Result<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

// Actor is who performs an action; every action carries one.
struct Actor {
  std::string name;
  Role role = Role::kConsole;
  std::string agency_code;  // a focal person's (or subscriber's) agency

  static Actor Console() { return Actor{"console", Role::kConsole, ""}; }
};

}  // namespace kyso::ra
