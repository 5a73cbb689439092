// The CA hierarchy of a deployment: a root (R4.3: at most 20 years), an issuing CA under it,
// and under the issuing CA a delegated OCSP responder certificate (RFC 6960 4.2.2.2) and the
// timestamp authority's certificate (RFC 3161 2.3).

#include "kyso/ca/authority.h"
#include "kyso/ca/internal/ca_certs.h"
#include "kyso/ca/tsa.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {

namespace {

Result<ossl::UniquePtr<X509_NAME>> CaName(const Config::Ca& c, const std::string& cn) {
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  const std::pair<int, const std::string*> entries[] = {
      {NID_countryName, &c.country}, {NID_organizationName, &c.organization},
      {NID_commonName, &cn}};
  for (const auto& [nid, value] : entries) {
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1) {
      return ossl::Error(Code::kInvalidArgument, "CA name cannot be encoded");
    }
  }
  return name;
}

struct CertSpec {
  const X509_NAME* subject;
  X509* issuer;  // nullptr: self-signed
  const pkix::Signer* subject_key;
  Time not_before;
  Time not_after;
  std::vector<std::pair<int, std::string>> extensions;
};

Result<ossl::UniquePtr<X509>> MakeCaCert(const CertSpec& spec, pkix::Signer& issuer_signer) {
  ossl::UniquePtr<X509> cert(X509_new());
  KYSO_ASSIGN_OR_RETURN(Bytes serial, pkix::RandomSerial());
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  const X509_NAME* issuer_name =
      spec.issuer != nullptr ? X509_get_subject_name(spec.issuer) : spec.subject;
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_set_subject_name(cert.get(), spec.subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(spec.subject_key->public_key())) != 1) {
    return ossl::Error("build CA certificate");
  }
  KYSO_RETURN_IF_ERROR(pkix::SetTime(X509_getm_notBefore(cert.get()), spec.not_before));
  KYSO_RETURN_IF_ERROR(pkix::SetTime(X509_getm_notAfter(cert.get()), spec.not_after));
  for (const auto& [nid, value] : spec.extensions) {
    KYSO_RETURN_IF_ERROR(pkix::AddExtension(cert.get(), nid, value, spec.issuer));
  }
  return pkix::SignCertificate(cert.get(), issuer_signer);
}

}  // namespace

namespace internal {

Status StoreCaCert(store::Store& store, std::string_view role, std::string_view issuer_role,
                   std::string_view key_label, const X509* cert, std::string_view actor) {
  const Bytes der = pkix::CertificateDer(cert);
  KYSO_ASSIGN_OR_RETURN(Time nb, pkix::ToTime(X509_get0_notBefore(cert)));
  KYSO_ASSIGN_OR_RETURN(Time na, pkix::ToTime(X509_get0_notAfter(cert)));
  const std::string serial = pkix::SerialHex(X509_get0_serialNumber(cert));
  unsigned char* tbs = nullptr;
  const int tbs_len = i2d_re_X509_tbs(const_cast<X509*>(cert), &tbs);
  if (tbs_len <= 0) return ossl::Error("encode TBS");
  store::PendingIssuance p{serial, std::string(issuer_role),
                           role == kOcsp ? "ocsp" : role == kTsa ? "tsa" : "ca",
                           pkix::NameUtf8(X509_get_subject_name(cert)), nb, na,
                           Bytes(tbs, tbs + tbs_len)};
  OPENSSL_free(tbs);
  KYSO_RETURN_IF_ERROR(store.RecordIssuances(std::span(&p, 1), actor));
  store::IssuedCertificate issued{serial, der};
  KYSO_RETURN_IF_ERROR(store.CompleteIssuances(std::span(&issued, 1), nb, actor).status());
  return store.PutCaKey(store::CaKey{std::string(role), std::string(key_label), der},
                        store::AuditEvent{std::string(actor), "ca.certificate", std::string(role),
                                          "{\"serial\":\"" + serial + "\"}"});
}

Result<ossl::UniquePtr<X509>> MakeOcspSignerCert(const Config::Ca& c, X509* issuing_cert,
                                                 pkix::Signer& issuing, const pkix::Signer& responder,
                                                 Time now) {
  KYSO_ASSIGN_OR_RETURN(auto name, CaName(c, c.issuing_name + " OCSP"));
  KYSO_ASSIGN_OR_RETURN(Time issuing_end, pkix::ToTime(X509_get0_notAfter(issuing_cert)));
  const Time end = std::min(now + std::chrono::days(c.ocsp_signer_validity_days), issuing_end);
  return MakeCaCert({name.get(), issuing_cert, &responder, now, end,
                     {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature"},
                      {NID_ext_key_usage, "critical,OCSPSigning"},
                      {NID_id_pkix_OCSP_noCheck, "ignored"},
                      {NID_subject_key_identifier, "hash"},
                      {NID_authority_key_identifier, "keyid:always"}}},
                    issuing);
}

Result<ossl::UniquePtr<X509>> MakeTsaCert(const Config::Ca& c, X509* issuing_cert,
                                          pkix::Signer& issuing, const pkix::Signer& tsa,
                                          Time now) {
  KYSO_ASSIGN_OR_RETURN(auto name, CaName(c, c.issuing_name + " TSA"));
  KYSO_ASSIGN_OR_RETURN(Time issuing_end, pkix::ToTime(X509_get0_notAfter(issuing_cert)));
  // Five years, or what is left of the issuing CA if less: a token must be verifiable with a
  // certificate its issuer still vouches for, and a shorter life bounds the key's exposure.
  const Time end = std::min(AddYears(now, kTsaCertYears), issuing_end);
  if (end <= now) return FailedPreconditionError("the issuing CA has expired");
  // The CRL and OCSP pointers let a relying party check the TSA certificate like any other
  // certificate of the issuing CA; OpenSSL's timestamp purpose check wants exactly this EKU
  // and key usage.
  return MakeCaCert({name.get(), issuing_cert, &tsa, now, end,
                     {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
                      {NID_ext_key_usage, "critical,timeStamping"},
                      {NID_subject_key_identifier, "hash"},
                      {NID_authority_key_identifier, "keyid:always"},
                      {NID_crl_distribution_points, "URI:" + c.public_url + "/crl/issuing.crl"},
                      {NID_info_access, "OCSP;URI:" + c.public_url + "/ocsp,caIssuers;URI:" +
                                            c.public_url + "/ca/issuing.crt"}}},
                    issuing);
}

}  // namespace internal

