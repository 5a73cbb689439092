#pragma once

// The simulator's state folder: its own SoftHSM2 configuration and token ("mssp-sim") that
// holds the simulated SIMs' keys, one key pair labelled "sim-<MSISDN>" per SIM.

#include <filesystem>
#include <memory>
#include <string>

#include "kyso/base/config.h"
#include "kyso/base/status.h"
#include "kyso/token/token.h"

namespace kyso::mssp_sim {

inline constexpr char kDefaultModule[] = "/usr/lib/softhsm/libsofthsm2.so";
inline constexpr char kTokenLabel[] = "mssp-sim";

// SimKeyLabel is the token label of the key of the SIM with `msisdn`.
std::string SimKeyLabel(std::string_view msisdn);

// IsMsisdn accepts 1 to 20 digits.
bool IsMsisdn(std::string_view msisdn);

// InitState creates `dir` (0700) with softhsm2.conf, tokens/ and a token labelled mssp-sim
// with random SO and user PINs; the user PIN goes to dir/pin (0600), the SO PIN is not kept.
// Refuses a folder that already holds a state.
Status InitState(const std::filesystem::path& dir, const std::string& module);

// OpenState points SoftHSM2 at dir/softhsm2.conf (before the module is loaded) and logs in
// to the mssp-sim token with the PIN in dir/pin.
Result<std::unique_ptr<token::Token>> OpenState(const std::filesystem::path& dir,
                                                const std::string& module);

// ProvisionSim generates the SIM's key pair on the token and returns its public key as a PEM
// SubjectPublicKeyInfo. Refuses an MSISDN that already has a key.
Result<std::string> ProvisionSim(token::Token& token, std::string_view msisdn, KeySpec spec);

}  // namespace kyso::mssp_sim
