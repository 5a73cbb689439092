#include "kyso/ra/workflow.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "kyso/base/parallel.h"
#include "kyso/base/progress.h"
#include "kyso/ca/reason.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"
#include "kyso/ra/devices.h"
#include "kyso/ra/forms/forms.h"

namespace kyso::ra {

using json = nlohmann::json;

namespace {

constexpr std::string_view kProviderCode = "G11.07.05";   // R8.1
constexpr std::string_view kAuthorityCode = "H19.5";      // R8.2

struct KindInfo {
  RequestKind kind;
  std::string_view name;
};
constexpr KindInfo kKinds[] = {
    {RequestKind::kNewIndividual, "new-individual"}, {RequestKind::kNewOrganization, "new-organization"},
    {RequestKind::kNewDevice, "new-device"},         {RequestKind::kRenew, "renew"},
    {RequestKind::kChange, "change"},                {RequestKind::kRevoke, "revoke"},
    {RequestKind::kRecover, "recover"},              {RequestKind::kHandover, "handover"},
    {RequestKind::kLost, "lost"},
};

bool IsNew(RequestKind k) {
  return k == RequestKind::kNewIndividual || k == RequestKind::kNewOrganization ||
         k == RequestKind::kNewDevice;
}

std::string Field(const FilingInput& in, const std::string& key) {
  auto it = in.fields.find(key);
  return it == in.fields.end() ? "" : it->second;
}

std::string EmailDomain(std::string_view email) {
  const auto at = email.rfind('@');
  return at == std::string_view::npos ? "" : std::string(email.substr(at + 1));
}

// R9.5: the e-mail is on one of the official domains (subdomains count).
Status CheckOfficialEmail(std::string_view email, const std::vector<std::string>& domains,
                          std::string_view where) {
  std::string domain = EmailDomain(email);
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string& d : domains) {
    if (domain == d || (domain.size() > d.size() && domain.ends_with("." + d))) return OkStatus();
  }
  std::string list;
  for (const std::string& d : domains) list += (list.empty() ? "" : ", ") + d;
  return InvalidArgumentError("R9.5: " + std::string(where) + "e-mail " + std::string(email) +
                              " is not on an official domain (" + list + ")");
}

Result<Bytes> CsrDer(const FilingInput& in, const std::string& path) {
  if (!in.read_file) return FailedPreconditionError("cannot read CSR files here");
  KYSO_ASSIGN_OR_RETURN(std::string data, in.read_file(path));
  KYSO_ASSIGN_OR_RETURN(pkix::CertRequest csr, pkix::ParseCertRequest(AsBytes(data)),
                        "CSR " + path);
  return ossl::ToDer(i2d_X509_REQ, static_cast<const X509_REQ*>(csr.req.get()));
}

std::string IsoDate(Date d) { return FormatDate(d); }

// AttachCsr reads the row's CSR, when it has one, into `row`; a bad one becomes the row's error.
bool AttachCsr(const FilingInput& in, const std::string& path, std::size_t row_no, json& row,
               std::vector<forms::FormError>& errors) {
  if (path.empty()) return true;
  Result<Bytes> der = CsrDer(in, path);
  if (!der.ok()) {
    errors.push_back({row_no, "csr", der.status().message()});
    return false;
  }
  row["csr"] = HexEncode(*der);
  return true;
}

// RefuseBadRows reports every bad row of a form, in row order (R9.6).
Status RefuseBadRows(std::string_view form, std::vector<forms::FormError>& errors) {
  if (errors.empty()) return OkStatus();
  std::stable_sort(errors.begin(), errors.end(),
                   [](const forms::FormError& a, const forms::FormError& b) { return a.row < b.row; });
  return InvalidArgumentError("R9.6: " + std::string(form) + " có " + std::to_string(errors.size()) +
                              " lỗi; không có gì được lưu\n" + forms::FormatErrors(errors));
}

}  // namespace

