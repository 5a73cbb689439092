#include "kyso/ca/authority.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "kyso/base/parallel.h"
#include "kyso/ca/internal/ca_certs.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::ca {

namespace {

constexpr std::size_t kBatchChunk = 512;

Status AddNameEntry(X509_NAME* name, int nid, std::string_view value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return ossl::Error(Code::kInvalidArgument, std::string("subject ") + OBJ_nid2sn(nid) +
                                                   " cannot be encoded");
  }
  return OkStatus();
}

// BuildCertificate makes an unsigned v3 certificate with a fresh serial for `key`.
Result<ossl::UniquePtr<X509>> BuildCertificate(const X509_NAME* subject, const X509_NAME* issuer,
                                               const X509_PUBKEY* key, Time not_before,
                                               Time not_after) {
  ossl::UniquePtr<X509> cert(X509_new());
  KYSO_ASSIGN_OR_RETURN(Bytes serial, pkix::RandomSerial());
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!cert || !bn || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1) {
    return ossl::Error("build certificate");
  }
  KYSO_RETURN_IF_ERROR(pkix::CopyPublicKeyInfo(cert.get(), key));
  KYSO_RETURN_IF_ERROR(pkix::SetTime(X509_getm_notBefore(cert.get()), not_before));
  KYSO_RETURN_IF_ERROR(pkix::SetTime(X509_getm_notAfter(cert.get()), not_after));
  return cert;
}

Status AddSubjectKeyId(X509* cert) {
  const Bytes id = pkix::KeyIdentifier(cert);
  ossl::UniquePtr<ASN1_OCTET_STRING> os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), id.data(), static_cast<int>(id.size())) != 1 ||
      X509_add1_ext_i2d(cert, NID_subject_key_identifier, os.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return ossl::Error("subject key identifier");
  }
  return OkStatus();
}

Status AddEmailSan(X509* cert, std::string_view email) {
  ossl::UniquePtr<GENERAL_NAMES> names(GENERAL_NAMES_new());
  GENERAL_NAME* gn = GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  if (!names || gn == nullptr || ia5 == nullptr ||
      ASN1_STRING_set(ia5, email.data(), static_cast<int>(email.size())) != 1) {
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(ia5);
    return ossl::Error("subject alternative name");
  }
  GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
  sk_GENERAL_NAME_push(names.get(), gn);
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return ossl::Error("subject alternative name");
  }
  return OkStatus();
}

Result<ossl::UniquePtr<X509>> LoadCaCert(store::Store& store, std::string_view role) {
  KYSO_ASSIGN_OR_RETURN(store::CaKey key, store.GetCaKey(role), "load CA");
  return pkix::ParseCertificate(key.cert_der);
}

