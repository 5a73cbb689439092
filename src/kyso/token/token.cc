#include "kyso/token/token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "kyso/pkix/ossl.h"
#include "kyso/token/pkcs11.h"

namespace kyso::token {

using internal::Attr;
using internal::AttrBytes;
using internal::Module;
using internal::PinPtr;
using internal::RvStatus;
using internal::Session;

namespace {

// PKCS#11 wants non-const pointers for input buffers it only reads.
CK_BYTE_PTR InPtr(ByteSpan bytes) { return const_cast<uint8_t*>(bytes.data()); }

// DER of the namedCurve OBJECT IDENTIFIERs (RFC 5480 2.1.1.1), as CKA_EC_PARAMS holds them.
constexpr uint8_t kP256Oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr uint8_t kP384Oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

constexpr std::size_t kGcmIvLen = 12;
constexpr std::size_t kGcmTagLen = 16;
constexpr std::size_t kMaxEcdsaRawLen = 2 * 48;  // r||s on P-384

struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct MdFree {
  void operator()(EVP_MD* p) const noexcept { EVP_MD_free(p); }
};
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using MdPtr = std::unique_ptr<EVP_MD, MdFree>;

class SessionLease;

}  // namespace

// Impl is the state shared by a Token and the signers made from it.
struct Token::Impl {
  Impl(std::shared_ptr<Module> m, CK_SLOT_ID s, Session login)
      : module(std::move(m)), fn(module->fn()), slot(s), login_session(std::move(login)) {
    idle.reserve(16);
  }

  // Borrow takes an idle session from the pool, or opens one when none is idle.
  Result<SessionLease> Borrow();
  void Return(Session session);

  const std::shared_ptr<Module> module;  // first member: outlives every session below
  const CK_FUNCTION_LIST* const fn;
  const CK_SLOT_ID slot;
  // login_session stays open for the life of the Impl: the user stays logged in only while
  // the application has a session open on the token.
  Session login_session;

  std::mutex pool_mu;
  std::vector<Session> idle;  // guarded by pool_mu

  // keys_mu serializes "is the label free?" and the key generation that follows it.
  std::mutex keys_mu;
};

namespace {

// SessionLease is a session borrowed from the pool; its destructor gives it back.
class SessionLease final {
 public:
  SessionLease(Token::Impl* impl, Session session) : impl_(impl), session_(std::move(session)) {}
  SessionLease(SessionLease&& other) noexcept
      : impl_(std::exchange(other.impl_, nullptr)), session_(std::move(other.session_)) {}
  SessionLease& operator=(SessionLease&&) = delete;
  ~SessionLease() {
    if (impl_ != nullptr) {
      impl_->Return(std::move(session_));
    }
  }

  CK_SESSION_HANDLE handle() const { return session_.handle(); }

  // Discard closes the session instead of pooling it, after an error that may have left an
  // operation active on it.
  void Discard() { impl_ = nullptr; }

 private:
  Token::Impl* impl_;
  Session session_;
};

}  // namespace

Result<SessionLease> Token::Impl::Borrow() {
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (!idle.empty()) {
      Session session = std::move(idle.back());
      idle.pop_back();
      return SessionLease(this, std::move(session));
    }
  }
  KYSO_ASSIGN_OR_RETURN(Session session, Session::Open(*module, slot));
  return SessionLease(this, std::move(session));
}

void Token::Impl::Return(Session session) {
  std::lock_guard<std::mutex> lock(pool_mu);
  idle.push_back(std::move(session));
}

namespace {

Result<ossl::UniquePtr<EVP_PKEY>> PublicKeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::Error("build the token key's public key");
  }
  return ossl::UniquePtr<EVP_PKEY>(raw);
}

Result<ossl::UniquePtr<EVP_PKEY>> RsaPublicKey(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s,
                                               CK_OBJECT_HANDLE object) {
  KYSO_ASSIGN_OR_RETURN(Bytes n, internal::GetBytesAttribute(fn, s, object, CKA_MODULUS));
  KYSO_ASSIGN_OR_RETURN(Bytes e, internal::GetBytesAttribute(fn, s, object, CKA_PUBLIC_EXPONENT));
  ossl::UniquePtr<BIGNUM> bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  ossl::UniquePtr<BIGNUM> bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return ossl::Error("RSA public key parameters");
  }
  return PublicKeyFromParams("RSA", bld.get());
}

// UnwrapEcPoint returns the uncompressed point inside CKA_EC_POINT. PKCS#11 v2.40 says the
// attribute is the DER of an OCTET STRING (SoftHSM2 does that); some modules return the bare
// point, recognised by its exact length.
Result<ByteSpan> UnwrapEcPoint(ByteSpan value, std::size_t field_len) {
  const std::size_t point_len = 2 * field_len + 1;
  if (value.size() == point_len && value[0] == 0x04) {
    return value;
  }
  std::size_t header = 0;
  if (value.size() >= 2 && value[0] == 0x04 && value[1] < 0x80) {
    header = 2;
  } else if (value.size() >= 3 && value[0] == 0x04 && value[1] == 0x81) {
    header = 3;
  }
  const std::size_t content_len = header == 3 ? value[2] : (header == 2 ? value[1] : 0);
  if (header == 0 || value.size() != header + content_len || content_len != point_len ||
      value[header] != 0x04) {
    return InvalidArgumentError("token EC public key is not an uncompressed point");
  }
  return value.subspan(header);
}