Result<RequestKind> ParseRequestKind(std::string_view name) {
  for (const KindInfo& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return InvalidArgumentError("unknown request kind '" + std::string(name) +
                              "' (new-individual, new-organization, new-device, renew, change, "
                              "revoke, recover, handover, lost)");
}

std::string_view RequestKindName(RequestKind kind) {
  for (const KindInfo& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

Workflow::Workflow(const Config& config, store::Store& store, ca::Authority* authority,
                   const Clock& clock)
    : config_(config),
      store_(store),
      authority_(authority),
      clock_(clock),
      calendar_(WorkingCalendar::VietnamDefault()) {}

Status Workflow::Load() {
  if (!config_.ra.holidays.empty() || !config_.ra.makeup_working_days.empty()) {
    std::vector<Date> days, makeup;
    for (const std::string& h : config_.ra.holidays) {
      KYSO_ASSIGN_OR_RETURN(Date d, ParseDate(h), "ra.holidays");
      days.push_back(d);
    }
    for (const std::string& h : config_.ra.makeup_working_days) {
      KYSO_ASSIGN_OR_RETURN(Date d, ParseDate(h), "ra.makeup_working_days");
      makeup.push_back(d);
    }
    calendar_ = WorkingCalendar(std::move(days), std::move(makeup));
  }
  KYSO_ASSIGN_OR_RETURN(std::vector<store::Agency> agencies, store_.ListAgencies());
  tree_ = std::make_unique<AgencyTree>(std::move(agencies));
  return OkStatus();
}

std::string Workflow::Today() const { return IsoDate(LocalDate(clock_.Now())); }

std::string Workflow::DueDate(int working_days) const {
  return IsoDate(calendar_.AddWorkingDays(LocalDate(clock_.Now()), working_days));
}

// R9.1: routing by the table of RULES.md.
Result<Workflow::Routing> Workflow::Route(RequestKind kind, const FilingInput& in) const {
  const Config::Ra& c = config_.ra;
  const std::string provider_code(kProviderCode);
  const std::string authority_code(kAuthorityCode);
  switch (kind) {
    case RequestKind::kNewIndividual:
    case RequestKind::kNewOrganization:
    case RequestKind::kNewDevice:
      return Routing{"provider", provider_code, c.days_new};
    case RequestKind::kRenew:
      return Routing{"authority", authority_code, c.days_renew};
    case RequestKind::kChange:
      return Routing{"authority", authority_code, c.days_change};
    case RequestKind::kRevoke:
      return Routing{"provider", provider_code, c.days_revoke};
    case RequestKind::kRecover: {
      // R13.1: a PKI Token is recovered by the authority, a SIM PKI by the provider.
      const std::string device = Field(in, "device");
      if (device == "token" || device.empty()) {
        return Routing{"authority", authority_code, c.days_recover};
      }
      if (device == "sim") return Routing{"provider", provider_code, c.days_recover};
      return InvalidArgumentError("R13.1: --field device= is 'token' or 'sim'");
    }
    case RequestKind::kHandover:
      return Routing{"provider", "", c.days_handover};
    case RequestKind::kLost:
      return Routing{"provider", "", c.days_lost};
  }
  return InternalError("unrouted kind");
}

Result<std::string> Workflow::FilingAgency(const Actor& actor, const FilingInput& in) const {
  // R3.6: only a managing agency files, through its focal person; never the individual.
  if (actor.role == Role::kSubscriber) {
    return PermissionDeniedError("R3.6: a subscriber does not file requests; the managing agency does");
  }
  if (actor.role != Role::kFocal && actor.role != Role::kConsole && actor.role != Role::kAdmin) {
    return PermissionDeniedError("R3.6: only the managing agency's focal person files requests");
  }
  std::string code = actor.role == Role::kFocal ? actor.agency_code : Field(in, "agency");
  if (code.empty() && !in.target_serial.empty()) {
    // The console filing about an existing certificate files for its managing agency.
    auto lineage = store_.GetLineage(in.target_serial);
    if (lineage.ok()) {
      auto sub = store_.GetSubscriber(lineage->subscriber_id);
      if (sub.ok()) code = sub->agency_code;
    }
  }
  if (code.empty()) {
    return InvalidArgumentError("the filing agency is needed: --field agency=CODE (or --as a focal person)");
  }
  const store::Agency* agency = tree_->Find(code);
  if (agency == nullptr) {
    return PermissionDeniedError("R2.1: agency " + code + " is not in the province's tree");
  }
  if (!agency->legal_entity) {
    return PermissionDeniedError("R3.6: " + agency->name +
                                 " has no legal personality of its own; its managing agency files");
  }
  return agency->code;
}

Status Workflow::CheckCanSee(const Actor& actor, const store::RequestRecord& r) const {
  if (InScope(*tree_, actor, r.agency_code)) return OkStatus();
  if (actor.role == Role::kSubscriber) return PermissionDeniedError("R15.2: subscribers do not see requests");
  return PermissionDeniedError("R15.2: request " + std::to_string(r.id) + " belongs to another agency");
}

Status Workflow::CheckDecider(const Actor& actor, const store::RequestRecord& r) const {
  if (actor.role == Role::kConsole) return OkStatus();
  const Role needed = r.route == "provider" ? Role::kProvider : Role::kAuthority;
  if (actor.role != needed) {
    // R12.2 names revocation in particular: only the provider revokes.
    const std::string rule = r.kind == "revoke" ? "R12.2" : "R9.1";
    return PermissionDeniedError(rule + ": a " + r.kind + " request is decided by the " + r.route +
                                 ", not by " + std::string(RoleName(actor.role)));
  }
  return OkStatus();
}

Status Workflow::CheckTarget(const Actor& actor, RequestKind kind, const std::string& serial,
                             const FilingInput& in) const {
  KYSO_ASSIGN_OR_RETURN(store::CertificateRecord cert, store_.GetCertificate(serial));
  if (cert.issuer != ca::kIssuing || cert.profile == "ocsp" || cert.profile == "tsa") {
    return InvalidArgumentError("certificate " + serial + " is not a subscriber certificate");
  }
  Result<store::Lineage> lineage = store_.GetLineage(serial);
  std::optional<store::Subscriber> subscriber;
  if (lineage.ok()) {
    KYSO_ASSIGN_OR_RETURN(store::Subscriber sub, store_.GetSubscriber(lineage->subscriber_id));
    subscriber = std::move(sub);
  }
  if (actor.role == Role::kFocal &&
      (!subscriber || !tree_->Contains(actor.agency_code, subscriber->agency_code))) {
    return PermissionDeniedError("R15.2: certificate " + serial +
                                 " belongs to a subscriber of another agency");
  }
  const bool live = cert.state == store::CertState::kIssued && !cert.revoked_at;
  const auto days_left = std::chrono::duration_cast<std::chrono::days>(cert.not_after - clock_.Now()).count();
  switch (kind) {
    case RequestKind::kRenew:
    case RequestKind::kChange: {
      if (!live || days_left < 0) {
        return FailedPreconditionError("certificate " + serial + " is revoked or expired");
      }
      if (!subscriber) {
        return FailedPreconditionError("certificate " + serial +
                                       " was not issued through a request; its subscriber is unknown");
      }
      if (kind == RequestKind::kRenew) {
        // R10.1: a certificate is renewed once; a renewal's certificate is not renewed again.
        if (lineage->renewed) {
          return FailedPreconditionError("R10.1: certificate " + serial +
                                         " comes from a renewal; a certificate is renewed only once");
        }
        KYSO_ASSIGN_OR_RETURN(bool renewed_before, store_.WasRenewed(serial));
        if (renewed_before) {
          return FailedPreconditionError("R10.1: certificate " + serial +
                                         " has been renewed already; a certificate is renewed only once");
        }
        // R10.2: at least renewal_min_days_left days of validity left.
        if (days_left < config_.ra.renewal_min_days_left) {
          return FailedPreconditionError(
              "R10.2: certificate " + serial + " has " + std::to_string(days_left) +
              " days left; a renewal needs at least " + std::to_string(config_.ra.renewal_min_days_left));
        }
        return OkStatus();
      }
      // R11.1: a change needs change_min_days_left days left.
      if (days_left < config_.ra.change_min_days_left) {
        return FailedPreconditionError(
            "R11.1: certificate " + serial + " has " + std::to_string(days_left) +
            " days left; a change of information needs at least " +
            std::to_string(config_.ra.change_min_days_left));
      }
      // R11.2: what may change depends on the subscriber; new data must differ.
      const json data = json::parse(subscriber->data, nullptr, false);
      std::vector<std::pair<std::string, std::string>> allowed;  // field, current value
      if (subscriber->kind == "individual") {
        allowed = {{"email", subscriber->email}, {"agency", subscriber->workplace_code}};
      } else if (subscriber->kind == "organization") {
        allowed = {{"name", subscriber->name},
                   {"address", data.is_object() ? data.value("dia_chi", "") : ""}};
      } else {
        allowed = {{"name", subscriber->name},
                   {"version", data.is_object() ? data.value("version", "") : ""}};
      }
      bool changed = false;
      for (const auto& [key, value] : in.fields) {
        if (key == "agency" && actor.role != Role::kFocal && subscriber->kind != "individual") continue;
        auto it = std::find_if(allowed.begin(), allowed.end(), [&](const auto& a) { return a.first == key; });
        if (it == allowed.end()) {
          std::string names;
          for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a.first;
          return InvalidArgumentError("R11.2: a " + subscriber->kind + " certificate changes only " +
                                      names + "; not " + key);
        }
        if (value == it->second) {
          return InvalidArgumentError("R11.2: the new " + key + " equals the certificate's");
        }
        changed = true;
      }
      if (!changed) return InvalidArgumentError("R11.2: a change needs --field with the new data");
      if (auto email = in.fields.find("email"); email != in.fields.end()) {
        KYSO_RETURN_IF_ERROR(CheckOfficialEmail(email->second,
                                                tree_->OfficialDomains(subscriber->workplace_code,
                                                                       config_.ra.official_domains),
                                                ""));
      }
      if (auto agency = in.fields.find("agency"); agency != in.fields.end()) {
        const store::Agency* a = tree_->Find(agency->second);
        if (a == nullptr) return InvalidArgumentError("R2.1: agency " + agency->second + " is not in the province's tree");
      }
      return OkStatus();
    }
    case RequestKind::kHandover:
      // R12.3: the device goes back after the certificate expired or was revoked.
      if (live && days_left >= 0) {
        return FailedPreconditionError("R12.3: certificate " + serial +
                                       " is still valid; a device is handed back after expiry or revocation");
      }
      return OkStatus();
    case RequestKind::kRevoke: {
      if (!live) return FailedPreconditionError("certificate " + serial + " is already revoked");
      if (in.reason.empty()) return InvalidArgumentError("R12.1: a revocation needs --reason");
      KYSO_ASSIGN_OR_RETURN(ca::RevocationReason reason, ca::ParseReason(in.reason));
      return ca::CheckReasonFits(reason, cert.profile);
    }
    default:
      return OkStatus();
  }
}

Status Workflow::CheckFiling(const Actor& actor, const std::string& agency, const FilingInput& in,
                             std::string* payload_out) const {
  json payload = json::object();
  payload["fields"] = in.fields;
  const std::string csr_field = Field(in, "csr");
  if (!Field(in, "days").empty()) {
    int days = 0;
    try {
      days = std::stoi(Field(in, "days"));
    } catch (...) {
    }
    if (days < 1) return InvalidArgumentError("--field days= takes a whole number of days");
  }
  switch (in.kind) {
    case RequestKind::kNewIndividual: {
      if (in.rows_csv.empty()) return InvalidArgumentError("R9.6: a new-individual request needs --rows FILE.csv (Mẫu 01)");
      auto parsed = forms::ParseMau01(in.rows_csv, LocalDate(clock_.Now()));
      std::vector<forms::FormError> errors = parsed.errors;
      json rows = json::array();
      if (!csr_field.empty() && parsed.rows.size() != 1) {
        return InvalidArgumentError("--field csr= is for a one-row request; use the csr column");
      }
      // With form errors, the rows without errors of their own still get the rules' checks, so
      // every bad row is reported at once (R9.6); nothing is stored either way.
      for (const forms::IndividualRow& r : parsed.errors.empty() ? parsed.rows : parsed.clean_rows) {
        const store::Agency* workplace = tree_->Find(r.co_quan);
        if (workplace == nullptr) {
          errors.push_back({r.row, "co_quan", "R2.1: cơ quan '" + r.co_quan + "' không thuộc cây cơ quan của tỉnh"});
          continue;
        }
        // R9.2 + R15.2: the person belongs to a body under the filing agency.
        if (!tree_->Contains(agency, workplace->code)) {
          errors.push_back({r.row, "co_quan", "R15.2: cơ quan '" + workplace->name + "' không thuộc phạm vi quản lý của đơn vị nộp"});
          continue;
        }
        if (Status s = CheckOfficialEmail(r.email, tree_->OfficialDomains(workplace->code, config_.ra.official_domains), ""); !s.ok()) {
          errors.push_back({r.row, "email", "R9.5: thư điện tử không thuộc tên miền công vụ của cơ quan"});
          continue;
        }
        auto [org, units] = tree_->SubjectPath(workplace->code);
        if (Status s = ca::ValidateSubject(ca::Subject{r.ho_ten, r.email, org, units}); !s.ok()) {
          errors.push_back({r.row, "ho_ten", s.message()});
          continue;
        }
        json row = {{"ho_ten", r.ho_ten}, {"ngay_sinh", FormatDate(r.ngay_sinh)}, {"cccd", r.cccd},
                    {"ngay_cap", FormatDate(r.ngay_cap)}, {"noi_cap", r.noi_cap}, {"email", r.email},
                    {"co_quan", workplace->code}, {"tinh", r.tinh}, {"chuc_vu", r.chuc_vu},
                    {"dien_thoai", r.dien_thoai}, {"serial_cu", r.serial_cu}, {"sim_pki", r.sim_pki},
                    {"row", r.row}};
        if (AttachCsr(in, !r.csr.empty() ? r.csr : csr_field, r.row, row, errors)) {
          rows.push_back(std::move(row));
        }
      }
      KYSO_RETURN_IF_ERROR(RefuseBadRows("Mẫu 01", errors));
      payload["rows"] = std::move(rows);
      break;
    }
    case RequestKind::kNewOrganization: {
      if (in.rows_csv.empty()) return InvalidArgumentError("R9.6: a new-organization request needs --rows FILE.csv (Mẫu 02)");
      auto parsed = forms::ParseMau02(in.rows_csv);
      std::vector<forms::FormError> errors = parsed.errors;
      json rows = json::array();
      // R9.3: a founding decision or the superior head's confirmation.
      if (Field(in, "founding_decision").empty() && Field(in, "superior_confirmation").empty() &&
          in.attachments.empty()) {
        return InvalidArgumentError("R9.3: a new organisation certificate needs --field founding_decision=... "
                                    "or --field superior_confirmation=... (or the document with --attach)");
      }
      for (const forms::OrganizationRow& r : parsed.errors.empty() ? parsed.rows : parsed.clean_rows) {
        const store::Agency* body = tree_->Find(r.ten);
        if (body == nullptr) {
          errors.push_back({r.row, "ten", "R2.1: '" + r.ten + "' không thuộc cây cơ quan của tỉnh"});
          continue;
        }
        if (!body->legal_entity) {
          errors.push_back({r.row, "ten", "R9.3: '" + body->name + "' không có tư cách pháp nhân"});
          continue;
        }
        if (!tree_->Contains(agency, body->code)) {
          errors.push_back({r.row, "ten", "R15.2: '" + body->name + "' không thuộc phạm vi quản lý của đơn vị nộp"});
          continue;
        }
        if (Status s = CheckOfficialEmail(r.email, tree_->OfficialDomains(body->code, config_.ra.official_domains), ""); !s.ok()) {
          errors.push_back({r.row, "email", "R9.5: thư điện tử không thuộc tên miền công vụ của cơ quan"});
          continue;
        }
        json row = {{"ten", body->name}, {"co_quan", body->code}, {"dia_chi", r.dia_chi},
                    {"ma_so_thue", r.ma_so_thue}, {"ma_qhns", r.ma_qhns}, {"tinh", r.tinh},
                    {"email", r.email}, {"nguoi_nhan", r.nguoi_nhan}, {"row", r.row}};
        if (AttachCsr(in, !r.csr.empty() ? r.csr : csr_field, r.row, row, errors)) {
          rows.push_back(std::move(row));
        }
      }
      KYSO_RETURN_IF_ERROR(RefuseBadRows("Mẫu 02", errors));
      payload["rows"] = std::move(rows);
      break;
    }
    case RequestKind::kNewDevice: {
      // R9.4: owned and managed by an in-scope legal entity.
      const std::string owner_code = Field(in, "owner").empty() ? agency : Field(in, "owner");
      const store::Agency* owner = tree_->Find(owner_code);
      if (owner == nullptr) return PermissionDeniedError("R9.4: owner " + owner_code + " is not in the province's tree");
      if (!owner->legal_entity) return InvalidArgumentError("R9.4: owner " + owner->name + " has no legal personality");
      if (!tree_->Contains(agency, owner->code)) return PermissionDeniedError("R15.2: owner " + owner->name + " is outside the filing agency");
      if (Field(in, "name").empty()) return InvalidArgumentError("a device request needs --field name=...");
      KYSO_RETURN_IF_ERROR(CheckOfficialEmail(Field(in, "email"), tree_->OfficialDomains(owner->code, config_.ra.official_domains), "the device's "));
      auto [org, units] = tree_->SubjectPath(owner->code);
      KYSO_RETURN_IF_ERROR(ca::ValidateSubject(ca::Subject{Field(in, "name"), Field(in, "email"), org, units}));
      json row = {{"name", Field(in, "name")}, {"email", Field(in, "email")}, {"co_quan", owner->code},
                  {"version", Field(in, "version")}};
      if (!csr_field.empty()) {
        KYSO_ASSIGN_OR_RETURN(Bytes der, CsrDer(in, csr_field));
        row["csr"] = HexEncode(der);
      }
      payload["rows"] = json::array({row});
      break;
    }
    case RequestKind::kRenew:
    case RequestKind::kChange:
    case RequestKind::kRevoke:
      if (in.target_serial.empty()) return InvalidArgumentError("this request needs --serial HEX");
      KYSO_RETURN_IF_ERROR(CheckTarget(actor, in.kind, in.target_serial, in));
      break;
    case RequestKind::kRecover:
    case RequestKind::kHandover:
    case RequestKind::kLost:
      if (!in.target_serial.empty()) {
        KYSO_RETURN_IF_ERROR(CheckTarget(actor, in.kind, in.target_serial, in));
      } else if (in.kind != RequestKind::kRecover) {
        return InvalidArgumentError("this request needs --serial HEX of the certificate on the device");
      }
      break;
  }
  *payload_out = payload.dump();
  return OkStatus();
}

Result<store::RequestRecord> Workflow::Prepare(const Actor& actor, const FilingInput& input) const {
  KYSO_ASSIGN_OR_RETURN(std::string agency, FilingAgency(actor, input));
  FilingInput in = input;
  if (!in.target_serial.empty()) {
    KYSO_ASSIGN_OR_RETURN(Bytes serial, HexDecode(in.target_serial), "--serial");
    std::size_t skip = 0;
    while (skip + 1 < serial.size() && serial[skip] == 0) ++skip;
    in.target_serial = HexEncode(ByteSpan(serial).subspan(skip));
  }
  if (in.kind == RequestKind::kRecover) KYSO_RETURN_IF_ERROR(ResolveRecoverDevice(actor, in));
  KYSO_ASSIGN_OR_RETURN(Routing routing, Route(in.kind, in));
  std::string payload;
  KYSO_RETURN_IF_ERROR(CheckFiling(actor, agency, in, &payload));
  store::RequestRecord r;
  r.kind = std::string(RequestKindName(in.kind));
  r.state = "submitted";
  r.route = routing.route;
  r.exchange_code = routing.exchange_code;
  r.agency_code = agency;
  r.filed_by = actor.name;
  r.filed_at = clock_.Now();
  r.due_date = DueDate(routing.days);
  r.reason = in.reason;
  r.target_serial = in.target_serial;
  r.payload = payload;
  return r;
}

Result<int64_t> Workflow::File(const Actor& actor, const FilingInput& input) {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, Prepare(actor, input));
  KYSO_RETURN_IF_ERROR(store_.InsertRequests(std::span(&r, 1), input.attachments, actor.name));
  return r.id;
}

Result<std::vector<int64_t>> Workflow::FileMany(const Actor& actor,
                                                std::span<const FilingInput> inputs) {
  for (const FilingInput& in : inputs) {
    if (!in.attachments.empty()) {
      return InvalidArgumentError("attachments are filed with one request at a time");
    }
  }
  // The checks (form, rules, CSR signatures) run on two threads; the store serialises its
  // own reads, and everything else they touch is read-only.
  std::vector<Result<store::RequestRecord>> prepared;
  prepared.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) prepared.emplace_back(InternalError("unchecked"));
  ParallelFor(inputs.size(), 2, [&](std::size_t i) { prepared[i] = Prepare(actor, inputs[i]); });
  std::vector<store::RequestRecord> records;
  records.reserve(inputs.size());
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    if (!prepared[i].ok()) return prepared[i].status().WithContext("request " + std::to_string(i + 1));
    records.push_back(std::move(prepared[i]).value());
  }
  KYSO_RETURN_IF_ERROR(store_.InsertRequests(records, {}, actor.name));
  std::vector<int64_t> ids;
  for (const store::RequestRecord& r : records) ids.push_back(r.id);
  return ids;
}