Status CheckKeyMatches(const X509* cert, const pkix::Signer& signer, std::string_view role) {
  if (EVP_PKEY_eq(X509_get0_pubkey(cert), signer.public_key()) != 1) {
    return FailedPreconditionError("the " + std::string(role) +
                                   " key on the token does not match its certificate");
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Authority>> Authority::Open(const Config& config, store::Store& store,
                                                   CaSigners signers, const Clock& clock) {
  std::unique_ptr<Authority> ca(new Authority(config, store, std::move(signers), clock));
  KYSO_ASSIGN_OR_RETURN(ca->root_cert_, LoadCaCert(store, kRoot));
  KYSO_ASSIGN_OR_RETURN(ca->issuing_cert_, LoadCaCert(store, kIssuing));
  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> ocsp_cert, LoadCaCert(store, kOcsp));
  ca->ocsp_cert_ = std::shared_ptr<X509>(ocsp_cert.release(), X509_free);
  KYSO_RETURN_IF_ERROR(CheckKeyMatches(ca->root_cert_.get(), *ca->signers_.root, kRoot));
  KYSO_RETURN_IF_ERROR(CheckKeyMatches(ca->issuing_cert_.get(), *ca->signers_.issuing, kIssuing));
  KYSO_RETURN_IF_ERROR(CheckKeyMatches(ca->ocsp_cert_.get(), *ca->signers_.ocsp, kOcsp));
  for (Profile p : {Profile::kIndividual, Profile::kOrganization, Profile::kDevice}) {
    KYSO_ASSIGN_OR_RETURN(ProfileExtensions ext,
                          ProfileExtensions::Build(p, config.ca, ca->issuing_cert_.get()));
    ca->profiles_.push_back(std::move(ext));
  }
  return ca;
}

pkix::Signer& Authority::SignerFor(std::string_view issuer) const {
  return issuer == kRoot ? *signers_.root : *signers_.issuing;
}

Result<Authority::Prepared> Authority::Prepare(const IssueRequest& r, Time now) const {
  const X509_PUBKEY* spki = nullptr;
  const EVP_PKEY* key = nullptr;
  if (r.csr != nullptr && r.csr->public_key) {
    spki = X509_REQ_get_X509_PUBKEY(r.csr->req.get());
    key = r.csr->public_key.get();
  } else if (r.public_key_info != nullptr) {
    spki = r.public_key_info;
    key = X509_PUBKEY_get0(r.public_key_info);
  }
  if (spki == nullptr || key == nullptr) return InvalidArgumentError("a CSR is required");
  KYSO_RETURN_IF_ERROR(ValidateSubject(r.subject));
  KYSO_ASSIGN_OR_RETURN(Time issuer_end, pkix::ToTime(X509_get0_notAfter(issuing_cert_.get())));
  Time not_after;
  if (r.not_after) {
    not_after = *r.not_after;
    if (not_after <= now) return InvalidArgumentError("the requested notAfter is in the past");
    // R4.2 renewals are capped by the issuer, as the workflow asks.
    if (r.cap_to_issuer && not_after > issuer_end) not_after = issuer_end;
  } else {
    // R4.1: at most `subscriber_max_years` calendar years from notBefore; longer is refused,
    // not capped.
    const Time limit = AddYears(now, config_.ca.subscriber_max_years);
    not_after = limit;
    if (r.days) {
      if (*r.days < 1) return InvalidArgumentError("--days must be at least 1");
      if (*r.days > 366 * config_.ca.subscriber_max_years + 1 ||
          now + std::chrono::days(*r.days) > limit) {
        return InvalidArgumentError("R4.1: a certificate is valid for at most " +
                                    std::to_string(config_.ca.subscriber_max_years) +
                                    " years; " + std::to_string(*r.days) + " days is longer");
      }
      not_after = now + std::chrono::days(*r.days);
    }
  }
  // R4.3: no subscriber certificate outlives its issuer.
  if (not_after > issuer_end) {
    return InvalidArgumentError("R4.3: the certificate would outlive the issuing CA (valid until " +
                                FormatIso8601Utc(issuer_end) + ")");
  }
  KYSO_RETURN_IF_ERROR(pkix::DefaultAlgorithmFor(key, false), "CSR key");

  // R7.1: C=VN, ST=<province>, O=<level-1 agency>, OU=<levels 2..4>, CN=<name>, E=<email>.
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  KYSO_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_countryName, config_.ca.country));
  KYSO_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_stateOrProvinceName, config_.ca.province));
  KYSO_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_organizationName, r.subject.organization));
  for (const std::string& unit : r.subject.units) {
    KYSO_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_organizationalUnitName, unit));
  }
  KYSO_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_commonName, r.subject.name));
  KYSO_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_pkcs9_emailAddress, r.subject.email));

  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert,
                        BuildCertificate(name.get(), X509_get_subject_name(issuing_cert_.get()),
                                         spki, now, not_after));
  const bool rsa = EVP_PKEY_is_a(key, "RSA");
  KYSO_RETURN_IF_ERROR(profiles_[static_cast<int>(r.profile)].AddTo(cert.get(), rsa));
  KYSO_RETURN_IF_ERROR(AddSubjectKeyId(cert.get()));
  KYSO_RETURN_IF_ERROR(AddEmailSan(cert.get(), r.subject.email));

  Prepared out;
  KYSO_ASSIGN_OR_RETURN(out.pending.tbs_der,
                        pkix::PrepareCertificateTbs(cert.get(), signers_.issuing->algorithm()));
  out.pending.serial_hex = pkix::SerialHex(X509_get0_serialNumber(cert.get()));
  out.pending.issuer = std::string(kIssuing);
  out.pending.profile = std::string(ProfileName(r.profile));
  out.pending.subject = pkix::NameUtf8(name.get());
  out.pending.not_before = now;
  out.pending.not_after = not_after;
  return out;
}

