#include "kyso/cli/sign_commands.h"

#include <openssl/err.h>

#include <filesystem>
#include <future>
#include <ostream>

#include "kyso/base/file.h"
#include "kyso/ca/audit_checkpoint.h"
#include "kyso/ca/authority.h"
#include "kyso/cli/deployment.h"
#include "kyso/cli/ra_commands.h"
#include "kyso/mss/mss_signer.h"
#include "kyso/pkix/cms.h"
#include "kyso/pkix/csr.h"
#include "kyso/pkix/x509.h"
#include "kyso/ra/devices.h"
#include "kyso/sign/anchor.h"
#include "kyso/sign/pdf_signer.h"
#include "kyso/sign/timestamp.h"
#include "kyso/sign/visible.h"
#include "kyso/sign/xades.h"
#include "kyso/token/token.h"
#include "kyso/verify/cert_check.h"
#include "kyso/verify/timestamp_token.h"

#include <openssl/cms.h>
#include <openssl/pkcs12.h>
#include <openssl/sha.h>

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

namespace {

constexpr std::size_t kMaxPdfInputLen = sign::kMaxPdfLen;
constexpr std::size_t kMaxXmlInputLen = 64 << 20;
constexpr std::size_t kMaxCrlFileLen = 16 << 20;

// SigningKey is a key ready to sign a document, with its certificate checked (R5.1).
struct SigningKey {
  std::unique_ptr<pkix::Signer> signer;
  ossl::UniquePtr<X509> cert;
  std::vector<ossl::UniquePtr<X509>> chain;
  std::unique_ptr<RaSession> session;  // when --home was given
  // What the certificate was checked against, kept to check a TSA's certificate the same way.
  std::vector<ossl::UniquePtr<X509>> anchors;
  std::vector<Bytes> crls;
  verify::CertCheck check;  // the signer's path and the revocation data that vouched for it
  std::string tsa_url;      // from the deployment, when --home names one
  std::vector<std::string> secret_markers = Config().sign.secret_markers;