Status Workflow::CheckDecision(const Actor& actor, const store::RequestRecord& r) const {
  KYSO_RETURN_IF_ERROR(CheckDecider(actor, r));
  if (r.state != "submitted") {
    return FailedPreconditionError("request " + std::to_string(r.id) + " is " + r.state +
                                   "; only a submitted request is decided");
  }
  // The rules are checked again at decision time: days left shrink while a request waits.
  KYSO_ASSIGN_OR_RETURN(RequestKind kind, ParseRequestKind(r.kind));
  if (!r.target_serial.empty() && !IsNew(kind)) {
    FilingInput again;
    again.kind = kind;
    again.reason = r.reason;
    const json payload = json::parse(r.payload, nullptr, false);
    if (payload.is_object() && payload.contains("fields")) {
      again.fields = payload["fields"].get<std::map<std::string, std::string>>();
    }
    KYSO_RETURN_IF_ERROR(CheckTarget(Actor::Console(), kind, r.target_serial, again));
  }
  return OkStatus();
}

Status Workflow::Decide(const Actor& actor, int64_t id, bool approve, std::string_view reason) {
  const int64_t ids[] = {id};
  return DecideMany(actor, ids, approve, reason);
}

Status Workflow::DecideMany(const Actor& actor, std::span<const int64_t> ids, bool approve,
                            std::string_view reason) {
  if (!approve && reason.empty()) return InvalidArgumentError("a rejection needs --reason");
  std::vector<store::RequestRecord> records;
  for (int64_t id : ids) {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, store_.GetRequest(id));
    KYSO_RETURN_IF_ERROR(CheckCanSee(actor, r));  // R15.2 before anything about the request
    if (approve) {
      KYSO_RETURN_IF_ERROR(CheckDecision(actor, r));
    } else {
      KYSO_RETURN_IF_ERROR(CheckDecider(actor, r));
    }
    records.push_back(std::move(r));
  }
  if (!approve) {
    return store_.TransitionRequests(ids, "submitted", "rejected", actor.name, reason, actor.name);
  }
  KYSO_RETURN_IF_ERROR(store_.TransitionRequests(ids, "submitted", "approved", actor.name, "", actor.name));
  NewIssuance batch;
  for (store::RequestRecord& r : records) {
    r.state = "approved";
    KYSO_ASSIGN_OR_RETURN(RequestKind kind, ParseRequestKind(r.kind));
    if (IsNew(kind)) {
      KYSO_RETURN_IF_ERROR(AddNew(r, batch).status());
    } else {
      KYSO_RETURN_IF_ERROR(Fulfil(actor, r), "request " + std::to_string(r.id));
    }
  }
  return IssueNew(actor, batch);
}

