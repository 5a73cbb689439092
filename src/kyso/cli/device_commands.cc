#include "kyso/cli/device_commands.h"

#include <fcntl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "kyso/ca/audit_checkpoint.h"
#include "kyso/cli/deployment.h"
#include "kyso/cli/ra_commands.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"
#include "kyso/ra/devices.h"
#include "kyso/token/token.h"

namespace kyso::cli {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The key pair kyso makes on a subscriber's token; one per device (renewals and changes
// certify the same key).
constexpr std::string_view kSubscriberKeyLabel = "kyso-key";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kSoPinAlphabet =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

// HolderPin is the PIN a holder types: 8 digits, or the token's minimum length if longer.
// Wrong tries are limited by the token itself (R13.1), which is what makes 8 digits enough.
Result<SecretString> HolderPin(const token::TokenInfo* info) {
  std::size_t len = 8;
  if (info != nullptr && info->min_pin_len > len && info->min_pin_len <= 64) len = info->min_pin_len;
  return RandomSecret(len, kDigits);
}

// SoPin is the security officer's PIN: never shown to anyone, only kept wrapped.
Result<SecretString> SoPin(const token::TokenInfo* info) {
  std::size_t len = 16;  // 93 bits; most tokens take 16 characters
  if (info != nullptr && info->max_pin_len >= 24 && info->max_pin_len < 1024) len = 24;
  return RandomSecret(len, kSoPinAlphabet);
}

// PinHandover gives a holder's PIN exactly once: to a new --pin-out file, created (O_EXCL,
// mode 0600) before the token is touched so a bad path is refused while nothing has changed,
// or on `out`. It is given as soon as the token holds the PIN, before anything else can fail;
// a file that never received a PIN is removed.
class PinHandover final {
 public:
  static Result<std::unique_ptr<PinHandover>> Open(const std::string& path, std::ostream& out) {
    int fd = -1;
    if (!path.empty()) {
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) {
        return FailedPreconditionError("--pin-out " + path + ": " + std::strerror(errno) +
                                       " (kyso writes a PIN only to a new file)");
      }
    }
    return std::unique_ptr<PinHandover>(new PinHandover(path, fd, out));
  }
  PinHandover(const PinHandover&) = delete;
  PinHandover& operator=(const PinHandover&) = delete;
  ~PinHandover() {
    if (fd_ >= 0) {
      ::close(fd_);
      if (!given_) ::unlink(path_.c_str());
    }
  }

  void Give(const SecretString& pin) {
    given_ = true;
    if (fd_ >= 0) {
      std::string line = std::string(pin.reveal()) + "\n";
      const bool ok = ::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                      ::fsync(fd_) == 0;
      Cleanse(line.data(), line.size());
      if (ok) return;
      out_ << "không ghi được " << path_ << "; ";  // the PIN is on the token now: show it
    }
    out_ << "PIN của người giữ thiết bị (chỉ hiện một lần): " << pin.reveal() << "\n";
  }

 private:
  PinHandover(std::string path, int fd, std::ostream& out) : path_(std::move(path)), fd_(fd), out_(out) {}
  std::string path_;
  int fd_;
  std::ostream& out_;
  bool given_ = false;
};

// SoPinContext binds a wrapped SO PIN to what it belongs to (GCM AAD): the token label while
// it is pending, the device's serial once it is recorded. A blob copied to another row does
// not unwrap there.
std::string PendingSoPinContext(std::string_view label) { return "kyso-so-pin|label|" + std::string(label); }
std::string DeviceSoPinContext(std::string_view serial) { return "kyso-so-pin|serial|" + std::string(serial); }

// InStock gives the inventory's record of device `serial`: none when it is unknown, the
// record when it is in stock, a refusal when it belongs to someone.
Result<std::optional<store::Device>> InStock(store::Store& store, const std::string& serial) {
  Result<store::Device> known = store.GetDevice(serial);
  if (!known.ok()) {
    if (known.status().code() == Code::kNotFound) return std::optional<store::Device>();
    return known.status();
  }
  if (known->state != ra::kInStock) {
    return FailedPreconditionError("thiết bị " + known->serial + " đang ở trạng thái " + known->state + " (" +
                                   std::string(ra::StateLabel(known->state)) +
                                   "); chỉ thiết bị trong kho được cá nhân hóa");
  }
  return std::optional<store::Device>(std::move(known).value());
}

