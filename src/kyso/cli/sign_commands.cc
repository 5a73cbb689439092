#include "kyso/cli/sign_commands.h"

#include <openssl/err.h>

#include <filesystem>
#include <ostream>

#include "kyso/ca/audit_checkpoint.h"
#include "kyso/ca/authority.h"
#include "kyso/cli/deployment.h"
#include "kyso/cli/ra_commands.h"
#include "kyso/mss/mss_signer.h"
#include "kyso/pkix/cms.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"
#include "kyso/ra/devices.h"
#include "kyso/token/token.h"

namespace kyso::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxSignInputLen = 256 << 20;  // what one CMS carries; PDFs come with PAdES
constexpr std::size_t kMaxCertFileLen = 1 << 20;

bool SameKey(const EVP_PKEY* a, const EVP_PKEY* b) { return EVP_PKEY_eq(a, b) == 1; }

Result<std::vector<ossl::UniquePtr<X509>>> ReadCertificates(const std::string& path) {
  KYSO_ASSIGN_OR_RETURN(std::string data, ReadFileLimited(path, kMaxCertFileLen));
  std::vector<ossl::UniquePtr<X509>> out;
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();
  if (out.empty()) {
    KYSO_ASSIGN_OR_RETURN(auto one, pkix::ParseCertificate(AsBytes(data)), path);
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<pkix::Signer>> OpenSigner(const SignerArgs& a, const EVP_PKEY* public_key,
                                                 const std::string& display_text) {
  const bool sim = !a.mssp_url.empty();
  const bool token = !a.module.empty();
  if (sim == token) {
    return InvalidArgumentError("name one key: --mssp URL --phone N (SIM PKI), or --module PATH "
                                "--token-label L --pin-file F (PKI Token)");
  }
  if (sim) {
    if (a.phone.empty()) return InvalidArgumentError("a SIM PKI needs --phone");
    mss::MssOptions o;
    o.url = a.mssp_url;
    o.msisdn = a.phone;
    if (!a.ap_id.empty()) o.ap_id = a.ap_id;
    if (!a.ap_password_file.empty()) {
      KYSO_ASSIGN_OR_RETURN(o.ap_password, ReadSecretFile(a.ap_password_file), "--ap-password-file");
    }
    if (a.mss_mode != "synch" && a.mss_mode != "async") {
      return InvalidArgumentError("--mss-mode is synch or async");
    }
    o.mode = a.mss_mode == "async" ? mss::MessagingMode::kAsynchClientServer : mss::MessagingMode::kSynch;
    o.timeout = std::chrono::seconds(a.timeout_seconds);
    o.display_text = display_text;
    ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_dup(const_cast<EVP_PKEY*>(public_key)));
    if (!key) return ossl::Error("copy the public key");
    return mss::NewMssSigner(std::move(o), std::move(key));
  }
  if (a.token_label.empty() || a.pin_file.empty()) {
    return InvalidArgumentError("a PKI Token needs --token-label and --pin-file");
  }
  KYSO_ASSIGN_OR_RETURN(SecretString pin, ReadSecretFile(a.pin_file), "--pin-file");
  KYSO_ASSIGN_OR_RETURN(auto tok, token::Token::Open(a.module, a.token_label, pin), "token " + a.token_label);
  KYSO_ASSIGN_OR_RETURN(auto signer, tok->FindSigner(a.key_label, false), "key " + a.key_label);
  if (!SameKey(signer->public_key(), public_key)) {
    return InvalidArgumentError("the token's key " + a.key_label + " is not the certificate's key");
  }
  return signer;
}

Status CmdSignCms(const SignCmsArgs& a, std::ostream& out) {
  if (a.out.empty()) return InvalidArgumentError("--out is required");
  KYSO_ASSIGN_OR_RETURN(std::string content, ReadFileLimited(a.in, kMaxSignInputLen));
  KYSO_ASSIGN_OR_RETURN(auto certs, ReadCertificates(a.cert), "--cert");
  std::vector<ossl::UniquePtr<X509>> chain;
  for (const std::string& path : a.chain) {
    KYSO_ASSIGN_OR_RETURN(auto more, ReadCertificates(path), "--chain");
    for (auto& c : more) chain.push_back(std::move(c));
  }
  std::unique_ptr<RaSession> session;
  if (!a.home.empty()) {
    // The deployment's CA certificates go with the signature.
    KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, "", false));
    session = std::make_unique<RaSession>(std::move(s));
    for (std::string_view role : {ca::kIssuing, ca::kRoot}) {
      KYSO_ASSIGN_OR_RETURN(store::CaKey ca_key, session->deployment->store().GetCaKey(role));
      KYSO_ASSIGN_OR_RETURN(auto c, pkix::ParseCertificate(ca_key.cert_der));
      chain.push_back(std::move(c));
    }
  }
  const X509* cert = certs.front().get();
  const std::string display = "Ký số tài liệu " + fs::path(a.in).filename().string();
  KYSO_ASSIGN_OR_RETURN(auto signer, OpenSigner(a.signer, X509_get0_pubkey(cert), display));
  pkix::CmsSignOptions o;
  o.content = AsBytes(content);
  o.detached = a.detached;
  o.signer_cert = cert;
  for (std::size_t i = 1; i < certs.size(); ++i) o.extra_certs.push_back(certs[i].get());
  for (const auto& c : chain) o.extra_certs.push_back(c.get());
  Result<Bytes> cms = pkix::SignCms(o, *signer);
  if (!cms.ok()) {
    // A SIM that reports its PIN blocked is locked: the inventory shows it (R13.1).
    if (session && !a.signer.phone.empty() && cms.status().code() == Code::kFailedPrecondition) {
      ra::Inventory inventory(session->deployment->config(), session->deployment->store(),
                              *session->workflow, session->deployment->clock());
      (void)inventory.ObservePinState(ra::Actor::Console(), a.signer.phone, "locked");
    }
    return cms.status();
  }
  KYSO_RETURN_IF_ERROR(WriteFileAtomic(a.out, AsString(*cms)));
  out << "signed " << a.in << " -> " << a.out << " (CMS, " << (a.detached ? "detached" : "attached")
      << ", " << pkix::SignatureAlgorithmName(signer->algorithm()) << ")\n";
  return OkStatus();
}