Result<Issued> Authority::Issue(const IssueRequest& request, std::string_view actor) {
  std::vector<Result<Issued>> results = IssueBatch(std::span(&request, 1), actor, 1);
  return std::move(results.front());
}

std::vector<Result<Issued>> Authority::IssueBatch(std::span<const IssueRequest> requests,
                                                  std::string_view actor, int threads,
                                                  const Progress& progress) {
  std::vector<Result<Issued>> results;
  results.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    results.emplace_back(InternalError("not processed"));
  }
  pkix::Signer& signer = *signers_.issuing;
  for (std::size_t start = 0; start < requests.size(); start += kBatchChunk) {
    const std::size_t end = std::min(requests.size(), start + kBatchChunk);
    const Time now = clock_.Now();
    // 1. Validate and build every TBSCertificate of the chunk.
    std::vector<Result<Prepared>> prepared(end - start, Result<Prepared>(InternalError("unprepared")));
    ParallelFor(prepared.size(), threads,
                [&](std::size_t k) { prepared[k] = Prepare(requests[start + k], now); });
    std::vector<store::PendingIssuance> pending;
    std::vector<std::size_t> index;
    for (std::size_t k = 0; k < prepared.size(); ++k) {
      if (!prepared[k].ok()) {
        results[start + k] = prepared[k].status();
        continue;
      }
      pending.push_back(std::move(prepared[k]->pending));
      index.push_back(start + k);
    }
    if (pending.empty()) continue;
    // 2. Record them durably before any is signed (DESIGN decision 3).
    if (Status s = store_.RecordIssuances(pending, actor); !s.ok()) {
      for (std::size_t i : index) results[i] = s.WithContext("record issuance");
      continue;
    }
    // 3. Sign, on several token sessions at once.
    std::vector<Result<Bytes>> sigs(pending.size(), Result<Bytes>(InternalError("unsigned")));
    ParallelFor(pending.size(), threads, [&](std::size_t k) { sigs[k] = signer.Sign(pending[k].tbs_der); });
    // 4. Assemble and complete.
    std::vector<store::IssuedCertificate> issued;
    std::vector<std::size_t> issued_index;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      if (!sigs[k].ok()) {
        (void)store_.FailIssuance(pending[k].serial_hex, sigs[k].status().message(), actor);
        results[index[k]] = sigs[k].status().WithContext("sign");
        continue;
      }
      issued.push_back({pending[k].serial_hex,
                        pkix::AssembleSigned(pending[k].tbs_der, signer.algorithm(), *sigs[k])});
      issued_index.push_back(index[k]);
    }
    if (Result<int> done = store_.CompleteIssuances(issued, now, actor); !done.ok()) {
      // The certificates stay recorded as pending; RecoverPending completes them later.
      for (std::size_t i : issued_index) results[i] = done.status().WithContext("store certificate");
      continue;
    }
    for (std::size_t k = 0; k < issued.size(); ++k) {
      results[issued_index[k]] = Issued{issued[k].serial_hex, std::move(issued[k].cert_der)};
    }
    if (progress) progress(end, requests.size());
  }
  return results;
}

