#include "kyso/base/config.h"

#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace kyso {

namespace {

constexpr std::pair<KeySpec, std::string_view> kKeySpecs[] = {
    {KeySpec::kRsa2048, "rsa-2048"}, {KeySpec::kRsa3072, "rsa-3072"},
    {KeySpec::kRsa4096, "rsa-4096"}, {KeySpec::kEcP256, "ec-p256"},
    {KeySpec::kEcP384, "ec-p384"},
};

// Reader walks one TOML table, remembering which keys it read so the rest can be reported.
class Reader {
 public:
  Reader(const toml::table* table, std::string section) : table_(table), section_(section) {}

  template <typename T>
  Status Get(std::string_view key, T& out) {
    seen_.insert(std::string(key));
    if (table_ == nullptr) return OkStatus();
    const toml::node* node = table_->get(key);
    if (node == nullptr) return OkStatus();
    auto v = node->value<T>();
    if (!v) return InvalidArgumentError(Where(key) + " has the wrong type");
    out = *v;
    return OkStatus();
  }

  Status GetInt(std::string_view key, int& out, int min, int max) {
    int64_t v = out;
    KYSO_RETURN_IF_ERROR(Get(key, v));
    if (v < min || v > max) {
      return InvalidArgumentError(Where(key) + " must be between " + std::to_string(min) +
                                  " and " + std::to_string(max));
    }
    out = static_cast<int>(v);
    return OkStatus();
  }

  Status GetHours(std::string_view key, std::chrono::hours& out, int min, int max) {
    int v = static_cast<int>(out.count());
    KYSO_RETURN_IF_ERROR(GetInt(key, v, min, max));
    out = std::chrono::hours(v);
    return OkStatus();
  }

  Status GetStrings(std::string_view key, std::vector<std::string>& out) {
    seen_.insert(std::string(key));
    if (table_ == nullptr) return OkStatus();
    const toml::node* node = table_->get(key);
    if (node == nullptr) return OkStatus();
    const toml::array* arr = node->as_array();
    if (arr == nullptr) return InvalidArgumentError(Where(key) + " must be a list of strings");
    std::vector<std::string> values;
    for (const toml::node& item : *arr) {
      auto v = item.value<std::string>();
      if (!v) return InvalidArgumentError(Where(key) + " must be a list of strings");
      values.push_back(*v);
    }
    out = std::move(values);
    return OkStatus();
  }

  Status GetKey(std::string_view key, KeySpec& out) {
    std::string name(KeySpecName(out));
    KYSO_RETURN_IF_ERROR(Get(key, name));
    KYSO_ASSIGN_OR_RETURN(out, ParseKeySpec(name), Where(key));
    return OkStatus();
  }

  Status CheckNoUnknown() const {
    if (table_ == nullptr) return OkStatus();
    for (const auto& [k, v] : *table_) {
      if (!seen_.contains(std::string(k.str()))) {
        return InvalidArgumentError("unknown setting " + Where(k.str()));
      }
    }
    return OkStatus();
  }

