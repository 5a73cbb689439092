#pragma once

#include <string>

#include "kyso/base/secret.h"
#include "kyso/base/status.h"

namespace kyso::ra {

// HashPassword derives an Argon2id hash (RFC 9106; t=2, m=19 MiB, p=1 — OWASP's minimum for
// Argon2id) with a random salt, as a PHC string ("$argon2id$v=19$m=19456,t=2,p=1$...").
Result<std::string> HashPassword(const SecretString& password);
// VerifyPassword checks a password against a PHC string in constant time.
bool VerifyPassword(const SecretString& password, const std::string& phc);

}  // namespace kyso::ra
