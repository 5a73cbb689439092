#pragma once

#include <chrono>
#include <string>
#include <vector>
#include <string_view>

#include "kyso/base/status.h"

namespace kyso {

// KeySpec names a key type kyso generates on a token: "rsa-2048", "rsa-3072", "rsa-4096",
// "ec-p256", "ec-p384".
enum class KeySpec { kRsa2048, kRsa3072, kRsa4096, kEcP256, kEcP384 };
Result<KeySpec> ParseKeySpec(std::string_view name);
std::string_view KeySpecName(KeySpec spec);

// Config is a deployment's settings, read from DIR/kyso.toml. Every field has a safe default,
// so an empty file is a valid configuration.
struct Config {
  struct Ca {
    // Base of the OCSP, CRL and caIssuers URLs written into certificates.
    std::string public_url = "http://127.0.0.1:8080";
    // Certificate policy OID put in subscriber certificates. The default is a placeholder in
    // Vietnam's arc; set the provider's registered policy OID in production.
    std::string policy_oid = "2.16.704.1.99.1.1";
    std::string country = "VN";
    std::string province = "Đồng Nai";
    std::string organization = "Ban Cơ yếu Chính phủ";
    std::string root_name = "Kyso Root CA";
    std::string issuing_name = "Kyso Issuing CA";
    int root_validity_years = 20;     // R4.3: at most 20
    int issuing_validity_years = 10;  // R4.3
    int subscriber_max_years = 5;     // R4.1: at most 5
    KeySpec root_key = KeySpec::kRsa4096;
    KeySpec issuing_key = KeySpec::kRsa2048;
    KeySpec ocsp_key = KeySpec::kRsa2048;
    bool rsa_pss = false;  // R7.2: PKCS#1 v1.5 by default, RSASSA-PSS configurable
    std::chrono::hours crl_interval{24};
    std::chrono::hours root_crl_interval{24 * 180};
    std::chrono::hours ocsp_validity{24};
    int ocsp_signer_validity_days = 90;
    // The timestamp authority (RFC 3161, /tsa): its key on the CA token, and the TSA policy
    // OID put in every TSTInfo (placeholder in Vietnam's arc; set the provider's own).
    KeySpec tsa_key = KeySpec::kRsa2048;
    std::string tsa_policy_oid = "2.16.704.1.99.2.1";
  } ca;
  // Ra holds the registration workflow's configurable values (RULES.md, "configurable").
  struct Ra {
    int renewal_min_days_left = 30;  // R10.2 (the older national rule was 60)
    int change_min_days_left = 30;   // R11.1
    int renewal_max_years = 3;       // R4.2
    // R9.5: official e-mail domains, used for agencies without their own email_domain.
    std::vector<std::string> official_domains = {"dongnai.gov.vn"};
    // R14.1, R12.3, R13.2: working days allowed per request kind.
    int days_new = 3;
    int days_renew = 3;
    int days_change = 3;
    int days_revoke = 3;
    int days_recover = 1;   // R13.2
    int days_handover = 5;  // R12.3
    int days_lost = 5;
    // Official days off and make-up working Saturdays (ISO dates). `kyso init` writes the
    // built-in lists for 2026 and 2027; both empty means those built-in lists.
    std::vector<std::string> holidays;
    std::vector<std::string> makeup_working_days;
  } ra;
  // Sign holds what the signing software reads from a deployment (`kyso sign ... --home`).
  struct Sign {
    // The TSA for levels B-T and above; empty means the deployment's own: ca.public_url + "/tsa".
    std::string tsa_url;
    // R6.1: a document carrying one of these words (whole words, case-sensitive) on its first
    // page, in its title/subject/keywords or, for XML, in its text is refused: state secrets
    // are not signed with this signature. The defaults are the secret grades of the Law on
    // Protection of State Secrets.
    std::vector<std::string> secret_markers = {"TUYỆT MẬT", "TỐI MẬT", "MẬT"};
  } sign;
  struct Token {
    std::string module = "/usr/lib/softhsm/libsofthsm2.so";
    std::string label = "kyso-ca";
  } token;
  struct Server {
    std::string listen = "127.0.0.1:8080";
    int threads = 0;  // 0: one per core
  } server;
};

// ParseConfig reads TOML text. Unknown keys and out-of-range values are errors, so a typo is
// caught instead of silently ignored.
Result<Config> ParseConfig(std::string_view toml_text);

// FormatConfig writes the config back as TOML, every key present with a comment.
std::string FormatConfig(const Config& config);

}  // namespace kyso
