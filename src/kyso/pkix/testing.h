#pragma once

// Test support: certificates on in-process keys for the unit tests of pkix and the modules
// above it (cms_test, sign/pdf_signer_test). Never used by the program itself.

#include <gtest/gtest.h>

#include "kyso/base/clock.h"
#include "kyso/pkix/signer.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix::testutil {

// MakeTestCert issues a certificate for `subject_key`, signed by `issuer_key`; self-signed
// when `issuer` is null. Valid 2026-01-01..2036-01-01. CAs get keyCertSign, leaves
// digitalSignature + nonRepudiation and, when `eku` is given ("timeStamping"), that extended
// key usage, critical. Failures are gtest failures.
inline ossl::UniquePtr<X509> MakeTestCert(Signer& issuer_key, X509* issuer,
                                          const EVP_PKEY* subject_key, const char* cn, bool ca,
                                          const char* eku = nullptr) {
  ossl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  const Bytes serial = *RandomSerial();
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("VN"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  EXPECT_TRUE(SetTime(X509_getm_notBefore(cert.get()), Utc(2026, 1, 1)).ok());
  EXPECT_TRUE(SetTime(X509_getm_notAfter(cert.get()), Utc(2036, 1, 1)).ok());
  X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(subject_key));
  EXPECT_TRUE(AddExtension(cert.get(), NID_subject_key_identifier, "hash").ok());
  if (ca) {
    EXPECT_TRUE(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE").ok());
    EXPECT_TRUE(AddExtension(cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign").ok());
  } else {
    EXPECT_TRUE(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE").ok());
    EXPECT_TRUE(
        AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,nonRepudiation").ok());
    EXPECT_TRUE(AddExtension(cert.get(), NID_authority_key_identifier, "keyid", issuer).ok());
    if (eku != nullptr) {
      EXPECT_TRUE(AddExtension(cert.get(), NID_ext_key_usage, std::string("critical,") + eku).ok());
    }
  }
  auto signed_cert = SignCertificate(cert.get(), issuer_key);
  EXPECT_TRUE(signed_cert.ok()) << signed_cert.status().ToString();
  return std::move(signed_cert).value();
}

}  // namespace kyso::pkix::testutil
