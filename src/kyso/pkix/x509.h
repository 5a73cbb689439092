#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"

namespace kyso::pkix {

inline constexpr std::size_t kMaxCertificateLen = 64 * 1024;
inline constexpr std::size_t kSerialLen = 20;

// ParseCertificate reads one certificate, PEM or DER. Inputs over kMaxCertificateLen fail.
Result<ossl::UniquePtr<X509>> ParseCertificate(ByteSpan pem_or_der);
Bytes CertificateDer(const X509* cert);
std::string CertificatePem(const X509* cert);
// PemEncode wraps DER in a PEM block with the given label ("CERTIFICATE", "X509 CRL").
std::string PemEncode(ByteSpan der, std::string_view label);

// RandomSerial draws RFC 5280 serial bytes: 20 octets, 159 random bits, top bit clear, never
// zero, so the INTEGER is positive and needs no leading zero octet.
Result<Bytes> RandomSerial();
// SerialHex gives a certificate's serial as lowercase hex without leading zero octets.
std::string SerialHex(const ASN1_INTEGER* serial);
// SerialBytes gives the big-endian magnitude of a positive INTEGER.
Bytes SerialBytes(const ASN1_INTEGER* serial);

// NameUtf8 prints a Name as RFC 2253 with UTF-8 kept intact ("CN=Nguyễn Văn A,O=...").
std::string NameUtf8(const X509_NAME* name);
Bytes NameDer(const X509_NAME* name);

// ToTime converts an ASN1_TIME; fails on malformed values.
Result<Time> ToTime(const ASN1_TIME* t);
Status SetTime(ASN1_TIME* out, Time t);

// CopyPublicKeyInfo sets `cert`'s SubjectPublicKeyInfo to a copy of `from` field by field.
// Equivalent to X509_set_pubkey with the decoded key, but OpenSSL 3.0 re-encodes and
// re-decodes the key there (about 150 µs for RSA); this copies bytes. X509_get0_pubkey on
// `cert` does not see the copied key until the certificate is encoded and parsed again.
Status CopyPublicKeyInfo(X509* cert, const X509_PUBKEY* from);

// KeyIdentifier is the SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 4.2.1.2 method 1),
// used for the subject/authority key identifiers and the OCSP responder ID.
Bytes KeyIdentifier(const X509* cert);

// PrepareTbs sets both signature AlgorithmIdentifiers of an unsigned certificate to `alg`
// and returns the DER TBSCertificate: the exact bytes the Signer signs.
Result<Bytes> PrepareCertificateTbs(X509* cert, SignatureAlgorithm alg);
// AssembleSigned builds SEQUENCE { tbs, algorithm, BIT STRING signature }: the envelope of
// certificates, CRLs and OCSP basic responses (without certs).
Bytes AssembleSigned(ByteSpan tbs_der, SignatureAlgorithm alg, ByteSpan signature);

// SignCertificate runs prepare -> Signer -> assemble and parses the result.
Result<ossl::UniquePtr<X509>> SignCertificate(X509* cert, Signer& signer);

// AddExtension adds an extension given in OpenSSL's configuration syntax
// ("critical,digitalSignature,keyCertSign"); `issuer` and `subject` give context for key
// identifiers. `value` is trusted configuration, never user input.
Status AddExtension(X509* cert, int nid, std::string_view value, X509* issuer = nullptr);
Result<ossl::UniquePtr<X509_EXTENSION>> MakeExtension(int nid, std::string_view value,
                                                      X509* issuer, X509* subject);

}  // namespace kyso::pkix