Result<ossl::UniquePtr<EVP_PKEY>> EcPublicKey(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s,
                                              CK_OBJECT_HANDLE object) {
  KYSO_ASSIGN_OR_RETURN(Bytes params, internal::GetBytesAttribute(fn, s, object, CKA_EC_PARAMS));
  const char* group = nullptr;
  std::size_t field_len = 0;
  if (std::ranges::equal(params, kP256Oid)) {
    group = "prime256v1";
    field_len = 32;
  } else if (std::ranges::equal(params, kP384Oid)) {
    group = "secp384r1";
    field_len = 48;
  } else {
    return InvalidArgumentError("R7.2: token EC key is not on P-256 or P-384");
  }
  KYSO_ASSIGN_OR_RETURN(Bytes value, internal::GetBytesAttribute(fn, s, object, CKA_EC_POINT));
  KYSO_ASSIGN_OR_RETURN(ByteSpan point, UnwrapEcPoint(value, field_len));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return ossl::Error("EC public key parameters");
  }
  return PublicKeyFromParams("EC", bld.get());
}

bool IsEcdsa(pkix::SignatureAlgorithm alg) {
  return alg == pkix::SignatureAlgorithm::kEcdsaSha256 ||
         alg == pkix::SignatureAlgorithm::kEcdsaSha384;
}

CK_MECHANISM_TYPE MechanismFor(pkix::SignatureAlgorithm alg) {
  switch (alg) {
    case pkix::SignatureAlgorithm::kRsaPkcs1Sha256:
      return CKM_SHA256_RSA_PKCS;
    case pkix::SignatureAlgorithm::kRsaPkcs1Sha384:
      return CKM_SHA384_RSA_PKCS;
    case pkix::SignatureAlgorithm::kRsaPssSha256:
      return CKM_SHA256_RSA_PKCS_PSS;
    case pkix::SignatureAlgorithm::kEcdsaSha256:
    case pkix::SignatureAlgorithm::kEcdsaSha384:
      return CKM_ECDSA;
  }
  return CKM_ECDSA;
}

// TokenSigner signs with a private key on the token, by handle.
//
// Everything a signature needs is worked out once here: the key handle (object handles are
// valid in every session of the application), the mechanism and its parameters, the
// signature length and, for ECDSA, the fetched digest. Sign then costs one pool borrow, one
// C_SignInit and one C_Sign.
class TokenSigner final : public pkix::Signer {
 public:
  TokenSigner(std::shared_ptr<Token::Impl> impl, CK_OBJECT_HANDLE key,
              ossl::UniquePtr<EVP_PKEY> public_key, pkix::SignatureAlgorithm alg, MdPtr md)
      : impl_(std::move(impl)),
        fn_(impl_->fn),
        key_(key),
        public_key_(std::move(public_key)),
        alg_(alg),
        md_(std::move(md)),
        mechanism_{MechanismFor(alg), nullptr, 0} {
    if (alg == pkix::SignatureAlgorithm::kRsaPssSha256) {
      mechanism_.pParameter = &pss_params_;
      mechanism_.ulParameterLen = sizeof(pss_params_);
    }
    const auto bits = static_cast<std::size_t>(EVP_PKEY_get_bits(public_key_.get()));
    sig_len_ = IsEcdsa(alg) ? 2 * ((bits + 7) / 8) : (bits + 7) / 8;
    // DefaultAlgorithmFor admits only P-256 and P-384, so r||s fits Sign's stack buffer.
    KYSO_CHECK(!IsEcdsa(alg) || sig_len_ <= kMaxEcdsaRawLen);
  }
  TokenSigner(const TokenSigner&) = delete;  // mechanism_ points into this object
  TokenSigner& operator=(const TokenSigner&) = delete;

  pkix::SignatureAlgorithm algorithm() const override { return alg_; }
  const EVP_PKEY* public_key() const override { return public_key_.get(); }

  Result<Bytes> Sign(ByteSpan tbs) override {
    if (!IsEcdsa(alg_)) {
      Bytes sig(sig_len_);
      KYSO_ASSIGN_OR_RETURN(std::size_t len, SignOnToken(tbs, sig));
      sig.resize(len);
      return sig;
    }
    // CKM_ECDSA signs a digest, so hash here. PKCS#11 returns r||s; X.509 wants DER.
    std::array<uint8_t, EVP_MAX_MD_SIZE> digest;
    unsigned int digest_len = 0;
    KYSO_RETURN_IF_ERROR(Digest(tbs, digest, &digest_len));
    std::array<uint8_t, kMaxEcdsaRawLen> raw;
    KYSO_ASSIGN_OR_RETURN(std::size_t len, SignOnToken(ByteSpan(digest.data(), digest_len),
                                                       std::span(raw.data(), sig_len_)));
    return pkix::EcdsaRawToDer(ByteSpan(raw.data(), len));
  }

