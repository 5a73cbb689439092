#include "kyso/verify/path.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>

#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"
#include "kyso/verify/cert_check.h"

namespace kyso::verify {

namespace {

struct StackDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), StackDeleter>;
struct CrlStackDeleter {
  void operator()(STACK_OF(X509_CRL) * s) const noexcept { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};
using CrlStack = std::unique_ptr<STACK_OF(X509_CRL), CrlStackDeleter>;
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};

void Push(STACK_OF(X509) * stack, const X509* cert) {
  X509* c = const_cast<X509*>(cert);
  if (X509_up_ref(c) == 1 && sk_X509_push(stack, c) <= 0) X509_free(c);
}

// ---- RFC 5280 6.1.4 (f): DSA parameter inheritance ---------------------------------------

bool IsDsa(const X509* cert) {
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  ASN1_OBJECT* alg = nullptr;
  if (spki == nullptr || X509_PUBKEY_get0_param(&alg, nullptr, nullptr, nullptr,
                                                const_cast<X509_PUBKEY*>(spki)) != 1) {
    return false;
  }
  return OBJ_obj2nid(alg) == NID_dsa;
}

bool DsaHasParameters(const X509* cert) {
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  const X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, const_cast<X509_ALGOR**>(&algor),
                             const_cast<X509_PUBKEY*>(spki)) != 1 ||
      algor == nullptr) {
    return false;
  }
  int ptype = V_ASN1_UNDEF;
  X509_ALGOR_get0(nullptr, &ptype, nullptr, algor);
  return ptype == V_ASN1_SEQUENCE;
}

// FindDsaDonor finds, among `candidates`, the certificate whose DSA parameters `holder` (a
// DSA key without parameters) inherits: the issuer's, or the issuer's issuer's when the issuer
// inherits too. Null when the issuer is not found or its key is not DSA.
const X509* FindDsaDonor(const X509* holder, const std::vector<const X509*>& candidates,
                         int hops = 0) {
  if (hops > 8) return nullptr;
  for (const X509* c : candidates) {
    if (c == holder || X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(holder)) != 0 ||
        !IsDsa(c)) {
      continue;
    }
    if (DsaHasParameters(c)) return c;
    if (const X509* d = FindDsaDonor(c, candidates, hops + 1)) return d;
  }
  return nullptr;
}

// InheritedDsaKey gives the public key of `holder` (a DSA key without parameters) with the
// parameters of `donor`; null on failure.
ossl::UniquePtr<EVP_PKEY> InheritedDsaKey(const X509* holder, const X509* donor) {
  // The subjectPublicKey of a DSA key is the DER INTEGER y.
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(holder);
  if (bits == nullptr) return nullptr;
  const unsigned char* p = ASN1_STRING_get0_data(bits);
  ossl::UniquePtr<ASN1_INTEGER> y_int(d2i_ASN1_INTEGER(nullptr, &p, ASN1_STRING_length(bits)));
  if (!y_int) return nullptr;
  ossl::UniquePtr<BIGNUM> y(ASN1_INTEGER_to_BN(y_int.get(), nullptr));
  const EVP_PKEY* donor_key = X509_get0_pubkey(donor);
  BIGNUM* pp = nullptr;
  BIGNUM* q = nullptr;
  BIGNUM* g = nullptr;
  const bool got = donor_key != nullptr &&
                   EVP_PKEY_get_bn_param(donor_key, OSSL_PKEY_PARAM_FFC_P, &pp) == 1 &&
                   EVP_PKEY_get_bn_param(donor_key, OSSL_PKEY_PARAM_FFC_Q, &q) == 1 &&
                   EVP_PKEY_get_bn_param(donor_key, OSSL_PKEY_PARAM_FFC_G, &g) == 1;
  ossl::UniquePtr<BIGNUM> p_owned(pp), q_owned(q), g_owned(g);
  if (!got || !y) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, pp) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_Q, q) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::UniquePtr<EVP_PKEY_CTX> kctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !kctx || EVP_PKEY_fromdata_init(kctx.get()) != 1 ||
      EVP_PKEY_fromdata(kctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return ossl::UniquePtr<EVP_PKEY>(key);
}

// Completed is a copy of a certificate whose DSA key lacks parameters, with the inherited
// parameters set as its public key, so that OpenSSL 3.0 (which cannot decode such a key, and
// then can neither build nor check the path) can use it. X509_set_pubkey leaves the cached
// DER of the TBS alone, so the copy's signature still verifies over the original bytes;
// should an OpenSSL re-encode it, the verify callback checks `original`'s signature instead.
struct Completed {
  ossl::UniquePtr<X509> copy;
  const X509* original = nullptr;
};

