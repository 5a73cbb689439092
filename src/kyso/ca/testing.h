#pragma once

// Test support: a CA hierarchy on in-process keys (KeySigner), for unit tests of the modules
// above `ca`. Never used by the program itself.

#include <map>
#include <memory>
#include <openssl/pem.h>

#include "kyso/ca/authority.h"
#include "kyso/pkix/csr.h"

namespace kyso::ca::testing {

// RecordingKeyFactory makes in-process keys for CreateHierarchy and keeps a second signer on
// each in `*keys`, by label ("kyso-root", ...), for Authority::Open and the tests' checks.
inline KeyFactory RecordingKeyFactory(std::map<std::string, std::unique_ptr<pkix::Signer>>* keys) {
  return [keys](std::string_view label, KeySpec spec) -> Result<std::unique_ptr<pkix::Signer>> {
    KYSO_ASSIGN_OR_RETURN(auto k, pkix::KeySigner::Generate(KeySpecName(spec)));
    ossl::UniquePtr<EVP_PKEY> copy(EVP_PKEY_dup(const_cast<EVP_PKEY*>(k->public_key())));
    KYSO_ASSIGN_OR_RETURN((*keys)[std::string(label)], pkix::KeySigner::Create(std::move(copy), k->algorithm()));
    return std::unique_ptr<pkix::Signer>(std::move(k));
  };
}

inline Result<std::unique_ptr<Authority>> MakeTestAuthority(const Config& config, store::Store& store,
                                                            const Clock& clock) {
  std::map<std::string, std::unique_ptr<pkix::Signer>> keys;
  KYSO_RETURN_IF_ERROR(CreateHierarchy(config, store, RecordingKeyFactory(&keys), clock));
  return Authority::Open(config, store,
                         CaSigners{std::move(keys["kyso-root"]), std::move(keys["kyso-issuing"]),
                                   std::move(keys["kyso-ocsp"])},
                         clock);
}

// CsrPem makes a fresh EC P-256 key and a CSR for it, PEM.
inline std::string CsrPem() {
  auto key = pkix::KeySigner::Generate("ec-p256");
  EVP_PKEY* pk = const_cast<EVP_PKEY*>((*key)->public_key());
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), pk);
  X509_REQ_sign(req.get(), pk, EVP_sha256());
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace kyso::ca::testing