 private:
  Status Digest(ByteSpan tbs, std::span<uint8_t, EVP_MAX_MD_SIZE> out, unsigned int* len) const {
    // One context per thread, reused, so hashing allocates nothing per signature.
    thread_local ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex2(ctx.get(), md_.get(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), tbs.data(), tbs.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out.data(), len) != 1) {
      return ossl::Error("digest");
    }
    return OkStatus();
  }

  // SignOnToken runs C_SignInit + C_Sign on a pooled session into `out`, which is already as
  // long as any signature of this key, so the size query round trip is skipped.
  Result<std::size_t> SignOnToken(ByteSpan data, std::span<uint8_t> out) {
    KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
    CK_MECHANISM mechanism = mechanism_;
    CK_RV rv = fn_->C_SignInit(lease.handle(), &mechanism, key_);
    CK_ULONG len = out.size();
    if (rv == CKR_OK) {
      rv = fn_->C_Sign(lease.handle(), InPtr(data), data.size(), out.data(), &len);
    }
    if (rv != CKR_OK) {
      lease.Discard();
      return RvStatus(rv, "C_Sign");
    }
    return static_cast<std::size_t>(len);
  }

  const std::shared_ptr<Token::Impl> impl_;
  const CK_FUNCTION_LIST* const fn_;
  const CK_OBJECT_HANDLE key_;
  const ossl::UniquePtr<EVP_PKEY> public_key_;
  const pkix::SignatureAlgorithm alg_;
  const MdPtr md_;  // ECDSA only
  CK_RSA_PKCS_PSS_PARAMS pss_params_{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM mechanism_;
  std::size_t sig_len_ = 0;
};

// MakeSigner builds the signer over the private key `priv`, reading the public half from
// `pub` (for RSA, the private key object also carries the modulus and exponent).
Result<std::unique_ptr<pkix::Signer>> MakeSigner(std::shared_ptr<Token::Impl> impl,
                                                 CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
                                                 std::optional<CK_OBJECT_HANDLE> pub,
                                                 bool rsa_pss) {
  const CK_FUNCTION_LIST* fn = impl->fn;
  KYSO_ASSIGN_OR_RETURN(bool can_sign, internal::GetBoolAttribute(fn, s, priv, CKA_SIGN));
  if (!can_sign) {
    return FailedPreconditionError("the token key is not allowed to sign (CKA_SIGN is false)");
  }
  KYSO_ASSIGN_OR_RETURN(CK_ULONG key_type, internal::GetUlongAttribute(fn, s, priv, CKA_KEY_TYPE));
  ossl::UniquePtr<EVP_PKEY> public_key;
  if (key_type == CKK_RSA) {
    KYSO_ASSIGN_OR_RETURN(public_key, RsaPublicKey(fn, s, pub.value_or(priv)));
  } else if (key_type == CKK_EC) {
    if (!pub) {
      return NotFoundError("the token has no public key for this EC private key");
    }
    KYSO_ASSIGN_OR_RETURN(public_key, EcPublicKey(fn, s, *pub));
  } else {
    return InvalidArgumentError("R7.2: token key is neither RSA nor EC");
  }
  KYSO_ASSIGN_OR_RETURN(pkix::SignatureAlgorithm alg,
                        pkix::DefaultAlgorithmFor(public_key.get(), rsa_pss));
  MdPtr md;
  if (IsEcdsa(alg)) {
    md.reset(EVP_MD_fetch(nullptr, EVP_MD_get0_name(pkix::DigestOf(alg)), nullptr));
    if (!md) {
      return ossl::Error("fetch digest");
    }
  }
  return std::unique_ptr<pkix::Signer>(
      new TokenSigner(std::move(impl), priv, std::move(public_key), alg, std::move(md)));
}

// KeyPairTemplates holds the attribute templates of C_GenerateKeyPair and the values they
// point to, so both live as long as the object.
struct KeyPairTemplates {
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
  CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  CK_KEY_TYPE key_type = CKK_RSA;
  CK_ULONG modulus_bits = 0;
  std::array<uint8_t, 3> public_exponent{0x01, 0x00, 0x01};  // 65537
  std::vector<CK_ATTRIBUTE> pub;
  std::vector<CK_ATTRIBUTE> priv;

  KeyPairTemplates(const KeyPairTemplates&) = delete;
  KeyPairTemplates& operator=(const KeyPairTemplates&) = delete;