std::optional<Completed> CompleteDsaKey(const X509* cert, const std::vector<const X509*>& all) {
  if (!IsDsa(cert) || DsaHasParameters(cert)) return std::nullopt;
  const X509* donor = FindDsaDonor(cert, all);
  if (donor == nullptr) return std::nullopt;
  ossl::UniquePtr<EVP_PKEY> key = InheritedDsaKey(cert, donor);
  ossl::UniquePtr<X509> copy(X509_dup(cert));
  if (!key || !copy || X509_set_pubkey(copy.get(), key.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return Completed{std::move(copy), cert};
}

// Revocation found by OCSP during the callback, reported afterwards.
struct OcspRevocation {
  const X509* cert = nullptr;
  Time at{};
  pkix::CrlReason reason = pkix::CrlReason::kUnspecified;
};

// State is what the verify callback works with; it is found through the X509_STORE_CTX's app
// data (of the context itself or, for CRL issuer paths, of its parent).
struct State {
  const PathOptions& options;
  STACK_OF(X509) * pool = nullptr;
  STACK_OF(X509_CRL) * crls = nullptr;
  std::vector<std::shared_ptr<const OCSP_BASICRESP>> ocsps;  // read-only; may be shared by threads
  std::optional<OcspRevocation> ocsp_revoked;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;    // English, for the diagnostic
  std::vector<Completed> completed;  // DSA parameter inheritance
};

const X509* OriginalOf(const State& s, const X509* cert) {
  for (const Completed& c : s.completed) {
    if (c.copy.get() == cert) return c.original;
  }
  return cert;
}

State* StateOf(X509_STORE_CTX* ctx) {
  for (X509_STORE_CTX* c = ctx; c != nullptr; c = X509_STORE_CTX_get0_parent_ctx(c)) {
    if (void* data = X509_STORE_CTX_get_app_data(c)) return static_cast<State*>(data);
  }
  return nullptr;
}

bool IsAnchor(const State& s, const X509* cert) {
  return std::any_of(s.options.anchors.begin(), s.options.anchors.end(),
                     [&](const X509* a) { return a != nullptr && X509_cmp(a, cert) == 0; });
}

std::string SubjectOf(const X509* cert) { return pkix::NameUtf8(X509_get_subject_name(cert)); }

// ---- OCSP --------------------------------------------------------------------------------

enum class OcspVerdict { kNone, kGood, kRevoked };

// OcspStatus looks for a usable answer about `cert` among the supplied responses: a revoked
// answer from any of them wins, then a good one.
OcspVerdict OcspStatus(State& s, const X509* cert, const X509* issuer, Time& revoked_at,
                       pkix::CrlReason& reason) {
  std::vector<const X509*> pool;
  for (int i = 0; i < sk_X509_num(s.pool); ++i) pool.push_back(sk_X509_value(s.pool, i));
  OcspVerdict verdict = OcspVerdict::kNone;
  for (const auto& basic : s.ocsps) {
    const OcspCheck c = CheckOcspResponse(basic.get(), cert, issuer, pool, s.options.at);
    if (c.status == OcspCertStatus::kRevoked) {
      if (c.revoked_at) revoked_at = *c.revoked_at;
      reason = c.reason;
      return OcspVerdict::kRevoked;
    }
    if (c.status == OcspCertStatus::kGood) {
      verdict = OcspVerdict::kGood;
    } else if (c.problem.find("signed") != std::string::npos) {
      const std::string note = "an OCSP response does not verify: " + c.problem;
      if (std::find(s.notes.begin(), s.notes.end(), note) == s.notes.end()) s.notes.push_back(note);
    }
  }
  return verdict;
}

// PublishesRevocation says whether the national policy wants a status for `cert`: it names a
// CRL distribution point or an OCSP responder, or a supplied CRL comes from its issuer.
bool PublishesRevocation(const State& s, X509* cert) {
  auto* dps = static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
  const bool has_dp = dps != nullptr && sk_DIST_POINT_num(dps) > 0;
  CRL_DIST_POINTS_free(dps);
  STACK_OF(OPENSSL_STRING)* ocsp = X509_get1_ocsp(cert);
  const bool has_ocsp = ocsp != nullptr && sk_OPENSSL_STRING_num(ocsp) > 0;
  X509_email_free(ocsp);
  ERR_clear_error();
  if (has_dp || has_ocsp) return true;
  for (int i = 0; i < sk_X509_CRL_num(s.crls); ++i) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(sk_X509_CRL_value(s.crls, i)),
                      X509_get_issuer_name(cert)) == 0) {
      return true;
    }
  }
  return false;
}

// ---- The verify callback -----------------------------------------------------------------

int VerifyCallback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  State* s = StateOf(ctx);
  if (s == nullptr) return 0;
  const int err = X509_STORE_CTX_get_error(ctx);
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_CRL: {
      if (cert == nullptr) return 0;
      if (IsAnchor(*s, cert)) return 1;  // an anchor is trusted as configured
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
      if (chain != nullptr && depth + 1 < sk_X509_num(chain)) {
        Time revoked_at{};
        pkix::CrlReason reason = pkix::CrlReason::kUnspecified;
        switch (OcspStatus(*s, cert, sk_X509_value(chain, depth + 1), revoked_at, reason)) {
          case OcspVerdict::kGood:
            return 1;
          case OcspVerdict::kRevoked:
            s->ocsp_revoked = OcspRevocation{cert, revoked_at, reason};
            X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REVOKED);
            return 0;
          case OcspVerdict::kNone:
            break;
        }
      }
      if (!s->options.require_revocation && s->options.require_revocation_where_published &&
          PublishesRevocation(*s, cert)) {
        s->notes.push_back("no revocation status for " + SubjectOf(cert) +
                           ", which has revocation data published");
        return 0;
      }
      if (!s->options.require_revocation) {
        s->warnings.push_back("Không kiểm tra được trạng thái thu hồi của chứng thư số \"" +
                              SubjectOf(cert) + "\"");
        s->notes.push_back("no revocation status for " + SubjectOf(cert) + " (not required)");
        return 1;
      }
      return 0;
    }
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: {
      // A completed copy: check the original's signature with the issuer's (possibly
      // completed) key.
      const X509* original = OriginalOf(*s, cert);
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
      if (original == cert || chain == nullptr || depth + 1 >= sk_X509_num(chain)) return 0;
      EVP_PKEY* issuer_key = X509_get0_pubkey(sk_X509_value(chain, depth + 1));
      const bool good =
          issuer_key != nullptr && X509_verify(const_cast<X509*>(original), issuer_key) == 1;
      ERR_clear_error();
      if (good) {
        s->notes.push_back("DSA parameters inherited (RFC 5280 6.1.4 (f)) by " + SubjectOf(cert));
      }
      return good ? 1 : 0;
    }
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
      // X509_STRICT's rule; RFC 5280 6.1 and 6.3.3 (f) accept a CA without key usage.
      return 1;
    case X509_V_ERR_CERT_HAS_EXPIRED: {
      // RFC 5280 4.1.2.5: the validity period includes notAfter; OpenSSL counts the last
      // second as expired.
      const auto at = static_cast<time_t>(s->options.at.time_since_epoch().count());
      return cert != nullptr && ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), at) == 0 ? 1 : 0;
    }
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR: {
      // OpenSSL validates the path of an indirect CRL's issuer in a child context and refuses
      // to recurse from there. When the CRL that child needs is signed by a certificate of the
      // very path the child is validating (a cRLIssuer whose own status is on the indirect CRL
      // it signs, PKITS 4.14.30), that path is the one being validated right here and the
      // CRL's signature is still checked: no recursion is needed.
      X509* crl_issuer = X509_STORE_CTX_get0_current_issuer(ctx);
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
      if (X509_STORE_CTX_get0_parent_ctx(ctx) == nullptr || crl_issuer == nullptr ||
          chain == nullptr) {
        return 0;
      }
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        if (X509_cmp(sk_X509_value(chain, i), crl_issuer) == 0) {
          s->notes.push_back("CRL signed by " + SubjectOf(crl_issuer) +
                             " covers its own certificate");
          return 1;
        }
      }
      return 0;
    }
    default:
      return 0;
  }
}

// ---- X.509 strict: RFC 5280 section 4 MUSTs that OpenSSL's X509_STRICT leaves out --------