Result<Bytes> SubjectKeyId(ByteSpan cert_der) {
  KYSO_ASSIGN_OR_RETURN(auto cert, pkix::ParseCertificate(cert_der));
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
  if (ski == nullptr) return FailedPreconditionError("the certificate has no subjectKeyIdentifier");
  return Bytes(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski));
}

json ToJson(const ra::DeviceView& v) {
  const store::Device& d = v.device;
  return json{{"serial", d.serial},
              {"type", d.type},
              {"model", d.model},
              {"manufacturer", d.manufacturer},
              {"token_label", d.token_label.empty() ? json(nullptr) : json(d.token_label)},
              {"phone", d.phone.empty() ? json(nullptr) : json(d.phone)},
              {"operator", d.operator_name.empty() ? json(nullptr) : json(d.operator_name)},
              {"state", d.state},
              {"state_label", ra::StateLabel(d.state)},
              {"holder", d.holder_name.empty() ? json(nullptr) : json(d.holder_name)},
              {"holder_id", d.holder_id ? json(*d.holder_id) : json(nullptr)},
              {"agency", d.agency_code.empty() ? json(nullptr) : json(d.agency_code)},
              {"certificate_serial", d.certificate_serial.empty() ? json(nullptr) : json(d.certificate_serial)},
              {"request", d.request_id ? json(*d.request_id) : json(nullptr)},
              {"pin_state", d.pin_state},
              {"return_due", v.return_due ? json(*v.return_due) : json(nullptr)},
              {"overdue", v.overdue},
              {"updated_at", FormatIso8601Utc(d.updated_at)}};
}

json ToJson(const store::DeviceEvent& e) {
  return json{{"at", FormatIso8601Utc(e.at)},
              {"actor", e.actor},
              {"from", e.from_state},
              {"to", e.to_state},
              {"form", e.form.empty() ? json(nullptr) : json(e.form)},
              {"certificate_serial", e.certificate_serial},
              {"holder", e.holder},
              {"agency", e.agency_code},
              {"date", e.date},
              {"receiver", e.receiver},
              {"reason", e.reason},
              {"request", e.request_id ? json(*e.request_id) : json(nullptr)},
              {"fields", json::parse(e.extra, nullptr, false)}};
}

