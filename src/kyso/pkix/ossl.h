#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"

namespace kyso::ossl {

// UniquePtr<T> owns one OpenSSL object and frees it with the type's own free function
// (BoringSSL's bssl::UniquePtr).
template <typename T>
struct Deleter;
#define KYSO_OSSL_DELETER(T, free_fn) \
  template <>                         \
  struct Deleter<T> {                 \
    void operator()(T* p) const noexcept { free_fn(p); } \
  };
KYSO_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free)
// ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_TIME and ASN1_ENUMERATED are all ASN1_STRING.
KYSO_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free)
KYSO_OSSL_DELETER(BIGNUM, BN_free)
KYSO_OSSL_DELETER(CMS_ContentInfo, CMS_ContentInfo_free)
KYSO_OSSL_DELETER(X509_ALGOR, X509_ALGOR_free)
KYSO_OSSL_DELETER(RSA_PSS_PARAMS, RSA_PSS_PARAMS_free)
KYSO_OSSL_DELETER(BIO, BIO_free_all)
KYSO_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free)
KYSO_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free)
KYSO_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
KYSO_OSSL_DELETER(OCSP_REQUEST, OCSP_REQUEST_free)
KYSO_OSSL_DELETER(OCSP_RESPONSE, OCSP_RESPONSE_free)
KYSO_OSSL_DELETER(OCSP_BASICRESP, OCSP_BASICRESP_free)
KYSO_OSSL_DELETER(OCSP_CERTID, OCSP_CERTID_free)
KYSO_OSSL_DELETER(X509, X509_free)
KYSO_OSSL_DELETER(X509_ATTRIBUTE, X509_ATTRIBUTE_free)
KYSO_OSSL_DELETER(X509_CRL, X509_CRL_free)
KYSO_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free)
KYSO_OSSL_DELETER(X509_NAME, X509_NAME_free)
KYSO_OSSL_DELETER(X509_REQ, X509_REQ_free)
KYSO_OSSL_DELETER(X509_STORE, X509_STORE_free)
KYSO_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free)
KYSO_OSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free)
KYSO_OSSL_DELETER(TS_REQ, TS_REQ_free)
KYSO_OSSL_DELETER(TS_RESP, TS_RESP_free)
#undef KYSO_OSSL_DELETER

template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;

// Error drains OpenSSL's error queue into a Status with `what` as the context. Call it right
// after a failing OpenSSL call; it never branches on reason codes.
Status Error(Code code, std::string_view what);
inline Status Error(std::string_view what) { return Error(Code::kInternal, what); }

// LastErrorText is the most recent error on OpenSSL's queue as text ("" when none), for a
// diagnostic; the queue is cleared.
std::string LastErrorText();

// ToDer encodes `obj` with its i2d function; empty on failure.
template <typename T>
Bytes ToDer(int (*i2d)(const T*, unsigned char**), const T* obj) {
  unsigned char* out = nullptr;
  const int len = i2d(obj, &out);
  if (len <= 0) return {};
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

// ParsePemOrDer decodes one object given as PEM or as DER with nothing after it. Failures
// are kInvalidArgument naming `what`.
template <typename T>
Result<UniquePtr<T>> ParsePemOrDer(ByteSpan in, T* (*pem_read)(BIO*, T**, pem_password_cb*, void*),
                                   T* (*d2i)(T**, const unsigned char**, long),
                                   std::string_view what) {
  UniquePtr<T> obj;
  if (AsString(in).find("-----BEGIN") != std::string_view::npos) {
    UniquePtr<BIO> bio(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
    obj.reset(pem_read(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = in.data();
    obj.reset(d2i(nullptr, &p, static_cast<long>(in.size())));
    if (obj && p != in.data() + in.size()) {
      return Status(Code::kInvalidArgument, std::string(what) + " has trailing data");
    }
  }
  if (!obj) return Error(Code::kInvalidArgument, "malformed " + std::string(what));
  return obj;
}

}  // namespace kyso::ossl
