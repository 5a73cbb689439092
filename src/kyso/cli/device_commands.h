#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "kyso/base/status.h"

namespace kyso::cli {

// Commands of the key storage devices: PKI Tokens (any PKCS#11 module) and SIM PKI.

struct TokenEnrollArgs {
  std::string home;
  std::string as;
  int64_t request = 0;
  std::string module;
  std::string token_label;
  std::string pin_out;      // empty: the holder's PIN is shown once on `out`
  std::string so_pin_file;  // the factory SO PIN, for a token in its factory state
  std::string key = "rsa-2048";
  bool write_ca_certs = true;
};
// CmdTokenEnroll personalises a token for the next waiting row of an approved new request,
// makes the key pair on it, proves possession with a CSR signed there, issues the
// certificate, writes it to the token and records the device.
Status CmdTokenEnroll(const TokenEnrollArgs& args, std::ostream& out);

struct TokenStatusArgs {
  std::string home;  // optional: record the PIN state in the deployment's inventory
  std::string as;
  std::string module;
  std::string token_label;
  bool json = false;
};
Status CmdTokenStatus(const TokenStatusArgs& args, std::ostream& out);

struct TokenUnblockArgs {
  std::string home;
  std::string as;
  int64_t request = 0;
  std::string module;
  std::string token_label;
  std::string pin_out;
};
// CmdTokenUnblock carries out an approved recovery (R13.1): the SO PIN kept wrapped at
// enrolment is unwrapped, the SO sets a new user PIN, the key stays.
Status CmdTokenUnblock(const TokenUnblockArgs& args, std::ostream& out);

struct DeviceListArgs {
  std::string home;
  std::string as;
  std::optional<std::string> state;
  bool overdue = false;
};
Status CmdDeviceList(const DeviceListArgs& args, std::ostream& out);
Status CmdDeviceShow(const std::string& home, const std::string& as, const std::string& serial,
                     std::ostream& out);

struct DeviceMoveArgs {
  std::string home;
  std::string as;
  std::string serial;
  std::string to;
  std::vector<std::string> fields;  // K=V
};
Status CmdDeviceMove(const DeviceMoveArgs& args, std::ostream& out);

struct DeviceAddArgs {
  std::string home;
  std::string as;
  std::string type;  // token | sim
  std::string serial;
  std::string model;
  std::string manufacturer;
  std::string token_label;
  std::string phone;
  std::string operator_name;
};
Status CmdDeviceAdd(const DeviceAddArgs& args, std::ostream& out);

}  // namespace kyso::cli