// ProfileError gives what is wrong with `cert`'s encoding per the RFC 5280 profile, or "".
std::string ProfileError(const X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn || BN_is_zero(bn.get()) || BN_is_negative(bn.get())) {
    return "serial number is not positive (RFC 5280 4.1.2.2)";
  }
  if (ASN1_STRING_length(serial) > 20) return "serial number longer than 20 octets (4.1.2.2)";
  X509* x = const_cast<X509*>(cert);
  auto critical = [&](int nid) -> int {  // -1 absent, 0 non-critical, 1 critical
    const int i = X509_get_ext_by_NID(x, nid, -1);
    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
  };
  if (critical(NID_policy_constraints) == 0) return "policyConstraints not critical (4.2.1.11)";
  const int nc = critical(NID_name_constraints);
  if (nc == 0) return "nameConstraints not critical (4.2.1.10)";
  if (nc == 1 && X509_check_ca(x) == 0) return "nameConstraints in an end-entity certificate";
  if (critical(NID_ext_key_usage) >= 0) {
    auto* eku =
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
    const int num = eku != nullptr ? sk_ASN1_OBJECT_num(eku) : 0;
    EXTENDED_KEY_USAGE_free(eku);
    if (num == 0) return "empty extKeyUsage (4.2.1.12)";
  }
  ERR_clear_error();
  return "";
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IEndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && IEquals(s.substr(s.size() - suffix.size()), suffix);
}

// IsDnsName checks RFC 5280 4.2.1.6's "preferred name syntax" (RFC 1034 3.5, RFC 1123 2.1):
// LDH labels of 1..63 octets, no hyphen at either end; `wildcard` allows a first label "*".
bool IsDnsName(std::string_view name, bool wildcard) {
  if (name.empty() || name.size() > 253) return false;
  if (wildcard && name.starts_with("*.")) name.remove_prefix(2);
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsMailbox(std::string_view addr) {
  const std::size_t at = addr.find('@');
  return at != std::string_view::npos && at > 0 &&
         addr.find('@', at + 1) == std::string_view::npos && IsDnsName(addr.substr(at + 1), false);
}

std::string_view Ia5(const ASN1_IA5STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// Names gives the dNSName (or rfc822Name) values of `names`.
std::vector<std::string> Names(const GENERAL_NAMES* names, int type) {
  std::vector<std::string> out;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == type) out.emplace_back(Ia5(gn->d.ia5));
  }
  return out;
}

// NameSyntaxError checks the syntax of the DNS names and mailboxes in `cert`'s
// subjectAltName and of the DNS names in its nameConstraints (no leading period: that is
// URI constraint syntax, not dNSName's).
std::string NameSyntaxError(const X509* cert) {
  std::string why;
  auto* san =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (const std::string& n : Names(san, GEN_DNS)) {
    if (!IsDnsName(n, true)) why = "malformed dNSName \"" + n + "\" in subjectAltName";
  }
  for (const std::string& n : Names(san, GEN_EMAIL)) {
    if (!IsMailbox(n)) why = "malformed rfc822Name \"" + n + "\" in subjectAltName";
  }
  GENERAL_NAMES_free(san);
  auto* nc = static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_name_constraints, nullptr, nullptr));
  for (STACK_OF(GENERAL_SUBTREE) * trees :
       {nc ? nc->permittedSubtrees : nullptr, nc ? nc->excludedSubtrees : nullptr}) {
    for (int i = 0; trees != nullptr && i < sk_GENERAL_SUBTREE_num(trees); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_SUBTREE_value(trees, i)->base;
      if (gn->type == GEN_DNS && !IsDnsName(Ia5(gn->d.ia5), false)) {
        why = "malformed dNSName constraint \"" + std::string(Ia5(gn->d.ia5)) + "\"";
      }
    }
  }
  NAME_CONSTRAINTS_free(nc);
  ERR_clear_error();
  return why;
}

// WildcardExcludedError: OpenSSL compares a wildcard SAN ("*.example.com") with an excluded
// dNSName subtree ("bar.example.com") as a literal string; a wildcard that can match an
// excluded name violates the constraint (x509-limbo nc-forbids-dnsname-wildcard-san,
// CVE-2025-61727).
std::string WildcardExcludedError(const std::vector<ossl::UniquePtr<X509>>& chain) {
  if (chain.empty()) return "";
  auto* san = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(chain[0].get(), NID_subject_alt_name, nullptr, nullptr));
  const std::vector<std::string> dns = Names(san, GEN_DNS);
  GENERAL_NAMES_free(san);
  std::string why;
  for (std::size_t i = 1; i < chain.size() && why.empty(); ++i) {
    auto* nc = static_cast<NAME_CONSTRAINTS*>(
        X509_get_ext_d2i(chain[i].get(), NID_name_constraints, nullptr, nullptr));
    STACK_OF(GENERAL_SUBTREE)* excluded = nc ? nc->excludedSubtrees : nullptr;
    for (int j = 0; excluded != nullptr && j < sk_GENERAL_SUBTREE_num(excluded); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_SUBTREE_value(excluded, j)->base;
      if (gn->type != GEN_DNS) continue;
      const std::string_view e = Ia5(gn->d.ia5);
      for (const std::string& n : dns) {
        if (!n.starts_with("*.")) continue;
        const std::string_view base = std::string_view(n).substr(2);
        // The wildcard matches one label L: L.base. Excluded if L.base is e (or under it).
        const bool one_label_above =
            IEndsWith(e, std::string(".") + std::string(base)) &&
            e.substr(0, e.size() - base.size() - 1).find('.') == std::string_view::npos;
        const bool inside = IEquals(base, e) || IEndsWith(base, std::string(".") + std::string(e));
        if (one_label_above || inside) {
          why = "wildcard \"" + n + "\" can match excluded subtree \"" + std::string(e) + "\"";
        }
      }
    }
    NAME_CONSTRAINTS_free(nc);
  }
  ERR_clear_error();
  return why;
}