Status Authority::Revoke(std::string_view serial_hex, const RevocationReason& reason,
                         std::string_view actor) {
  KYSO_ASSIGN_OR_RETURN(store::CertificateRecord rec, store_.GetCertificate(serial_hex));
  KYSO_RETURN_IF_ERROR(CheckReasonFits(reason, rec.profile));
  if (rec.issuer != kIssuing) {
    return FailedPreconditionError("certificate " + std::string(serial_hex) +
                                   " is a CA certificate; it is not revoked this way");
  }
  KYSO_RETURN_IF_ERROR(store_.Revoke(serial_hex, clock_.Now(), reason.code, reason.name, actor));
  KYSO_RETURN_IF_ERROR(GenerateCrl(kIssuing, actor), "publish CRL");
  return OkStatus();
}

Result<store::CrlRecord> Authority::GenerateCrl(std::string_view issuer, std::string_view actor) {
  X509* cert = issuer == kRoot ? root_cert_.get() : issuing_cert_.get();
  pkix::Signer& signer = SignerFor(issuer);
  const Time now = clock_.Now();
  const auto interval = issuer == kRoot ? config_.ca.root_crl_interval : config_.ca.crl_interval;
  KYSO_ASSIGN_OR_RETURN(std::vector<pkix::RevokedEntry> revoked, store_.ListRevoked(issuer));
  KYSO_ASSIGN_OR_RETURN(int64_t number, store_.NextCrlNumber(issuer));
  pkix::CrlParams params{pkix::NameDer(X509_get_subject_name(cert)), pkix::KeyIdentifier(cert),
                         number, now, now + interval};
  const Bytes tbs = pkix::EncodeTbsCrl(params, signer.algorithm(), revoked);
  KYSO_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(tbs), "sign CRL");
  store::CrlRecord crl{std::string(issuer), number, params.this_update, params.next_update,
                       pkix::AssembleSigned(tbs, signer.algorithm(), sig)};
  KYSO_RETURN_IF_ERROR(store_.PutCrl(crl, actor));
  return crl;
}

std::shared_ptr<X509> Authority::ocsp_cert() const {
  std::lock_guard lock(ocsp_mu_);
  return ocsp_cert_;
}

Result<bool> Authority::RenewOcspSigner(std::string_view actor, bool force) {
  const std::shared_ptr<X509> current = ocsp_cert();
  const Time now = clock_.Now();
  KYSO_ASSIGN_OR_RETURN(Time nb, pkix::ToTime(X509_get0_notBefore(current.get())));
  KYSO_ASSIGN_OR_RETURN(Time na, pkix::ToTime(X509_get0_notAfter(current.get())));
  if (!force && now < na - (na - nb) / 3) return false;
  KYSO_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> renewed,
                        internal::MakeOcspSignerCert(config_.ca, issuing_cert_.get(),
                                                     *signers_.issuing, *signers_.ocsp, now));
  KYSO_ASSIGN_OR_RETURN(store::CaKey key, store_.GetCaKey(kOcsp));
  KYSO_RETURN_IF_ERROR(internal::StoreCaCert(store_, kOcsp, kIssuing, key.key_label,
                                             renewed.get(), actor));
  std::lock_guard lock(ocsp_mu_);
  ocsp_cert_ = std::shared_ptr<X509>(renewed.release(), X509_free);
  return true;
}

Result<int> Authority::RecoverPending(std::chrono::seconds min_age, std::string_view actor) {
  KYSO_ASSIGN_OR_RETURN(std::vector<store::CertificateRecord> pending, store_.ListPending());
  const Time now = clock_.Now();
  int done = 0;
  for (const store::CertificateRecord& rec : pending) {
    // recorded_at is not exposed; not_before is the recording time for every issuance.
    if (rec.not_before + min_age > now) continue;
    pkix::Signer& signer = SignerFor(rec.issuer);
    KYSO_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(rec.tbs_der), "sign recorded " + rec.serial_hex);
    store::IssuedCertificate c{rec.serial_hex, pkix::AssembleSigned(rec.tbs_der, signer.algorithm(), sig)};
    KYSO_ASSIGN_OR_RETURN(int completed, store_.CompleteIssuances(std::span(&c, 1), now, actor));
    done += completed;
  }
  return done;
}

}  // namespace kyso::ca