Status Workflow::Cancel(const Actor& actor, int64_t id) {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, store_.GetRequest(id));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, r));
  if (actor.role != Role::kFocal && actor.role != Role::kConsole) {
    return PermissionDeniedError("R15.2: only the filing agency's focal person cancels a request");
  }
  const int64_t ids[] = {id};
  return store_.TransitionRequests(ids, "submitted", "cancelled", "", "", actor.name);
}

Status Workflow::Close(const Actor& actor, int64_t id) {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, store_.GetRequest(id));
  KYSO_RETURN_IF_ERROR(CheckDecider(actor, r));
  const int64_t ids[] = {id};
  return store_.TransitionRequests(ids, "fulfilled", "closed", "", "", actor.name);
}

Result<RequestView> Workflow::Show(const Actor& actor, int64_t id) const {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, store_.GetRequest(id));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, r));
  const bool open = r.state == "submitted" || r.state == "approved";
  const bool overdue = open && r.due_date < Today();
  return RequestView{std::move(r), overdue};
}

Result<std::vector<RequestView>> Workflow::List(const Actor& actor, std::optional<std::string> state,
                                                bool overdue_only, std::size_t limit,
                                                std::optional<int64_t> before_id) {
  if (actor.role == Role::kSubscriber) {
    return PermissionDeniedError("R15.2: subscribers do not see requests");
  }
  store::RequestFilter f;
  f.state = std::move(state);
  f.limit = limit;
  f.before_id = before_id;
  const std::string today = Today();
  if (overdue_only) f.due_before = today;
  if (actor.role == Role::kFocal) f.agency_codes = tree_->Subtree(actor.agency_code);  // R15.2
  KYSO_ASSIGN_OR_RETURN(std::vector<store::RequestRecord> rows, store_.ListRequests(f));
  std::vector<RequestView> out;
  out.reserve(rows.size());
  for (store::RequestRecord& r : rows) {
    const bool open = r.state == "submitted" || r.state == "approved";
    const bool overdue = open && r.due_date < today;
    out.push_back(RequestView{std::move(r), overdue});
  }
  return out;
}