// CrlFormError says how a CRL breaks RFC 5280 5.1's encoding rules in ways OpenSSL's parser
// lets through, "" when it does not: a version other than absent (v1) or v2, a v1 CRL with
// CRL or entry extensions, a present but empty revokedCertificates (5.1.2.6), an outer
// signatureAlgorithm other than tbsCertList.signature (5.1.1.2), an issuingDistributionPoint
// that does not parse or is an empty sequence (5.2.5). Such a CRL is not used (as BoringSSL).
std::string CrlFormError(ByteSpan der, X509_CRL* crl) {
  std::optional<pkix::Tlv> outer = pkix::ReadTlv(der);
  if (!outer || outer->tag != 0x30) return "not a DER SEQUENCE";
  ByteSpan body = der.subspan(outer->header_len, outer->len);
  std::optional<pkix::Tlv> tbs = pkix::ReadTlv(body);
  if (!tbs || tbs->tag != 0x30) return "no tbsCertList";
  ByteSpan tbs_body = body.subspan(tbs->header_len, tbs->len);
  ByteSpan after_tbs = body.subspan(tbs->header_len + tbs->len);
  // The tbsCertList's elements, in order.
  std::vector<std::pair<uint8_t, ByteSpan>> items;  // tag, whole TLV
  for (ByteSpan rest = tbs_body; !rest.empty();) {
    std::optional<pkix::Tlv> t = pkix::ReadTlv(rest);
    if (!t) return "tbsCertList does not parse";
    items.emplace_back(t->tag, rest.first(t->header_len + t->len));
    rest = rest.subspan(t->header_len + t->len);
  }
  std::size_t i = 0;
  bool v2 = false;
  if (i < items.size() && items[i].first == 0x02) {
    const ByteSpan v = items[i].second;
    if (v.size() != 3 || v[2] != 1) return "version is present but not v2";
    v2 = true;
    ++i;
  }
  if (i >= items.size() || items[i].first != 0x30) return "no signature AlgorithmIdentifier";
  const ByteSpan inner_alg = items[i].second;
  std::optional<pkix::Tlv> outer_alg = pkix::ReadTlv(after_tbs);
  if (!outer_alg || !std::equal(inner_alg.begin(), inner_alg.end(), after_tbs.begin(),
                                after_tbs.begin() + static_cast<std::ptrdiff_t>(std::min(
                                    after_tbs.size(), outer_alg->header_len + outer_alg->len))) ||
      inner_alg.size() != outer_alg->header_len + outer_alg->len) {
    return "signatureAlgorithm differs from tbsCertList.signature";
  }
  i += 2;  // signature, issuer
  if (i < items.size() && (items[i].first == 0x17 || items[i].first == 0x18)) ++i;  // thisUpdate
  if (i < items.size() && (items[i].first == 0x17 || items[i].first == 0x18)) ++i;  // nextUpdate
  if (i < items.size() && items[i].first == 0x30 && items[i].second.size() == 2) {
    return "revokedCertificates is present but empty";
  }
  if (!v2) {
    if (X509_CRL_get_ext_count(crl) > 0) return "a v1 CRL with extensions";
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
    for (int k = 0; k < sk_X509_REVOKED_num(revoked); ++k) {
      if (X509_REVOKED_get_ext_count(sk_X509_REVOKED_value(revoked, k)) > 0) return "a v1 CRL with entry extensions";
    }
  }
  int critical = -1;
  auto* idp = static_cast<ISSUING_DIST_POINT*>(X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &critical, nullptr));
  ERR_clear_error();
  if (idp == nullptr) return critical >= 0 || critical == -2 ? "its issuingDistributionPoint does not parse" : "";
  const bool empty = idp->distpoint == nullptr && !idp->onlyuser && !idp->onlyCA && idp->onlysomereasons == nullptr &&
                     !idp->indirectCRL && !idp->onlyattr;
  ISSUING_DIST_POINT_free(idp);
  return empty ? "its issuingDistributionPoint is an empty sequence" : "";
}

// CrlProfileError: a supplied CRL from `cert`'s issuer without the cRLNumber extension
// (RFC 5280 5.2.3: CRL issuers MUST include it) is not used in strict mode.
std::string CrlProfileError(STACK_OF(X509_CRL) * crls, const X509* cert) {
  for (int i = 0; i < sk_X509_CRL_num(crls); ++i) {
    X509_CRL* crl = sk_X509_CRL_value(crls, i);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) == 0 &&
        X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1) < 0) {
      return "CRL of " + pkix::NameUtf8(X509_CRL_get_issuer(crl)) +
             " has no cRLNumber (RFC 5280 5.2.3)";
    }
  }
  return "";
}

// ---- Verdicts ----------------------------------------------------------------------------

struct Mapping {
  Indication indication;
  SubIndication sub;
};

Mapping MapError(int err) {
  switch (err) {
    case X509_V_OK:
      return {Indication::kTotalPassed, SubIndication::kNone};
    case X509_V_ERR_CERT_REVOKED:
      return {Indication::kTotalFailed, SubIndication::kRevoked};
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return {Indication::kTotalFailed, SubIndication::kSigCryptoFailure};
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return {Indication::kIndeterminate, SubIndication::kOutOfBoundsNoPoe};
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return {Indication::kIndeterminate, SubIndication::kNotYetValid};
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_SUBJECT_ISSUER_MISMATCH:
    case X509_V_ERR_AKID_SKID_MISMATCH:
    case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
      return {Indication::kIndeterminate, SubIndication::kNoCertificateChainFound};
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
      return {Indication::kIndeterminate, SubIndication::kTryLater};
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
    case X509_V_ERR_NO_EXPLICIT_POLICY:
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return {Indication::kIndeterminate, SubIndication::kChainConstraintsFailure};
    default:
      return {Indication::kIndeterminate, SubIndication::kCertificateChainGeneralFailure};
  }
}

std::string Whose(const X509* cert, std::size_t index) {
  if (cert == nullptr) return "Chứng thư số";
  if (index == 0) return "Chứng thư số \"" + SubjectOf(cert) + "\"";
  return "Chứng thư số của tổ chức cấp \"" + SubjectOf(cert) + "\"";
}