  std::vector<const X509*> ChainView() const {
    std::vector<const X509*> v;
    for (const auto& c : chain) v.push_back(c.get());
    return v;
  }
};

Status AppendCertificates(const std::string& path, std::vector<ossl::UniquePtr<X509>>& into) {
  KYSO_ASSIGN_OR_RETURN(auto more, ReadCertificates(path), path);
  for (auto& c : more) into.push_back(std::move(c));
  return OkStatus();
}

// OpenP12 reads a PKCS#12 file: its key signs in software (tests and migration only).
Status OpenP12(const SignerArgs& a, SigningKey& key) {
  KYSO_ASSIGN_OR_RETURN(std::string data, ReadFileLimited(a.p12_file, kMaxCertFileLen), "--p12");
  SecretString pass;
  if (!a.p12_pass_file.empty()) {
    KYSO_ASSIGN_OR_RETURN(pass, ReadSecretFile(a.p12_pass_file), "--p12-pass-file");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(d2i_PKCS12(nullptr, &p, static_cast<long>(data.size())),
                                                   &PKCS12_free);
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  // reveal() views a std::string, so data() is NUL-terminated; no unwiped copy of the password.
  if (!p12 || PKCS12_parse(p12.get(), pass.reveal().data(), &pkey, &cert, &ca) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("--p12: không đọc được tệp PKCS#12 (sai mật khẩu hoặc tệp hỏng)");
  }
  ossl::UniquePtr<EVP_PKEY> owned_key(pkey);
  key.cert.reset(cert);
  for (int i = 0; ca != nullptr && i < sk_X509_num(ca); ++i) key.chain.emplace_back(sk_X509_value(ca, i));
  sk_X509_free(ca);
  if (!owned_key || !key.cert) return InvalidArgumentError("--p12: the file holds no key and certificate");
  KYSO_ASSIGN_OR_RETURN(pkix::SignatureAlgorithm alg, pkix::DefaultAlgorithmFor(owned_key.get(), false));
  KYSO_ASSIGN_OR_RETURN(key.signer, pkix::KeySigner::Create(std::move(owned_key), alg));
  return OkStatus();
}

// OpenTokenCertificate takes the signer's certificate from the token (the one whose key is
// the signer's), and the other certificates there as the chain.
Status OpenTokenCertificate(const SignerArgs& a, SigningKey& key) {
  KYSO_ASSIGN_OR_RETURN(SecretString pin, ReadSecretFile(a.pin_file), "--pin-file");
  KYSO_ASSIGN_OR_RETURN(auto tok, token::Token::Open(a.module, a.token_label, pin), "token " + a.token_label);
  KYSO_ASSIGN_OR_RETURN(std::vector<Bytes> ders, tok->Certificates());
  KYSO_ASSIGN_OR_RETURN(auto signer, tok->FindSigner(a.key_label, false), "key " + a.key_label);
  for (const Bytes& der : ders) {
    KYSO_ASSIGN_OR_RETURN(auto c, pkix::ParseCertificate(der));
    if (!key.cert && SameKey(X509_get0_pubkey(c.get()), signer->public_key())) {
      key.cert = std::move(c);
    } else {
      key.chain.push_back(std::move(c));
    }
  }
  if (!key.cert) return NotFoundError("token " + a.token_label + " holds no certificate for key " + a.key_label + " (--cert)");
  // The signer keeps the token's session: one login (SoftHSM2 derives the PIN key each time).
  key.signer = std::move(signer);
  return OkStatus();
}

// PrepareSigning opens the key the arguments name, gathers its certificate and chain, and
// checks the certificate before anything is signed (R5.1): a path to a trust anchor, the
// validity period and the revocation status, with Vietnamese messages (R5.4).
Result<SigningKey> PrepareSigning(const DocumentSignArgs& a, const std::string& display, std::ostream& out) {
  SigningKey key;
  std::vector<ossl::UniquePtr<X509>>& anchors = key.anchors;
  std::vector<Bytes>& crls = key.crls;
  for (const std::string& path : a.trust) KYSO_RETURN_IF_ERROR(AppendCertificates(path, anchors));
  for (const std::string& path : a.chain) KYSO_RETURN_IF_ERROR(AppendCertificates(path, key.chain));
  for (const std::string& path : a.crls) {
    KYSO_ASSIGN_OR_RETURN(std::string data, ReadFileLimited(path, kMaxCrlFileLen), "--crl");
    KYSO_ASSIGN_OR_RETURN(auto crl, ossl::ParsePemOrDer<X509_CRL>(AsBytes(data), PEM_read_bio_X509_CRL,
                                                                  d2i_X509_CRL, "CRL " + path));
    crls.push_back(ossl::ToDer(i2d_X509_CRL, crl.get()));
  }
  if (!a.home.empty()) {
    PointSoftHsmAt(a.home);  // a SoftHSM2 token of the deployment's (tests, the demo)
    KYSO_ASSIGN_OR_RETURN(RaSession s, OpenRa(a.home, "", false));
    key.session = std::make_unique<RaSession>(std::move(s));
    store::Store& store = key.session->deployment->store();
    const Config& config = key.session->deployment->config();
    key.tsa_url = config.sign.tsa_url.empty() ? config.ca.public_url + "/tsa" : config.sign.tsa_url;
    key.secret_markers = config.sign.secret_markers;
    for (std::string_view role : {ca::kIssuing, ca::kRoot}) {
      KYSO_ASSIGN_OR_RETURN(store::CaKey ca_key, store.GetCaKey(role));
      KYSO_ASSIGN_OR_RETURN(auto c, pkix::ParseCertificate(ca_key.cert_der));
      if (role == ca::kRoot) {
        KYSO_ASSIGN_OR_RETURN(auto anchor, pkix::ParseCertificate(ca_key.cert_der));
        anchors.push_back(std::move(anchor));
      }
      key.chain.push_back(std::move(c));
      // The deployment is the CA: its own CRLs say what it has revoked.
      KYSO_ASSIGN_OR_RETURN(std::optional<store::CrlRecord> crl, store.LatestCrl(role));
      if (crl) crls.push_back(crl->der);
    }
  }
  if (anchors.empty()) {
    return InvalidArgumentError("R5.1: cần chứng thư số gốc tin cậy để kiểm tra chứng thư của người ký: --home DIR hoặc --trust PEM");
  }
  if (!a.signer.p12_file.empty()) {
    KYSO_RETURN_IF_ERROR(OpenP12(a.signer, key));
  } else {
    if (!a.cert.empty()) {
      KYSO_ASSIGN_OR_RETURN(auto certs, ReadCertificates(a.cert), "--cert");
      key.cert = std::move(certs.front());
      for (std::size_t i = 1; i < certs.size(); ++i) key.chain.push_back(std::move(certs[i]));
    } else if (!a.signer.module.empty()) {
      KYSO_RETURN_IF_ERROR(OpenTokenCertificate(a.signer, key));
    } else {
      return InvalidArgumentError("the signer's certificate is needed: --cert PEM");
    }
    if (!key.signer) {
      KYSO_ASSIGN_OR_RETURN(key.signer, OpenSigner(a.signer, X509_get0_pubkey(key.cert.get()), display));
    }
  }

  verify::CertCheckOptions o;
  for (const auto& c : anchors) o.anchors.push_back(c.get());
  for (const auto& c : key.chain) o.untrusted.push_back(c.get());
  o.crls_der = crls;
  o.revocation = a.offline ? verify::RevocationMode::kOffline : verify::RevocationMode::kOnline;
  KYSO_ASSIGN_OR_RETURN(key.check, verify::CheckSigningCertificate(key.cert.get(), o));
  if (!key.check.ok()) return FailedPreconditionError("R5.1: " + key.check.message);
  for (const std::string& w : key.check.warnings) out << "cảnh báo: " << w << "\n";
  return key;
}

// RecordLockedSim notes a SIM that reported its PIN blocked as locked (R13.1).
void RecordLockedSim(const SigningKey& key, const SignerArgs& a, const Status& failure) {
  if (key.session && !a.phone.empty() && failure.code() == Code::kFailedPrecondition) {
    ra::Inventory inventory(key.session->deployment->config(), key.session->deployment->store(),
                            *key.session->workflow, key.session->deployment->clock());
    (void)inventory.ObservePinState(ra::Actor::Console(), a.phone, "locked");
  }
}

// CommonName is the certificate's CN, UTF-8 (the signer's name in /Name).
std::string CommonName(const X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string Display(const std::string& in) { return "Ký số tài liệu " + fs::path(in).filename().string(); }

Result<sign::PdfRect> ParseRect(const std::string& text) {
  sign::PdfRect r;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%lf,%lf,%lf,%lf%c", &r.x, &r.y, &r.w, &r.h, &tail) != 4 || r.w <= 0 || r.h <= 0) {
    return InvalidArgumentError("--rect là x,y,w,h (điểm PDF, gốc ở góc dưới trái trang), w và h dương");
  }
  return r;
}


// Level is a baseline level of ETSI EN 319 122-1 / 132-1 / 142-1.
enum class Level { kB, kT, kLT, kLTA };

Result<Level> ParseLevel(const std::string& text, Level highest) {
  static constexpr std::pair<std::string_view, Level> kLevels[] = {
      {"B-B", Level::kB}, {"B-T", Level::kT}, {"B-LT", Level::kLT}, {"B-LTA", Level::kLTA}};
  for (const auto& [name, level] : kLevels) {
    if (text == name && level <= highest) return level;
  }
  std::string allowed;
  for (const auto& [name, level] : kLevels) {
    if (level <= highest) allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  return InvalidArgumentError("--level " + text + ": định dạng này ký được các mức " + allowed);
}

std::string_view LevelName(Level level) {
  static constexpr std::string_view kNames[] = {"B-B", "B-T", "B-LT", "B-LTA"};
  return kNames[static_cast<int>(level)];
}

Result<Bytes> Sha256(ByteSpan data) {
  Bytes md(SHA256_DIGEST_LENGTH);
  if (SHA256(data.data(), data.size(), md.data()) == nullptr) return ossl::Error("SHA-256");
  return md;
}

void Append(sign::ValidationData& into, const std::vector<Bytes>& certs, const std::vector<Bytes>& crls,
            const std::vector<Bytes>& ocsps) {
  into.certificates.insert(into.certificates.end(), certs.begin(), certs.end());
  into.crls.insert(into.crls.end(), crls.begin(), crls.end());
  into.ocsp_responses.insert(into.ocsp_responses.end(), ocsps.begin(), ocsps.end());
}

// CheckedTimestamper is the TSA as the signer uses it: every token is verified before it goes
// into a document (signature, ESS binding, path to the same trust anchors as the signer's
// certificate with the timeStamping EKU, imprint), and each TSA certificate met is checked for
// revocation like the signer's (R5.1). What vouched for it is kept for B-LT (R5.3).
class CheckedTimestamper final : public sign::Timestamper {
 public:
  CheckedTimestamper(std::unique_ptr<sign::Timestamper> client, const SigningKey& key, bool offline)
      : client_(std::move(client)), key_(key), offline_(offline) {}

  Result<Bytes> Timestamp(ByteSpan sha256_digest) override {
    KYSO_ASSIGN_OR_RETURN(Bytes token, client_->Timestamp(sha256_digest));
    largest_token_ = std::max(largest_token_, token.size());
    std::vector<const X509*> anchors, untrusted;
    for (const auto& c : key_.anchors) anchors.push_back(c.get());
    for (const auto& c : key_.chain) untrusted.push_back(c.get());
    KYSO_ASSIGN_OR_RETURN(verify::VerifiedTimestamp v,
                          verify::VerifyTimestampToken(token, sha256_digest, anchors, untrusted));
    const Bytes cert_der = ossl::ToDer(i2d_X509, v.tsa_cert.get());
    if (std::find(checked_.begin(), checked_.end(), cert_der) == checked_.end()) {
      verify::CertCheckOptions o;
      o.anchors = anchors;
      o.untrusted = untrusted;
      for (const auto& c : v.certificates) o.untrusted.push_back(c.get());
      o.crls_der = key_.crls;
      o.revocation = offline_ ? verify::RevocationMode::kOffline : verify::RevocationMode::kOnline;
      o.purpose = verify::Purpose::kAny;  // the timeStamping EKU was required above
      KYSO_ASSIGN_OR_RETURN(verify::CertCheck check, verify::CheckSigningCertificate(v.tsa_cert.get(), o));
      if (!check.ok()) {
        return FailedPreconditionError("chứng thư số của máy chủ dấu thời gian: " + check.message);
      }
      Append(validation_data_, check.chain_der, check.crls_der, check.ocsp_responses_der);
      checked_.push_back(cert_der);
    }
    return token;
  }

  // Probe stamps a fixed digest so that a TSA that is down, refuses, or cannot be trusted is
  // found before the signer is asked to sign, not after.
  Status Probe() {
    static constexpr std::string_view kProbe = "kyso: kiểm tra máy chủ dấu thời gian trước khi ký";
    KYSO_ASSIGN_OR_RETURN(Bytes digest, Sha256(AsBytes(kProbe)));
    return Timestamp(digest).status();
  }

  const sign::ValidationData& validation_data() const { return validation_data_; }
  std::size_t largest_token() const { return largest_token_; }

 private:
  std::size_t largest_token_ = 0;
  std::unique_ptr<sign::Timestamper> client_;
  const SigningKey& key_;
  bool offline_;
  std::vector<Bytes> checked_;  // DER of the TSA certificates checked so far
  sign::ValidationData validation_data_;
};

// OpenTimestamper gives the TSA for levels from B-T (--tsa, else the deployment's), already
// probed: it answers and its certificate is trusted.
Result<std::unique_ptr<CheckedTimestamper>> OpenTimestamper(const DocumentSignArgs& a,
                                                            const SigningKey& key) {
  const std::string url = !a.tsa_url.empty() ? a.tsa_url : key.tsa_url;
  if (url.empty()) {
    return InvalidArgumentError(
        "mức " + a.level + " cần dấu thời gian: cho máy chủ dấu thời gian bằng --tsa URL, hoặc --home DIR");
  }
  if (a.tsa_timeout_seconds < 1 || a.tsa_timeout_seconds > 600) {
    return InvalidArgumentError("--tsa-timeout: từ 1 đến 600 giây");
  }
  KYSO_ASSIGN_OR_RETURN(auto client, sign::NewHttpTimestamper(url, std::chrono::seconds(a.tsa_timeout_seconds)));
  auto tsa = std::make_unique<CheckedTimestamper>(std::move(client), key, a.offline);
  KYSO_RETURN_IF_ERROR(tsa->Probe());
  return tsa;
}

// SignatureTimestamp asks the TSA to stamp a signature value: the unsigned attribute
// id-aa-signatureTimeStampToken of CAdES/PAdES B-T (RFC 3161 Appendix A).
Result<Bytes> SignatureTimestamp(sign::Timestamper& tsa, ByteSpan signature) {
  KYSO_ASSIGN_OR_RETURN(Bytes digest, Sha256(signature));
  KYSO_ASSIGN_OR_RETURN(Bytes token, tsa.Timestamp(digest), "dấu thời gian");
  return pkix::CmsAttributeDer(pkix::kOidSignatureTimeStampToken, token);
}

// Signed is a signature value and, from B-T, its timestamp attribute.
struct Signed {
  Bytes signature;
  std::vector<Bytes> unsigned_attrs;
};

// SignAndStamp has the key sign `signed_attrs` (a SIM that says its PIN is blocked is recorded
// locked, R13.1) and, with a TSA, stamps the signature value.
Result<Signed> SignAndStamp(const SigningKey& key, const DocumentSignArgs& a, ByteSpan signed_attrs,
                            sign::Timestamper* tsa) {
  Signed s;
  Result<Bytes> signature = key.signer->Sign(signed_attrs);
  if (!signature.ok()) {
    RecordLockedSim(key, a.signer, signature.status());
    return signature.status();
  }
  s.signature = std::move(signature).value();
  if (tsa != nullptr) {
    KYSO_ASSIGN_OR_RETURN(s.unsigned_attrs.emplace_back(), SignatureTimestamp(*tsa, s.signature));
  }
  return s;
}

// ValidationDataFor gives what vouched for the signer (R5.3: the certificate, the CRL current
// at signing time and the status-check result) and for every TSA certificate met.
sign::ValidationData ValidationDataFor(const SigningKey& key, const CheckedTimestamper& tsa) {
  sign::ValidationData vd;
  Append(vd, key.check.chain_der, key.check.crls_der, key.check.ocsp_responses_der);
  const sign::ValidationData& t = tsa.validation_data();
  Append(vd, t.certificates, t.crls, t.ocsp_responses);
  return vd;
}

// RefuseSecret applies R6.1 to a document about to be signed.
Status RefuseSecret(std::optional<std::string> marker) {
  if (!marker) return OkStatus();
  return FailedPreconditionError("R6.1: tài liệu có dấu \"" + *marker +
                                 "\" (bí mật nhà nước): không ký bằng chữ ký số chuyên dùng công vụ");
}

Status CheckNotSecret(ByteSpan document, const std::vector<std::string>& markers) {
  if (AsString(document).substr(0, 1024).find("%PDF-") != std::string_view::npos) {
    KYSO_ASSIGN_OR_RETURN(std::optional<std::string> marker, sign::FindSecretMarker(document, markers));
    return RefuseSecret(marker);
  }
  return RefuseSecret(sign::FindSecretMarkerInText(AsString(document), markers));
}


// PlaceSignature turns the visible-signature arguments into a placement (R30.1-R30.3).
Result<sign::Placement> PlaceSignature(const SignPdfArgs& a, ByteSpan pdf, Time now) {
  sign::PlacementOptions p;
  std::string kind = a.appearance.empty() ? (a.image.empty() ? "none" : "person") : a.appearance;
  static constexpr std::pair<std::string_view, sign::AppearanceKind> kKinds[] = {
      {"none", sign::AppearanceKind::kNone},
      {"person", sign::AppearanceKind::kPerson},
      {"agency", sign::AppearanceKind::kAgency},
      {"copy", sign::AppearanceKind::kCopy}};
  const auto it = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& k) { return k.first == kind; });
  if (it == std::end(kKinds)) return InvalidArgumentError("--appearance là person, agency, copy hoặc none");
  p.kind = it->second;
  p.page = a.page;
  if (a.page < 0) return InvalidArgumentError("--page đếm từ 1");
  if (!a.rect.empty()) { KYSO_ASSIGN_OR_RETURN(p.rect, ParseRect(a.rect)); }
  if (p.rect && !a.anchor.empty()) return InvalidArgumentError("--rect hoặc --anchor, không dùng cả hai");
  p.anchor = a.anchor;
  p.title = a.title;
  if (!a.title.empty() && a.anchor.empty()) return InvalidArgumentError("--title đi cùng --anchor (họ tên người ký)");
  std::optional<sign::RasterImage> image;
  if (!a.image.empty()) {
    KYSO_ASSIGN_OR_RETURN(std::string png, ReadFileLimited(a.image, sign::kMaxPngLen), "--image");
    KYSO_ASSIGN_OR_RETURN(image, sign::DecodePng(AsBytes(png)), "--image " + a.image);
    p.image = &*image;
  }
  if (a.seal_mm != 0) p.seal_mm = a.seal_mm;
  std::unique_ptr<sign::Font> font;
  if (p.kind == sign::AppearanceKind::kCopy) {
    if (!a.image.empty()) return InvalidArgumentError("R30.3: bản sao, phụ lục không hiển thị hình ảnh (bỏ --image)");
    if (!a.doc_number.empty()) p.copy_lines.push_back(a.doc_number);
    if (!a.copy_form.empty()) p.copy_lines.push_back(a.copy_form);
    if (!a.copy_agency.empty()) p.copy_lines.push_back(a.copy_agency);
    KYSO_ASSIGN_OR_RETURN(font, sign::Font::Load(a.font.empty() ? sign::kDefaultFontPath : a.font), "--font");
    p.font = font.get();
  } else if (!a.doc_number.empty() || !a.copy_form.empty() || !a.copy_agency.empty()) {
    return InvalidArgumentError("--doc-number, --copy-form, --copy-agency chỉ dùng với --appearance copy");
  }
  p.signing_time = now;
  return sign::Place(pdf, p);
}

}  // namespace

