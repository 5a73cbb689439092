#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::pkix {

// SignatureAlgorithm is the allowlist of algorithms kyso signs with (R7.2: RSA >= 2048 or
// ECDSA >= 256 with SHA-256 or stronger; never SHA-1).
enum class SignatureAlgorithm {
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPssSha256,
  kEcdsaSha256,
  kEcdsaSha384,
};

std::string_view SignatureAlgorithmName(SignatureAlgorithm alg);

// AlgorithmIdentifierDer gives the DER AlgorithmIdentifier for `alg` (RFC 4055 parameters
// for PSS, absent parameters for ECDSA, NULL for PKCS#1 v1.5).
Bytes AlgorithmIdentifierDer(SignatureAlgorithm alg);

// Signer is the one signing interface of kyso (DESIGN decision 1). The caller prepares the
// exact bytes to be signed (a TBSCertificate, TBSCertList, ResponseData, signed attributes);
// Sign hashes them with the algorithm's digest and returns the signature value as it goes in
// the structure's BIT STRING or OCTET STRING: for ECDSA the DER Ecdsa-Sig-Value.
//
// Implementations are thread-safe: Sign may be called from several threads at once.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual SignatureAlgorithm algorithm() const = 0;
  // public_key is the key whose private half signs; owned by the Signer.
  virtual const EVP_PKEY* public_key() const = 0;
  virtual Result<Bytes> Sign(ByteSpan tbs) = 0;
};

// DefaultAlgorithmFor picks the algorithm for a public key: PKCS#1 v1.5 (or PSS when
// `rsa_pss`) with SHA-256 for RSA; ECDSA with SHA-256 for P-256 and SHA-384 for P-384. Keys
// outside R7.2 (RSA below 2048, other curves) are refused.
Result<SignatureAlgorithm> DefaultAlgorithmFor(const EVP_PKEY* key, bool rsa_pss);

// KeySigner signs in-process with an EVP_PKEY. WARNING: for tests and for migration from
// PKCS#12 files only; CA keys live on a token (DESIGN decision 2).
class KeySigner final : public Signer {
 public:
  static Result<std::unique_ptr<KeySigner>> Create(ossl::UniquePtr<EVP_PKEY> key,
                                                   SignatureAlgorithm alg);
  // Generate makes a fresh key for tests ("rsa-2048", "ec-p256", ...).
  static Result<std::unique_ptr<KeySigner>> Generate(std::string_view spec, bool rsa_pss = false);

  SignatureAlgorithm algorithm() const override { return alg_; }
  const EVP_PKEY* public_key() const override { return key_.get(); }
  Result<Bytes> Sign(ByteSpan tbs) override;

 private:
  KeySigner(ossl::UniquePtr<EVP_PKEY> key, SignatureAlgorithm alg)
      : key_(std::move(key)), alg_(alg) {}
  ossl::UniquePtr<EVP_PKEY> key_;
  SignatureAlgorithm alg_;
};

// kSha256DigestInfoPrefix is the DER of DigestInfo { AlgorithmIdentifier { id-sha256, NULL },
// OCTET STRING (32) } up to the digest (RFC 8017 9.2, note 1): what RSA PKCS#1 v1.5 signs,
// followed by the 32-byte digest, when the hashing was done elsewhere.
inline constexpr uint8_t kSha256DigestInfoPrefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                      0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                      0x01, 0x05, 0x00, 0x04, 0x20};

// Digest is the message digest of `alg`.
const EVP_MD* DigestOf(SignatureAlgorithm alg);

// EcdsaRawToDer converts the r||s form PKCS#11 returns to the DER Ecdsa-Sig-Value.
Result<Bytes> EcdsaRawToDer(ByteSpan raw);

// VerifySignature checks `sig` over `tbs` with `key` under `alg`.
Status VerifySignature(const EVP_PKEY* key, SignatureAlgorithm alg, ByteSpan tbs, ByteSpan sig);

}  // namespace kyso::pkix