std::string MessageVi(SubIndication sub, const X509* cert, std::size_t index,
                      const std::optional<Time>& revoked_at) {
  switch (sub) {
    case SubIndication::kNone:
      return "Chứng thư số hợp lệ";
    case SubIndication::kRevoked:
      return Whose(cert, index) + " đã bị thu hồi" +
             (revoked_at ? " từ " + FormatTimeVn(*revoked_at) : std::string());
    case SubIndication::kSigCryptoFailure:
      return "Chữ ký trên " + Whose(cert, index) + " không đúng";
    case SubIndication::kOutOfBoundsNoPoe:
    case SubIndication::kExpired:
      return Whose(cert, index) + " đã hết hạn tại thời điểm kiểm tra";
    case SubIndication::kNotYetValid:
      return Whose(cert, index) + " chưa có hiệu lực tại thời điểm kiểm tra";
    case SubIndication::kNoCertificateChainFound:
      return "Không xây dựng được chuỗi chứng thư số tới chứng thư gốc tin cậy";
    case SubIndication::kChainConstraintsFailure:
      return Whose(cert, index) +
             " không đáp ứng ràng buộc của chuỗi chứng thư (ràng buộc cơ bản, mục đích sử dụng "
             "khoá, ràng buộc tên hoặc chính sách)";
    case SubIndication::kTryLater:
      return "Không kiểm tra được trạng thái thu hồi của " + Whose(cert, index) +
             "; cần kiểm tra lại khi có danh sách thu hồi (CRL) hoặc phản hồi OCSP";
    default:
      return "Chuỗi chứng thư số của " + Whose(cert, index) + " không hợp lệ";
  }
}

// FindCrlRevocation looks for the CRL entry that revoked `cert`.
void FindCrlRevocation(STACK_OF(X509_CRL) * crls, X509* cert, PathResult& out) {
  for (int i = 0; i < sk_X509_CRL_num(crls); ++i) {
    X509_REVOKED* rev = nullptr;
    if (X509_CRL_get0_by_cert(sk_X509_CRL_value(crls, i), &rev, cert) != 1 || rev == nullptr) {
      continue;
    }
    Result<Time> t = pkix::ToTime(X509_REVOKED_get0_revocationDate(rev));
    if (!t.ok() || (out.revoked_at && *out.revoked_at <= *t)) continue;
    out.revoked_at = *t;
    ossl::UniquePtr<ASN1_ENUMERATED> reason(static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, nullptr, nullptr)));
    const long r = reason ? ASN1_ENUMERATED_get(reason.get()) : 0;
    out.revocation_reason = (r >= 0 && r <= 10 && r != 7) ? static_cast<pkix::CrlReason>(r)
                                                          : pkix::CrlReason::kUnspecified;
  }
  ERR_clear_error();
}

}  // namespace

std::string_view IndicationName(Indication indication) {
  switch (indication) {
    case Indication::kTotalPassed:
      return "TOTAL_PASSED";
    case Indication::kTotalFailed:
      return "TOTAL_FAILED";
    case Indication::kIndeterminate:
      return "INDETERMINATE";
  }
  return "INDETERMINATE";
}

std::string_view SubIndicationName(SubIndication sub) {
  switch (sub) {
    case SubIndication::kNone:
      return "";
    case SubIndication::kRevoked:
      return "REVOKED";
    case SubIndication::kExpired:
      return "EXPIRED";
    case SubIndication::kNotYetValid:
      return "NOT_YET_VALID";
    case SubIndication::kSigCryptoFailure:
      return "SIG_CRYPTO_FAILURE";
    case SubIndication::kNoCertificateChainFound:
      return "NO_CERTIFICATE_CHAIN_FOUND";
    case SubIndication::kChainConstraintsFailure:
      return "CHAIN_CONSTRAINTS_FAILURE";
    case SubIndication::kCertificateChainGeneralFailure:
      return "CERTIFICATE_CHAIN_GENERAL_FAILURE";
    case SubIndication::kTryLater:
      return "TRY_LATER";
    case SubIndication::kRevokedNoPoe:
      return "REVOKED_NO_POE";
    case SubIndication::kRevokedCaNoPoe:
      return "REVOKED_CA_NO_POE";
    case SubIndication::kOutOfBoundsNoPoe:
      return "OUT_OF_BOUNDS_NO_POE";
  }
  return "";
}

namespace {

// ValidateOnce is one X509_verify_cert run with `untrusted` as the pool.
Result<PathResult> ValidateOnce(const X509* cert, const PathOptions& options,
                                const std::vector<const X509*>& untrusted, ParsedRevocationCache& cache) {
  if (cert == nullptr) return InvalidArgumentError("no certificate to validate");

  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store) return ossl::Error("X509_STORE_new");
  int num_anchors = 0;
  for (const X509* a : options.anchors) {
    if (a == nullptr) continue;
    if (X509_STORE_add_cert(store.get(), const_cast<X509*>(a)) == 1) ++num_anchors;
  }
  ERR_clear_error();  // duplicates are not errors
  if (num_anchors == 0) return InvalidArgumentError("no trust anchor given");
  const auto at = static_cast<time_t>(options.at.time_since_epoch().count());