 private:
  std::string Where(std::string_view key) const { return section_ + "." + std::string(key); }
  const toml::table* table_;
  std::string section_;
  std::set<std::string> seen_;
};

Status ReadCa(const toml::table* t, Config::Ca& ca) {
  Reader r(t, "ca");
  KYSO_RETURN_IF_ERROR(r.Get("public_url", ca.public_url));
  KYSO_RETURN_IF_ERROR(r.Get("policy_oid", ca.policy_oid));
  KYSO_RETURN_IF_ERROR(r.Get("country", ca.country));
  KYSO_RETURN_IF_ERROR(r.Get("province", ca.province));
  KYSO_RETURN_IF_ERROR(r.Get("organization", ca.organization));
  KYSO_RETURN_IF_ERROR(r.Get("root_name", ca.root_name));
  KYSO_RETURN_IF_ERROR(r.Get("issuing_name", ca.issuing_name));
  KYSO_RETURN_IF_ERROR(r.GetInt("root_validity_years", ca.root_validity_years, 1, 20));
  KYSO_RETURN_IF_ERROR(r.GetInt("issuing_validity_years", ca.issuing_validity_years, 1, 20));
  KYSO_RETURN_IF_ERROR(r.GetInt("subscriber_max_years", ca.subscriber_max_years, 1, 5));
  KYSO_RETURN_IF_ERROR(r.GetKey("root_key", ca.root_key));
  KYSO_RETURN_IF_ERROR(r.GetKey("issuing_key", ca.issuing_key));
  KYSO_RETURN_IF_ERROR(r.GetKey("ocsp_key", ca.ocsp_key));
  KYSO_RETURN_IF_ERROR(r.Get("rsa_pss", ca.rsa_pss));
  KYSO_RETURN_IF_ERROR(r.GetHours("crl_interval_hours", ca.crl_interval, 1, 24 * 31));
  KYSO_RETURN_IF_ERROR(r.GetHours("root_crl_interval_hours", ca.root_crl_interval, 1, 24 * 366));
  KYSO_RETURN_IF_ERROR(r.GetHours("ocsp_validity_hours", ca.ocsp_validity, 1, 24 * 7));
  KYSO_RETURN_IF_ERROR(r.GetInt("ocsp_signer_validity_days", ca.ocsp_signer_validity_days, 1, 366));
  KYSO_RETURN_IF_ERROR(r.GetKey("tsa_key", ca.tsa_key));
  KYSO_RETURN_IF_ERROR(r.Get("tsa_policy_oid", ca.tsa_policy_oid));
  if (ca.issuing_validity_years > ca.root_validity_years) {
    return InvalidArgumentError("ca.issuing_validity_years exceeds ca.root_validity_years (R4.3)");
  }
  if (ca.public_url.empty() || ca.public_url.back() == '/') {
    return InvalidArgumentError("ca.public_url must be set and must not end with '/'");
  }
  return r.CheckNoUnknown();
}

Status ReadRa(const toml::table* t, Config::Ra& ra) {
  Reader r(t, "ra");
  KYSO_RETURN_IF_ERROR(r.GetInt("renewal_min_days_left", ra.renewal_min_days_left, 0, 366));
  KYSO_RETURN_IF_ERROR(r.GetInt("change_min_days_left", ra.change_min_days_left, 0, 366));
  KYSO_RETURN_IF_ERROR(r.GetInt("renewal_max_years", ra.renewal_max_years, 1, 3));  // R4.2
  KYSO_RETURN_IF_ERROR(r.GetStrings("official_domains", ra.official_domains));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_new", ra.days_new, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_renew", ra.days_renew, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_change", ra.days_change, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_revoke", ra.days_revoke, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_recover", ra.days_recover, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_handover", ra.days_handover, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetInt("days_lost", ra.days_lost, 0, 60));
  KYSO_RETURN_IF_ERROR(r.GetStrings("holidays", ra.holidays));
  KYSO_RETURN_IF_ERROR(r.GetStrings("makeup_working_days", ra.makeup_working_days));
  return r.CheckNoUnknown();
}

}  // namespace

Result<KeySpec> ParseKeySpec(std::string_view name) {
  for (const auto& [spec, n] : kKeySpecs) {
    if (n == name) return spec;
  }
  return InvalidArgumentError("unknown key type '" + std::string(name) +
                              "' (rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384)");
}

std::string_view KeySpecName(KeySpec spec) {
  for (const auto& [s, n] : kKeySpecs) {
    if (s == spec) return n;
  }
  return "?";
}

Result<Config> ParseConfig(std::string_view toml_text) {
  // Debian's toml++ is built with exceptions; they stop here (STYLE.md section 4).
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "config: " << e.description() << " at line " << e.source().begin.line;
    return InvalidArgumentError(os.str());
  }
  Config config;
  for (const auto& [k, v] : root) {
    if (k != "ca" && k != "ra" && k != "token" && k != "server" && k != "sign") {
      return InvalidArgumentError("config: unknown section [" + std::string(k.str()) + "]");
    }
  }
  KYSO_RETURN_IF_ERROR(ReadCa(root["ca"].as_table(), config.ca), "config");
  KYSO_RETURN_IF_ERROR(ReadRa(root["ra"].as_table(), config.ra), "config");
  Reader tok(root["token"].as_table(), "token");
  KYSO_RETURN_IF_ERROR(tok.Get("module", config.token.module), "config");
  KYSO_RETURN_IF_ERROR(tok.Get("label", config.token.label), "config");
  KYSO_RETURN_IF_ERROR(tok.CheckNoUnknown(), "config");
  Reader sign(root["sign"].as_table(), "sign");
  KYSO_RETURN_IF_ERROR(sign.Get("tsa_url", config.sign.tsa_url), "config");
  KYSO_RETURN_IF_ERROR(sign.GetStrings("secret_markers", config.sign.secret_markers), "config");
  KYSO_RETURN_IF_ERROR(sign.CheckNoUnknown(), "config");
  for (const std::string& m : config.sign.secret_markers) {
    if (m.empty() || m.size() > 64) {
      return InvalidArgumentError("config: sign.secret_markers: each marker is 1..64 bytes");
    }
  }
  Reader srv(root["server"].as_table(), "server");
  KYSO_RETURN_IF_ERROR(srv.Get("listen", config.server.listen), "config");
  KYSO_RETURN_IF_ERROR(srv.GetInt("threads", config.server.threads, 0, 256), "config");
  KYSO_RETURN_IF_ERROR(srv.CheckNoUnknown(), "config");
  return config;
}