Result<std::map<std::string, std::string>> ParseFields(const std::vector<std::string>& kvs) {
  std::map<std::string, std::string> fields;
  for (const std::string& kv : kvs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgumentError("--field takes KEY=VALUE");
    fields[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return fields;
}

}  // namespace

Status CmdTokenEnroll(const TokenEnrollArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(KeySpec spec, ParseKeySpec(a.key), "--key");
  std::optional<SecretString> factory_so_pin;
  if (!a.so_pin_file.empty()) {
    KYSO_ASSIGN_OR_RETURN(factory_so_pin, ReadSecretFile(a.so_pin_file), "--so-pin-file");
  }
  // Everything that can be checked is checked before the token is touched.
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, true));
  KYSO_ASSIGN_OR_RETURN(ra::Workflow::WaitingRow row, s.workflow->NextWaitingRow(s.actor, a.request));
  store::Store& store = s.deployment->store();
  token::Token& ca_token = *s.deployment->token();
  Result<token::TokenInfo> before = token::Token::Describe(a.module, a.token_label);
  if (!before.ok() && before.status().code() != Code::kNotFound) return before.status();
  std::optional<store::Device> stocked;
  if (before.ok()) {
    KYSO_ASSIGN_OR_RETURN(stocked, InStock(store, before->serial));
  }
  KYSO_ASSIGN_OR_RETURN(auto pin_out, PinHandover::Open(a.pin_out, out));

  // The SO PIN the token will have: the one an interrupted enrolment already chose (pending),
  // or the one kyso gave it before it came back to stock, or a new one. It is wrapped by the
  // CA's token and stored before the token is changed, so a crash can never lose it.
  KYSO_ASSIGN_OR_RETURN(std::optional<Bytes> pending, store.GetPendingSoPin(a.token_label));
  SecretString so_pin;
  if (pending) {
    KYSO_ASSIGN_OR_RETURN(so_pin, ca_token.UnwrapSecret(kWrapKeyLabel, *pending, PendingSoPinContext(a.token_label)),
                          "the token's pending SO PIN");
  } else if (stocked && !stocked->so_pin_wrapped.empty()) {
    KYSO_ASSIGN_OR_RETURN(so_pin, ca_token.UnwrapSecret(kWrapKeyLabel, stocked->so_pin_wrapped,
                                                        DeviceSoPinContext(stocked->serial)),
                          "the token's SO PIN");
  } else {
    KYSO_ASSIGN_OR_RETURN(so_pin, SoPin(before.ok() ? &*before : nullptr));
  }
  if (!pending) {
    KYSO_ASSIGN_OR_RETURN(Bytes wrapped, ca_token.WrapSecret(kWrapKeyLabel, so_pin, PendingSoPinContext(a.token_label)),
                          "wrap the token's SO PIN");
    KYSO_RETURN_IF_ERROR(store.PutPendingSoPin(a.token_label, wrapped, s.actor.name));
  }
  // An initialized token is re-initialised with its current SO PIN: kyso's own first (a
  // retry, or a token back in stock), then the factory's.
  std::vector<const SecretString*> current;
  if (pending || (stocked && !stocked->so_pin_wrapped.empty())) current.push_back(&so_pin);
  if (factory_so_pin) current.push_back(&*factory_so_pin);
  KYSO_ASSIGN_OR_RETURN(SecretString user_pin, HolderPin(before.ok() ? &*before : nullptr));
  bool changed = false;
  if (Status p = token::Token::Personalise(a.module, a.token_label, current, so_pin, user_pin, &changed);
      !p.ok()) {
    // A token refused before any change keeps its SO PIN: forget the one chosen in this run.
    // After a change the token may hold it, so it stays kept for the next run.
    if (!changed && !pending) (void)store.DropPendingSoPin(a.token_label, s.actor.name);
    return p.WithContext("token " + a.token_label);
  }
  pin_out->Give(user_pin);

  // The device, with its SO PIN, is recorded now; the pending SO PIN goes in the same commit.
  KYSO_ASSIGN_OR_RETURN(token::TokenInfo tinfo, token::Token::Describe(a.module, a.token_label));
  KYSO_ASSIGN_OR_RETURN(std::optional<store::Device> known, InStock(store, tinfo.serial));
  store::Device device = known.value_or(store::Device{});
  device.serial = tinfo.serial;
  device.type = "token";
  device.model = tinfo.model;
  device.manufacturer = tinfo.manufacturer;
  device.token_label = tinfo.label;
  device.state = std::string(ra::kInStock);
  KYSO_ASSIGN_OR_RETURN(device.so_pin_wrapped,
                        ca_token.WrapSecret(kWrapKeyLabel, so_pin, DeviceSoPinContext(tinfo.serial)),
                        "wrap the token's SO PIN");
  {
    store::DeviceChange stock{device, known ? std::optional<std::string>(device.state) : std::nullopt, {}};
    stock.event.date = s.workflow->Today();
    stock.event.reason = "personalised for request " + std::to_string(a.request);
    stock.clears_pending_so_pin = a.token_label;
    KYSO_RETURN_IF_ERROR(store.SaveDevice(stock, s.actor.name), "record the token");
  }

  // The key is made on the token, and the CSR signed there proves it.
  KYSO_ASSIGN_OR_RETURN(auto holder, token::Token::Open(a.module, a.token_label, user_pin));
  KYSO_ASSIGN_OR_RETURN(auto key, holder->GenerateKeyPair(kSubscriberKeyLabel, spec, false));
  KYSO_ASSIGN_OR_RETURN(Bytes csr_der, pkix::MakeCertRequest(*key, row.name));
  KYSO_ASSIGN_OR_RETURN(pkix::CertRequest csr, pkix::ParseCertRequest(csr_der));

  store::DeviceChange personalised{device, std::string(ra::kInStock), {}};
  personalised.device.state = std::string(ra::kPersonalised);
  personalised.event.date = s.workflow->Today();
  KYSO_ASSIGN_OR_RETURN(ca::Issued issued, s.workflow->Enrol(s.actor, row, csr, std::move(personalised)));

  // The certificate goes on the token under the key's CKA_ID (its subjectKeyIdentifier);
  // the CA certificates get IDs of their own, so tools pair each key with its certificate.
  Status written = [&]() -> Status {
    KYSO_ASSIGN_OR_RETURN(Bytes id, SubjectKeyId(issued.cert_der));
    KYSO_RETURN_IF_ERROR(holder->SetKeyId(kSubscriberKeyLabel, id));
    KYSO_RETURN_IF_ERROR(holder->WriteCertificate(row.name, id, issued.cert_der, false));
    if (!a.write_ca_certs) return OkStatus();
    for (std::string_view role : {ca::kIssuing, ca::kRoot}) {
      KYSO_ASSIGN_OR_RETURN(store::CaKey ca_key, store.GetCaKey(role));
      KYSO_ASSIGN_OR_RETURN(Bytes ca_id, SubjectKeyId(ca_key.cert_der));
      KYSO_RETURN_IF_ERROR(holder->WriteCertificate("kyso " + std::string(role) + " CA", ca_id,
                                                    ca_key.cert_der, true));
    }
    return OkStatus();
  }();
  if (!written.ok()) {
    return written.WithContext("certificate " + issued.serial_hex +
                               " is issued and recorded, but writing it to the token failed; "
                               "`kyso cert show --serial " + issued.serial_hex + " --pem` gives it");
  }
  KYSO_RETURN_IF_ERROR(s.deployment->Checkpoint(s.actor.name, ca::kCheckpointEvery).status());
  out << "token " << tinfo.serial << " enrolled for request " << a.request << ", row "
      << row.index + 1 << ": certificate " << issued.serial_hex << "\n";
  return OkStatus();
}