  CrlStack crls(sk_X509_CRL_new_null());
  std::vector<std::string> crl_notes;
  for (const Bytes& der : options.crls_der) {
    ParsedRevocationCache::ParsedCrl parsed = cache.Crl(der);
    if (!parsed.crl) return ossl::Error(Code::kInvalidArgument, "malformed CRL");
    if (!parsed.form_error.empty()) {
      crl_notes.push_back("a CRL of " + pkix::NameUtf8(X509_CRL_get_issuer(parsed.crl.get())) +
                          " is not used: " + parsed.form_error);
      continue;
    }
    if (sk_X509_CRL_push(crls.get(), parsed.crl.get()) <= 0) return ossl::Error("sk_X509_CRL_push");
    (void)parsed.crl.release();  // the stack owns the reference now
  }
  CertStack pool(sk_X509_new_null());
  State state{options, pool.get(), crls.get(), {}, {}, {}, std::move(crl_notes), {}};
  // RFC 5280 6.1.4 (f): DSA keys without parameters are replaced by completed copies.
  std::vector<const X509*> all = options.anchors;
  all.insert(all.end(), untrusted.begin(), untrusted.end());
  all.push_back(cert);
  std::erase(all, nullptr);
  auto use = [&](const X509* c) -> const X509* {
    if (!options.dsa_parameter_inheritance) return c;
    std::optional<Completed> done = CompleteDsaKey(c, all);
    if (!done) return c;
    state.notes.push_back("DSA parameters inherited (RFC 5280 6.1.4 (f)) by " + SubjectOf(c));
    state.completed.push_back(std::move(*done));
    return state.completed.back().copy.get();
  };
  state.completed.reserve(all.size());  // copies are referenced by address
  const X509* leaf = use(cert);
  for (const X509* u : untrusted) {
    if (u != nullptr) Push(pool.get(), use(u));
  }
  for (const Bytes& der : options.ocsp_responses_der) {
    ParsedRevocationCache::OcspResponse r = cache.Ocsp(der);
    if (r.malformed) return ossl::Error(Code::kInvalidArgument, "malformed OCSP response");
    if (r.basic) state.ocsps.push_back(std::move(r.basic));
  }
  ERR_clear_error();

  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx ||
      X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(leaf), pool.get()) != 1) {
    return ossl::Error("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, at);
  X509_VERIFY_PARAM_set_depth(param, static_cast<int>(options.max_path_len));
  unsigned long flags = X509_V_FLAG_POLICY_CHECK | X509_V_FLAG_CRL_CHECK |
                        X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_EXTENDED_CRL_SUPPORT |
                        X509_V_FLAG_USE_DELTAS |
                        // RFC 5280 6.1.1 (d): every configured anchor is a trust anchor, also
                        // one that is not self-signed (an intermediate trusted directly).
                        X509_V_FLAG_PARTIAL_CHAIN;
  if (options.initial_explicit_policy) flags |= X509_V_FLAG_EXPLICIT_POLICY;
  if (options.initial_policy_mapping_inhibit) flags |= X509_V_FLAG_INHIBIT_MAP;
  if (options.initial_any_policy_inhibit) flags |= X509_V_FLAG_INHIBIT_ANY;
  if (options.x509_strict) flags |= X509_V_FLAG_X509_STRICT;
  X509_VERIFY_PARAM_set_flags(param, flags);
  // OpenSSL reads an empty user policy set as "no policy acceptable"; RFC 5280's default is
  // {anyPolicy}.
  const std::vector<std::string> any{"2.5.29.32.0"};
  for (const std::string& oid :
       options.user_initial_policy_set.empty() ? any : options.user_initial_policy_set) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
    if (obj == nullptr) return ossl::Error(Code::kInvalidArgument, "bad policy OID " + oid);
    if (X509_VERIFY_PARAM_add0_policy(param, obj) != 1) {
      ASN1_OBJECT_free(obj);
      return ossl::Error("X509_VERIFY_PARAM_add0_policy");
    }
  }
  switch (options.purpose) {
    case KeyPurpose::kAny:
      break;
    case KeyPurpose::kServerAuth:
      X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
      break;
    case KeyPurpose::kClientAuth:
      X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT);
      break;
    case KeyPurpose::kTimeStamping:
      X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_TIMESTAMP_SIGN);
      break;
  }
  if (!options.expected_peer_name.empty()) {
    const std::string& name = options.expected_peer_name;
    ossl::UniquePtr<ASN1_OCTET_STRING> ip(a2i_IPADDRESS(name.c_str()));
    ERR_clear_error();
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (set != 1) return ossl::Error(Code::kInvalidArgument, "bad expected peer name");
  }
  X509_STORE_CTX_set0_crls(ctx.get(), crls.get());
  X509_STORE_CTX_set_app_data(ctx.get(), &state);
  X509_STORE_CTX_set_verify_cb(ctx.get(), VerifyCallback);

  const int ok = X509_verify_cert(ctx.get());
  // On success the context may still hold an error the callback overrode.
  int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
  if (ok != 1 && err == X509_V_OK) return ossl::Error("X509_verify_cert");
  ERR_clear_error();

  PathResult out;
  if (CertStack chain{X509_STORE_CTX_get1_chain(ctx.get())}) {
    for (int i = 0; i < sk_X509_num(chain.get()); ++i) {
      X509* c = const_cast<X509*>(OriginalOf(state, sk_X509_value(chain.get(), i)));
      if (X509_up_ref(c) == 1) out.chain.emplace_back(c);
    }
  }
  out.warnings = std::move(state.warnings);
  std::string notes;
  for (const std::string& n : state.notes) notes += "; " + n;

  X509* failing = nullptr;
  if (ok == 1) {
    // OpenSSL accepted the path; an OCSP "revoked" about a certificate whose CRL said good
    // still counts (the worst status wins).
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i + 1 < sk_X509_num(chain) && !state.ocsps.empty(); ++i) {
      Time t{};
      pkix::CrlReason reason = pkix::CrlReason::kUnspecified;
      if (OcspStatus(state, sk_X509_value(chain, i), sk_X509_value(chain, i + 1), t, reason) ==
          OcspVerdict::kRevoked) {
        state.ocsp_revoked = OcspRevocation{sk_X509_value(chain, i), t, reason};
        err = X509_V_ERR_CERT_REVOKED;
        out.failing_index = static_cast<std::size_t>(i);
        failing = sk_X509_value(chain, i);
        break;
      }
    }
    for (std::size_t i = 0; err == X509_V_OK && options.x509_strict && i < out.chain.size(); ++i) {
      std::string why = ProfileError(out.chain[i].get());
      if (why.empty() && i + 1 < out.chain.size()) {
        why = CrlProfileError(crls.get(), out.chain[i].get());
        if (!why.empty()) err = X509_V_ERR_UNABLE_TO_GET_CRL;  // no usable CRL: TRY_LATER
      }
      if (why.empty()) why = NameSyntaxError(out.chain[i].get());
      if (why.empty() && i == 0) why = WildcardExcludedError(out.chain);
      if (!why.empty()) {
        if (err == X509_V_OK) err = X509_V_ERR_INVALID_EXTENSION;
        out.failing_index = i;
        failing = out.chain[i].get();
        notes += "; " + why;
      }
    }
  } else {
    out.failing_index =
        static_cast<std::size_t>(std::max(0, X509_STORE_CTX_get_error_depth(ctx.get())));
    failing = X509_STORE_CTX_get_current_cert(ctx.get());
  }
  // OpenSSL checks revocation before validity periods; a certificate out of its validity
  // period at the validation time is the more telling verdict than missing revocation data.
  if (MapError(err).sub == SubIndication::kTryLater) {
    for (std::size_t i = 0; i < out.chain.size(); ++i) {
      X509* c = out.chain[i].get();
      const int expired = X509_cmp_time(X509_get0_notAfter(c), const_cast<time_t*>(&at)) < 0;
      const int early = X509_cmp_time(X509_get0_notBefore(c), const_cast<time_t*>(&at)) > 0;
      if (expired || early) {
        notes += std::string("; ") + X509_verify_cert_error_string(err) + " at depth " +
                 std::to_string(out.failing_index);
        err = expired ? X509_V_ERR_CERT_HAS_EXPIRED : X509_V_ERR_CERT_NOT_YET_VALID;
        out.failing_index = i;
        failing = c;
        break;
      }
    }
  }
  out.openssl_error = err;
  const Mapping m = MapError(err);
  out.indication = m.indication;
  out.sub = m.sub;
  if (m.sub == SubIndication::kRevoked) {
    if (state.ocsp_revoked) {
      out.revoked_at = state.ocsp_revoked->at;
      out.revocation_reason = state.ocsp_revoked->reason;
    } else if (failing != nullptr) {
      FindCrlRevocation(crls.get(), failing, out);
    }
  }
  out.message_vi = MessageVi(m.sub, failing, out.failing_index, out.revoked_at);
  if (err == X509_V_OK) {
    out.diagnostic = "path valid (" + std::to_string(out.chain.size()) + " certificates)" + notes;
  } else {
    out.diagnostic = std::string(X509_verify_cert_error_string(err)) + " at depth " +
                     std::to_string(out.failing_index) +
                     (failing ? " (" + SubjectOf(failing) + ")" : std::string()) + notes;
  }
  return out;
}

}  // namespace

