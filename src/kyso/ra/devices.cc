#include "kyso/ra/devices.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace kyso::ra {

using json = nlohmann::json;

namespace {

constexpr Role kProvider = Role::kProvider;
constexpr Role kAuthority = Role::kAuthority;
constexpr Role kFocal = Role::kFocal;

struct StateInfo {
  std::string_view state;
  std::string_view label;
};
constexpr StateInfo kStates[] = {
    {kInStock, "trong kho"},
    {kPersonalised, "đã cá nhân hóa, chờ bàn giao"},
    {kHandedOver, "đã bàn giao cho thuê bao"},
    {kLocked, "bị khóa do nhập sai PIN"},
    {kReturnedToAgency, "thuê bao đã trả về cơ quan quản lý"},
    {kReturnedToProvider, "đã trả về tổ chức cung cấp dịch vụ"},
    {kLost, "bị mất"},
    {kDamaged, "bị hỏng"},
};

// States in which the device is out with its holder or agency: the ones R12.3's return
// deadline applies to once the certificate has expired or been revoked.
bool OutWithAgency(std::string_view state) {
  return state == kPersonalised || state == kHandedOver || state == kLocked ||
         state == kReturnedToAgency || state == kDamaged;
}

std::string Field(const std::map<std::string, std::string>& fields, const std::string& key) {
  auto it = fields.find(key);
  return it == fields.end() ? "" : it->second;
}

}  // namespace

const std::vector<Transition>& Transitions() {
  // The device state machine: one row per allowed move. Everything not here is refused.
  static const std::vector<Transition> table = {
      // Enrolment personalises a device from stock (kyso token enroll).
      {kInStock, kPersonalised, false, {}, "", {}},
      {kInStock, kDamaged, true, {kProvider, kAuthority}, "", {"reason"}},
      // The managing agency hands it to its holder.
      {kPersonalised, kHandedOver, true, {kFocal, kAuthority, kProvider}, "", {}},
      // A SIM PKI is certified in its holder's phone (kyso sim enroll): nothing to hand over.
      {kInStock, kHandedOver, false, {}, "", {}},
      // A token reports its user PIN locked (kyso token status), or an officer records it.
      {kHandedOver, kLocked, true, {kFocal, kAuthority, kProvider}, "", {}},
      // R13.1: recovery by the SO (kyso token unblock) or, for a SIM PKI, by the provider.
      {kLocked, kHandedOver, false, {}, "", {}},
      // R12.3: the holder gives it back to the agency, which returns it to the provider
      // with a handover record (Mẫu 08).
      {kPersonalised, kReturnedToAgency, true, {kFocal}, "", {}},
      {kHandedOver, kReturnedToAgency, true, {kFocal}, "", {}},
      {kLocked, kReturnedToAgency, true, {kFocal}, "", {}},
      {kReturnedToAgency, kReturnedToProvider, true, {kFocal, kProvider}, "mau08", {"receiver"}},
      {kDamaged, kReturnedToProvider, true, {kFocal, kProvider}, "mau08", {"receiver"}},
      // A lost device gets a loss record (Mẫu 09).
      {kPersonalised, kLost, true, {kFocal, kProvider}, "mau09", {"reason"}},
      {kHandedOver, kLost, true, {kFocal, kProvider}, "mau09", {"reason"}},
      {kLocked, kLost, true, {kFocal, kProvider}, "mau09", {"reason"}},
      {kReturnedToAgency, kLost, true, {kFocal, kProvider}, "mau09", {"reason"}},
      {kPersonalised, kDamaged, true, {kFocal, kAuthority, kProvider}, "", {"reason"}},
      {kHandedOver, kDamaged, true, {kFocal, kAuthority, kProvider}, "", {"reason"}},
      {kLocked, kDamaged, true, {kFocal, kAuthority, kProvider}, "", {"reason"}},
      {kReturnedToAgency, kDamaged, true, {kFocal, kAuthority, kProvider}, "", {"reason"}},
      // The provider wipes a returned device and puts it back in stock.
      {kReturnedToProvider, kInStock, true, {kProvider}, "", {}},
  };
  return table;
}

std::string_view StateLabel(std::string_view state) {
  for (const StateInfo& s : kStates) {
    if (s.state == state) return s.label;
  }
  return "?";
}

Result<const Transition*> FindTransition(std::string_view from, std::string_view to) {
  if (StateLabel(to) == "?") {
    std::string names;
    for (const StateInfo& s : kStates) names += (names.empty() ? "" : ", ") + std::string(s.state);
    return InvalidArgumentError("trạng thái '" + std::string(to) + "' không tồn tại (" + names + ")");
  }
  std::string allowed;
  for (const Transition& t : Transitions()) {
    if (t.from != from) continue;
    if (t.to == to) return &t;
    allowed += (allowed.empty() ? "" : ", ") + std::string(t.to);
  }
  return FailedPreconditionError(
      "không chuyển được thiết bị từ " + std::string(from) + " (" + std::string(StateLabel(from)) +
      ") sang " + std::string(to) + " (" + std::string(StateLabel(to)) + "); từ " +
      std::string(from) + " chỉ chuyển được sang: " + (allowed.empty() ? "không trạng thái nào" : allowed));
}