Status CmdTokenStatus(const TokenStatusArgs& a, std::ostream& out) {
  if (!a.home.empty()) PointSoftHsmAt(a.home);
  KYSO_ASSIGN_OR_RETURN(token::TokenInfo info, token::Token::Describe(a.module, a.token_label));
  std::optional<ra::DeviceView> view;
  if (!a.home.empty()) {
    // R13.1: the inventory shows what the token says about its PIN.
    KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
    ra::Inventory inventory(s.deployment->config(), s.deployment->store(), *s.workflow, s.deployment->clock());
    Status observed = inventory.ObservePinState(s.actor, info.serial, token::PinStateName(info.user_pin));
    if (!observed.ok() && observed.code() != Code::kNotFound) return observed;
    if (observed.ok()) {
      KYSO_ASSIGN_OR_RETURN(ra::DeviceView v, inventory.Show(s.actor, info.serial));
      view = std::move(v);
    }
  }
  if (a.json) {
    json j{{"label", info.label},
           {"serial", info.serial},
           {"manufacturer", info.manufacturer},
           {"model", info.model},
           {"initialized", info.initialized},
           {"user_pin_initialized", info.user_pin_initialized},
           {"user_pin", token::PinStateName(info.user_pin)},
           {"so_pin", token::PinStateName(info.so_pin)},
           {"locked", info.user_pin == token::PinState::kLocked},
           {"device_state", view ? json(view->device.state) : json(nullptr)}};
    out << j.dump(2) << "\n";
    return OkStatus();
  }
  out << "token " << info.label << " (serial " << info.serial << ", " << info.manufacturer << " "
      << info.model << ")\n"
      << "user PIN: " << (info.user_pin_initialized ? token::PinStateName(info.user_pin) : "not set")
      << "\nSO PIN: " << token::PinStateName(info.so_pin) << "\n";
  if (info.user_pin == token::PinState::kLocked) {
    out << "Thiết bị bị khóa do nhập sai PIN quá số lần cho phép; lập yêu cầu khôi phục (Mẫu 06).\n";
  }
  if (view) out << "inventory: " << view->device.state << " (" << ra::StateLabel(view->device.state) << ")\n";
  return OkStatus();
}

