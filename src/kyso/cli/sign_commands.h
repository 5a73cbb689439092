#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"

namespace kyso::cli {

// SignerArgs names the key a subscriber signs with: a SIM PKI reached through an MSSP
// (ETSI TS 102 204), or a PKI Token's key through its PKCS#11 module.
struct SignerArgs {
  // SIM PKI
  std::string mssp_url;
  std::string phone;
  std::string mss_mode = "synch";  // synch | async
  int timeout_seconds = 120;
  std::string ap_id;
  std::string ap_password_file;
  // PKI Token
  std::string module;
  std::string token_label;
  std::string pin_file;
  std::string key_label = "kyso-key";
};

// OpenSigner makes the signer `args` name for the key whose public half is `public_key`.
Result<std::unique_ptr<pkix::Signer>> OpenSigner(const SignerArgs& args, const EVP_PKEY* public_key,
                                                 const std::string& display_text);

struct SignCmsArgs {
  std::string home;  // optional: the chain from the deployment; a locked SIM recorded
  std::string in;
  std::string out;
  bool detached = false;
  std::string cert;
  std::vector<std::string> chain;
  SignerArgs signer;
};
// CmdSignCms signs a file as CMS SignedData (DER, CAdES B-B attributes). Nothing is written
// unless the signature is made: the output appears whole, or not at all.
Status CmdSignCms(const SignCmsArgs& args, std::ostream& out);

struct SimEnrollArgs {
  std::string home;
  std::string as;
  int64_t request = 0;
  std::string public_key;  // the SIM's public key (PEM or DER SPKI), from the operator
  std::string operator_name;
  std::string cert_out;    // optional: the issued certificate, PEM
  SignerArgs signer;       // mssp_url and phone
};
// CmdSimEnroll certifies a SIM PKI for the next waiting row of an approved new request: the
// subscriber signs the CSR on the phone (proof of possession), the certificate is issued and
// the SIM recorded. A refusal or a timeout on the phone leaves nothing behind.
Status CmdSimEnroll(const SimEnrollArgs& args, std::ostream& out);

}  // namespace kyso::cli
