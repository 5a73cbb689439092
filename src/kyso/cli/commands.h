#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "kyso/base/status.h"
#include "kyso/cli/deployment.h"

namespace kyso::cli {

// Each command is a plain function: it reads its arguments, writes results to `out`, and
// returns a Status whose message is the one line shown to the user on failure.

struct IssueArgs {
  std::string home;
  std::string profile;
  std::string csr_path;
  std::string name;
  std::string email;
  std::string org;
  std::vector<std::string> units;
  std::optional<int> days;
  std::string out_path;
};
Status CmdCertIssue(const IssueArgs& args, std::ostream& out);

struct IssueBatchArgs {
  std::string home;
  std::string profile = "individual";
  std::string manifest;  // CSV: csr,name,email,org[,unit]
  std::string out_dir;
  int threads = 2;
};
Status CmdCertIssueBatch(const IssueBatchArgs& args, std::ostream& out, std::ostream& err);

Status CmdCertRevoke(const std::string& home, const std::string& serial, const std::string& reason,
                     std::ostream& out);
enum class ShowFormat { kText, kJson, kPem };
Status CmdCertShow(const std::string& home, const std::string& serial, ShowFormat format,
                   std::ostream& out);
Status CmdCaChain(const std::string& home, std::ostream& out);
Status CmdCrl(const std::string& home, const std::string& issuer, const std::string& out_path,
              std::ostream& out);
Status CmdCaRecover(const std::string& home, int min_age_seconds, std::ostream& out);
Status CmdAuditVerify(const std::string& home, std::ostream& out);
Status CmdAuditCheckpoint(const std::string& home, std::ostream& out);

struct ServeArgs {
  std::string home;
  std::string listen;  // empty: the config's
  int threads = 0;
};
Status CmdServe(const ServeArgs& args, std::ostream& out);

// NormalizeSerial accepts hex with or without colons and "0x", in either case, and gives the
// canonical lowercase form without leading zero octets.
Result<std::string> NormalizeSerial(std::string_view serial);

// RunCli parses argv and runs a command; it returns the process exit code (0 success,
// 1 refused or failed, 2 usage).
int RunCli(int argc, char** argv);

}  // namespace kyso::cli