  KeyPairTemplates(KeySpec spec, std::string_view label) {
    const ByteSpan label_bytes = AsBytes(label);
    pub = {Attr(CKA_CLASS, public_class),
           Attr(CKA_TOKEN, yes),
           Attr(CKA_PRIVATE, no),
           Attr(CKA_VERIFY, yes),
           Attr(CKA_ENCRYPT, no),
           Attr(CKA_WRAP, no),
           AttrBytes(CKA_LABEL, label_bytes),
           AttrBytes(CKA_ID, label_bytes)};
    priv = {Attr(CKA_CLASS, private_class),
            Attr(CKA_TOKEN, yes),
            Attr(CKA_PRIVATE, yes),
            Attr(CKA_SENSITIVE, yes),
            Attr(CKA_EXTRACTABLE, no),
            Attr(CKA_SIGN, yes),
            Attr(CKA_DECRYPT, no),
            Attr(CKA_UNWRAP, no),
            AttrBytes(CKA_LABEL, label_bytes),
            AttrBytes(CKA_ID, label_bytes)};
    switch (spec) {
      case KeySpec::kRsa2048:
        modulus_bits = 2048;
        break;
      case KeySpec::kRsa3072:
        modulus_bits = 3072;
        break;
      case KeySpec::kRsa4096:
        modulus_bits = 4096;
        break;
      case KeySpec::kEcP256:
        pub.push_back(AttrBytes(CKA_EC_PARAMS, kP256Oid));
        break;
      case KeySpec::kEcP384:
        pub.push_back(AttrBytes(CKA_EC_PARAMS, kP384Oid));
        break;
    }
    if (modulus_bits != 0) {
      pub.push_back(Attr(CKA_MODULUS_BITS, modulus_bits));
      pub.push_back(AttrBytes(CKA_PUBLIC_EXPONENT, public_exponent));
    } else {
      key_type = CKK_EC;
    }
    pub.push_back(Attr(CKA_KEY_TYPE, key_type));
    priv.push_back(Attr(CKA_KEY_TYPE, key_type));
  }

  CK_MECHANISM_TYPE mechanism() const {
    return key_type == CKK_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;
  }
};

Result<CK_OBJECT_HANDLE> GenerateAesKey(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s,
                                        std::string_view label) {
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_OBJECT_CLASS object_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_AES;
  CK_ULONG value_len = 32;
  CK_ATTRIBUTE attrs[] = {
      Attr(CKA_CLASS, object_class),
      Attr(CKA_KEY_TYPE, key_type),
      Attr(CKA_VALUE_LEN, value_len),
      Attr(CKA_TOKEN, yes),
      Attr(CKA_PRIVATE, yes),
      Attr(CKA_SENSITIVE, yes),
      Attr(CKA_EXTRACTABLE, no),
      Attr(CKA_ENCRYPT, yes),
      Attr(CKA_DECRYPT, yes),
      Attr(CKA_WRAP, no),
      Attr(CKA_UNWRAP, no),
      AttrBytes(CKA_LABEL, AsBytes(label)),
      AttrBytes(CKA_ID, AsBytes(label)),
  };
  CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  KYSO_RETURN_IF_ERROR(RvStatus(fn->C_GenerateKey(s, &mechanism, attrs, std::size(attrs), &key),
                                "C_GenerateKey (AES)"));
  return key;
}

// GcmMechanism holds AES-GCM parameters: 96-bit IV, 128-bit tag, `aad` authenticated.
struct GcmMechanism {
  GcmMechanism(ByteSpan iv, ByteSpan aad) {
    params.pIv = InPtr(iv);
    params.ulIvLen = iv.size();
    params.ulIvBits = iv.size() * 8;  // p11-kit's header has the v2.40 errata field
    params.pAAD = aad.empty() ? nullptr : InPtr(aad);
    params.ulAADLen = aad.size();
    params.ulTagBits = kGcmTagLen * 8;
    mechanism = {CKM_AES_GCM, &params, sizeof(params)};
  }
  GcmMechanism(const GcmMechanism&) = delete;
  GcmMechanism& operator=(const GcmMechanism&) = delete;

  CK_GCM_PARAMS params{};
  CK_MECHANISM mechanism{};
};

std::mutex& InitializeMutex() {
  static std::mutex mu;
  return mu;
}

// FindFreeSlot returns the first slot whose token is not initialized, refusing when any
// initialized token is already labelled `label`.
Result<CK_SLOT_ID> FindFreeSlot(const Module& module, std::string_view label) {
  KYSO_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, module.Slots(/*token_present=*/false));
  std::optional<CK_SLOT_ID> free_slot;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    const CK_RV rv = module.fn()->C_GetTokenInfo(slot, &info);
    if (rv == CKR_TOKEN_NOT_PRESENT) {
      continue;
    }
    KYSO_RETURN_IF_ERROR(RvStatus(rv, "C_GetTokenInfo"));
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) {
      free_slot = free_slot.value_or(slot);
    } else if (internal::TrimmedLabel(info) == label) {
      return AlreadyExistsError("a token labelled \"" + std::string(label) + "\" exists");
    }
  }
  if (!free_slot) {
    return FailedPreconditionError("no uninitialized token slot in " + module.path());
  }
  return *free_slot;
}

PinState PinStateOf(CK_FLAGS flags, CK_FLAGS locked, CK_FLAGS final_try, CK_FLAGS count_low) {
  if ((flags & locked) != 0) return PinState::kLocked;
  if ((flags & final_try) != 0) return PinState::kFinalTry;
  if ((flags & count_low) != 0) return PinState::kCountLow;
  return PinState::kOk;
}

