#include "kyso/cli/ra_commands.h"

#include <openssl/evp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "kyso/ca/audit_checkpoint.h"
#include "kyso/cli/deployment.h"
#include "kyso/ra/password.h"
#include "kyso/ra/workflow.h"

namespace kyso::cli {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxRowsFileLen = 16 << 20;
constexpr std::size_t kMaxAttachmentLen = 20 << 20;
constexpr std::size_t kMaxCsrLen = 64 << 10;

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode(ByteSpan(md, len));
}

// ActorFor resolves --as: a user of the deployment, or the console administrator.
Result<ra::Actor> ActorFor(store::Store& store, const std::string& as) {
  if (as.empty()) return ra::Actor::Console();
  KYSO_ASSIGN_OR_RETURN(store::User user, store.GetUser(as), "--as");
  KYSO_ASSIGN_OR_RETURN(ra::Role role, ra::ParseRole(user.role));
  return ra::Actor{user.name, role, user.agency_code};
}

json ToJson(const ra::RequestView& v) {
  const store::RequestRecord& r = v.record;
  json j = {{"id", r.id},
            {"kind", r.kind},
            {"state", r.state},
            {"route", r.route},
            {"exchange_code", r.exchange_code.empty() ? json(nullptr) : json(r.exchange_code)},
            {"agency", r.agency_code},
            {"filed_by", r.filed_by},
            {"filed_at", FormatIso8601Utc(r.filed_at)},
            {"due_date", r.due_date},
            {"overdue", v.overdue},
            {"decided_by", r.decided_by.empty() ? json(nullptr) : json(r.decided_by)},
            {"decided_at", r.decided_at ? json(FormatIso8601Utc(*r.decided_at)) : json(nullptr)},
            {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
            {"target_serial", r.target_serial.empty() ? json(nullptr) : json(r.target_serial)},
            {"parent_request", r.parent_request ? json(*r.parent_request) : json(nullptr)},
            {"certificate_serial",
             r.certificate_serials.empty() ? json(nullptr) : json(r.certificate_serials.front())},
            {"certificate_serials", r.certificate_serials}};
  const json payload = json::parse(r.payload, nullptr, false);
  if (payload.is_object() && payload.contains("rows")) j["rows"] = payload["rows"].size();
  return j;
}

bool NeedsCa(const std::string& kind) { return kind != "recover" && kind != "handover" && kind != "lost"; }

}  // namespace

Result<RaSession> OpenRa(const std::string& home, const std::string& as, bool with_ca) {
  RaSession s;
  KYSO_ASSIGN_OR_RETURN(s.deployment, Deployment::Open(home, with_ca));
  KYSO_ASSIGN_OR_RETURN(s.actor, ActorFor(s.deployment->store(), as));
  s.workflow = std::make_unique<ra::Workflow>(s.deployment->config(), s.deployment->store(),
                                              with_ca ? &s.deployment->authority() : nullptr,
                                              s.deployment->clock());
  KYSO_RETURN_IF_ERROR(s.workflow->Load());
  return s;
}

Status CmdAgencyImport(const std::string& home, const std::string& as, const std::string& csv_path,
                       std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(std::string csv, ReadFileLimited(csv_path, kMaxRowsFileLen));
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(home, as, false));
  if (s.actor.role != ra::Role::kConsole && s.actor.role != ra::Role::kAdmin) {
    return PermissionDeniedError("only an administrator imports agencies");
  }
  KYSO_ASSIGN_OR_RETURN(std::vector<store::Agency> existing, s.deployment->store().ListAgencies());
  KYSO_ASSIGN_OR_RETURN(std::vector<store::Agency> agencies, ra::ParseAgencyCsv(csv, existing));
  KYSO_RETURN_IF_ERROR(s.deployment->store().UpsertAgencies(agencies, s.actor.name));
  out << "imported " << agencies.size() << " agencies\n";
  return OkStatus();
}

Status CmdUserAdd(const UserAddArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(ra::Role role, ra::ParseRole(a.role));
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
  if (s.actor.role != ra::Role::kConsole && s.actor.role != ra::Role::kAdmin) {
    return PermissionDeniedError("R14.2: only an administrator adds users");
  }
  if (a.name.empty() || a.name.size() > 64 ||
      a.name.find_first_of(" \t\r\n/\\\"'") != std::string::npos) {
    return InvalidArgumentError("a user name is 1 to 64 characters without spaces or quotes");
  }
  if ((role == ra::Role::kFocal || role == ra::Role::kSubscriber) && a.agency.empty()) {
    return InvalidArgumentError("R15.2: a focal person is bound to one managing agency: --agency CODE");
  }
  if (!a.agency.empty()) {
    const store::Agency* agency = s.workflow->agencies().Find(a.agency);
    if (agency == nullptr) return InvalidArgumentError("R2.1: agency " + a.agency + " is not in the province's tree");
    if (role == ra::Role::kFocal && !agency->legal_entity) {
      return InvalidArgumentError("R3.6: a focal person acts for a managing agency with legal personality");
    }
  }
  KYSO_ASSIGN_OR_RETURN(SecretString password, ReadSecretFile(a.password_file), "--password-file");
  KYSO_ASSIGN_OR_RETURN(std::string hash, ra::HashPassword(password));
  KYSO_RETURN_IF_ERROR(s.deployment->store().PutUser(
      store::User{a.name, std::string(ra::RoleName(role)), a.agency, hash}, s.actor.name));
  out << "added " << a.name << " (" << ra::RoleName(role) << ")\n";
  return OkStatus();
}

