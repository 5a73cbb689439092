#pragma once

#include <span>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"

namespace kyso::pkix {

inline constexpr std::size_t kMaxCsrLen = 64 * 1024;

// CertRequest is a PKCS#10 request whose signature has been verified: it proves possession
// of `public_key`. kyso never takes the subject or extensions from it.
struct CertRequest {
  ossl::UniquePtr<X509_REQ> req;
  ossl::UniquePtr<EVP_PKEY> public_key;  // owned copy
};

// ParseCertRequest reads a PEM or DER CSR of at most kMaxCsrLen bytes, checks its key against
// R7.2 (RSA >= 2048, ECDSA P-256/P-384), its signature algorithm (SHA-256 or stronger, never
// SHA-1) and verifies its self-signature. Every failure is kInvalidArgument with one line.
Result<CertRequest> ParseCertRequest(ByteSpan pem_or_der);

// ParseCertRequests parses many requests on `threads` threads; results in input order.
std::vector<Result<CertRequest>> ParseCertRequests(std::span<const Bytes> inputs, int threads);

// MakeCertRequest builds a DER PKCS#10 request for `signer`'s public key, signed by it: the
// proof of possession made on the subscriber's token or SIM at enrolment. The subject is one
// CN (UTF8String), or empty when `common_name` is; the CA takes neither from it.
Result<Bytes> MakeCertRequest(Signer& signer, std::string_view common_name);

}  // namespace kyso::pkix