Status CmdSignCms(const SignCmsArgs& a, std::ostream& out) {
  if (a.out.empty()) return InvalidArgumentError("--out is required");
  KYSO_ASSIGN_OR_RETURN(const Level level, ParseLevel(a.doc.level, Level::kLT));
  KYSO_ASSIGN_OR_RETURN(FileContents content, FileContents::Read(a.in, kMaxSignInputLen));
  KYSO_ASSIGN_OR_RETURN(SigningKey key, PrepareSigning(a.doc, Display(a.in), out));
  KYSO_RETURN_IF_ERROR(CheckNotSecret(content.bytes(), key.secret_markers));
  std::unique_ptr<CheckedTimestamper> tsa;
  if (level >= Level::kT) { KYSO_ASSIGN_OR_RETURN(tsa, OpenTimestamper(a.doc, key)); }
  pkix::CmsSignOptions o;
  o.content = content.bytes();
  o.detached = a.detached;
  o.signer_cert = key.cert.get();
  o.extra_certs = key.ChainView();
  o.signing_time = SystemClock().Now();  // CAdES B-B: signing-time is required
  KYSO_ASSIGN_OR_RETURN(pkix::PreparedCms prepared, pkix::PreparedCms::Prepare(o, key.signer->algorithm()));
  if (level >= Level::kLT) {
    // Added once before signing, so that too much of it is refused before the signer is asked;
    // again after, for a TSA certificate met only by the real timestamp (duplicates are dropped).
    const sign::ValidationData vd = ValidationDataFor(key, *tsa);
    KYSO_RETURN_IF_ERROR(prepared.AddValidationData(vd.certificates, vd.crls, vd.ocsp_responses));
  }
  KYSO_ASSIGN_OR_RETURN(Signed s, SignAndStamp(key, a.doc, prepared.SignedAttributesDer(), tsa.get()));
  if (level >= Level::kLT) {
    const sign::ValidationData vd = ValidationDataFor(key, *tsa);
    KYSO_RETURN_IF_ERROR(prepared.AddValidationData(vd.certificates, vd.crls, vd.ocsp_responses));
  }
  KYSO_ASSIGN_OR_RETURN(Bytes cms, std::move(prepared).Finish(s.signature, s.unsigned_attrs));
  KYSO_RETURN_IF_ERROR(WriteFileAtomic(a.out, AsString(cms)));
  out << "signed " << a.in << " -> " << a.out << " (CAdES " << LevelName(level) << ", "
      << (a.detached ? "detached" : "attached") << ", "
      << pkix::SignatureAlgorithmName(key.signer->algorithm()) << ")\n";
  return OkStatus();
}