namespace {

// KnownOcspExtension: the OCSP extensions kyso knows the meaning of (and may ignore).
bool KnownOcspExtension(const X509_EXTENSION* ext) {
  static const char* const kKnown[] = {
      "1.3.6.1.5.5.7.48.1.2",     // nonce
      "1.3.6.1.5.5.7.48.1.3",     // CRL references
      "1.3.6.1.5.5.7.48.1.6",     // archive cutoff
      "1.3.6.1.5.5.7.48.1.9",     // extended revoke
      "1.3.6.1.4.1.11129.2.4.5",  // CT: signed certificate timestamp list
  };
  char oid[80];
  if (OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(const_cast<X509_EXTENSION*>(ext)), 1) <= 0) {
    return false;
  }
  return std::any_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return std::strcmp(k, oid) == 0; });
}

template <typename GetCount, typename GetExt>
bool HasUnknownCriticalExtension(GetCount count, GetExt get) {
  for (int i = 0; i < count(); ++i) {
    const X509_EXTENSION* ext = get(i);
    if (ext != nullptr && X509_EXTENSION_get_critical(ext) == 1 && !KnownOcspExtension(ext)) return true;
  }
  return false;
}

// ValidAt tells whether `cert`'s validity period contains `at`.
bool ValidAt(const X509* cert, time_t at) {
  return X509_cmp_time(X509_get0_notBefore(cert), &at) <= 0 && X509_cmp_time(X509_get0_notAfter(cert), &at) >= 0;
}

}  // namespace

OcspCheck CheckOcspResponse(const OCSP_BASICRESP* basic_const, const X509* cert, const X509* issuer,
                            const std::vector<const X509*>& pool, Time at,
                            std::optional<std::chrono::seconds> max_age) {
  OcspCheck out;
  auto unknown = [&out](std::string why) {
    out.status = OcspCertStatus::kUnknown;
    out.problem = std::move(why);
    ERR_clear_error();
    return out;
  };
  if (basic_const == nullptr || cert == nullptr || issuer == nullptr) return unknown("nothing to check");
  // OpenSSL 3.0's accessors take non-const pointers; none of the calls below modifies the
  // response (its signature is checked over a fresh encoding).
  OCSP_BASICRESP* basic = const_cast<OCSP_BASICRESP*>(basic_const);
  const time_t t = static_cast<time_t>(at.time_since_epoch().count());

  // The signature, by the signer the ResponderID names.
  CertStack extra(sk_X509_new_null());
  Push(extra.get(), issuer);
  for (const X509* c : pool) Push(extra.get(), c);
  if (OCSP_basic_verify(basic, extra.get(), nullptr, OCSP_NOVERIFY) != 1) {
    return unknown("not signed by a certificate it names, or the signature does not verify");
  }
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic, &signer, extra.get()) != 1 || signer == nullptr) {
    return unknown("its signer is not found");
  }
  // Authorised (RFC 6960 4.2.2.2): the issuer itself, or a responder the issuer delegated to.
  const bool by_issuer = X509_cmp(signer, issuer) == 0 ||
                         (X509_NAME_cmp(X509_get_subject_name(signer), X509_get_subject_name(issuer)) == 0 &&
                          EVP_PKEY_eq(X509_get0_pubkey(signer), X509_get0_pubkey(issuer)) == 1);
  if (!by_issuer) {
    if (X509_check_issued(const_cast<X509*>(issuer), signer) != X509_V_OK ||
        X509_verify(signer, X509_get0_pubkey(issuer)) != 1) {
      return unknown("signed by a responder the certificate's issuer did not certify");
    }
    if ((X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) == 0 ||
        (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) == 0) {
      return unknown("signed by a delegated responder without id-kp-OCSPSigning");
    }
    if (!ValidAt(signer, t)) return unknown("signed by a delegated responder outside its validity period");
  }
  if (HasUnknownCriticalExtension([&] { return OCSP_BASICRESP_get_ext_count(basic); },
                                  [&](int i) { return OCSP_BASICRESP_get_ext(basic, i); })) {
    return unknown("an unknown critical extension in ResponseData");
  }
  const ASN1_GENERALIZEDTIME* produced = OCSP_resp_get0_produced_at(basic);
  if (produced == nullptr || ASN1_TIME_compare(produced, X509_get0_notBefore(cert)) < 0 ||
      ASN1_TIME_compare(produced, X509_get0_notAfter(cert)) > 0) {
    return unknown("producedAt is outside the certificate's validity period");
  }

  bool found = false, any_unknown = false;
  for (int i = 0; i < OCSP_resp_count(basic); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic, i);
    const OCSP_CERTID* id = OCSP_SINGLERESP_get0_id(single);
    ASN1_OBJECT* md_oid = nullptr;
    if (id == nullptr || OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr, const_cast<OCSP_CERTID*>(id)) != 1) {
      continue;
    }
    const EVP_MD* md = EVP_get_digestbyobj(md_oid);
    if (md == nullptr) continue;
    ossl::UniquePtr<OCSP_CERTID> want(OCSP_cert_to_id(md, cert, issuer));
    if (!want || OCSP_id_cmp(want.get(), id) != 0) continue;
    found = true;
    if (HasUnknownCriticalExtension([&] { return OCSP_SINGLERESP_get_ext_count(single); },
                                    [&](int k) { return OCSP_SINGLERESP_get_ext(single, k); })) {
      return unknown("an unknown critical extension in a SingleResponse");
    }
    int reason = -1;
    ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
    const int status = OCSP_single_get0_status(single, &reason, &revoked, &this_update, &next_update);
    const time_t skewed = t + 300;
    if (this_update == nullptr || X509_cmp_time(this_update, const_cast<time_t*>(&skewed)) > 0) {
      return unknown("thisUpdate is after the validation time");
    }
    if (next_update != nullptr && X509_cmp_time(next_update, const_cast<time_t*>(&t)) <= 0) {
      return unknown("nextUpdate is before the validation time");
    }
    if (max_age || next_update == nullptr) {
      const time_t oldest = t - static_cast<time_t>(max_age.value_or(std::chrono::hours(1)).count());
      if (X509_cmp_time(this_update, const_cast<time_t*>(&oldest)) < 0) return unknown("thisUpdate is too old");
    }
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
      out.status = OcspCertStatus::kRevoked;
      if (revoked != nullptr) {
        if (Result<Time> when = pkix::ToTime(revoked); when.ok()) out.revoked_at = *when;
      }
      if (reason >= 0 && reason <= 10 && reason != 7) out.reason = static_cast<pkix::CrlReason>(reason);
      ERR_clear_error();
      return out;
    }
    if (status != V_OCSP_CERTSTATUS_GOOD) any_unknown = true;
  }
  ERR_clear_error();
  if (!found) return unknown("no answer about the certificate");
  if (any_unknown) return unknown("the responder does not know the certificate");
  out.status = OcspCertStatus::kGood;
  return out;
}

