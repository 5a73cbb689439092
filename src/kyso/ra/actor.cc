#include "kyso/ra/actor.h"

namespace kyso::ra {

namespace {
constexpr std::pair<Role, std::string_view> kRoles[] = {
    {Role::kProvider, "provider"}, {Role::kAuthority, "authority"}, {Role::kFocal, "focal"},
    {Role::kSubscriber, "subscriber"}, {Role::kAuditor, "auditor"}, {Role::kAdmin, "admin"},
};
}  // namespace

Result<Role> ParseRole(std::string_view name) {
  for (const auto& [role, n] : kRoles) {
    if (n == name) return role;
  }
  return InvalidArgumentError("unknown role '" + std::string(name) +
                              "' (provider, authority, focal, subscriber, auditor, admin)");
}

std::string_view RoleName(Role role) {
  for (const auto& [r, n] : kRoles) {
    if (r == role) return n;
  }
  return "console";
}

}  // namespace kyso::ra
