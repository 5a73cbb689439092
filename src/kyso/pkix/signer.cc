#include "kyso/pkix/signer.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include "kyso/pkix/der.h"

namespace kyso::pkix {

std::string_view SignatureAlgorithmName(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kRsaPkcs1Sha256: return "sha256WithRSAEncryption";
    case SignatureAlgorithm::kRsaPkcs1Sha384: return "sha384WithRSAEncryption";
    case SignatureAlgorithm::kRsaPssSha256: return "rsassaPss-sha256";
    case SignatureAlgorithm::kEcdsaSha256: return "ecdsa-with-SHA256";
    case SignatureAlgorithm::kEcdsaSha384: return "ecdsa-with-SHA384";
  }
  return "?";
}

const EVP_MD* DigestOf(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kRsaPkcs1Sha384:
    case SignatureAlgorithm::kEcdsaSha384:
      return EVP_sha384();
    default:
      return EVP_sha256();
  }
}

Bytes AlgorithmIdentifierDer(SignatureAlgorithm alg) {
  // OIDs: RFC 4055, RFC 5758.
  static constexpr uint8_t kSha256Rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
  static constexpr uint8_t kSha384Rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
  static constexpr uint8_t kRsaPss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
  static constexpr uint8_t kMgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
  static constexpr uint8_t kSha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
  static constexpr uint8_t kEcdsa256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
  static constexpr uint8_t kEcdsa384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
  DerWriter w;
  switch (alg) {
    case SignatureAlgorithm::kRsaPkcs1Sha256:
      w.Sequence([&](DerWriter& s) { s.Oid(kSha256Rsa); s.Null(); });
      break;
    case SignatureAlgorithm::kRsaPkcs1Sha384:
      w.Sequence([&](DerWriter& s) { s.Oid(kSha384Rsa); s.Null(); });
      break;
    case SignatureAlgorithm::kEcdsaSha256:
      w.Sequence([&](DerWriter& s) { s.Oid(kEcdsa256); });
      break;
    case SignatureAlgorithm::kEcdsaSha384:
      w.Sequence([&](DerWriter& s) { s.Oid(kEcdsa384); });
      break;
    case SignatureAlgorithm::kRsaPssSha256:
      // RSASSA-PSS-params with SHA-256, MGF1(SHA-256), salt length 32, trailer field 1.
      w.Sequence([&](DerWriter& s) {
        s.Oid(kRsaPss);
        s.Sequence([&](DerWriter& p) {
          p.Explicit(0, [&](DerWriter& e) {
            e.Sequence([&](DerWriter& h) { h.Oid(kSha256); h.Null(); });
          });
          p.Explicit(1, [&](DerWriter& e) {
            e.Sequence([&](DerWriter& m) {
              m.Oid(kMgf1);
              m.Sequence([&](DerWriter& h) { h.Oid(kSha256); h.Null(); });
            });
          });
          p.Explicit(2, [&](DerWriter& e) { e.Integer(32); });
        });
      });
      break;
  }
  return std::move(w).Finish();
}

Result<SignatureAlgorithm> DefaultAlgorithmFor(const EVP_PKEY* key, bool rsa_pss) {
  const int bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (bits < 2048) {
      return InvalidArgumentError("R7.2: RSA key of " + std::to_string(bits) +
                                  " bits; at least 2048 are required");
    }
    return rsa_pss ? SignatureAlgorithm::kRsaPssSha256 : SignatureAlgorithm::kRsaPkcs1Sha256;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                       &len) != 1) {
      return ossl::Error(Code::kInvalidArgument, "EC key without a named curve");
    }
    const std::string_view name(curve, len);
    if (name == "prime256v1" || name == "P-256") return SignatureAlgorithm::kEcdsaSha256;
    if (name == "secp384r1" || name == "P-384") return SignatureAlgorithm::kEcdsaSha384;
    return InvalidArgumentError("R7.2: EC curve " + std::string(name) +
                                " is not allowed (P-256 or P-384)");
  }
  return InvalidArgumentError("R7.2: key type is neither RSA nor ECDSA");
}

namespace {

bool IsPss(SignatureAlgorithm alg) { return alg == SignatureAlgorithm::kRsaPssSha256; }

Status ConfigurePss(EVP_PKEY_CTX* pctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1) {
    return ossl::Error("configure RSASSA-PSS");
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<KeySigner>> KeySigner::Create(ossl::UniquePtr<EVP_PKEY> key,
                                                     SignatureAlgorithm alg) {
  KYSO_ASSIGN_OR_RETURN(SignatureAlgorithm def, DefaultAlgorithmFor(key.get(), IsPss(alg)));
  const bool rsa = EVP_PKEY_is_a(key.get(), "RSA");
  const bool alg_rsa = alg != SignatureAlgorithm::kEcdsaSha256 &&
                       alg != SignatureAlgorithm::kEcdsaSha384;
  if (rsa != alg_rsa) {
    return InvalidArgumentError("signature algorithm does not match the key type");
  }
  (void)def;
  return std::unique_ptr<KeySigner>(new KeySigner(std::move(key), alg));
}

Result<std::unique_ptr<KeySigner>> KeySigner::Generate(std::string_view spec, bool rsa_pss) {
  EVP_PKEY* raw = nullptr;
  if (spec == "rsa-2048" || spec == "rsa-3072" || spec == "rsa-4096") {
    const unsigned bits = spec == "rsa-2048" ? 2048 : spec == "rsa-3072" ? 3072 : 4096;
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  } else if (spec == "ec-p256") {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else if (spec == "ec-p384") {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  } else {
    return InvalidArgumentError("unknown key type " + std::string(spec));
  }
  if (raw == nullptr) return ossl::Error("generate key");
  ossl::UniquePtr<EVP_PKEY> key(raw);
  KYSO_ASSIGN_OR_RETURN(SignatureAlgorithm alg, DefaultAlgorithmFor(key.get(), rsa_pss));
  return Create(std::move(key), alg);
}

Result<Bytes> KeySigner::Sign(ByteSpan tbs) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, DigestOf(alg_), nullptr, key_.get()) != 1) {
    return ossl::Error("sign init");
  }
  if (IsPss(alg_)) {
    KYSO_RETURN_IF_ERROR(ConfigurePss(pctx));
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, tbs.data(), tbs.size()) != 1) {
    return ossl::Error("sign size");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, tbs.data(), tbs.size()) != 1) {
    return ossl::Error("sign");
  }
  sig.resize(len);
  return sig;
}

Result<Bytes> EcdsaRawToDer(ByteSpan raw) {
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > 132) {
    return InvalidArgumentError("ECDSA signature of odd or impossible length");
  }
  const std::size_t half = raw.size() / 2;
  DerWriter w;
  w.Sequence([&](DerWriter& s) {
    s.UnsignedInteger(raw.subspan(0, half));
    s.UnsignedInteger(raw.subspan(half));
  });
  return std::move(w).Finish();
}

Status VerifySignature(const EVP_PKEY* key, SignatureAlgorithm alg, ByteSpan tbs, ByteSpan sig) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, DigestOf(alg), nullptr,
                                   const_cast<EVP_PKEY*>(key)) != 1) {
    return ossl::Error("verify init");
  }
  if (IsPss(alg)) {
    KYSO_RETURN_IF_ERROR(ConfigurePss(pctx));
  }
  if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), tbs.data(), tbs.size()) != 1) {
    return ossl::Error(Code::kInvalidArgument, "signature does not verify");
  }
  return OkStatus();
}

}  // namespace kyso::pkix