Status CmdSignPdf(const SignPdfArgs& a, std::ostream& out) {
  if (a.out.empty()) return InvalidArgumentError("--out is required");
  KYSO_ASSIGN_OR_RETURN(const Level level, ParseLevel(a.doc.level, Level::kLTA));
  const Time now = SystemClock().Now();
  // The input is read once into one buffer of its size, and the output is written from it and
  // the update: a 100 MB PDF is in memory once, and the signed document is never assembled.
  std::optional<FileContents> input;
  KYSO_ASSIGN_OR_RETURN(input, FileContents::Read(a.in, kMaxPdfInputLen));
  // Where the signature goes and what it shows, before the signer is asked for anything.
  KYSO_ASSIGN_OR_RETURN(sign::Placement placement, PlaceSignature(a, input->bytes(), now));
  sign::PdfSignOptions o;
  o.page = placement.page;
  o.rect = placement.rect;
  o.appearance = &placement.appearance;
  o.appearance_rotate = placement.rotate;
  o.field_label = placement.field_label;
  o.certify = a.certify;
  o.field_name = a.field;
  o.reason = a.reason;
  o.location = a.location;
  KYSO_ASSIGN_OR_RETURN(SigningKey key, PrepareSigning(a.doc, Display(a.in), out));
  KYSO_RETURN_IF_ERROR(CheckNotSecret(input->bytes(), key.secret_markers));
  std::unique_ptr<CheckedTimestamper> tsa;
  if (level >= Level::kT) { KYSO_ASSIGN_OR_RETURN(tsa, OpenTimestamper(a.doc, key)); }
  o.signer_cert = key.cert.get();
  o.extra_certs = key.ChainView();
  o.signing_time = now;
  o.name = CommonName(key.cert.get());
  // The output begins with the input's bytes: they are copied (and flushed) on another thread
  // while this one hashes them and the key signs, so on two cores the write costs no time.
  // The future is declared after the file, so an early return waits for the copy first.
  KYSO_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(a.out));
  std::future<Status> copy = std::async(std::launch::async, [&file, bytes = input->bytes()] {
    KYSO_RETURN_IF_ERROR(file.Append(bytes));
    return file.Sync();
  });
  KYSO_ASSIGN_OR_RETURN(sign::PreparedPdf prepared, sign::PreparePdf(input->bytes(), o, key.signer->algorithm()));
  // What B-LT will add must be addable before the signer is asked: the document's own DSS is
  // read now (the signature's update does not touch it).
  if (level >= Level::kLT) KYSO_RETURN_IF_ERROR(sign::DssUpdate(input->bytes(), {}).status());
  KYSO_ASSIGN_OR_RETURN(Signed s, SignAndStamp(key, a.doc, prepared.SignedAttributesDer(), tsa.get()));
  KYSO_ASSIGN_OR_RETURN(Bytes update, sign::FinishPdfUpdate(std::move(prepared), s.signature, s.unsigned_attrs));
  KYSO_RETURN_IF_ERROR(copy.get());
  KYSO_RETURN_IF_ERROR(file.Append(update));
  input.reset();
  if (level >= Level::kLT) {
    const sign::ValidationData vd = ValidationDataFor(key, *tsa);
    KYSO_ASSIGN_OR_RETURN(MappedFile signed_pdf, MappedFile::Open(file.temp_path(), kMaxPdfInputLen + (64 << 20)));
    KYSO_ASSIGN_OR_RETURN(Bytes dss, sign::DssUpdate(signed_pdf.bytes(), vd));
    KYSO_RETURN_IF_ERROR(file.Append(dss));
  }
  if (level >= Level::kLTA) {
    KYSO_ASSIGN_OR_RETURN(MappedFile with_dss, MappedFile::Open(file.temp_path(), kMaxPdfInputLen + (64 << 20)));
    // Room for a token like the probe's, with margin for a longer serial or chain.
    const std::size_t room = std::max(sign::kDocTimestampContentsLen, 2 * tsa->largest_token());
    KYSO_ASSIGN_OR_RETURN(sign::PreparedPdf doc_ts, sign::PrepareDocTimestamp(with_dss.bytes(), "", room));
    KYSO_ASSIGN_OR_RETURN(Bytes token, tsa->Timestamp(doc_ts.ByteRangeDigest()), "dấu thời gian tài liệu");
    KYSO_ASSIGN_OR_RETURN(Bytes ts_update, sign::FinishDocTimestampUpdate(std::move(doc_ts), token));
    KYSO_RETURN_IF_ERROR(file.Append(ts_update));
  }
  KYSO_RETURN_IF_ERROR(std::move(file).Commit());
  out << "signed " << a.in << " -> " << a.out << " (PAdES " << LevelName(level) << ", "
      << pkix::SignatureAlgorithmName(key.signer->algorithm()) << ")\n";
  if (placement.rect) {
    const sign::PdfRect& r = *placement.rect;
    out << "visible on page " << placement.page << " at " << r.x << "," << r.y << "," << r.w << "," << r.h << "\n";
  }
  return OkStatus();
}

