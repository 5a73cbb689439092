#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::ca {

// Profile is one of the three subscriber certificate profiles of R7.3.
enum class Profile { kIndividual, kOrganization, kDevice };
Result<Profile> ParseProfile(std::string_view name);
std::string_view ProfileName(Profile p);

// Subject is the approved subscriber data a certificate is built from (R7.1). It never
// comes from the CSR.
struct Subject {
  std::string name;                // CN: person, organisation or device/service name
  std::string email;               // official e-mail: SAN rfc822Name and E=
  std::string organization;        // O: level-1 agency
  std::vector<std::string> units;  // OU: levels 2..4
};

// ValidateSubject checks the data against RFC 5280's upper bounds and the shape of an e-mail
// address; UTF-8 must be well formed. Errors are kInvalidArgument, one line.
Status ValidateSubject(const Subject& s);

// ProfileExtensions holds the extensions that are the same for every certificate of a
// profile under one issuing CA, built once (key usage for RSA and for EC keys, extended key
// usage, policy, CRL distribution point, authority information access, authority key id).
class ProfileExtensions final {
 public:
  static Result<ProfileExtensions> Build(Profile profile, const Config::Ca& config,
                                         X509* issuing_ca);
  // AddTo adds the profile's extensions to `cert`; `rsa` picks the key usage variant.
  Status AddTo(X509* cert, bool rsa) const;

 private:
  ossl::UniquePtr<X509_EXTENSION> key_usage_rsa_;
  ossl::UniquePtr<X509_EXTENSION> key_usage_ec_;
  std::vector<ossl::UniquePtr<X509_EXTENSION>> common_;
};

}  // namespace kyso::ca