Status Workflow::Fulfil(const Actor& actor, const store::RequestRecord& r) {
  KYSO_ASSIGN_OR_RETURN(RequestKind kind, ParseRequestKind(r.kind));
  switch (kind) {
    case RequestKind::kNewIndividual:
    case RequestKind::kNewOrganization:
    case RequestKind::kNewDevice: {
      NewIssuance batch;
      KYSO_RETURN_IF_ERROR(AddNew(r, batch).status());
      return IssueNew(actor, batch);
    }
    case RequestKind::kRenew:
    case RequestKind::kChange:
      return FulfilRenewOrChange(actor, r);
    case RequestKind::kRevoke:
      return FulfilRevoke(actor, r);
    case RequestKind::kRecover: {
      // R13.1: a PKI Token is unblocked by the authority's officer with `kyso token unblock`,
      // which fulfils the request. A SIM PKI is reset by the provider through the mobile
      // operator; the provider's approval records that, and the SIM goes back to its holder.
      const json payload = json::parse(r.payload, nullptr, false);
      const json fields = payload.is_object() ? payload.value("fields", json::object()) : json::object();
      if (fields.value("device", "") != "sim") return OkStatus();
      KYSO_ASSIGN_OR_RETURN(store::Device sim, store_.GetDevice(fields.value("device_serial", "")));
      return CompleteRecovery(actor, r, sim);
    }
    case RequestKind::kHandover:
    case RequestKind::kLost:
      // The provider's approval is the receipt of the device (Mẫu 08) or of the loss record
      // (Mẫu 09); there is nothing further to carry out.
      return store_.Fulfil(r.id, {}, actor.name);
  }
  return InternalError("unfulfilled kind");
}