ParsedRevocationCache::ParsedCrl ParsedRevocationCache::Crl(ByteSpan der) {
  const std::string_view key(reinterpret_cast<const char*>(der.data()), der.size());
  auto shared_ref = [](const CachedCrl& c) {
    ParsedCrl out;
    if (c.crl && X509_CRL_up_ref(c.crl.get()) == 1) out.crl.reset(c.crl.get());
    out.form_error = c.form_error;
    return out;
  };
  {
    std::lock_guard lock(mu_);
    if (auto it = crls_.find(key); it != crls_.end()) return shared_ref(it->second);
  }
  // Parsed and judged outside the lock, before any other thread can see it: two threads may
  // parse the same CRL once each; the first kept wins.
  CachedCrl fresh;
  const unsigned char* p = der.data();
  if (X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()))) {
    fresh.crl.reset(crl, X509_CRL_free);
    fresh.form_error = CrlFormError(der, crl);
  }
  ERR_clear_error();
  std::lock_guard lock(mu_);
  if (bytes_ + 2 * der.size() <= kMaxBytes && crls_.try_emplace(std::string(key), fresh).second) {
    bytes_ += 2 * der.size();
  }
  return shared_ref(fresh);
}

ParsedRevocationCache::OcspResponse ParsedRevocationCache::Ocsp(ByteSpan der) {
  const std::string_view key(reinterpret_cast<const char*>(der.data()), der.size());
  {
    std::lock_guard lock(mu_);
    if (auto it = ocsps_.find(key); it != ocsps_.end()) return it->second;
  }
  OcspResponse out;
  const unsigned char* p = der.data();
  ossl::UniquePtr<OCSP_RESPONSE> r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!r) {
    out.malformed = true;
  } else if (OCSP_response_status(r.get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    if (OCSP_BASICRESP* basic = OCSP_response_get1_basic(r.get())) out.basic.reset(basic, OCSP_BASICRESP_free);
  }
  ERR_clear_error();
  std::lock_guard lock(mu_);
  if (bytes_ + 2 * der.size() <= kMaxBytes && ocsps_.try_emplace(std::string(key), out).second) {
    bytes_ += 2 * der.size();
  }
  return out;
}

Result<PathResult> ValidatePath(const X509* cert, const PathOptions& options) {
  // Without a caller's cache, the attempts below still share one parse.
  ParsedRevocationCache local;
  ParsedRevocationCache& cache = options.revocation_cache != nullptr ? *options.revocation_cache : local;
  KYSO_ASSIGN_OR_RETURN(PathResult first, ValidateOnce(cert, options, options.untrusted, cache));
  // Revoked and TRY_LATER mean the path itself held; those are not retried.
  if (first.passed() || options.untrusted.empty() || first.sub == SubIndication::kRevoked ||
      first.sub == SubIndication::kTryLater) {
    return first;
  }
  // No certificate at all names an anchor as its issuer (and none is an anchor): no other path
  // can reach one, so the retries below would only repeat the failure (documents from another
  // trust domain, checked against the wrong roots, are the common case).
  if (first.sub == SubIndication::kNoCertificateChainFound) {
    bool reachable = false;
    std::vector<const X509*> all = options.untrusted;
    all.push_back(cert);
    for (const X509* c : all) {
      for (const X509* a : options.anchors) {
        if (c != nullptr && a != nullptr &&
            (X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(a)) == 0 || X509_cmp(c, a) == 0)) {
          reachable = true;
        }
      }
    }
    if (!reachable) return first;
  }
  // OpenSSL builds one path, taking the first issuer that matches, and does not backtrack.
  // When that path fails, try again without each pooled certificate of the failed path
  // (breadth first, at most kMaxPathAttempts runs): another path through the pool may be
  // valid (cross-certificates, a pooled copy of an anchor, x509-limbo's alternate chains).
  // The first failure is the one reported when none passes.
  constexpr int kMaxPathAttempts = 8;
  struct Attempt {
    std::vector<const X509*> pool;
    std::vector<const X509*> failed_path;  // pooled certificates of the path that failed
  };
  auto pooled_of = [&](const PathResult& r, const std::vector<const X509*>& pool) {
    std::vector<const X509*> out;
    for (const auto& c : r.chain) {
      for (const X509* u : pool) {
        if (u != nullptr && X509_cmp(u, c.get()) == 0) out.push_back(u);
      }
    }
    return out;
  };
  std::vector<Attempt> queue{{options.untrusted, pooled_of(first, options.untrusted)}};
  int attempts = 1;
  for (std::size_t q = 0; q < queue.size() && attempts < kMaxPathAttempts; ++q) {
    for (const X509* drop : queue[q].failed_path) {
      if (attempts >= kMaxPathAttempts) break;
      std::vector<const X509*> pool = queue[q].pool;
      std::erase(pool, drop);
      ++attempts;
      KYSO_ASSIGN_OR_RETURN(PathResult r, ValidateOnce(cert, options, pool, cache));
      if (r.passed()) {
        r.diagnostic += "; found after " + std::to_string(attempts) + " path attempts";
        return r;
      }
      queue.push_back({pool, pooled_of(r, pool)});
    }
  }
  return first;
}

}  // namespace kyso::verify
