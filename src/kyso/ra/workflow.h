#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kyso/base/calendar.h"
#include "kyso/base/clock.h"
#include "kyso/base/config.h"
#include "kyso/ca/authority.h"
#include "kyso/pkix/csr.h"
#include "kyso/ra/actor.h"
#include "kyso/ra/agency_tree.h"
#include "kyso/store/store.h"

namespace kyso::ra {

// RequestKind is a kind of request of the RULES.md table.
enum class RequestKind {
  kNewIndividual,
  kNewOrganization,
  kNewDevice,
  kRenew,
  kChange,
  kRevoke,
  kRecover,
  kHandover,
  kLost,
};
Result<RequestKind> ParseRequestKind(std::string_view name);
std::string_view RequestKindName(RequestKind kind);

// FilingInput is what a focal person (or the console) files.
struct FilingInput {
  RequestKind kind = RequestKind::kNewIndividual;
  std::string rows_csv;  // Mẫu 01 / Mẫu 02 rows, for new-individual and new-organization
  std::string target_serial;  // renew, change, revoke, recover, handover, lost
  std::string reason;         // revoke: an RFC 5280 name or an R12.1 case
  std::map<std::string, std::string> fields;  // --field K=V
  std::vector<store::Attachment> attachments;
  // read_file reads a CSR named by a row's `csr` column or by --field csr=FILE; given by the
  // caller, which owns file access.
  std::function<Result<std::string>(const std::string& path)> read_file;
};

// RequestView is a request as its readers see it.
struct RequestView {
  store::RequestRecord record;
  bool overdue = false;
};

// Workflow carries requests through the regulation: filing (with every rule checked),
// routing (R9.1), decision, fulfilment through the CA, deadlines (R14.1) and the audit trail.
// A refused action returns a Status naming the rule ("R10.2: ...") and changes nothing.
class Workflow final {
 public:
  // `authority` may be null for reading; deciding a request that issues needs it.
  Workflow(const Config& config, store::Store& store, ca::Authority* authority,
           const Clock& clock);

  // Load reads the agency tree; call before anything else.
  Status Load();

  Result<int64_t> File(const Actor& actor, const FilingInput& input);
  // FileMany files several requests all or nothing, in one transaction.
  Result<std::vector<int64_t>> FileMany(const Actor& actor, std::span<const FilingInput> inputs);
  // Decide approves (and, when its inputs are complete, fulfils) or rejects a request.
  Status Decide(const Actor& actor, int64_t id, bool approve, std::string_view reason);
  // DecideMany decides several requests the same way: one transaction for the decisions,
  // new certificates of all of them issued as one batch, one transaction to fulfil them.
  // Every request is checked first; if any is refused, nothing changes.
  Status DecideMany(const Actor& actor, std::span<const int64_t> ids, bool approve,
                    std::string_view reason);
  Status Cancel(const Actor& actor, int64_t id);
  // Close files a fulfilled request away once its paperwork is complete (the signed form is
  // kept, R15.1); done by the role that decided it.
  Status Close(const Actor& actor, int64_t id);
  Result<RequestView> Show(const Actor& actor, int64_t id) const;
  Result<std::vector<RequestView>> List(const Actor& actor, std::optional<std::string> state,
                                        bool overdue_only, std::size_t limit,
                                        std::optional<int64_t> before_id);

  const AgencyTree& agencies() const { return *tree_; }
  const WorkingCalendar& calendar() const { return calendar_; }
  // Today is the local (Asia/Ho_Chi_Minh) date, ISO.
  std::string Today() const;

  // --- devices: enrolment and recovery (R13.1) ---

  // WaitingRow is the next row of an approved new-certificate request that waits for its
  // device: rows are enrolled in order, one device each.
  struct WaitingRow {
    store::RequestRecord request;
    std::size_t index = 0;  // 0-based row
    std::string name;       // the subject's name
    std::string sim_operator;  // Mẫu 01's sim_pki column: the SIM's operator, when it is one
  };
  Result<WaitingRow> NextWaitingRow(const Actor& actor, int64_t request_id) const;
  // Enrol issues that row's certificate from `csr`, made on the device, and saves `device` in
  // the same transaction that links the certificate to the request. The request is
  // fulfilled when its last row is enrolled.
  Result<ca::Issued> Enrol(const Actor& actor, const WaitingRow& row, const pkix::CertRequest& csr,
                           store::DeviceChange device);
  // CheckRecovery returns the approved recover request `request_id` after checking that
  // `actor` may carry it out on `device` (R13.1).
  Result<store::RequestRecord> CheckRecovery(const Actor& actor, int64_t request_id,
                                             const store::Device& device) const;
  // CompleteRecovery fulfils the recover request and gives the device back to its holder
  // (locked -> handed_over, PIN state ok), in one transaction.
  Status CompleteRecovery(const Actor& actor, const store::RequestRecord& r,
                          const store::Device& device);

 private:
  struct Routing {
    std::string route;
    std::string exchange_code;
    int days;
  };
  Result<Routing> Route(RequestKind kind, const FilingInput& input) const;
  Result<std::string> FilingAgency(const Actor& actor, const FilingInput& input) const;
  Status CheckFiling(const Actor& actor, const std::string& agency, const FilingInput& input,
                     std::string* payload) const;
  Status CheckTarget(const Actor& actor, RequestKind kind, const std::string& serial,
                     const FilingInput& input) const;
  Status CheckCanSee(const Actor& actor, const store::RequestRecord& r) const;
  Status CheckDecider(const Actor& actor, const store::RequestRecord& r) const;
  Status Fulfil(const Actor& actor, const store::RequestRecord& r);
  // NewIssuance is what the new-certificate requests of a decision issue.
  struct NewIssuance {
    std::vector<Bytes> csr_ders;
    std::vector<pkix::CertRequest> csrs;
    std::vector<ca::IssueRequest> requests;
    std::vector<store::Fulfilment> fulfilments;
    std::vector<std::size_t> first_row;  // per fulfilment, its first index in `requests`
  };
  // AddNew adds a request's rows; false when a row has no CSR yet (it waits for a device).
  Result<bool> AddNew(const store::RequestRecord& r, NewIssuance& batch) const;
  Status IssueNew(const Actor& actor, NewIssuance& batch);
  Status CheckDecision(const Actor& actor, const store::RequestRecord& r) const;
  Result<store::RequestRecord> Prepare(const Actor& actor, const FilingInput& input) const;
  Status FulfilRenewOrChange(const Actor& actor, const store::RequestRecord& r);
  Status FulfilRevoke(const Actor& actor, const store::RequestRecord& r);
  std::string DueDate(int working_days) const;
  // RowIssue is what one row of a new request issues: the request to the CA and the
  // subscriber and lineage it leaves.
  Result<std::pair<ca::IssueRequest, store::FulfilledCertificate>> RowIssue(
      const store::RequestRecord& r, const nlohmann::json& row) const;
  Status ResolveRecoverDevice(const Actor& actor, FilingInput& in) const;

  const Config& config_;
  store::Store& store_;
  ca::Authority* authority_;
  const Clock& clock_;
  WorkingCalendar calendar_;
  std::unique_ptr<AgencyTree> tree_;
};

}  // namespace kyso::ra