Status CheckAutomaticMove(std::string_view from, std::string_view to) {
  if (from == to) return OkStatus();
  return FindTransition(from, to).status();
}

Inventory::Inventory(const Config& config, store::Store& store, const Workflow& workflow,
                     const Clock& clock)
    : config_(config), store_(store), workflow_(workflow), clock_(clock) {}

Status Inventory::CheckCanSee(const Actor& actor, const store::Device& d) const {
  if (InScope(workflow_.agencies(), actor, d.agency_code)) return OkStatus();
  if (actor.role == Role::kSubscriber) return PermissionDeniedError("R15.2: thuê bao không xem danh mục thiết bị");
  return PermissionDeniedError("R15.2: thiết bị " + d.serial + " thuộc cơ quan khác");
}

Status Inventory::Add(const Actor& actor, store::Device device) {
  if (actor.role != Role::kConsole && actor.role != Role::kProvider && actor.role != Role::kAdmin) {
    return PermissionDeniedError("R15.2: thiết bị được nhập kho bởi tổ chức cung cấp dịch vụ");
  }
  if (device.serial.empty() || device.serial.size() > 64) {
    return InvalidArgumentError("số sê-ri thiết bị dài từ 1 đến 64 ký tự");
  }
  if (device.type != "token" && device.type != "sim") {
    return InvalidArgumentError("loại thiết bị là token hoặc sim");
  }
  device.state = std::string(kInStock);
  store::DeviceChange change{std::move(device), std::nullopt, {}};
  change.event.date = workflow_.Today();
  return store_.SaveDevice(change, actor.name);
}

Status Inventory::Move(const Actor& actor, std::string_view serial, std::string_view to,
                       const std::map<std::string, std::string>& fields) {
  KYSO_ASSIGN_OR_RETURN(store::Device d, store_.GetDevice(serial));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, d));
  if (actor.role == Role::kAuditor || actor.role == Role::kSubscriber) {
    return PermissionDeniedError("R15.2: " + std::string(RoleName(actor.role)) + " không chuyển trạng thái thiết bị");
  }
  KYSO_ASSIGN_OR_RETURN(const Transition* t, FindTransition(d.state, to));
  if (!t->by_hand) {
    return FailedPreconditionError(
        "thiết bị " + d.serial + ": " + d.state + " -> " + std::string(to) + " chỉ do kyso thực hiện (" +
        (to == kPersonalised ? "kyso token enroll" : "kyso token unblock, hoặc tổ chức cung cấp dịch vụ phê duyệt yêu cầu khôi phục SIM PKI") + ")");
  }
  if (actor.role != Role::kConsole && actor.role != Role::kAdmin &&
      std::find(t->roles.begin(), t->roles.end(), actor.role) == t->roles.end()) {
    return PermissionDeniedError("R15.2: " + std::string(RoleName(actor.role)) + " không được chuyển thiết bị từ " +
                                 d.state + " sang " + std::string(to));
  }
  for (std::string_view key : t->required) {
    if (Field(fields, std::string(key)).empty()) {
      return InvalidArgumentError("chuyển sang " + std::string(to) + " cần --field " + std::string(key) + "=...");
    }
  }
  static const char* const kKnown[] = {"date", "receiver", "reason", "request"};
  json extra = json::object();
  for (const auto& [k, v] : fields) {
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) extra[k] = v;
  }
  const std::string date = Field(fields, "date").empty() ? workflow_.Today() : Field(fields, "date");
  if (!ParseDate(date).ok()) return InvalidArgumentError("--field date= là ngày dạng YYYY-MM-DD");

  store::DeviceChange change{d, d.state, {}};
  change.device.state = std::string(to);
  if (to == kInStock) {
    // Back in stock the device belongs to no one; its SO PIN is kept until it is re-enrolled.
    change.device.holder_id.reset();
    change.device.agency_code.clear();
    change.device.certificate_serial.clear();
    change.device.request_id.reset();
    change.device.pin_state = "ok";
  }
  store::DeviceEvent& e = change.event;
  e.form = std::string(t->form);
  e.certificate_serial = d.certificate_serial;
  e.holder = d.holder_name;
  e.agency_code = d.agency_code;
  e.date = date;
  e.receiver = Field(fields, "receiver");
  e.reason = Field(fields, "reason");
  e.extra = extra.dump();
  if (const std::string request = Field(fields, "request"); !request.empty()) {
    int64_t id = 0;
    try {
      id = std::stoll(request);
    } catch (...) {
    }
    if (id <= 0) return InvalidArgumentError("--field request= là số của một yêu cầu");
    KYSO_RETURN_IF_ERROR(workflow_.Show(actor, id).status());  // R15.2: one the actor may see
    e.request_id = id;
  } else if (!t->form.empty() && !d.certificate_serial.empty()) {
    // The record links to the request that called for it: the handover or loss request
    // filed when the certificate was revoked (R12.3).
    store::RequestFilter f;
    f.kind = t->form == "mau08" ? "handover" : "lost";
    f.target_serial = d.certificate_serial;
    f.limit = 1;
    KYSO_ASSIGN_OR_RETURN(std::vector<store::RequestRecord> requests, store_.ListRequests(f));
    if (!requests.empty()) e.request_id = requests.front().id;
  }
  return store_.SaveDevice(change, actor.name);
}