Status CmdRequestFile(const RequestFileArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(ra::RequestKind kind, ra::ParseRequestKind(a.kind));
  ra::FilingInput in;
  in.kind = kind;
  in.target_serial = a.serial;
  in.reason = a.reason;
  for (const std::string& kv : a.fields) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgumentError("--field takes KEY=VALUE");
    in.fields[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (!a.rows_path.empty()) {
    KYSO_ASSIGN_OR_RETURN(in.rows_csv, ReadFileLimited(a.rows_path, kMaxRowsFileLen));
  }
  for (const std::string& path : a.attachments) {
    KYSO_ASSIGN_OR_RETURN(std::string content, ReadFileLimited(path, kMaxAttachmentLen), "--attach");
    in.attachments.push_back(store::Attachment{std::filesystem::path(path).filename().string(),
                                               Sha256Hex(content), std::move(content)});
  }
  // CSR paths in the rows are relative to the rows file, as a spreadsheet's links are.
  const std::filesystem::path base = a.rows_path.empty() ? std::filesystem::path(".")
                                                         : std::filesystem::path(a.rows_path).parent_path();
  in.read_file = [base](const std::string& path) -> Result<std::string> {
    std::filesystem::path p(path);
    if (p.is_relative() && !std::filesystem::exists(p)) p = base / p;
    return ReadFileLimited(p.string(), kMaxCsrLen);
  };
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
  KYSO_ASSIGN_OR_RETURN(int64_t id, s.workflow->File(s.actor, in));
  out << id << "\n";
  return OkStatus();
}

Status CmdRequestDecide(const std::string& home, const std::string& as,
                        const std::vector<int64_t>& ids, bool approve, const std::string& reason,
                        std::ostream& out) {
  if (ids.empty()) return InvalidArgumentError("--id is required");
  // Reading the requests first tells whether the CA (and its PIN) is needed.
  bool needs_ca = false;
  {
    KYSO_ASSIGN_OR_RETURN(auto peek, Deployment::Open(home, false));
    for (int64_t id : ids) {
      KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, peek->store().GetRequest(id));
      needs_ca = needs_ca || (approve && NeedsCa(r.kind));
    }
  }
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(home, as, needs_ca));
  KYSO_RETURN_IF_ERROR(s.workflow->DecideMany(s.actor, ids, approve, reason));
  if (needs_ca) {
    KYSO_RETURN_IF_ERROR(s.deployment->Checkpoint(s.actor.name, ca::kCheckpointEvery).status());
  }
  for (int64_t id : ids) {
    KYSO_ASSIGN_OR_RETURN(ra::RequestView v, s.workflow->Show(ra::Actor::Console(), id));
    out << "request " << id << " " << v.record.state << "\n";
  }
  return OkStatus();
}

Status CmdRequestCancel(const std::string& home, const std::string& as, int64_t id, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(home, as, false));
  KYSO_RETURN_IF_ERROR(s.workflow->Cancel(s.actor, id));
  out << "request " << id << " cancelled\n";
  return OkStatus();
}

Status CmdRequestClose(const std::string& home, const std::string& as, int64_t id, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(home, as, false));
  KYSO_RETURN_IF_ERROR(s.workflow->Close(s.actor, id));
  out << "request " << id << " closed\n";
  return OkStatus();
}

Status CmdRequestShow(const std::string& home, const std::string& as, int64_t id, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(home, as, false));
  KYSO_ASSIGN_OR_RETURN(ra::RequestView v, s.workflow->Show(s.actor, id));
  out << ToJson(v).dump(2) << "\n";
  return OkStatus();
}

Status CmdRequestList(const RequestListArgs& a, std::ostream& out) {
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, false));
  KYSO_ASSIGN_OR_RETURN(std::vector<ra::RequestView> views,
                        s.workflow->List(s.actor, a.state, a.overdue, a.limit, a.before));
  json arr = json::array();
  for (const ra::RequestView& v : views) arr.push_back(ToJson(v));
  out << arr.dump(2) << "\n";
  return OkStatus();
}

}  // namespace kyso::cli