Status CmdTokenUnblock(const TokenUnblockArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, true));
  KYSO_ASSIGN_OR_RETURN(token::TokenInfo info, token::Token::Describe(a.module, a.token_label));
  store::Store& store = s.deployment->store();
  KYSO_ASSIGN_OR_RETURN(store::Device device, store.GetDevice(info.serial));
  if (device.type != "token") return FailedPreconditionError("device " + device.serial + " is not a PKI Token");
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord request, s.workflow->CheckRecovery(s.actor, a.request, device));
  if (device.so_pin_wrapped.empty()) {
    return FailedPreconditionError("R13.1: kyso holds no SO PIN for token " + device.serial +
                                   "; it was not enrolled by this deployment");
  }
  KYSO_ASSIGN_OR_RETURN(SecretString so_pin,
                        s.deployment->token()->UnwrapSecret(kWrapKeyLabel, device.so_pin_wrapped,
                                                            DeviceSoPinContext(device.serial)),
                        "the token's SO PIN");
  KYSO_ASSIGN_OR_RETURN(auto pin_out, PinHandover::Open(a.pin_out, out));
  KYSO_ASSIGN_OR_RETURN(SecretString new_pin, HolderPin(&info));
  KYSO_RETURN_IF_ERROR(token::Token::Unblock(a.module, a.token_label, so_pin, new_pin),
                       "token " + a.token_label);
  pin_out->Give(new_pin);
  // The key is untouched: the holder's new PIN opens it.
  {
    KYSO_ASSIGN_OR_RETURN(auto holder, token::Token::Open(a.module, a.token_label, new_pin),
                          "the new PIN");
    KYSO_RETURN_IF_ERROR(holder->FindSigner(kSubscriberKeyLabel, false).status(), "the holder's key");
  }
  KYSO_RETURN_IF_ERROR(s.workflow->CompleteRecovery(s.actor, request, device));
  KYSO_RETURN_IF_ERROR(s.deployment->Checkpoint(s.actor.name, ca::kCheckpointEvery).status());
  out << "token " << device.serial << " unblocked for request " << a.request
      << "; the key and certificate are unchanged\n";
  return OkStatus();
}

Status CmdDeviceList(const DeviceListArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
  ra::Inventory inventory(s.deployment->config(), s.deployment->store(), *s.workflow, s.deployment->clock());
  KYSO_ASSIGN_OR_RETURN(std::vector<ra::DeviceView> views, inventory.List(s.actor, a.state, a.overdue));
  json arr = json::array();
  for (const ra::DeviceView& v : views) arr.push_back(ToJson(v));
  out << arr.dump(2) << "\n";
  return OkStatus();
}

Status CmdDeviceShow(const std::string& home, const std::string& as, const std::string& serial,
                     std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(home, as, false));
  ra::Inventory inventory(s.deployment->config(), s.deployment->store(), *s.workflow, s.deployment->clock());
  KYSO_ASSIGN_OR_RETURN(ra::DeviceView v, inventory.Show(s.actor, serial));
  KYSO_ASSIGN_OR_RETURN(std::vector<store::DeviceEvent> events, inventory.History(s.actor, serial));
  json j = ToJson(v);
  j["history"] = json::array();
  for (const store::DeviceEvent& e : events) j["history"].push_back(ToJson(e));
  out << j.dump(2) << "\n";
  return OkStatus();
}

Status CmdDeviceMove(const DeviceMoveArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(auto fields, ParseFields(a.fields));
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
  ra::Inventory inventory(s.deployment->config(), s.deployment->store(), *s.workflow, s.deployment->clock());
  KYSO_RETURN_IF_ERROR(inventory.Move(s.actor, a.serial, a.to, fields));
  out << "device " << a.serial << " " << a.to << "\n";
  return OkStatus();
}

Status CmdDeviceAdd(const DeviceAddArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
  ra::Inventory inventory(s.deployment->config(), s.deployment->store(), *s.workflow, s.deployment->clock());
  store::Device d;
  d.serial = a.serial.empty() && a.type == "sim" ? a.phone : a.serial;
  d.type = a.type;
  d.model = a.model;
  d.manufacturer = a.manufacturer;
  d.token_label = a.token_label;
  d.phone = a.phone;
  d.operator_name = a.operator_name;
  if (a.type == "sim" && a.phone.empty()) return InvalidArgumentError("a SIM PKI needs --phone");
  KYSO_RETURN_IF_ERROR(inventory.Add(s.actor, d));
  out << "device " << d.serial << " in_stock\n";
  return OkStatus();
}

}  // namespace kyso::cli
