#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "kyso/cli/commands.h"

namespace kyso::cli {

namespace {

int Report(const Status& s) {
  if (s.ok()) return 0;
  std::cerr << "kyso: " << s.message() << "\n";
  return 1;
}

}  // namespace

int RunCli(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S%z kyso %l: %v");
  CLI::App app{"kyso — the province's public-service digital signature system (CA, OCSP, CRL)"};
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
  auto* c_verify = c_audit->add_subcommand("verify", "check the hash chain of every audit event");
  add_home(c_verify);

  // serve
  ServeArgs serve;
  auto* c_serve = app.add_subcommand("serve", "serve OCSP, CRLs and CA certificates over HTTP");
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
  if (c_serve->parsed()) {
    serve.home = home;
    return Report(CmdServe(serve, std::cout));
  }
  return 2;
}

}  // namespace kyso::cli