Status CmdSignXml(const SignXmlArgs& a, std::ostream& out) {
  if (a.out.empty()) return InvalidArgumentError("--out is required");
  KYSO_ASSIGN_OR_RETURN(const Level level, ParseLevel(a.doc.level, Level::kT));
  KYSO_ASSIGN_OR_RETURN(std::string input, ReadFileLimited(a.in, kMaxXmlInputLen));
  KYSO_ASSIGN_OR_RETURN(SigningKey key, PrepareSigning(a.doc, Display(a.in), out));
  KYSO_RETURN_IF_ERROR(CheckNotSecret(AsBytes(input), key.secret_markers));
  std::unique_ptr<CheckedTimestamper> tsa;
  if (level >= Level::kT) { KYSO_ASSIGN_OR_RETURN(tsa, OpenTimestamper(a.doc, key)); }
  sign::XadesOptions o;
  if (a.detached) {
    o.packaging = sign::XadesPackaging::kDetached;
    o.detached_uri = fs::path(a.in).filename().string();
  }
  o.signer_cert = key.cert.get();
  o.chain = key.ChainView();
  o.signing_time = SystemClock().Now();
  o.timestamper = tsa.get();
  Result<Bytes> xml = sign::SignXml(AsBytes(input), o, *key.signer);
  if (!xml.ok()) {
    RecordLockedSim(key, a.doc.signer, xml.status());
    return xml.status();
  }
  KYSO_RETURN_IF_ERROR(WriteFileAtomic(a.out, AsString(*xml)));
  out << "signed " << a.in << " -> " << a.out << " (XAdES " << LevelName(level) << ", " << (a.detached ? "detached" : "enveloped")
      << ", " << pkix::SignatureAlgorithmName(key.signer->algorithm()) << ")\n";
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
