#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kyso/base/status.h"
#include "kyso/cli/deployment.h"
#include "kyso/ra/actor.h"
#include "kyso/ra/workflow.h"

namespace kyso::cli {

// RaSession is an opened deployment with the workflow and the acting user.
struct RaSession {
  std::unique_ptr<Deployment> deployment;
  std::unique_ptr<ra::Workflow> workflow;
  ra::Actor actor;
};
// OpenRa opens the deployment at `home` (with the CA and its token when `with_ca`), resolves
// --as (a user of the deployment, or the console administrator) and loads the workflow.
Result<RaSession> OpenRa(const std::string& home, const std::string& as, bool with_ca);

// Commands of the registration workflow. `as` is the user acting at the console (empty: the
// console administrator, audited as "console"); every command applies that user's rights.

Status CmdAgencyImport(const std::string& home, const std::string& as, const std::string& csv_path,
                       std::ostream& out);

struct UserAddArgs {
  std::string home;
  std::string as;
  std::string name;
  std::string role;
  std::string agency;
  std::string password_file;
};
Status CmdUserAdd(const UserAddArgs& args, std::ostream& out);

struct RequestFileArgs {
  std::string home;
  std::string as;
  std::string kind;
  std::string rows_path;
  std::string serial;
  std::string reason;
  std::vector<std::string> fields;  // K=V
  std::vector<std::string> attachments;
};
Status CmdRequestFile(const RequestFileArgs& args, std::ostream& out);
Status CmdRequestDecide(const std::string& home, const std::string& as,
                        const std::vector<int64_t>& ids, bool approve, const std::string& reason,
                        std::ostream& out);
Status CmdRequestCancel(const std::string& home, const std::string& as, int64_t id, std::ostream& out);
Status CmdRequestClose(const std::string& home, const std::string& as, int64_t id, std::ostream& out);
Status CmdRequestShow(const std::string& home, const std::string& as, int64_t id, std::ostream& out);
struct RequestListArgs {
  std::string home;
  std::string as;
  std::optional<std::string> state;
  bool overdue = false;
  std::size_t limit = 100;
  std::optional<int64_t> before;
};
Status CmdRequestList(const RequestListArgs& args, std::ostream& out);

}  // namespace kyso::cli