Result<TokenInfo> DescribeSlot(const Module& module, CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  KYSO_RETURN_IF_ERROR(RvStatus(module.fn()->C_GetTokenInfo(slot, &info), "C_GetTokenInfo"));
  TokenInfo out;
  out.label = std::string(internal::TrimmedField(info.label, sizeof(info.label)));
  out.manufacturer = std::string(internal::TrimmedField(info.manufacturerID, sizeof(info.manufacturerID)));
  out.model = std::string(internal::TrimmedField(info.model, sizeof(info.model)));
  out.serial = std::string(internal::TrimmedField(info.serialNumber, sizeof(info.serialNumber)));
  out.initialized = (info.flags & CKF_TOKEN_INITIALIZED) != 0;
  out.user_pin_initialized = (info.flags & CKF_USER_PIN_INITIALIZED) != 0;
  out.user_pin = PinStateOf(info.flags, CKF_USER_PIN_LOCKED, CKF_USER_PIN_FINAL_TRY,
                            CKF_USER_PIN_COUNT_LOW);
  out.so_pin = PinStateOf(info.flags, CKF_SO_PIN_LOCKED, CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_COUNT_LOW);
  out.min_pin_len = info.ulMinPinLen;
  out.max_pin_len = info.ulMaxPinLen;
  return out;
}

// LoginSo logs the security officer in, saying plainly when the SO PIN is wrong or locked.
Status LoginSo(const Module& module, Session& session, const SecretString& so_pin) {
  const CK_RV rv = module.fn()->C_Login(session.handle(), CKU_SO, PinPtr(so_pin), so_pin.size());
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return OkStatus();
  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED) {
    return PermissionDeniedError("the token refused the security officer's PIN (C_Login: " +
                                 internal::RvName(rv) + ")");
  }
  return RvStatus(rv, "C_Login (SO)");
}

// SetUserPinAsSo sets the user PIN through the security officer: C_InitPIN, which is both how
// a new token gets its user PIN and how a locked one is unblocked.
Status SetUserPinAsSo(const Module& module, CK_SLOT_ID slot, const SecretString& so_pin,
                      const SecretString& user_pin) {
  KYSO_ASSIGN_OR_RETURN(Session session, Session::Open(module, slot));
  KYSO_RETURN_IF_ERROR(LoginSo(module, session, so_pin));
  const Status set = RvStatus(
      module.fn()->C_InitPIN(session.handle(), PinPtr(user_pin), user_pin.size()), "C_InitPIN");
  const Status out = session.Logout();
  KYSO_RETURN_IF_ERROR(set);
  return out;
}

// InitializeFreeSlot initializes the first free slot with `label` and `so_pin` and sets the user
// PIN; `*changed` turns true once the slot holds a token.
Status InitializeFreeSlot(const Module& module, std::string_view label, const SecretString& so_pin,
                          const SecretString& user_pin, bool* changed) {
  KYSO_ASSIGN_OR_RETURN(auto padded_label, internal::PaddedLabel(label));
  if (so_pin.empty() || user_pin.empty()) {
    return InvalidArgumentError("token PINs must not be empty");
  }
  {
    std::lock_guard<std::mutex> lock(InitializeMutex());
    KYSO_ASSIGN_OR_RETURN(CK_SLOT_ID free_slot, FindFreeSlot(module, label));
    KYSO_RETURN_IF_ERROR(RvStatus(
        module.fn()->C_InitToken(free_slot, PinPtr(so_pin), so_pin.size(), padded_label.data()),
        "C_InitToken"));
    *changed = true;
  }
  // SoftHSM2 gives an initialized token a new slot ID, so look it up again.
  KYSO_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module.FindTokenByLabel(label));
  return SetUserPinAsSo(module, slot, so_pin, user_pin);
}

}  // namespace

Status Token::Initialize(const std::string& module_path, std::string_view label,
                         const SecretString& so_pin, const SecretString& user_pin) {
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<Module> module, Module::Load(module_path));
  bool changed = false;
  return InitializeFreeSlot(*module, label, so_pin, user_pin, &changed);
}

std::string_view PinStateName(PinState s) {
  switch (s) {
    case PinState::kOk:
      return "ok";
    case PinState::kCountLow:
      return "count_low";
    case PinState::kFinalTry:
      return "final_try";
    case PinState::kLocked:
      return "locked";
  }
  return "ok";
}

Result<TokenInfo> Token::Describe(const std::string& module_path, std::string_view label) {
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<Module> module, Module::Load(module_path));
  KYSO_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenByLabel(label));
  return DescribeSlot(*module, slot);
}

