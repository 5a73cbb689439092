#include "kyso/ca/profile.h"

#include <optional>

#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {

namespace {

// RFC 5280 Appendix A upper bounds.
constexpr std::size_t kUbCommonName = 64;
constexpr std::size_t kUbOrganization = 64;
constexpr std::size_t kUbOrganizationalUnit = 64;
constexpr std::size_t kUbEmail = 255;
constexpr std::size_t kMaxUnits = 3;  // R7.1: OU carries levels 2..4

// TextProblem names what makes `s` unfit for a certificate name, or nothing: malformed UTF-8,
// or a control or bidirectional-formatting character (C0, DEL, C1, U+200E/F, U+202A..E,
// U+2066..9), which would let a name display differently from what it is.
// On success `*chars` is the number of code points.
std::optional<std::string_view> TextProblem(std::string_view s, std::size_t* chars) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return "is not valid UTF-8 text";
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return "is not valid UTF-8 text";
      cp = cp << 6 | (cc & 0x3f);
    }
    const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return "is not valid UTF-8 text";
    }
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
        (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      return "contains a control character";
    }
    i += len;
  }
  *chars = n;
  return std::nullopt;
}

Status CheckField(std::string_view what, std::string_view value, std::size_t max, bool required) {
  if (value.empty()) {
    return required ? InvalidArgumentError(std::string(what) + " is required") : OkStatus();
  }
  std::size_t n = 0;
  if (auto problem = TextProblem(value, &n)) {
    return InvalidArgumentError(std::string(what) + " " + std::string(*problem));
  }
  if (n > max) {
    return InvalidArgumentError(std::string(what) + " is longer than " + std::to_string(max) +
                                " characters");
  }
  return OkStatus();
}

bool LooksLikeEmail(std::string_view e) {
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= e.size() ||
      e.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = e.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.') {
    return false;
  }
  for (char c : e) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return true;
}

// PolicyExtension encodes certificatePolicies with one policy and no qualifiers (RFC 5280
// 4.2.1.4). OpenSSL's configuration syntax would need a config database for this.
Result<ossl::UniquePtr<X509_EXTENSION>> PolicyExtension(std::string_view oid) {
  KYSO_ASSIGN_OR_RETURN(Bytes body, pkix::EncodeOidBody(oid), "ca.policy_oid");
  pkix::DerWriter w;
  w.Sequence([&](pkix::DerWriter& policies) {
    policies.Sequence([&](pkix::DerWriter& info) { info.Oid(body); });
  });
  const Bytes der = std::move(w).Finish();
  ossl::UniquePtr<ASN1_OCTET_STRING> os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), der.data(), static_cast<int>(der.size())) != 1) {
    return ossl::Error("certificate policies");
  }
  X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, NID_certificate_policies, 0, os.get());
  if (ext == nullptr) return ossl::Error("certificate policies");
  return ossl::UniquePtr<X509_EXTENSION>(ext);
}

}  // namespace

Result<Profile> ParseProfile(std::string_view name) {
  if (name == "individual") return Profile::kIndividual;
  if (name == "organization" || name == "organisation") return Profile::kOrganization;
  if (name == "device") return Profile::kDevice;
  return InvalidArgumentError("unknown profile '" + std::string(name) +
                              "' (individual, organization, device)");
}

std::string_view ProfileName(Profile p) {
  switch (p) {
    case Profile::kIndividual: return "individual";
    case Profile::kOrganization: return "organization";
    case Profile::kDevice: return "device";
  }
  return "?";
}

Status ValidateSubject(const Subject& s) {
  KYSO_RETURN_IF_ERROR(CheckField("name", s.name, kUbCommonName, true));
  KYSO_RETURN_IF_ERROR(CheckField("organization", s.organization, kUbOrganization, true));
  KYSO_RETURN_IF_ERROR(CheckField("email", s.email, kUbEmail, true));
  if (!LooksLikeEmail(s.email)) {
    return InvalidArgumentError("email '" + s.email + "' is not an e-mail address");
  }
  if (s.units.size() > kMaxUnits) {
    return InvalidArgumentError("at most 3 organisational units (levels 2 to 4)");
  }
  for (const std::string& u : s.units) {
    KYSO_RETURN_IF_ERROR(CheckField("unit", u, kUbOrganizationalUnit, true));
  }
  return OkStatus();
}

Result<ProfileExtensions> ProfileExtensions::Build(Profile profile, const Config::Ca& c,
                                                   X509* issuing_ca) {
  ProfileExtensions out;
  const bool device = profile == Profile::kDevice;
  // R7.3: individual and organisation keys sign documents (non-repudiation) and, for RSA,
  // encrypt keys; devices authenticate TLS peers. emailProtection is what NSS-based
  // verifiers (poppler's pdfsig) require of a document signer.
  KYSO_ASSIGN_OR_RETURN(out.key_usage_rsa_,
                        pkix::MakeExtension(NID_key_usage,
                                            device ? "critical,digitalSignature,keyEncipherment"
                                                   : "critical,digitalSignature,nonRepudiation,"
                                                     "keyEncipherment",
                                            issuing_ca, nullptr));
  KYSO_ASSIGN_OR_RETURN(out.key_usage_ec_,
                        pkix::MakeExtension(NID_key_usage,
                                            device ? "critical,digitalSignature"
                                                   : "critical,digitalSignature,nonRepudiation",
                                            issuing_ca, nullptr));
  const std::pair<int, std::string> common[] = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_ext_key_usage, device ? "serverAuth,clientAuth" : "emailProtection,clientAuth"},
      {NID_crl_distribution_points, "URI:" + c.public_url + "/crl/issuing.crl"},
      {NID_info_access,
       "OCSP;URI:" + c.public_url + "/ocsp,caIssuers;URI:" + c.public_url + "/ca/issuing.crt"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  for (const auto& [nid, value] : common) {
    KYSO_ASSIGN_OR_RETURN(auto ext, pkix::MakeExtension(nid, value, issuing_ca, nullptr));
    out.common_.push_back(std::move(ext));
  }
  KYSO_ASSIGN_OR_RETURN(auto policy, PolicyExtension(c.policy_oid));
  out.common_.push_back(std::move(policy));
  return out;
}

Status ProfileExtensions::AddTo(X509* cert, bool rsa) const {
  if (X509_add_ext(cert, rsa ? key_usage_rsa_.get() : key_usage_ec_.get(), -1) != 1) {
    return ossl::Error("add key usage");
  }
  for (const auto& ext : common_) {
    if (X509_add_ext(cert, ext.get(), -1) != 1) return ossl::Error("add extension");
  }
  return OkStatus();
}

}  // namespace kyso::ca