Status Inventory::ObservePinState(const Actor& actor, std::string_view serial, std::string_view pin_state) {
  KYSO_ASSIGN_OR_RETURN(store::Device d, store_.GetDevice(serial));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, d));
  // An auditor reads; only the roles that move devices record what a token says.
  if (actor.role == Role::kAuditor || actor.role == Role::kSubscriber) return OkStatus();
  const bool lock = pin_state == "locked" && d.state == kHandedOver;
  if (d.pin_state == pin_state && !lock) return OkStatus();
  store::DeviceChange change{d, d.state, {}};
  change.device.pin_state = std::string(pin_state);
  if (lock) change.device.state = std::string(kLocked);
  change.event.certificate_serial = d.certificate_serial;
  change.event.holder = d.holder_name;
  change.event.agency_code = d.agency_code;
  change.event.date = workflow_.Today();
  change.event.reason = "the token reports its user PIN " + std::string(pin_state);
  return store_.SaveDevice(change, actor.name);
}

Result<DeviceView> Inventory::View(store::Device d) {
  DeviceView v{std::move(d), std::nullopt, false};
  if (v.device.certificate_serial.empty() || !OutWithAgency(v.device.state)) return v;
  Result<store::CertificateRecord> cert = store_.GetCertificate(v.device.certificate_serial);
  if (!cert.ok()) return v;
  // R12.3: back with the provider within days_handover working days of the revocation, or of
  // the expiry.
  std::optional<Time> ended = cert->revoked_at;
  if (!ended && cert->not_after < clock_.Now()) ended = cert->not_after;
  if (!ended) return v;
  const Date due = workflow_.calendar().AddWorkingDays(LocalDate(*ended), config_.ra.days_handover);
  v.return_due = FormatDate(due);
  v.overdue = *v.return_due < workflow_.Today();
  return v;
}

Result<DeviceView> Inventory::Show(const Actor& actor, std::string_view serial) {
  KYSO_ASSIGN_OR_RETURN(store::Device d, store_.GetDevice(serial));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, d));
  return View(std::move(d));
}

Result<std::vector<store::DeviceEvent>> Inventory::History(const Actor& actor, std::string_view serial) {
  KYSO_ASSIGN_OR_RETURN(store::Device d, store_.GetDevice(serial));
  KYSO_RETURN_IF_ERROR(CheckCanSee(actor, d));
  KYSO_ASSIGN_OR_RETURN(std::vector<store::DeviceEvent> events, store_.DeviceEvents(serial));
  if (actor.role == Role::kFocal) {
    // R15.2: a reused device's earlier holders belong to other agencies' records.
    std::erase_if(events, [&](const store::DeviceEvent& e) {
      return !e.agency_code.empty() && !workflow_.agencies().Contains(actor.agency_code, e.agency_code);
    });
  }
  return events;
}

Result<std::vector<DeviceView>> Inventory::List(const Actor& actor, std::optional<std::string> state,
                                                bool overdue_only) {
  if (actor.role == Role::kSubscriber) {
    return PermissionDeniedError("R15.2: thuê bao không xem danh mục thiết bị");
  }
  if (state && StateLabel(*state) == "?") {
    return InvalidArgumentError("trạng thái '" + *state + "' không tồn tại");
  }
  store::DeviceFilter f;
  f.state = std::move(state);
  if (actor.role == Role::kFocal) {
    f.agency_codes = workflow_.agencies().Subtree(actor.agency_code);
    if (f.agency_codes.empty()) return std::vector<DeviceView>();  // fail closed: no filter is "all"
  }
  KYSO_ASSIGN_OR_RETURN(std::vector<store::Device> devices, store_.ListDevices(f));
  std::vector<DeviceView> out;
  for (store::Device& d : devices) {
    KYSO_ASSIGN_OR_RETURN(DeviceView v, View(std::move(d)));
    if (overdue_only && !v.overdue) continue;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace kyso::ra
