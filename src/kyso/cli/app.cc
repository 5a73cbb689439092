#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "kyso/cli/commands.h"
#include "kyso/cli/device_commands.h"
#include "kyso/cli/sign_commands.h"
#include "kyso/cli/verify_commands.h"
#include "kyso/cli/ra_commands.h"

namespace kyso::cli {

namespace {

int Report(const Status& s) {
  if (s.ok()) return 0;
  // A batch's report has one line per bad row; each line gets the prefix.
  std::string_view m = s.message();
  for (std::size_t start = 0; start <= m.size();) {
    const std::size_t end = std::min(m.find('\n', start), m.size());
    if (end > start) std::cerr << "kyso: " << m.substr(start, end - start) << "\n";
    start = end + 1;
  }
  return 1;
}

}  // namespace

int RunCli(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S%z kyso %l: %v");
  CLI::App app{"kyso — the province's public-service digital signature system (CA, OCSP, CRL, requests, devices)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kyso 0.1.0");
  std::string home;
  auto add_home = [&home](CLI::App* c) {
    c->add_option("--home", home, "deployment folder (created by kyso init)")->required();
  };

  // init
  InitOptions init;
  auto* c_init = app.add_subcommand("init", "create a deployment: token, PINs, CA hierarchy, database");
  c_init->add_option("--home", init.home, "folder to create the deployment in")->required();
  c_init->add_option("--public-url", init.public_url,
                     "base of the OCSP/CRL/caIssuers URLs in certificates (default http://127.0.0.1:8080)");
  c_init->add_option("--root-key", init.root_key, "rsa-2048|rsa-3072|rsa-4096|ec-p256|ec-p384 (default rsa-4096)");
  c_init->add_option("--issuing-key", init.issuing_key, "key type of the issuing CA (default rsa-2048)");
  c_init->add_option("--ocsp-key", init.ocsp_key, "key type of the OCSP responder (default rsa-2048)");
  c_init->add_option("--tsa-key", init.tsa_key, "key type of the timestamp authority (default rsa-2048)");

  // ca
  auto* c_ca = app.add_subcommand("ca", "CA certificates and maintenance");
  c_ca->require_subcommand(1);
  auto* c_chain = c_ca->add_subcommand("chain", "print the issuing CA then the root, PEM");
  add_home(c_chain);
  int min_age = 60;
  auto* c_recover = c_ca->add_subcommand(
      "recover", "complete issuances recorded but never signed (after a crash)");
  add_home(c_recover);
  c_recover->add_option("--min-age", min_age, "only those recorded at least this many seconds ago")
      ->default_val(60);

  // cert
  auto* c_cert = app.add_subcommand("cert", "issue, revoke and show certificates");
  c_cert->require_subcommand(1);
  IssueArgs issue;
  auto* c_issue = c_cert->add_subcommand("issue", "issue one certificate from a CSR");
  add_home(c_issue);
  c_issue->add_option("--profile", issue.profile, "individual | organization | device")->required();
  c_issue->add_option("--csr", issue.csr_path, "PKCS#10 request, PEM or DER (proves the key)")->required();
  c_issue->add_option("--name", issue.name, "subject name (CN), UTF-8")->required();
  c_issue->add_option("--email", issue.email, "official e-mail (SAN and E=)")->required();
  c_issue->add_option("--org", issue.org, "level-1 agency (O)")->required();
  c_issue->add_option("--unit", issue.units, "levels 2..4 (OU), repeatable");
  c_issue->add_option("--days", issue.days, "validity in days (default and maximum: 5 years, R4.1)");
  c_issue->add_option("--out", issue.out_path, "where to write the certificate, PEM")->required();

  IssueBatchArgs batch;
  auto* c_batch = c_cert->add_subcommand("issue-batch", "issue many certificates from a manifest");
  add_home(c_batch);
  c_batch->add_option("--profile", batch.profile, "individual | organization | device");
  c_batch->add_option("--manifest", batch.manifest, "CSV lines: csr,name,email,org[,unit...]")->required();
  c_batch->add_option("--out-dir", batch.out_dir, "folder for SERIAL.pem files")->required();
  c_batch->add_option("--threads", batch.threads, "signing threads")->default_val(2);

  std::string serial, reason;
  auto* c_revoke = c_cert->add_subcommand("revoke", "revoke a certificate and publish a new CRL");
  add_home(c_revoke);
  c_revoke->add_option("--serial", serial, "serial, hex")->required();
  c_revoke->add_option("--reason", reason,
                       "an RFC 5280 reason or an R12.1 case: " + ca::ReasonNames())
      ->required();

  bool as_json = false;
  bool as_pem = false;
  auto* c_show = c_cert->add_subcommand("show", "show a certificate's record and status");
  add_home(c_show);
  c_show->add_option("--serial", serial, "serial, hex")->required();
  auto* json_flag = c_show->add_flag("--json", as_json, "JSON output");
  c_show->add_flag("--pem", as_pem, "print the certificate itself, PEM")->excludes(json_flag);

  // crl
  std::string crl_out, crl_issuer = "issuing";
  auto* c_crl = app.add_subcommand("crl", "sign a fresh CRL and write it, DER");
  add_home(c_crl);
  c_crl->add_option("--out", crl_out, "output file")->required();
  c_crl->add_option("--issuer", crl_issuer, "issuing (default) or root");

  // audit
  auto* c_audit = app.add_subcommand("audit", "the audit log");
  c_audit->require_subcommand(1);
  auto* c_verify = c_audit->add_subcommand(
      "verify", "check the hash chain of every audit event and the signed checkpoints");
  add_home(c_verify);
  auto* c_checkpoint = c_audit->add_subcommand(
      "checkpoint", "sign the chain's head with the audit key on the token (also done every 1,000 events)");
  add_home(c_checkpoint);

  // agency, user, request: the registration workflow
  std::string as;
  auto add_as = [&as](CLI::App* c) {
    c->add_option("--as", as,
                  "act as this user of the deployment, with that user's rights "
                  "(default: the console administrator, audited as 'console')");
  };
  auto* c_agency = app.add_subcommand("agency", "the province's tree of bodies (R2.1)");
  c_agency->require_subcommand(1);
  std::string agency_csv;
  auto* c_agency_import = c_agency->add_subcommand(
      "import", "import or update agencies from CSV: code,parent_code,name,kind,legal_entity,email_domain,exchange_code");
  add_home(c_agency_import);
  add_as(c_agency_import);
  c_agency_import->add_option("file", agency_csv, "agencies CSV (UTF-8, header row)")->required();

  auto* c_user = app.add_subcommand("user", "users and their roles (R15.2, R14.2)");
  c_user->require_subcommand(1);
  UserAddArgs user;
  auto* c_user_add = c_user->add_subcommand("add", "add a user");
  add_home(c_user_add);
  add_as(c_user_add);
  c_user_add->add_option("--name", user.name, "login name")->required();
  c_user_add->add_option("--role", user.role, "provider | authority | focal | subscriber | auditor | admin")->required();
  c_user_add->add_option("--agency", user.agency, "agency code (required for focal and subscriber)");
  c_user_add->add_option("--password-file", user.password_file, "file holding the password (a trailing newline is ignored)")->required();

  auto* c_request = app.add_subcommand("request", "requests of the regulation: file, decide, show, list");
  c_request->require_subcommand(1);
  RequestFileArgs file;
  auto* c_file = c_request->add_subcommand("file", "file a request; prints its id on the last line");
  add_home(c_file);
  add_as(c_file);
  c_file->add_option("--kind", file.kind,
                     "new-individual | new-organization | new-device | renew | change | revoke | "
                     "recover | handover | lost")->required();
  c_file->add_option("--rows", file.rows_path, "Mẫu 01 / Mẫu 02 rows, CSV (UTF-8, header row)");
  c_file->add_option("--serial", file.serial, "the certificate concerned (renew, change, revoke, ...)");
  c_file->add_option("--reason", file.reason, "revocation reason: an RFC 5280 name or an R12.1 case: " + ca::ReasonNames());
  c_file->add_option("--field", file.fields,
                     "KEY=VALUE, repeatable: csr=FILE, days=N, agency=CODE, email, name, address, "
                     "version, owner, device=token|sim, founding_decision, superior_confirmation");
  c_file->add_option("--attach", file.attachments, "a scanned or signed letter to keep with the request");

  int64_t request_id = 0;
  bool approve = false, reject = false;
  std::string decide_reason;
  auto* c_decide = c_request->add_subcommand("decide", "approve (and fulfil) or reject a request");
  add_home(c_decide);
  add_as(c_decide);
  std::vector<int64_t> decide_ids;
  c_decide->add_option("--id", decide_ids, "request id; repeat to decide several at once (all or nothing)")
      ->required();
  auto* approve_flag = c_decide->add_flag("--approve", approve, "approve; fulfils at once when complete");
  c_decide->add_flag("--reject", reject, "reject, with --reason")->excludes(approve_flag);
  c_decide->add_option("--reason", decide_reason, "why it is rejected");

  auto* c_cancel = c_request->add_subcommand("cancel", "cancel a submitted request (the filing agency)");
  add_home(c_cancel);
  add_as(c_cancel);
  c_cancel->add_option("--id", request_id, "request id")->required();

  auto* c_close = c_request->add_subcommand("close", "close a fulfilled request (the deciding role)");
  add_home(c_close);
  add_as(c_close);
  c_close->add_option("--id", request_id, "request id")->required();

  bool json_flag_unused = false;
  auto* c_rshow = c_request->add_subcommand("show", "show a request, JSON");
  add_home(c_rshow);
  add_as(c_rshow);
  c_rshow->add_option("--id", request_id, "request id")->required();
  c_rshow->add_flag("--json", json_flag_unused, "JSON output (the only format)");

  RequestListArgs list;
  std::string list_state;
  int64_t list_before = 0;
  auto* c_list = c_request->add_subcommand("list", "list requests, newest first, JSON array");
  add_home(c_list);
  add_as(c_list);
  c_list->add_option("--state", list_state, "submitted | approved | rejected | fulfilled | closed | cancelled");
  c_list->add_flag("--overdue", list.overdue, "only open requests past their due date (R14.1)");
  c_list->add_option("--limit", list.limit, "at most this many (default 100, at most 10000)");
  c_list->add_option("--before", list_before, "page: only requests with a smaller id");
  c_list->add_flag("--json", json_flag_unused, "JSON output (the only format)");

  // token: subscribers' PKI Tokens over any PKCS#11 module
  auto* c_token = app.add_subcommand("token", "subscribers' PKI Tokens: enrol, PIN state, unblock (R13.1)");
  c_token->require_subcommand(1);
  TokenEnrollArgs enroll;
  auto* c_enroll = c_token->add_subcommand(
      "enroll", "personalise a token for an approved new-certificate request: PINs, key pair on "
                "the token, CSR signed there, certificate written back, device recorded");
  add_home(c_enroll);
  add_as(c_enroll);
  c_enroll->add_option("--request", enroll.request, "the approved request waiting for its device")->required();
  c_enroll->add_option("--module", enroll.module, "the token's PKCS#11 module (.so)")->required();
  c_enroll->add_option("--token-label", enroll.token_label,
                       "the token's label; a blank token is initialised with it")->required();
  c_enroll->add_option("--pin-out", enroll.pin_out,
                       "new file (mode 0600) to write the holder's first PIN to; without it the PIN is shown once");
  c_enroll->add_option("--so-pin-file", enroll.so_pin_file,
                       "the factory SO PIN of a token in its factory state; kyso replaces it");
  c_enroll->add_option("--key", enroll.key, "rsa-2048 (default) | rsa-3072 | rsa-4096 | ec-p256 | ec-p384");

  TokenStatusArgs tstatus;
  auto* c_tstatus = c_token->add_subcommand("status", "a token's PIN state (locked, final try, ...)");
  c_tstatus->add_option("--module", tstatus.module, "the token's PKCS#11 module (.so)")->required();
  c_tstatus->add_option("--token-label", tstatus.token_label, "the token's label")->required();
  c_tstatus->add_option("--home", tstatus.home, "also record the PIN state in this deployment's inventory");
  add_as(c_tstatus);
  c_tstatus->add_flag("--json", tstatus.json, "JSON output");

  TokenUnblockArgs unblock;
  auto* c_unblock = c_token->add_subcommand(
      "unblock", "carry out an approved recovery request (R13.1): new user PIN set by the SO, key kept");
  add_home(c_unblock);
  add_as(c_unblock);
  c_unblock->add_option("--request", unblock.request, "the approved recover request")->required();
  c_unblock->add_option("--module", unblock.module, "the token's PKCS#11 module (.so)")->required();
  c_unblock->add_option("--token-label", unblock.token_label, "the token's label")->required();
  c_unblock->add_option("--pin-out", unblock.pin_out,
                        "new file (mode 0600) for the holder's new PIN; without it the PIN is shown once");

  // device: the inventory
  auto* c_device = app.add_subcommand("device", "the inventory of PKI Tokens and SIM PKI (R12.3, R13.1)");
  c_device->require_subcommand(1);
  DeviceListArgs dlist;
  std::string dlist_state;
  auto* c_dlist = c_device->add_subcommand("list", "list devices, JSON array");
  add_home(c_dlist);
  add_as(c_dlist);
  c_dlist->add_option("--state", dlist_state,
                      "in_stock | personalised | handed_over | locked | returned_to_agency | "
                      "returned_to_provider | lost | damaged");
  c_dlist->add_flag("--overdue", dlist.overdue, "only devices past their return deadline (R12.3)");
  c_dlist->add_flag("--json", json_flag_unused, "JSON output (the only format)");
  std::string device_serial;
  auto* c_dshow = c_device->add_subcommand("show", "one device with its history, JSON");
  add_home(c_dshow);
  add_as(c_dshow);
  c_dshow->add_option("--serial", device_serial, "the device's serial")->required();
  c_dshow->add_flag("--json", json_flag_unused, "JSON output (the only format)");
  DeviceMoveArgs dmove;
  auto* c_dmove = c_device->add_subcommand(
      "move", "move a device to another state, with its record (Mẫu 08 to returned_to_provider, "
              "Mẫu 09 to lost)");
  add_home(c_dmove);
  add_as(c_dmove);
  c_dmove->add_option("--serial", dmove.serial, "the device's serial")->required();
  c_dmove->add_option("--to", dmove.to, "the new state")->required();
  c_dmove->add_option("--field", dmove.fields,
                      "KEY=VALUE, repeatable: date=YYYY-MM-DD, receiver=NAME, reason=TEXT, "
                      "request=ID, anything else is kept with the record");
  DeviceAddArgs dadd;
  auto* c_dadd = c_device->add_subcommand("add", "enter a device into stock");
  add_home(c_dadd);
  add_as(c_dadd);
  c_dadd->add_option("--type", dadd.type, "token | sim")->required();
  c_dadd->add_option("--serial", dadd.serial, "the token's serial number (a SIM: default its phone number)");
  c_dadd->add_option("--model", dadd.model, "model");
  c_dadd->add_option("--manufacturer", dadd.manufacturer, "manufacturer");
  c_dadd->add_option("--token-label", dadd.token_label, "PKCS#11 token label");
  c_dadd->add_option("--phone", dadd.phone, "a SIM PKI's phone number");
  c_dadd->add_option("--operator", dadd.operator_name, "a SIM PKI's mobile operator");

  // SIM PKI and signing
  auto add_signer = [](CLI::App* c, SignerArgs& sa, bool token_too) {
    c->add_option("--mssp", sa.mssp_url, "SIM PKI: the MSSP's MSS_Signature URL (ETSI TS 102 204)");
    c->add_option("--phone", sa.phone, "SIM PKI: the phone number (MSISDN), digits, e.g. 84912345678");
    c->add_option("--mss-mode", sa.mss_mode, "SIM PKI: synch (default) or async (asynchClientServer)");
    c->add_option("--timeout", sa.timeout_seconds, "SIM PKI: seconds the phone has to answer (default 120)");
    c->add_option("--ap-id", sa.ap_id, "SIM PKI: kyso's AP_ID at the MSSP");
    c->add_option("--ap-password-file", sa.ap_password_file, "SIM PKI: file holding kyso's AP_PWD");
    if (!token_too) return;
    c->add_option("--module", sa.module, "PKI Token: its PKCS#11 module (.so)");
    c->add_option("--token-label", sa.token_label, "PKI Token: its label");
    c->add_option("--pin-file", sa.pin_file, "PKI Token: file holding the holder's PIN");
    c->add_option("--key-label", sa.key_label, "PKI Token: the key's label (default kyso-key)");
    c->add_option("--p12", sa.p12_file, "a PKCS#12 file (tests and migration only: the key is in software)");
    c->add_option("--p12-pass-file", sa.p12_pass_file, "file holding the PKCS#12 password");
  };
  // add_document_signing: the key, the certificate and what it is checked against (R5.1).
  auto add_document_signing = [&add_signer](CLI::App* c, DocumentSignArgs& d) {
    c->add_option("--home", d.home,
                  "a deployment: its root is a trust anchor, its CA certificates and CRLs are used, "
                  "and a SIM reported locked is recorded");
    c->add_option("--trust", d.trust, "a trust anchor, PEM; repeatable");
    c->add_option("--chain", d.chain, "CA certificates to include, PEM; repeatable");
    c->add_option("--crl", d.crls, "a CRL for the check before signing; repeatable");
    c->add_flag("--offline", d.offline, "check revocation with the CRLs given (and --home's) only");
    c->add_option("--cert", d.cert, "the signer's certificate (required for a SIM; read from a token or .p12)");
    c->add_option("--tsa", d.tsa_url, "RFC 3161 TSA for B-T and above (default: --home's sign.tsa_url, or its /tsa)");
    c->add_option("--tsa-timeout", d.tsa_timeout_seconds, "seconds to wait for the TSA (default 30)");
    add_signer(c, d.signer, true);
  };
  auto* c_sim = app.add_subcommand("sim", "SIM PKI: certify a SIM through its MSSP");
  c_sim->require_subcommand(1);
  SimEnrollArgs sim_enroll;
  auto* c_sim_enroll = c_sim->add_subcommand(
      "enroll", "certify a SIM PKI for an approved new-certificate request: the subscriber signs "
                "the CSR on the phone, the certificate is issued and the SIM recorded");
  add_home(c_sim_enroll);
  add_as(c_sim_enroll);
  c_sim_enroll->add_option("--request", sim_enroll.request, "the approved request waiting for its device")->required();
  c_sim_enroll->add_option("--public-key", sim_enroll.public_key,
                           "the SIM's public key, PEM or DER SubjectPublicKeyInfo (from the operator)")->required();
  c_sim_enroll->add_option("--operator", sim_enroll.operator_name, "the mobile operator (default: the request's sim_pki column)");
  c_sim_enroll->add_option("--cert-out", sim_enroll.cert_out, "new file for the issued certificate, PEM");
  add_signer(c_sim_enroll, sim_enroll.signer, false);

  auto* c_sign = app.add_subcommand("sign", "sign documents: PDF (PAdES), XML (XAdES), any file (CMS)");
  c_sign->require_subcommand(1);
  SignCmsArgs sign_cms;
  auto* c_sign_cms = c_sign->add_subcommand(
      "cms", "sign any file as CMS SignedData (DER .p7s/.p7m) with a PKI Token, a SIM PKI or a .p12");
  c_sign_cms->add_option("in", sign_cms.in, "the file to sign")->required();
  c_sign_cms->add_option("--out", sign_cms.out, "the signature, DER; written only when signed")->required();
  c_sign_cms->add_flag("--detached", sign_cms.detached, "leave the content out (.p7s)");
  c_sign_cms->add_option("--level", sign_cms.doc.level, "CAdES level: B-B (default), B-T (timestamp), B-LT (with validation data)");
  add_document_signing(c_sign_cms, sign_cms.doc);

  SignPdfArgs sign_pdf;
  auto* c_sign_pdf = c_sign->add_subcommand(
      "pdf", "sign a PDF (PAdES B-B to B-LTA) by incremental update; the output begins with the input's bytes");
  c_sign_pdf->add_option("in", sign_pdf.in, "the PDF to sign")->required();
  c_sign_pdf->add_option("--out", sign_pdf.out, "the signed PDF; written only when signed")->required();
  c_sign_pdf->add_option("--level", sign_pdf.doc.level,
                         "PAdES level: B-B (default), B-T (timestamp), B-LT (+ DSS), B-LTA (+ document timestamp)");
  c_sign_pdf->add_option("--page", sign_pdf.page, "page of the signature's box, from 1 (default 1, or where --anchor is)");
  c_sign_pdf->add_option("--rect", sign_pdf.rect,
                         "x,y,w,h in PDF points from the bottom left of the page as displayed (agency: the person's box); none: invisible");
  c_sign_pdf->add_option("--appearance", sign_pdf.appearance,
                         "Decree 30: person (signature image, R30.1), agency (seal over the person's, R30.2), "
                         "copy (text top right of page 1, R30.3) or none; default person with --image, else none");
  c_sign_pdf->add_option("--image", sign_pdf.image, "PNG with transparency: the person's signature or the agency's seal");
  c_sign_pdf->add_option("--seal-mm", sign_pdf.seal_mm, "the seal's real width in mm (default: from the PNG's DPI)");
  c_sign_pdf->add_option("--anchor", sign_pdf.anchor, "text the person's box sits above, e.g. the signer's name");
  c_sign_pdf->add_option("--title", sign_pdf.title, "with --anchor: the position title above the box (GIÁM ĐỐC)");
  c_sign_pdf->add_option("--doc-number", sign_pdf.doc_number, "copy stamp: the document's number and code");
  c_sign_pdf->add_option("--copy-form", sign_pdf.copy_form, "copy stamp: the form of copy (Sao y bản chính)");
  c_sign_pdf->add_option("--copy-agency", sign_pdf.copy_agency, "copy stamp: the copying agency");
  c_sign_pdf->add_option("--certify", sign_pdf.certify,
                         "certify the document (first signature only): 1 no change after, 2 form filling and "
                         "signatures, 3 also annotations (DocMDP)");
  c_sign_pdf->add_option("--font", sign_pdf.font, "copy stamp font, TrueType (default Liberation Serif: Times New Roman metrics)");
  c_sign_pdf->add_option("--field", sign_pdf.field, "the signature field's name (default SignatureN)");
  c_sign_pdf->add_option("--reason", sign_pdf.reason, "/Reason");
  c_sign_pdf->add_option("--location", sign_pdf.location, "/Location");
  add_document_signing(c_sign_pdf, sign_pdf.doc);

  SignXmlArgs sign_xml;
  auto* c_sign_xml = c_sign->add_subcommand("xml", "sign an XML document (XAdES B-B or B-T), enveloped by default");
  c_sign_xml->add_option("--level", sign_xml.doc.level, "XAdES level: B-B (default) or B-T (timestamp)");
  c_sign_xml->add_option("in", sign_xml.in, "the XML document (or, --detached, any file)")->required();
  c_sign_xml->add_option("--out", sign_xml.out, "the signed XML; written only when signed")->required();
  c_sign_xml->add_flag("--detached", sign_xml.detached, "a separate signature referencing IN by its file name");
  add_document_signing(c_sign_xml, sign_xml.doc);

  VerifyArgs verify_args;
  auto* c_verify_docs = app.add_subcommand(
      "verify", "validate signed documents (PDF, XML, CMS, S/MIME) and certificate paths: ETSI EN 319 102-1 "
                "indications, report in Vietnamese (text, html, pdf) or JSON; exit 0 only when every signature is TOTAL-PASSED");
  c_verify_docs->add_option("files", verify_args.files, "PDF files, XML (XAdES), CMS signatures (.p7s/.p7m; X.p7s finds its content X beside it), S/MIME messages (.eml), certificates (PEM/DER), or folders (their .pdf/.xml/.p7m/.p7s/.eml files, recursively)")->required();
  c_verify_docs->add_option("--home", verify_args.home, "a deployment: its root and every certificate in DIR/trust/ are trust anchors, its CRLs are used");
  c_verify_docs->add_option("--trust", verify_args.trust, "a trust anchor (the provider's root, the national root), PEM or DER, or a folder of them; repeatable");
  c_verify_docs->add_option("--untrusted", verify_args.untrusted, "intermediate certificates to build paths from; repeatable");
  c_verify_docs->add_option("--crl", verify_args.crls, "a CRL, PEM or DER; repeatable");
  c_verify_docs->add_flag("--offline", verify_args.offline,
                          "fetch no revocation data: only the document's, --crl and --home's");
  c_verify_docs->add_option("--content", verify_args.content, "the data a detached signature (.p7s, detached XAdES) signed");
  c_verify_docs->add_option("--at", verify_args.at, "validation time, ISO 8601 UTC (default: a verified timestamp, else now)");
  c_verify_docs->add_option("--algorithms-from", verify_args.algorithms_from,
                            "signatures and timestamps made from this time on (ISO 8601 UTC) must meet R7.2: RSA >= 2048 or "
                            "ECDSA >= 256 bits, SHA-256 or stronger (default 2025-08-15T00:00:00Z, the date of TT15; never: no check)");
  c_verify_docs->add_option("--policy", verify_args.policy,
                            "revocation policy: national (default, TT15 Appendix II) or strict (every certificate needs status)");
  c_verify_docs->add_option("--format", verify_args.format,
                            "text (Vietnamese, default), json, html or pdf (the R6.3 report, Vietnamese; pdf is A4 with an embedded font)");
  c_verify_docs->add_option("--jobs", verify_args.jobs, "files verified at once (default: one per core)");
  c_verify_docs->add_option("--out", verify_args.out, "write the report to this file");

  // serve
  ServeArgs serve;
  auto* c_serve = app.add_subcommand("serve", "serve OCSP, RFC 3161 timestamps (/tsa), CRLs and CA certificates over HTTP");
  add_home(c_serve);
  c_serve->add_option("--listen", serve.listen, "HOST:PORT (default from kyso.toml, 127.0.0.1:8080)");
  c_serve->add_option("--threads", serve.threads, "server threads (default one per core)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (c_init->parsed()) {
    Status s = InitDeployment(init);
    if (s.ok()) std::cout << "kyso deployment created in " << init.home << "\n";
    return Report(s);
  }
  if (c_chain->parsed()) return Report(CmdCaChain(home, std::cout));
  if (c_recover->parsed()) return Report(CmdCaRecover(home, min_age, std::cout));
  if (c_issue->parsed()) {
    issue.home = home;
    return Report(CmdCertIssue(issue, std::cout));
  }
  if (c_batch->parsed()) {
    batch.home = home;
    return Report(CmdCertIssueBatch(batch, std::cout, std::cerr));
  }
  if (c_revoke->parsed()) return Report(CmdCertRevoke(home, serial, reason, std::cout));
  if (c_show->parsed()) {
    const ShowFormat format = as_pem ? ShowFormat::kPem : as_json ? ShowFormat::kJson : ShowFormat::kText;
    return Report(CmdCertShow(home, serial, format, std::cout));
  }
  if (c_crl->parsed()) return Report(CmdCrl(home, crl_issuer, crl_out, std::cout));
  if (c_verify->parsed()) return Report(CmdAuditVerify(home, std::cout));
  if (c_verify_docs->parsed()) return Report(CmdVerify(verify_args, std::cout));
  if (c_checkpoint->parsed()) return Report(CmdAuditCheckpoint(home, std::cout));
  if (c_agency_import->parsed()) return Report(CmdAgencyImport(home, as, agency_csv, std::cout));
  if (c_user_add->parsed()) {
    user.home = home;
    user.as = as;
    return Report(CmdUserAdd(user, std::cout));
  }
  if (c_file->parsed()) {
    file.home = home;
    file.as = as;
    return Report(CmdRequestFile(file, std::cout));
  }
  if (c_decide->parsed()) {
    if (!approve && !reject) return Report(InvalidArgumentError("--approve or --reject"));
    return Report(CmdRequestDecide(home, as, decide_ids, approve, decide_reason, std::cout));
  }
  if (c_cancel->parsed()) return Report(CmdRequestCancel(home, as, request_id, std::cout));
  if (c_close->parsed()) return Report(CmdRequestClose(home, as, request_id, std::cout));
  if (c_rshow->parsed()) return Report(CmdRequestShow(home, as, request_id, std::cout));
  if (c_list->parsed()) {
    list.home = home;
    list.as = as;
    if (!list_state.empty()) list.state = list_state;
    if (list_before > 0) list.before = list_before;
    return Report(CmdRequestList(list, std::cout));
  }
  if (c_enroll->parsed()) {
    enroll.home = home;
    enroll.as = as;
    return Report(CmdTokenEnroll(enroll, std::cout));
  }
  if (c_tstatus->parsed()) {
    tstatus.as = as;
    return Report(CmdTokenStatus(tstatus, std::cout));
  }
  if (c_unblock->parsed()) {
    unblock.home = home;
    unblock.as = as;
    return Report(CmdTokenUnblock(unblock, std::cout));
  }
  if (c_dlist->parsed()) {
    dlist.home = home;
    dlist.as = as;
    if (!dlist_state.empty()) dlist.state = dlist_state;
    return Report(CmdDeviceList(dlist, std::cout));
  }
  if (c_dshow->parsed()) return Report(CmdDeviceShow(home, as, device_serial, std::cout));
  if (c_dmove->parsed()) {
    dmove.home = home;
    dmove.as = as;
    return Report(CmdDeviceMove(dmove, std::cout));
  }
  if (c_dadd->parsed()) {
    dadd.home = home;
    dadd.as = as;
    return Report(CmdDeviceAdd(dadd, std::cout));
  }
  if (c_sim_enroll->parsed()) {
    sim_enroll.home = home;
    sim_enroll.as = as;
    return Report(CmdSimEnroll(sim_enroll, std::cout));
  }
  if (c_sign_cms->parsed()) return Report(CmdSignCms(sign_cms, std::cout));
  if (c_sign_pdf->parsed()) return Report(CmdSignPdf(sign_pdf, std::cout));
  if (c_sign_xml->parsed()) return Report(CmdSignXml(sign_xml, std::cout));
  if (c_serve->parsed()) {
    serve.home = home;
    return Report(CmdServe(serve, std::cout));
  }
  return 2;
}

}  // namespace kyso::cli