Status Token::Personalise(const std::string& module_path, std::string_view label,
                          std::span<const SecretString* const> current_so_pins,
                          const SecretString& so_pin, const SecretString& user_pin, bool* changed) {
  bool ignored = false;
  if (changed == nullptr) changed = &ignored;
  *changed = false;
  KYSO_ASSIGN_OR_RETURN(auto padded_label, internal::PaddedLabel(label));
  if (so_pin.empty() || user_pin.empty()) return InvalidArgumentError("token PINs must not be empty");
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<Module> module, Module::Load(module_path));
  Result<CK_SLOT_ID> found = module->FindTokenByLabel(label);
  if (!found.ok() && found.status().code() != Code::kNotFound) return found.status();
  if (!found.ok()) return InitializeFreeSlot(*module, label, so_pin, user_pin, changed);
  if (current_so_pins.empty()) {
    return FailedPreconditionError("token \"" + std::string(label) +
                                   "\" is initialized: its SO PIN is needed to re-initialise it "
                                   "(--so-pin-file with the factory SO PIN)");
  }
  // C_InitToken checks the SO PIN itself and leaves a clean token: no objects, no user PIN,
  // whatever the factory (or an interrupted enrolment) left on it.
  const SecretString* current = nullptr;
  {
    std::lock_guard<std::mutex> lock(InitializeMutex());
    for (const SecretString* pin : current_so_pins) {
      const CK_RV rv = module->fn()->C_InitToken(*found, PinPtr(*pin), pin->size(), padded_label.data());
      if (rv == CKR_OK) {
        current = pin;
        *changed = true;
        break;
      }
      if (rv == CKR_PIN_LOCKED) {
        return PermissionDeniedError("the token's security officer PIN is locked (C_InitToken: CKR_PIN_LOCKED)");
      }
      if (rv != CKR_PIN_INCORRECT) return RvStatus(rv, "C_InitToken");
    }
  }
  if (current == nullptr) {
    return PermissionDeniedError("the token refused the security officer's PIN (C_InitToken: CKR_PIN_INCORRECT)");
  }
  KYSO_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenByLabel(label));
  const bool same = current->size() == so_pin.size() &&
                    CRYPTO_memcmp(current->reveal().data(), so_pin.reveal().data(), so_pin.size()) == 0;
  if (!same) {
    // A factory SO PIN is printed on the packaging: replace it before anything else.
    KYSO_ASSIGN_OR_RETURN(Session session, Session::Open(*module, slot));
    KYSO_RETURN_IF_ERROR(LoginSo(*module, session, *current));
    const Status set = RvStatus(
        module->fn()->C_SetPIN(session.handle(), PinPtr(*current), current->size(), PinPtr(so_pin),
                               so_pin.size()),
        "C_SetPIN (SO)");
    (void)session.Logout();
    KYSO_RETURN_IF_ERROR(set);
  }
  return SetUserPinAsSo(*module, slot, so_pin, user_pin);
}

Status Token::Unblock(const std::string& module_path, std::string_view label,
                      const SecretString& so_pin, const SecretString& new_user_pin) {
  if (new_user_pin.empty()) return InvalidArgumentError("the new user PIN must not be empty");
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<Module> module, Module::Load(module_path));
  KYSO_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenByLabel(label));
  return SetUserPinAsSo(*module, slot, so_pin, new_user_pin);
}

Result<std::unique_ptr<Token>> Token::Open(const std::string& module_path, std::string_view label,
                                           const SecretString& user_pin) {
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<Module> module, Module::Load(module_path));
  KYSO_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenByLabel(label));
  KYSO_ASSIGN_OR_RETURN(Session login, Session::Open(*module, slot));
  KYSO_RETURN_IF_ERROR(module->LoginUser(login.handle(), slot, user_pin));
  auto impl = std::make_shared<Impl>(std::move(module), slot, std::move(login));
  return std::unique_ptr<Token>(new Token(std::move(impl)));
}

Token::~Token() = default;

Result<std::unique_ptr<pkix::Signer>> Token::GenerateKeyPair(std::string_view key_label,
                                                             KeySpec spec, bool rsa_pss) {
  if (key_label.empty()) {
    return InvalidArgumentError("key label must not be empty");
  }
  std::lock_guard<std::mutex> lock(impl_->keys_mu);
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  const CK_FUNCTION_LIST* fn = impl_->fn;
  auto existing = internal::FindKeyByLabel(fn, lease.handle(), CKO_PRIVATE_KEY, key_label);
  if (existing.ok() || existing.status().code() == Code::kFailedPrecondition) {
    return AlreadyExistsError("a private key labelled \"" + std::string(key_label) +
                              "\" exists on the token");
  }
  if (existing.status().code() != Code::kNotFound) {
    return existing.status();
  }
  KeyPairTemplates t(spec, key_label);
  CK_MECHANISM mechanism{t.mechanism(), nullptr, 0};
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_GenerateKeyPair(lease.handle(), &mechanism, t.pub.data(), t.pub.size(),
                                     t.priv.data(), t.priv.size(), &pub, &priv),
               "C_GenerateKeyPair"));
  auto signer = MakeSigner(impl_, lease.handle(), priv, pub, rsa_pss);
  if (!signer.ok()) {
    // Leave no half-usable key behind under a label that now refuses new keys.
    (void)fn->C_DestroyObject(lease.handle(), priv);
    (void)fn->C_DestroyObject(lease.handle(), pub);
  }
  return signer;
}

