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
  // PKCS#12 file (tests and migration only: the key is in software)
  std::string p12_file;
  std::string p12_pass_file;
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

// DocumentSignArgs is what every document signature needs: the key, the signer's certificate
// and its chain, and what the certificate is checked against before signing (R5.1).
struct DocumentSignArgs {
  // home, when given, supplies the deployment's root as a trust anchor, its CA certificates
  // for the chain and its CRLs for the check; a SIM reported locked is recorded there.
  std::string home;
  std::vector<std::string> trust;  // trust anchors, PEM
  std::vector<std::string> chain;  // CA certificates to include, PEM
  std::vector<std::string> crls;   // CRLs for the revocation check, DER or PEM
  bool offline = false;            // no OCSP or CRL fetched over the network
  // cert is the signer's certificate: required for a SIM; read from the token or the PKCS#12
  // file when empty.
  std::string cert;
  SignerArgs signer;
  // level is the baseline level (ETSI EN 319 1x2-1): B-B; B-T adds a signature timestamp;
  // B-LT adds the validation data (certificates, CRLs, OCSP responses) of the signer and the
  // TSA; B-LTA (PDF only) adds a document timestamp over all that.
  std::string level = "B-B";
  // tsa_url is the RFC 3161 TSA for B-T and above; empty: the deployment's (--home).
  std::string tsa_url;
  int tsa_timeout_seconds = 30;
};

struct SignCmsArgs {
  std::string in;
  std::string out;
  bool detached = false;
  DocumentSignArgs doc;
};
// CmdSignCms signs a file as CMS SignedData (DER, CAdES B-B, B-T or B-LT). Nothing is written
// unless the signature is made: the output appears whole, or not at all.
Status CmdSignCms(const SignCmsArgs& args, std::ostream& out);

struct SignPdfArgs {
  std::string in;
  std::string out;
  DocumentSignArgs doc;
  int page = 0;      // from 1; 0: page 1, or where --anchor is found
  std::string rect;  // x,y,w,h in points; empty: an invisible signature
  // The visible signature of Decree 30 (R30.1-R30.3).
  std::string appearance;  // person | agency | copy | none; empty: person with --image, else none
  std::string image;       // PNG: the person's signature, or the agency's seal
  double seal_mm = 0;      // the seal's width in mm; 0: from the PNG's DPI
  std::string anchor;      // text the person's box sits above (the signer's name)
  std::string title;       // the position title above the box
  std::string doc_number;  // copy stamp: the document's number and code
  std::string copy_form;   // copy stamp: the form of copy ("Sao y bản chính")
  std::string copy_agency; // copy stamp: the copying agency
  std::string font;        // copy stamp font; empty: Liberation Serif (Times New Roman metrics)
  int certify = 0;         // 1-3: a certification signature (DocMDP /P); 0: an approval one
  std::string field;
  std::string reason;
  std::string location;
};
// CmdSignPdf signs a PDF (PAdES B-B to B-LTA) by incremental updates: the output begins with the exact
// bytes of the input.
Status CmdSignPdf(const SignPdfArgs& args, std::ostream& out);

struct SignXmlArgs {
  std::string in;
  std::string out;
  bool detached = false;
  DocumentSignArgs doc;
};
// CmdSignXml signs an XML document (XAdES B-B or B-T), enveloped by default.
Status CmdSignXml(const SignXmlArgs& args, std::ostream& out);

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