std::string FormatConfig(const Config& c) {
  auto q = [](const std::string& s) {
    std::ostringstream os;
    os << toml::value<std::string>(s);
    return os.str();
  };
  auto Strings = [&q](const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + q(v[i]);
    return out + "]";
  };
  std::ostringstream os;
  os << "# kyso deployment settings. Every key is optional; shown here with its value.\n\n"
     << "[ca]\n"
     << "# Base of the OCSP, CRL and caIssuers URLs in certificates (no trailing '/').\n"
     << "public_url = " << q(c.ca.public_url) << "\n"
     << "# Certificate policy OID (placeholder by default: set the provider's OID).\n"
     << "policy_oid = " << q(c.ca.policy_oid) << "\n"
     << "country = " << q(c.ca.country) << "\n"
     << "province = " << q(c.ca.province) << "\n"
     << "organization = " << q(c.ca.organization) << "\n"
     << "root_name = " << q(c.ca.root_name) << "\n"
     << "issuing_name = " << q(c.ca.issuing_name) << "\n"
     << "root_validity_years = " << c.ca.root_validity_years << "      # R4.3: at most 20\n"
     << "issuing_validity_years = " << c.ca.issuing_validity_years << "\n"
     << "subscriber_max_years = " << c.ca.subscriber_max_years << "      # R4.1: at most 5\n"
     << "root_key = " << q(std::string(KeySpecName(c.ca.root_key))) << "\n"
     << "issuing_key = " << q(std::string(KeySpecName(c.ca.issuing_key))) << "\n"
     << "ocsp_key = " << q(std::string(KeySpecName(c.ca.ocsp_key))) << "\n"
     << "rsa_pss = " << (c.ca.rsa_pss ? "true" : "false") << "      # R7.2\n"
     << "crl_interval_hours = " << c.ca.crl_interval.count() << "\n"
     << "root_crl_interval_hours = " << c.ca.root_crl_interval.count() << "\n"
     << "ocsp_validity_hours = " << c.ca.ocsp_validity.count() << "\n"
     << "ocsp_signer_validity_days = " << c.ca.ocsp_signer_validity_days << "\n"
     << "# Timestamp authority (RFC 3161): key type and TSA policy OID (placeholder by default).\n"
     << "tsa_key = " << q(std::string(KeySpecName(c.ca.tsa_key))) << "\n"
     << "tsa_policy_oid = " << q(c.ca.tsa_policy_oid) << "\n\n"
     << "[ra]\n"
     << "renewal_min_days_left = " << c.ra.renewal_min_days_left << "      # R10.2\n"
     << "change_min_days_left = " << c.ra.change_min_days_left << "      # R11.1\n"
     << "renewal_max_years = " << c.ra.renewal_max_years << "      # R4.2: at most 3\n"
     << "# R9.5: official e-mail domains for agencies without an email_domain of their own.\n"
     << "official_domains = " << Strings(c.ra.official_domains) << "\n"
     << "# R14.1: working days allowed per request kind (R13.2 recover, R12.3 handover).\n"
     << "days_new = " << c.ra.days_new << "\n"
     << "days_renew = " << c.ra.days_renew << "\n"
     << "days_change = " << c.ra.days_change << "\n"
     << "days_revoke = " << c.ra.days_revoke << "\n"
     << "days_recover = " << c.ra.days_recover << "\n"
     << "days_handover = " << c.ra.days_handover << "\n"
     << "days_lost = " << c.ra.days_lost << "\n"
     << "# R14.1: official days off and make-up working Saturdays, \"YYYY-MM-DD\". Add each\n"
     << "# year's days as the government announces them (lunar Tết and Hùng Kings included).\n"
     << "holidays = " << Strings(c.ra.holidays) << "\n"
     << "makeup_working_days = " << Strings(c.ra.makeup_working_days) << "\n\n"
     << "[sign]\n"
     << "# TSA for signature levels B-T and above; empty: this deployment's own, public_url/tsa.\n"
     << "tsa_url = " << q(c.sign.tsa_url) << "\n"
     << "# R6.1: documents carrying one of these words are refused (state secrets).\n"
     << "secret_markers = " << Strings(c.sign.secret_markers) << "\n\n"
     << "[token]\n"
     << "# PKCS#11 module; the embedded default is SoftHSM2 configured by softhsm2.conf here.\n"
     << "module = " << q(c.token.module) << "\n"
     << "label = " << q(c.token.label) << "\n\n"
     << "[server]\n"
     << "listen = " << q(c.server.listen) << "\n"
     << "threads = " << c.server.threads << "      # 0: one per core\n";
  return os.str();
}

}  // namespace kyso