Result<std::unique_ptr<pkix::Signer>> Token::FindSigner(std::string_view key_label, bool rsa_pss) {
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  const CK_FUNCTION_LIST* fn = impl_->fn;
  KYSO_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE priv,
                        internal::FindKeyByLabel(fn, lease.handle(), CKO_PRIVATE_KEY, key_label));
  auto pub = internal::FindKeyByLabel(fn, lease.handle(), CKO_PUBLIC_KEY, key_label);
  if (!pub.ok() && pub.status().code() != Code::kNotFound) {
    return pub.status();
  }
  return MakeSigner(impl_, lease.handle(), priv,
                    pub.ok() ? std::optional<CK_OBJECT_HANDLE>(*pub) : std::nullopt, rsa_pss);
}

Result<Bytes> Token::SignDigest(std::string_view key_label, ByteSpan sha256_digest) {
  if (sha256_digest.size() != 32) return InvalidArgumentError("a SHA-256 digest is 32 bytes");
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  const CK_FUNCTION_LIST* fn = impl_->fn;
  KYSO_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key,
                        internal::FindKeyByLabel(fn, lease.handle(), CKO_PRIVATE_KEY, key_label));
  KYSO_ASSIGN_OR_RETURN(CK_ULONG key_type,
                        internal::GetUlongAttribute(fn, lease.handle(), key, CKA_KEY_TYPE));
  // RSA signs DigestInfo||digest, ECDSA the bare digest: one buffer, two views of it.
  std::array<uint8_t, sizeof(pkix::kSha256DigestInfoPrefix) + 32> buffer;
  std::copy(std::begin(pkix::kSha256DigestInfoPrefix), std::end(pkix::kSha256DigestInfoPrefix), buffer.begin());
  std::copy(sha256_digest.begin(), sha256_digest.end(), buffer.begin() + sizeof(pkix::kSha256DigestInfoPrefix));
  ByteSpan input(buffer);
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  if (key_type == CKK_RSA) {
    mechanism.mechanism = CKM_RSA_PKCS;
  } else if (key_type == CKK_EC) {
    input = input.subspan(sizeof(pkix::kSha256DigestInfoPrefix));
  } else {
    return InvalidArgumentError("R7.2: token key is neither RSA nor EC");
  }
  CK_ULONG len = 0;
  CK_RV rv = fn->C_SignInit(lease.handle(), &mechanism, key);
  if (rv == CKR_OK) rv = fn->C_Sign(lease.handle(), InPtr(input), input.size(), nullptr, &len);
  Bytes sig(len);
  if (rv == CKR_OK) rv = fn->C_Sign(lease.handle(), InPtr(input), input.size(), sig.data(), &len);
  if (rv != CKR_OK) {
    lease.Discard();
    return RvStatus(rv, "C_Sign");
  }
  sig.resize(len);
  if (key_type == CKK_EC) return pkix::EcdsaRawToDer(sig);
  return sig;
}

Status Token::SetKeyId(std::string_view key_label, ByteSpan id) {
  if (id.empty()) return InvalidArgumentError("a key ID must not be empty");
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  const CK_FUNCTION_LIST* fn = impl_->fn;
  for (CK_OBJECT_CLASS object_class : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    auto object = internal::FindKeyByLabel(fn, lease.handle(), object_class, key_label);
    if (!object.ok()) {
      if (object.status().code() == Code::kNotFound && object_class == CKO_PUBLIC_KEY) continue;
      return object.status();
    }
    CK_ATTRIBUTE attr = AttrBytes(CKA_ID, id);
    KYSO_RETURN_IF_ERROR(
        RvStatus(fn->C_SetAttributeValue(lease.handle(), *object, &attr, 1), "C_SetAttributeValue (CKA_ID)"));
  }
  return OkStatus();
}

Status Token::WriteCertificate(std::string_view label, ByteSpan id, ByteSpan cert_der,
                               bool authority) {
  const uint8_t* p = cert_der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));
  if (!cert || p != cert_der.data() + cert_der.size()) {
    return InvalidArgumentError("not a DER certificate");
  }
  const Bytes subject = ossl::ToDer(i2d_X509_NAME, X509_get_subject_name(cert.get()));
  const Bytes issuer = ossl::ToDer(i2d_X509_NAME, X509_get_issuer_name(cert.get()));
  const Bytes serial = ossl::ToDer(i2d_ASN1_INTEGER, X509_get0_serialNumber(cert.get()));
  CK_OBJECT_CLASS object_class = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE cert_type = CKC_X_509;
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ULONG category = authority ? 2 : 1;  // PKCS#11 v2.40 4.6.2: 1 token user, 2 authority
  CK_ATTRIBUTE attrs[] = {
      Attr(CKA_CLASS, object_class),
      Attr(CKA_CERTIFICATE_TYPE, cert_type),
      Attr(CKA_TOKEN, yes),
      Attr(CKA_PRIVATE, no),
      Attr(CKA_MODIFIABLE, yes),
      Attr(CKA_CERTIFICATE_CATEGORY, category),
      AttrBytes(CKA_LABEL, AsBytes(label)),
      AttrBytes(CKA_ID, id),
      AttrBytes(CKA_SUBJECT, subject),
      AttrBytes(CKA_ISSUER, issuer),
      AttrBytes(CKA_SERIAL_NUMBER, serial),
      AttrBytes(CKA_VALUE, cert_der),
  };
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
  return RvStatus(impl_->fn->C_CreateObject(lease.handle(), attrs, std::size(attrs), &object),
                  "C_CreateObject (certificate)");
}