Status CreateHierarchy(const Config& config, store::Store& store, const KeyFactory& keys,
                       const Clock& clock) {
  const Config::Ca& c = config.ca;
  const Time now = clock.Now();
  KYSO_ASSIGN_OR_RETURN(auto root_key, keys("kyso-root", c.root_key), "root key");
  KYSO_ASSIGN_OR_RETURN(auto issuing_key, keys("kyso-issuing", c.issuing_key), "issuing key");
  KYSO_ASSIGN_OR_RETURN(auto ocsp_key, keys("kyso-ocsp", c.ocsp_key), "OCSP key");
  KYSO_ASSIGN_OR_RETURN(auto tsa_key, keys(kTsaKeyLabel, c.tsa_key), "TSA key");

  KYSO_ASSIGN_OR_RETURN(auto root_name, CaName(c, c.root_name));
  const Time root_end = AddYears(now, c.root_validity_years);  // R4.3
  KYSO_ASSIGN_OR_RETURN(
      ossl::UniquePtr<X509> root,
      MakeCaCert({root_name.get(), nullptr, root_key.get(), now, root_end,
                  {{NID_basic_constraints, "critical,CA:TRUE"},
                   {NID_key_usage, "critical,keyCertSign,cRLSign"},
                   {NID_subject_key_identifier, "hash"}}},
                 *root_key));

  KYSO_ASSIGN_OR_RETURN(auto issuing_name, CaName(c, c.issuing_name));
  const Time issuing_end = std::min(AddYears(now, c.issuing_validity_years), root_end);
  KYSO_ASSIGN_OR_RETURN(
      ossl::UniquePtr<X509> issuing,
      MakeCaCert({issuing_name.get(), root.get(), issuing_key.get(), now, issuing_end,
                  {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                   {NID_key_usage, "critical,keyCertSign,cRLSign"},
                   {NID_subject_key_identifier, "hash"},
                   {NID_authority_key_identifier, "keyid:always"},
                   {NID_crl_distribution_points, "URI:" + c.public_url + "/crl/root.crl"},
                   {NID_info_access, "caIssuers;URI:" + c.public_url + "/ca/root.crt"}}},
                 *root_key));

  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> ocsp,
                        internal::MakeOcspSignerCert(c, issuing.get(), *issuing_key, *ocsp_key, now));
  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> tsa,
                        internal::MakeTsaCert(c, issuing.get(), *issuing_key, *tsa_key, now));

  KYSO_RETURN_IF_ERROR(internal::StoreCaCert(store, kRoot, kRoot, "kyso-root", root.get(), "console"));
  KYSO_RETURN_IF_ERROR(
      internal::StoreCaCert(store, kIssuing, kRoot, "kyso-issuing", issuing.get(), "console"));
  KYSO_RETURN_IF_ERROR(internal::StoreCaCert(store, kOcsp, kIssuing, "kyso-ocsp", ocsp.get(), "console"));
  KYSO_RETURN_IF_ERROR(
      internal::StoreCaCert(store, kTsa, kIssuing, kTsaKeyLabel, tsa.get(), "console"));

  KYSO_ASSIGN_OR_RETURN(auto ca, Authority::Open(config, store,
                                                 CaSigners{std::move(root_key),
                                                           std::move(issuing_key),
                                                           std::move(ocsp_key)},
                                                 clock));
  KYSO_RETURN_IF_ERROR(ca->GenerateCrl(kRoot, "console"));
  KYSO_RETURN_IF_ERROR(ca->GenerateCrl(kIssuing, "console"));
  return OkStatus();
}

}  // namespace kyso::ca
