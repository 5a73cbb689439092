// libFuzzer harness over PreparePdf, ReadPageInfo, DssUpdate and PrepareDocTimestamp: every byte of a PDF to be signed reaches qpdf and the
// incremental writer first. It must answer any input with a PreparedPdf or a Status, without
// crashing or hanging. The certificate is a throwaway self-signed EC P-256 one.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>

#include "kyso/sign/pdf_signer.h"

namespace {

X509* ThrowawayCert() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_sign(cert, key, EVP_sha256());
  EVP_PKEY_free(key);
  return cert;  // lives for the process
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static X509* const cert = ThrowawayCert();
  kyso::sign::PdfSignOptions options;
  options.signer_cert = cert;
  options.signing_time = kyso::Utc(2026, 11, 25);
  auto prepared = kyso::sign::PreparePdf(kyso::ByteSpan(data, size), options,
                                         kyso::pkix::SignatureAlgorithm::kEcdsaSha256);
  (void)prepared;
  // The other readers of a PDF to be signed: the page and its signature widgets, the DSS
  // merge (B-LT) and the document timestamp (B-LTA).
  const kyso::ByteSpan pdf(data, size);
  (void)kyso::sign::ReadPageInfo(pdf, 1);
  kyso::sign::ValidationData vd;
  vd.crls = {kyso::Bytes{0x30, 0x00}};
  (void)kyso::sign::DssUpdate(pdf, vd);
  (void)kyso::sign::PrepareDocTimestamp(pdf);
  return 0;
}