Result<std::pair<ca::IssueRequest, store::FulfilledCertificate>> Workflow::RowIssue(
    const store::RequestRecord& r, const json& row) const {
  const json payload = json::parse(r.payload, nullptr, false);
  const std::string kind = r.kind == "new-individual" ? "individual"
                           : r.kind == "new-organization" ? "organization" : "device";
  KYSO_ASSIGN_OR_RETURN(ca::Profile profile, ca::ParseProfile(kind));
  std::optional<int> days;
  if (payload.is_object() && payload["fields"].contains("days")) {
    days = std::stoi(payload["fields"]["days"].get<std::string>());
  }
  const std::string workplace = row["co_quan"].get<std::string>();
  auto [org, units] = tree_->SubjectPath(workplace);
  const std::string name = kind == "individual" ? row["ho_ten"].get<std::string>()
                           : kind == "organization" ? row["ten"].get<std::string>()
                                                    : row["name"].get<std::string>();
  const std::string email = row["email"].get<std::string>();
  ca::IssueRequest request{profile, nullptr, ca::Subject{name, email, org, units}, days};
  const store::Agency* managing = tree_->ManagingAgency(workplace);
  json data = row;
  data.erase("csr");
  store::FulfilledCertificate fc;
  fc.subscriber = store::Subscriber{0, kind, managing ? managing->code : r.agency_code, workplace,
                                    name, email, data.dump()};
  fc.lineage = store::Lineage{"", 0, "new", "", false, r.id};
  return std::make_pair(std::move(request), std::move(fc));
}

Result<bool> Workflow::AddNew(const store::RequestRecord& r, NewIssuance& batch) const {
  const json payload = json::parse(r.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("rows")) return InternalError("request payload unreadable");
  const json& rows = payload["rows"];
  for (const json& row : rows) {
    // A row without a CSR waits, approved, for its device to be enrolled (keys on tokens).
    if (!row.contains("csr")) return false;
  }
  store::Fulfilment fulfilment{r.id, {}};
  batch.first_row.push_back(batch.requests.size());
  for (const json& row : rows) {
    KYSO_ASSIGN_OR_RETURN(Bytes der, HexDecode(row["csr"].get<std::string>()));
    batch.csr_ders.push_back(std::move(der));
    KYSO_ASSIGN_OR_RETURN(auto issue, RowIssue(r, row));
    batch.requests.push_back(std::move(issue.first));
    fulfilment.certificates.push_back(std::move(issue.second));
  }
  batch.fulfilments.push_back(std::move(fulfilment));
  return true;
}

Result<Workflow::WaitingRow> Workflow::NextWaitingRow(const Actor& actor, int64_t request_id) const {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, store_.GetRequest(request_id));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, r));
  if (actor.role != Role::kConsole && actor.role != Role::kProvider && actor.role != Role::kAuthority) {
    return PermissionDeniedError("R15.2: a device is enrolled by the provider's or the authority's officer");
  }
  KYSO_ASSIGN_OR_RETURN(RequestKind kind, ParseRequestKind(r.kind));
  if (!IsNew(kind)) {
    return FailedPreconditionError("request " + std::to_string(r.id) + " is a " + r.kind +
                                   " request; a device is enrolled for a new certificate");
  }
  if (r.state != "approved") {
    return FailedPreconditionError("request " + std::to_string(r.id) + " is " + r.state +
                                   "; a device is enrolled for an approved request");
  }
  const json payload = json::parse(r.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("rows")) return InternalError("request payload unreadable");
  const json& rows = payload["rows"];
  const std::size_t next = r.certificate_serials.size();
  if (next >= rows.size()) {
    return FailedPreconditionError("every row of request " + std::to_string(r.id) + " has its certificate");
  }
  const json& row = rows[next];
  const std::string name = row.contains("ho_ten") ? row["ho_ten"].get<std::string>()
                           : row.contains("ten") ? row["ten"].get<std::string>()
                                                 : row.value("name", "");
  return WaitingRow{std::move(r), next, name, row.value("sim_pki", "")};
}