Result<std::vector<Bytes>> Token::Certificates() {
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  CK_OBJECT_CLASS object_class = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE cert_type = CKC_X_509;
  CK_ATTRIBUTE query[] = {Attr(CKA_CLASS, object_class), Attr(CKA_CERTIFICATE_TYPE, cert_type)};
  KYSO_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found,
                        internal::FindObjects(impl_->fn, lease.handle(), query, 64));
  std::vector<Bytes> out;
  for (CK_OBJECT_HANDLE h : found) {
    KYSO_ASSIGN_OR_RETURN(Bytes der, internal::GetBytesAttribute(impl_->fn, lease.handle(), h, CKA_VALUE));
    out.push_back(std::move(der));
  }
  return out;
}

Result<Bytes> Token::WrapSecret(std::string_view key_label, const SecretString& secret,
                                std::string_view context) {
  if (key_label.empty()) {
    return InvalidArgumentError("key label must not be empty");
  }
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  const CK_FUNCTION_LIST* fn = impl_->fn;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  {
    std::lock_guard<std::mutex> lock(impl_->keys_mu);
    auto found = internal::FindKeyByLabel(fn, lease.handle(), CKO_SECRET_KEY, key_label);
    if (found.ok()) {
      key = *found;
    } else if (found.status().code() == Code::kNotFound) {
      KYSO_ASSIGN_OR_RETURN(key, GenerateAesKey(fn, lease.handle(), key_label));
    } else {
      return found.status();
    }
  }
  Bytes out(kGcmIvLen + secret.size() + kGcmTagLen);
  if (RAND_bytes(out.data(), static_cast<int>(kGcmIvLen)) != 1) {
    return ossl::Error("random IV");
  }
  GcmMechanism gcm(ByteSpan(out.data(), kGcmIvLen), AsBytes(context));
  const ByteSpan plain = AsBytes(secret.reveal());
  CK_ULONG len = out.size() - kGcmIvLen;
  CK_RV rv = fn->C_EncryptInit(lease.handle(), &gcm.mechanism, key);
  if (rv == CKR_OK) {
    rv = fn->C_Encrypt(lease.handle(), InPtr(plain), plain.size(), out.data() + kGcmIvLen, &len);
  }
  if (rv != CKR_OK) {
    lease.Discard();
    return RvStatus(rv, "C_Encrypt (AES-GCM)");
  }
  out.resize(kGcmIvLen + len);
  return out;
}

Result<SecretString> Token::UnwrapSecret(std::string_view key_label, ByteSpan wrapped,
                                         std::string_view context) {
  if (wrapped.size() < kGcmIvLen + kGcmTagLen) {
    return InvalidArgumentError("wrapped secret is too short");
  }
  KYSO_ASSIGN_OR_RETURN(SessionLease lease, impl_->Borrow());
  const CK_FUNCTION_LIST* fn = impl_->fn;
  KYSO_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key,
                        internal::FindKeyByLabel(fn, lease.handle(), CKO_SECRET_KEY, key_label));
  GcmMechanism gcm(wrapped.first(kGcmIvLen), AsBytes(context));
  const ByteSpan sealed = wrapped.subspan(kGcmIvLen);
  // The module may write plaintext anywhere in the buffer before it checks the tag.
  Bytes plain(sealed.size());
  internal::ScopeExit wipe([&] { Cleanse(plain.data(), plain.size()); });
  CK_ULONG len = plain.size();
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_DecryptInit(lease.handle(), &gcm.mechanism, key), "C_DecryptInit (AES-GCM)"));
  const CK_RV rv = fn->C_Decrypt(lease.handle(), InPtr(sealed), sealed.size(), plain.data(), &len);
  if (rv != CKR_OK) {
    lease.Discard();
    Status status = RvStatus(rv, "C_Decrypt (AES-GCM)");
    // A tag mismatch is CKR_ENCRYPTED_DATA_INVALID in the standard, but SoftHSM2 2.6 reports
    // it as CKR_GENERAL_ERROR (and others as CKR_FUNCTION_FAILED): the key and IV are known
    // good here, so these mean the input does not authenticate.
    if (rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED) {
      status = Status(Code::kInvalidArgument, status.message());
    }
    return status;
  }
  return SecretString(AsString(ByteSpan(plain.data(), std::min<std::size_t>(len, plain.size()))));
}

}  // namespace kyso::token
