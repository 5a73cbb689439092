#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "kyso/base/status.h"

namespace kyso::cli {

// VerifyArgs is `kyso verify` (TT15 Art. 6, R6.2, R6.3; Decree 30 R30.4).
struct VerifyArgs {
  std::vector<std::string> files;
  std::string home;                    // the deployment's root is a trust anchor
  std::vector<std::string> trust;      // trust anchors, PEM or DER
  std::vector<std::string> untrusted;  // more intermediates, PEM or DER
  std::vector<std::string> crls;       // CRLs, PEM or DER
  std::string content;                 // the data a detached CMS signature (.p7s) signed
  std::string at;                      // validation time, ISO 8601; default: now
  // R7.2 applies to signatures and timestamps made from then on: ISO 8601, or "never";
  // empty: verify::kDefaultAlgorithmsFrom (the date of TT15).
  std::string algorithms_from;
  std::string policy = "national";     // national | strict (revocation policy)
  bool offline = false;                // no OCSP or CRL fetched over the network
  std::string format = "text";         // text | json | html
  int jobs = 0;                        // files verified at once; 0: one per core
  std::string out;                     // write the report here instead of stdout
};

// CmdVerify validates every signature of each file (PDF, CMS .p7s/.p7m, S/MIME .eml) or the
// path of each certificate, and
// writes one report. It returns OK only when every signature is TOTAL-PASSED; otherwise a
// Vietnamese line saying how many files are not.
Status CmdVerify(const VerifyArgs& args, std::ostream& out);

}  // namespace kyso::cli