Result<ca::Issued> Workflow::Enrol(const Actor& actor, const WaitingRow& w, const pkix::CertRequest& csr,
                                   store::DeviceChange device) {
  if (authority_ == nullptr) return FailedPreconditionError("the CA is not open");
  const json payload = json::parse(w.request.payload, nullptr, false);
  const json& rows = payload["rows"];
  KYSO_RETURN_IF_ERROR(CheckAutomaticMove(device.expected_state.value_or(std::string(kInStock)),
                                          device.device.state));
  KYSO_ASSIGN_OR_RETURN(auto issue, RowIssue(w.request, rows[w.index]));
  issue.first.csr = &csr;
  KYSO_ASSIGN_OR_RETURN(ca::Issued issued, authority_->Issue(issue.first, actor.name));
  issue.second.lineage.serial = issued.serial_hex;
  device.device.agency_code = issue.second.subscriber.agency_code;
  device.device.request_id = w.request.id;
  device.event.holder = issue.second.subscriber.name;
  device.event.agency_code = issue.second.subscriber.agency_code;
  device.event.request_id = w.request.id;
  store::Fulfilment f;
  f.request_id = w.request.id;
  f.certificates.push_back(std::move(issue.second));
  f.complete = w.index + 1 == rows.size();
  f.certificates_before = w.index;
  f.device = std::move(device);
  if (Status s = store_.FulfilMany(std::span(&f, 1), actor.name); !s.ok()) {
    // The certificate exists but belongs to no request: say so, so it can be revoked.
    return s.WithContext("certificate " + issued.serial_hex + " was issued but not recorded for request " +
                         std::to_string(w.request.id) + "; revoke it");
  }
  return issued;
}

Result<store::RequestRecord> Workflow::CheckRecovery(const Actor& actor, int64_t request_id,
                                                     const store::Device& device) const {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, store_.GetRequest(request_id));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, r));
  if (r.kind != "recover") {
    return FailedPreconditionError("R13.1: request " + std::to_string(r.id) + " is a " + r.kind +
                                   " request, not a recovery (Mẫu 06)");
  }
  if (r.state != "approved") {
    return FailedPreconditionError("R13.1: recovery request " + std::to_string(r.id) + " is " + r.state +
                                   "; a device is unblocked once its request is approved");
  }
  // R13.1: whoever decides the recovery carries it out (the authority for a PKI Token).
  KYSO_RETURN_IF_ERROR(CheckDecider(actor, r));
  const json payload = json::parse(r.payload, nullptr, false);
  const std::string named = payload.is_object() && payload.contains("fields")
                                ? payload["fields"].value("device_serial", "") : "";
  if (named != device.serial) {
    return FailedPreconditionError("R13.1: request " + std::to_string(r.id) + " is for device " + named +
                                   ", not " + device.serial);
  }
  if (device.state != kLocked && device.state != kHandedOver) {
    return FailedPreconditionError("R13.1: device " + device.serial + " is " + device.state + " (" +
                                   std::string(StateLabel(device.state)) +
                                   "); only a device in its holder's hands is recovered");
  }
  return r;
}

Status Workflow::CompleteRecovery(const Actor& actor, const store::RequestRecord& r,
                                  const store::Device& device) {
  KYSO_RETURN_IF_ERROR(CheckAutomaticMove(device.state, kHandedOver));
  store::DeviceChange change{device, device.state, {}};
  change.device.state = std::string(kHandedOver);
  change.device.pin_state = "ok";
  change.event.certificate_serial = device.certificate_serial;
  change.event.holder = device.holder_name;
  change.event.agency_code = device.agency_code;
  change.event.date = Today();
  change.event.reason = "R13.1: recovered";
  change.event.request_id = r.id;
  store::Fulfilment f;
  f.request_id = r.id;
  f.device = std::move(change);
  return store_.FulfilMany(std::span(&f, 1), actor.name);
}

Status Workflow::ResolveRecoverDevice(const Actor& actor, FilingInput& in) const {
  // R13.1: the request names the device, by its serial or by the certificate it holds; its
  // type, from the inventory, decides the route. R15.2 first: another agency's certificate
  // or device is refused before anything about it is said.
  if (!in.target_serial.empty()) KYSO_RETURN_IF_ERROR(CheckTarget(actor, RequestKind::kRecover, in.target_serial, in));
  std::optional<store::Device> device;
  if (const std::string named = Field(in, "device_serial"); !named.empty()) {
    KYSO_ASSIGN_OR_RETURN(store::Device d, store_.GetDevice(named));
    device = std::move(d);
  } else if (!in.target_serial.empty()) {
    store::DeviceFilter f;
    f.certificate_serial = in.target_serial;
    KYSO_ASSIGN_OR_RETURN(std::vector<store::Device> found, store_.ListDevices(f));
    if (!found.empty()) device = std::move(found.front());
  }
  if (device && actor.role == Role::kFocal &&
      (device->agency_code.empty() || !tree_->Contains(actor.agency_code, device->agency_code))) {
    return PermissionDeniedError("R15.2: device " + device->serial + " belongs to another agency");
  }
  if (!device) {
    return InvalidArgumentError("R13.1: a recovery names its device: --field device_serial=S, or "
                                "--serial of the certificate on a device of the inventory");
  }
  const std::string given = Field(in, "device");
  if (!given.empty() && given != device->type) {
    return InvalidArgumentError("R13.1: device " + device->serial + " is a " + device->type + ", not a " + given);
  }
  if (device->state != kLocked && device->state != kHandedOver) {
    return FailedPreconditionError("R13.1: device " + device->serial + " is " + device->state +
                                   "; only a device in its holder's hands is recovered");
  }
  in.fields["device"] = device->type;
  in.fields["device_serial"] = device->serial;
  if (in.target_serial.empty()) in.target_serial = device->certificate_serial;
  return OkStatus();
}

Status Workflow::IssueNew(const Actor& actor, NewIssuance& batch) {
  if (batch.requests.empty()) return OkStatus();
  if (authority_ == nullptr) return FailedPreconditionError("the CA is not open");
  // The CSRs were checked when filed; they are parsed (and their signatures checked) again
  // from the store's copy, on two threads.
  std::vector<Result<pkix::CertRequest>> parsed = pkix::ParseCertRequests(batch.csr_ders, 2);
  batch.csrs.reserve(parsed.size());
  for (Result<pkix::CertRequest>& p : parsed) {
    if (!p.ok()) return p.status().WithContext("stored CSR");
    batch.csrs.push_back(std::move(p).value());
  }
  for (std::size_t i = 0; i < batch.requests.size(); ++i) batch.requests[i].csr = &batch.csrs[i];
  ProgressBar bar("issuing");
  std::vector<Result<ca::Issued>> issued = authority_->IssueBatch(
      batch.requests, actor.name, 2, [&bar](std::size_t done, std::size_t total) { bar.Update(done, total); });
  for (std::size_t f = 0; f < batch.fulfilments.size(); ++f) {
    for (std::size_t k = 0; k < batch.fulfilments[f].certificates.size(); ++k) {
      const std::size_t i = batch.first_row[f] + k;
      if (!issued[i].ok()) {
        return issued[i].status().WithContext("request " + std::to_string(batch.fulfilments[f].request_id) +
                                              ", row " + std::to_string(k + 1));
      }
      batch.fulfilments[f].certificates[k].lineage.serial = issued[i]->serial_hex;
    }
  }
  return store_.FulfilMany(batch.fulfilments, actor.name);
}