Status CmdSimEnroll(const SimEnrollArgs& a, std::ostream& out) {
  if (a.signer.mssp_url.empty() || a.signer.phone.empty()) {
    return InvalidArgumentError("a SIM PKI is enrolled through its MSSP: --mssp URL --phone N");
  }
  if (!a.cert_out.empty() && fs::exists(a.cert_out)) {
    return AlreadyExistsError("--cert-out " + a.cert_out + " exists");
  }
  KYSO_ASSIGN_OR_RETURN(std::string spki, ReadFileLimited(a.public_key, kMaxCertFileLen), "--public-key");
  KYSO_ASSIGN_OR_RETURN(auto public_key,
                        ossl::ParsePemOrDer<EVP_PKEY>(AsBytes(spki), PEM_read_bio_PUBKEY, d2i_PUBKEY,
                                                      "SIM public key"));
  KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, a.as, true));
  KYSO_ASSIGN_OR_RETURN(ra::Workflow::WaitingRow row, s.workflow->NextWaitingRow(s.actor, a.request));
  store::Store& store = s.deployment->store();
  std::optional<std::string> expected;
  store::Device device;
  if (Result<store::Device> known = store.GetDevice(a.signer.phone); known.ok()) {
    if (known->state != ra::kInStock) {
      return FailedPreconditionError("SIM " + known->serial + " đang ở trạng thái " + known->state + " (" +
                                     std::string(ra::StateLabel(known->state)) + ")");
    }
    device = *known;
    expected = device.state;
  } else if (known.status().code() != Code::kNotFound) {
    return known.status();
  }
  // The subscriber signs the request on the phone: proof that the SIM holds the key.
  KYSO_ASSIGN_OR_RETURN(auto signer,
                        OpenSigner(a.signer, public_key.get(),
                                   "Xác nhận đăng ký chứng thư số cho " + row.name));
  KYSO_ASSIGN_OR_RETURN(Bytes csr_der, pkix::MakeCertRequest(*signer, row.name));
  KYSO_ASSIGN_OR_RETURN(pkix::CertRequest csr, pkix::ParseCertRequest(csr_der));
  device.serial = a.signer.phone;
  device.type = "sim";
  device.phone = a.signer.phone;
  device.operator_name = !a.operator_name.empty() ? a.operator_name : row.sim_operator;
  // The SIM is already in its holder's phone: there is nothing to hand over.
  device.state = std::string(ra::kHandedOver);
  store::DeviceChange change{device, expected, {}};
  change.event.date = s.workflow->Today();
  change.event.reason = "SIM PKI enrolled through " + a.signer.mssp_url;
  KYSO_ASSIGN_OR_RETURN(ca::Issued issued, s.workflow->Enrol(s.actor, row, csr, std::move(change)));
  KYSO_RETURN_IF_ERROR(s.deployment->Checkpoint(s.actor.name, ca::kCheckpointEvery).status());
  if (!a.cert_out.empty()) {
    KYSO_ASSIGN_OR_RETURN(auto cert, pkix::ParseCertificate(issued.cert_der));
    ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    char* pem = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &pem);
    KYSO_RETURN_IF_ERROR(WriteFileAtomic(a.cert_out, std::string_view(pem, static_cast<std::size_t>(len))));
  }
  out << "SIM " << a.signer.phone << " enrolled for request " << a.request << ", row " << row.index + 1
      << ": certificate " << issued.serial_hex << "\n";
  return OkStatus();
}

}  // namespace kyso::cli