Status Workflow::FulfilRenewOrChange(const Actor& actor, const store::RequestRecord& r) {
  if (authority_ == nullptr) return FailedPreconditionError("the CA is not open");
  KYSO_ASSIGN_OR_RETURN(store::CertificateRecord old, store_.GetCertificate(r.target_serial));
  KYSO_ASSIGN_OR_RETURN(store::Lineage lineage, store_.GetLineage(r.target_serial));
  KYSO_ASSIGN_OR_RETURN(store::Subscriber sub, store_.GetSubscriber(lineage.subscriber_id));
  KYSO_ASSIGN_OR_RETURN(auto old_cert, pkix::ParseCertificate(old.cert_der));
  const json payload = json::parse(r.payload, nullptr, false);
  const json fields = payload.is_object() ? payload.value("fields", json::object()) : json::object();
  const bool renew = r.kind == "renew";

  std::string workplace = sub.workplace_code;
  store::Subscriber updated = sub;
  json data = json::parse(sub.data, nullptr, false);
  if (!data.is_object()) data = json::object();
  if (!renew) {
    if (fields.contains("email")) updated.email = fields["email"].get<std::string>();
    if (fields.contains("agency")) {
      const store::Agency* a = tree_->Find(fields["agency"].get<std::string>());
      if (a == nullptr) return InvalidArgumentError("R2.1: agency not in the province's tree");
      workplace = a->code;
      updated.workplace_code = a->code;
      if (const store::Agency* m = tree_->ManagingAgency(a->code)) updated.agency_code = m->code;
    }
    if (fields.contains("name")) updated.name = fields["name"].get<std::string>();
    if (fields.contains("address")) data["dia_chi"] = fields["address"];
    if (fields.contains("version")) data["version"] = fields["version"];
    data["co_quan"] = workplace;
    updated.data = data.dump();
  }
  auto [org, units] = tree_->SubjectPath(workplace);
  KYSO_ASSIGN_OR_RETURN(ca::Profile profile, ca::ParseProfile(old.profile));
  ca::IssueRequest req{profile, nullptr, ca::Subject{updated.name, updated.email, org, units},
                       std::nullopt};
  req.public_key_info = X509_get_X509_PUBKEY(old_cert.get());  // the same key
  if (renew) {
    // R4.2: the old notAfter plus at most renewal_max_years, capped by the issuing CA.
    req.not_after = AddYears(old.not_after, config_.ra.renewal_max_years);
    req.cap_to_issuer = true;
  } else {
    req.not_after = old.not_after;  // R11.1: a change keeps the validity period
  }
  KYSO_ASSIGN_OR_RETURN(ca::Issued issued, authority_->Issue(req, actor.name));
  if (!renew) {
    // The old certificate is superseded by the changed one.
    KYSO_ASSIGN_OR_RETURN(ca::RevocationReason superseded, ca::ParseReason("superseded"));
    KYSO_RETURN_IF_ERROR(authority_->Revoke(r.target_serial, superseded, actor.name));
  }
  store::Fulfilment f;
  f.request_id = r.id;
  store::FulfilledCertificate& fc = f.certificates.emplace_back();
  fc.subscriber = updated;
  fc.update_subscriber = !renew;
  fc.lineage = store::Lineage{issued.serial_hex, sub.id, renew ? "renewal" : "change",
                              r.target_serial, renew || lineage.renewed, r.id};
  // The device that held the old certificate holds the new one (the same key): its return
  // deadline (R12.3) and recovery follow the new certificate.
  store::DeviceFilter on_device;
  on_device.certificate_serial = r.target_serial;
  KYSO_ASSIGN_OR_RETURN(std::vector<store::Device> devices, store_.ListDevices(on_device));
  if (!devices.empty()) {
    const store::Device& d = devices.front();
    store::DeviceChange change{d, d.state, {}};
    change.event.holder = updated.name;
    change.event.agency_code = updated.agency_code;
    change.event.date = Today();
    change.event.reason = std::string(renew ? "renewal" : "change") + " of " + r.target_serial;
    change.event.request_id = r.id;
    change.device.agency_code = updated.agency_code;
    f.device = std::move(change);
  }
  return store_.FulfilMany(std::span(&f, 1), actor.name);
}

Status Workflow::FulfilRevoke(const Actor& actor, const store::RequestRecord& r) {
  if (authority_ == nullptr) return FailedPreconditionError("the CA is not open");
  KYSO_ASSIGN_OR_RETURN(ca::RevocationReason reason, ca::ParseReason(r.reason));
  KYSO_RETURN_IF_ERROR(authority_->Revoke(r.target_serial, reason, actor.name));
  KYSO_RETURN_IF_ERROR(store_.Fulfil(r.id, {}, actor.name));
  // R12.3: the managing agency returns the device with a handover record (Mẫu 08) within
  // days_handover working days of the revocation notice; a lost device gets a loss record
  // (Mẫu 09) instead. kyso files that obligation now.
  const bool lost = r.reason == "device-lost";
  store::RequestRecord handover;
  handover.kind = lost ? "lost" : "handover";
  handover.state = "submitted";
  handover.route = "provider";
  handover.agency_code = r.agency_code;
  handover.filed_by = actor.name;
  handover.filed_at = clock_.Now();
  handover.due_date = DueDate(lost ? config_.ra.days_lost : config_.ra.days_handover);
  handover.target_serial = r.target_serial;
  handover.payload = json{{"fields", json::object()}, {"cause", "revoke"}}.dump();
  handover.parent_request = r.id;
  return store_.InsertRequests(std::span(&handover, 1), {}, actor.name);
}

}  // namespace kyso::ra
