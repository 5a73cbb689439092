#include "kyso/token/token.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "kyso/pkix/csr.h"
#include "kyso/token/pkcs11.h"

namespace kyso::token {
namespace {

namespace fs = std::filesystem;

constexpr char kModule[] = "/usr/lib/softhsm/libsofthsm2.so";
constexpr char kSoPin[] = "so-pin-8642";
constexpr char kUserPin[] = "user-pin-1357";

// SoftHsmEnvironment gives the whole binary one SoftHSM2 configuration and token directory.
// SoftHSM2 reads SOFTHSM2_CONF only at C_Initialize, and the module registry initializes it
// once per process, so every test shares this directory and uses its own token labels.
class SoftHsmEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "kyso_token_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    fs::create_directories(dir_ / "tokens");
    const fs::path conf = dir_ / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << (dir_ / "tokens").string() << "\n"
                        << "objectstore.backend = file\n"
                        << "log.level = ERROR\n";
    ASSERT_EQ(setenv("SOFTHSM2_CONF", conf.c_str(), 1), 0);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

 private:
  fs::path dir_;
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new SoftHsmEnvironment);

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModule)) {
      GTEST_SKIP() << "SoftHSM2 is not installed";
    }
  }

  // InitAndOpen makes a fresh token labelled `label` and logs the user in.
  static std::unique_ptr<Token> InitAndOpen(std::string_view label) {
    Status init = Token::Initialize(kModule, label, SecretString(kSoPin), SecretString(kUserPin));
    EXPECT_TRUE(init.ok()) << init.ToString();
    auto token = Token::Open(kModule, label, SecretString(kUserPin));
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? std::move(token).value() : nullptr;
  }

  static Bytes Message(std::size_t i) {
    const std::string text = "tbs certificate number " + std::to_string(i);
    const ByteSpan bytes = AsBytes(text);
    return Bytes(bytes.begin(), bytes.end());
  }

  static void ExpectSignsAndVerifies(pkix::Signer& signer) {
    const Bytes tbs = Message(1);
    auto sig = signer.Sign(tbs);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    EXPECT_TRUE(pkix::VerifySignature(signer.public_key(), signer.algorithm(), tbs, *sig).ok());
    const Bytes other = Message(2);
    EXPECT_EQ(pkix::VerifySignature(signer.public_key(), signer.algorithm(), other, *sig).code(),
              Code::kInvalidArgument);
  }

  struct PrivateKeyFlags {
    bool sensitive, extractable, always_sensitive, never_extractable, sign;
  };
  // ReadPrivateKeyFlags reads the private key's attributes through a session of its own, the
  // way an auditor would; the user is already logged in to `token_label` by the caller's Token.
  static PrivateKeyFlags ReadPrivateKeyFlags(std::string_view token_label,
                                             std::string_view key_label) {
    using namespace internal;
    PrivateKeyFlags flags{};
    auto module = Module::Load(kModule);
    EXPECT_TRUE(module.ok());
    auto slot = (*module)->FindTokenByLabel(token_label);
    EXPECT_TRUE(slot.ok());
    auto session = Session::Open(**module, *slot);
    EXPECT_TRUE(session.ok());
    const CK_FUNCTION_LIST* fn = (*module)->fn();
    auto key = FindKeyByLabel(fn, session->handle(), CKO_PRIVATE_KEY, key_label);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    if (!key.ok()) {
      return flags;
    }
    auto get = [&](CK_ATTRIBUTE_TYPE type) {
      auto v = GetBoolAttribute(fn, session->handle(), *key, type);
      EXPECT_TRUE(v.ok()) << v.status().ToString();
      return v.ok() && *v;
    };
    flags.sensitive = get(CKA_SENSITIVE);
    flags.extractable = get(CKA_EXTRACTABLE);
    flags.always_sensitive = get(CKA_ALWAYS_SENSITIVE);
    flags.never_extractable = get(CKA_NEVER_EXTRACTABLE);
    flags.sign = get(CKA_SIGN);
    // A sensitive key's secret value cannot be read.
    auto key_type = GetUlongAttribute(fn, session->handle(), *key, CKA_KEY_TYPE);
    EXPECT_TRUE(key_type.ok());
    const CK_ATTRIBUTE_TYPE secret =
        key_type.ok() && *key_type == CKK_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE;
    EXPECT_EQ(GetBytesAttribute(fn, session->handle(), *key, secret).status().code(),
              Code::kPermissionDenied);
    return flags;
  }

  static void ExpectKeyStaysOnToken(std::string_view token_label, std::string_view key_label) {
    const PrivateKeyFlags flags = ReadPrivateKeyFlags(token_label, key_label);
    EXPECT_TRUE(flags.sensitive);
    EXPECT_FALSE(flags.extractable);
    EXPECT_TRUE(flags.always_sensitive);
    EXPECT_TRUE(flags.never_extractable);
    EXPECT_TRUE(flags.sign);
  }
};

TEST_F(TokenTest, InitializeOpenAndWrongPinIsUnauthenticated) {
  ASSERT_TRUE(
      Token::Initialize(kModule, "t-login", SecretString(kSoPin), SecretString(kUserPin)).ok());
  // No token is open yet, so the module itself checks the PIN.
  EXPECT_EQ(Token::Open(kModule, "t-login", SecretString("wrong-pin")).status().code(),
            Code::kUnauthenticated);
  auto token = Token::Open(kModule, "t-login", SecretString(kUserPin));
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  // The user is now logged in, and SoftHSM2 answers C_Login with CKR_USER_ALREADY_LOGGED_IN
  // before looking at the PIN; a wrong PIN must still be refused.
  EXPECT_EQ(Token::Open(kModule, "t-login", SecretString("wrong-pin")).status().code(),
            Code::kUnauthenticated);
  auto second = Token::Open(kModule, "t-login", SecretString(kUserPin));
  EXPECT_TRUE(second.ok()) << second.status().ToString();
}

TEST_F(TokenTest, OpenUnknownLabelIsNotFound) {
  EXPECT_EQ(Token::Open(kModule, "t-no-such-token", SecretString(kUserPin)).status().code(),
            Code::kNotFound);
}

TEST_F(TokenTest, OpenMissingModuleIsNotFound) {
  EXPECT_EQ(Token::Open("/nonexistent/libpkcs11.so", "x", SecretString(kUserPin)).status().code(),
            Code::kNotFound);
}

TEST_F(TokenTest, InitializeRefusesUsedLabel) {
  ASSERT_TRUE(
      Token::Initialize(kModule, "t-twice", SecretString(kSoPin), SecretString(kUserPin)).ok());
  EXPECT_EQ(
      Token::Initialize(kModule, "t-twice", SecretString(kSoPin), SecretString(kUserPin)).code(),
      Code::kAlreadyExists);
}

TEST_F(TokenTest, InitializeRefusesBadLabel) {
  EXPECT_EQ(Token::Initialize(kModule, "", SecretString(kSoPin), SecretString(kUserPin)).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      Token::Initialize(kModule, std::string(33, 'x'), SecretString(kSoPin), SecretString(kUserPin))
          .code(),
      Code::kInvalidArgument);
}

TEST_F(TokenTest, RsaKeySignsVerifiesAndStaysOnToken) {
  auto token = InitAndOpen("t-rsa");
  ASSERT_NE(token, nullptr);
  auto signer = token->GenerateKeyPair("issuing-2048", KeySpec::kRsa2048, /*rsa_pss=*/false);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->algorithm(), pkix::SignatureAlgorithm::kRsaPkcs1Sha256);
  EXPECT_EQ(EVP_PKEY_get_bits((*signer)->public_key()), 2048);
  ExpectSignsAndVerifies(**signer);
  ExpectKeyStaysOnToken("t-rsa", "issuing-2048");

  auto found = token->FindSigner("issuing-2048", /*rsa_pss=*/false);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(EVP_PKEY_eq((*found)->public_key(), (*signer)->public_key()), 1);
  ExpectSignsAndVerifies(**found);
}

TEST_F(TokenTest, RsaPssSignatureVerifies) {
  auto token = InitAndOpen("t-pss");
  ASSERT_NE(token, nullptr);
  auto signer = token->GenerateKeyPair("pss-2048", KeySpec::kRsa2048, /*rsa_pss=*/true);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->algorithm(), pkix::SignatureAlgorithm::kRsaPssSha256);
  ExpectSignsAndVerifies(**signer);
  // PSS is randomized: two signatures of one message differ.
  const Bytes tbs = Message(7);
  auto a = (*signer)->Sign(tbs);
  auto b = (*signer)->Sign(tbs);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST_F(TokenTest, EcP256KeySignsVerifiesAndStaysOnToken) {
  auto token = InitAndOpen("t-ec256");
  ASSERT_NE(token, nullptr);
  auto signer = token->GenerateKeyPair("ocsp-p256", KeySpec::kEcP256, /*rsa_pss=*/false);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->algorithm(), pkix::SignatureAlgorithm::kEcdsaSha256);
  ExpectSignsAndVerifies(**signer);
  ExpectKeyStaysOnToken("t-ec256", "ocsp-p256");

  auto found = token->FindSigner("ocsp-p256", /*rsa_pss=*/false);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(EVP_PKEY_eq((*found)->public_key(), (*signer)->public_key()), 1);
  ExpectSignsAndVerifies(**found);
}

TEST_F(TokenTest, EcP384KeySignsWithSha384) {
  auto token = InitAndOpen("t-ec384");
  ASSERT_NE(token, nullptr);
  auto signer = token->GenerateKeyPair("p384", KeySpec::kEcP384, /*rsa_pss=*/false);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->algorithm(), pkix::SignatureAlgorithm::kEcdsaSha384);
  ExpectSignsAndVerifies(**signer);
}

TEST_F(TokenTest, ConcurrentSigningFromTwoThreads) {
  auto token = InitAndOpen("t-threads");
  ASSERT_NE(token, nullptr);
  auto generated = token->GenerateKeyPair("busy", KeySpec::kRsa2048, /*rsa_pss=*/false);
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  pkix::Signer& signer = **generated;
  constexpr int kThreads = 2;
  constexpr int kPerThread = 200;
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const Bytes tbs = Message(static_cast<std::size_t>(t * kPerThread + i));
        auto sig = signer.Sign(tbs);
        if (sig.ok() &&
            pkix::VerifySignature(signer.public_key(), signer.algorithm(), tbs, *sig).ok()) {
          verified.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(verified.load(), kThreads * kPerThread);
}

TEST_F(TokenTest, SignerOutlivesToken) {
  auto token = InitAndOpen("t-outlive");
  ASSERT_NE(token, nullptr);
  auto signer = token->GenerateKeyPair("k", KeySpec::kEcP256, /*rsa_pss=*/false);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  token.reset();
  ExpectSignsAndVerifies(**signer);
}

TEST_F(TokenTest, DuplicateKeyLabelIsRefused) {
  auto token = InitAndOpen("t-dup");
  ASSERT_NE(token, nullptr);
  ASSERT_TRUE(token->GenerateKeyPair("same", KeySpec::kEcP256, false).ok());
  EXPECT_EQ(token->GenerateKeyPair("same", KeySpec::kRsa2048, false).status().code(),
            Code::kAlreadyExists);
}

TEST_F(TokenTest, FindSignerUnknownLabelIsNotFound) {
  auto token = InitAndOpen("t-find");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->FindSigner("nope", false).status().code(), Code::kNotFound);
}

TEST_F(TokenTest, WrapUnwrapRoundTripAndTamperDetection) {
  auto token = InitAndOpen("t-wrap");
  ASSERT_NE(token, nullptr);
  const SecretString secret("pin-of-the-issuing-ca-4711");
  auto wrapped = token->WrapSecret("pin-wrap", secret);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(wrapped->size(), 12 + secret.size() + 16);

  auto unwrapped = token->UnwrapSecret("pin-wrap", *wrapped);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(unwrapped->reveal(), secret.reveal());

  // The second wrap reuses the key with a fresh IV.
  auto again = token->WrapSecret("pin-wrap", secret);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(*again, *wrapped);
  auto unwrapped_again = token->UnwrapSecret("pin-wrap", *again);
  ASSERT_TRUE(unwrapped_again.ok()) << unwrapped_again.status().ToString();
  EXPECT_EQ(unwrapped_again->reveal(), secret.reveal());

  for (std::size_t at : {std::size_t{0}, std::size_t{12}, wrapped->size() - 1}) {
    Bytes tampered = *wrapped;
    tampered[at] ^= 0x01;
    EXPECT_EQ(token->UnwrapSecret("pin-wrap", tampered).status().code(), Code::kInvalidArgument)
        << "byte " << at;
  }
  // The pool still works after the failed decryptions.
  EXPECT_TRUE(token->UnwrapSecret("pin-wrap", *wrapped).ok());
  EXPECT_EQ(token->UnwrapSecret("pin-wrap", ByteSpan(wrapped->data(), 20)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(token->UnwrapSecret("other-key", *wrapped).status().code(), Code::kNotFound);
}

TEST_F(TokenTest, WrapKeyIsSensitiveAndUnextractable) {
  auto token = InitAndOpen("t-wrapkey");
  ASSERT_NE(token, nullptr);
  ASSERT_TRUE(token->WrapSecret("aes", SecretString("x")).ok());
  using namespace internal;
  auto module = Module::Load(kModule);
  ASSERT_TRUE(module.ok());
  auto slot = (*module)->FindTokenByLabel("t-wrapkey");
  ASSERT_TRUE(slot.ok());
  auto session = Session::Open(**module, *slot);
  ASSERT_TRUE(session.ok());
  const CK_FUNCTION_LIST* fn = (*module)->fn();
  auto key = FindKeyByLabel(fn, session->handle(), CKO_SECRET_KEY, "aes");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(*GetBoolAttribute(fn, session->handle(), *key, CKA_SENSITIVE));
  EXPECT_FALSE(*GetBoolAttribute(fn, session->handle(), *key, CKA_EXTRACTABLE));
  EXPECT_TRUE(*GetBoolAttribute(fn, session->handle(), *key, CKA_TOKEN));
  EXPECT_EQ(GetBytesAttribute(fn, session->handle(), *key, CKA_VALUE).status().code(),
            Code::kPermissionDenied);
}

TEST_F(TokenTest, PersonaliseInitializesABlankSlotAndSetsTheUserPin) {
  const SecretString so("so-new-2468"), user("12345678");
  ASSERT_TRUE(Token::Personalise(kModule, "holder-blank", {}, so, user).ok());
  auto info = Token::Describe(kModule, "holder-blank");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->initialized);
  EXPECT_TRUE(info->user_pin_initialized);
  EXPECT_EQ(info->user_pin, PinState::kOk);
  EXPECT_FALSE(info->serial.empty());
  EXPECT_TRUE(Token::Open(kModule, "holder-blank", user).ok());
  // Initialized now: without its SO PIN nothing more is done to it.
  EXPECT_EQ(Token::Personalise(kModule, "holder-blank", {}, so, user).code(), Code::kFailedPrecondition);
}

TEST_F(TokenTest, PersonaliseAgainWithTheSoPinWipesTheToken) {
  // A token back in stock (or an enrolment interrupted after C_InitToken) is re-initialised
  // with the SO PIN kyso kept: its objects are destroyed, the serial stays.
  const SecretString so("so-again-1"), first("11111111"), second("22222222");
  ASSERT_TRUE(Token::Personalise(kModule, "holder-again", {}, so, first).ok());
  const std::string serial = Token::Describe(kModule, "holder-again")->serial;
  {
    auto token = Token::Open(kModule, "holder-again", first);
    ASSERT_TRUE(token.ok());
    ASSERT_TRUE((*token)->GenerateKeyPair("kyso-key", KeySpec::kEcP256, false).ok());
  }
  const SecretString* current[] = {&so};
  ASSERT_TRUE(Token::Personalise(kModule, "holder-again", current, so, second).ok());
  EXPECT_EQ(Token::Describe(kModule, "holder-again")->serial, serial);
  auto token = Token::Open(kModule, "holder-again", second);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ((*token)->FindSigner("kyso-key", false).status().code(), Code::kNotFound);
}

TEST_F(TokenTest, PersonaliseReplacesTheFactorySoPin) {
  // A factory token: initialized with a known SO PIN and no user PIN (as vendors ship them).
  const SecretString factory("factory-so-0000");
  {
    auto module = internal::Module::Load(kModule);
    ASSERT_TRUE(module.ok());
    auto slots = (*module)->Slots(false);
    ASSERT_TRUE(slots.ok());
    CK_SLOT_ID free_slot = 0;
    bool found = false;
    for (CK_SLOT_ID s : *slots) {
      CK_TOKEN_INFO ti{};
      if ((*module)->fn()->C_GetTokenInfo(s, &ti) == CKR_OK && (ti.flags & CKF_TOKEN_INITIALIZED) == 0) {
        free_slot = s;
        found = true;
        break;
      }
    }
    ASSERT_TRUE(found);
    auto label = internal::PaddedLabel("holder-factory");
    ASSERT_EQ((*module)->fn()->C_InitToken(free_slot, internal::PinPtr(factory), factory.size(), label->data()),
              CKR_OK);
  }
  const SecretString so("so-new-1357"), user("87654321");
  // Without the factory SO PIN, or with a wrong one, nothing changes.
  EXPECT_EQ(Token::Personalise(kModule, "holder-factory", {}, so, user).code(), Code::kFailedPrecondition);
  const SecretString wrong("not-the-factory-pin");
  const SecretString* wrong_only[] = {&wrong};
  EXPECT_EQ(Token::Personalise(kModule, "holder-factory", wrong_only, so, user).code(), Code::kPermissionDenied);
  EXPECT_FALSE(Token::Describe(kModule, "holder-factory")->user_pin_initialized);
  // Candidates are tried in order: the wrong one first, then the factory's.
  const SecretString* candidates[] = {&wrong, &factory};
  ASSERT_TRUE(Token::Personalise(kModule, "holder-factory", candidates, so, user).ok());
  EXPECT_TRUE(Token::Open(kModule, "holder-factory", user).ok());
  // The factory SO PIN no longer works; the new one does.
  EXPECT_EQ(Token::Unblock(kModule, "holder-factory", factory, SecretString("11112222")).code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(Token::Unblock(kModule, "holder-factory", so, SecretString("11112222")).ok());
}

TEST_F(TokenTest, R13_1_UnblockSetsANewUserPinAndKeepsTheKey) {
  const SecretString so("so-unblock-1"), user("13572468"), fresh("24681357");
  ASSERT_TRUE(Token::Personalise(kModule, "holder-unblock", {}, so, user).ok());
  Bytes public_der;
  {
    auto token = Token::Open(kModule, "holder-unblock", user);
    ASSERT_TRUE(token.ok());
    auto key = (*token)->GenerateKeyPair("kyso-key", KeySpec::kRsa2048, false);
    ASSERT_TRUE(key.ok());
    public_der = ossl::ToDer(i2d_PUBKEY, (*key)->public_key());
  }
  ASSERT_TRUE(Token::Unblock(kModule, "holder-unblock", so, fresh).ok());
  EXPECT_FALSE(Token::Open(kModule, "holder-unblock", user).ok());
  auto token = Token::Open(kModule, "holder-unblock", fresh);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto key = (*token)->FindSigner("kyso-key", false);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ossl::ToDer(i2d_PUBKEY, (*key)->public_key()), public_der);
  ExpectSignsAndVerifies(**key);
}

TEST_F(TokenTest, SignDigestMatchesTheHashingMechanisms) {
  auto token = InitAndOpen("sign-digest");
  ASSERT_NE(token, nullptr);
  for (KeySpec spec : {KeySpec::kRsa2048, KeySpec::kEcP256}) {
    const std::string label = spec == KeySpec::kRsa2048 ? "rsa" : "ec";
    auto signer = token->GenerateKeyPair(label, spec, false);
    ASSERT_TRUE(signer.ok());
    const Bytes tbs = Message(7);
    uint8_t digest[32];
    unsigned int len = 0;
    ASSERT_EQ(EVP_Digest(tbs.data(), tbs.size(), digest, &len, EVP_sha256(), nullptr), 1);
    auto sig = token->SignDigest(label, ByteSpan(digest, len));
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    // A signature over the digest verifies as a signature over the data.
    EXPECT_TRUE(pkix::VerifySignature((*signer)->public_key(), (*signer)->algorithm(), tbs, *sig).ok()) << label;
  }
  EXPECT_EQ(token->SignDigest("rsa", ByteSpan()).status().code(), Code::kInvalidArgument);
}

TEST_F(TokenTest, CertificateIsWrittenWithTheKeysId) {
  auto token = InitAndOpen("with-cert");
  ASSERT_NE(token, nullptr);
  auto key = token->GenerateKeyPair("kyso-key", KeySpec::kEcP256, false);
  ASSERT_TRUE(key.ok());
  const Bytes id = {0x01, 0x02, 0x03, 0x04};
  ASSERT_TRUE(token->SetKeyId("kyso-key", id).ok());
  auto csr = pkix::MakeCertRequest(**key, "Nguyễn Văn An");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  auto parsed = pkix::ParseCertRequest(*csr);  // verifies the token's signature
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(token->WriteCertificate("x", id, Bytes{0x30, 0x00}, false).code(), Code::kInvalidArgument);
}

TEST_F(TokenTest, WrappedSecretUnwrapsOnlyInItsContext) {
  auto token = InitAndOpen("wrap-context");
  ASSERT_NE(token, nullptr);
  auto wrapped = token->WrapSecret("kyso-wrap", SecretString("so-pin-of-A"), "kyso-so-pin|serial|A");
  ASSERT_TRUE(wrapped.ok());
  auto right = token->UnwrapSecret("kyso-wrap", *wrapped, "kyso-so-pin|serial|A");
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->reveal(), "so-pin-of-A");
  // Copied to token B's record, or read without its context, it does not unwrap.
  EXPECT_EQ(token->UnwrapSecret("kyso-wrap", *wrapped, "kyso-so-pin|serial|B").status().code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(token->UnwrapSecret("kyso-wrap", *wrapped).ok());
}

TEST(RvStatusTest, TranslatesCodesAndNamesThem) {
  using internal::RvStatus;
  EXPECT_TRUE(RvStatus(CKR_OK, "x").ok());
  EXPECT_EQ(RvStatus(CKR_PIN_INCORRECT, "C_Login").code(), Code::kUnauthenticated);
  EXPECT_EQ(RvStatus(CKR_PIN_LOCKED, "C_Login").code(), Code::kFailedPrecondition);
  EXPECT_EQ(RvStatus(CKR_SLOT_ID_INVALID, "x").code(), Code::kNotFound);
  EXPECT_EQ(RvStatus(CKR_GENERAL_ERROR, "x").code(), Code::kInternal);
  EXPECT_EQ(internal::RvName(CKR_PIN_LOCKED), "CKR_PIN_LOCKED");
  EXPECT_EQ(internal::RvName(0x8000abcdUL), "CKR_0x8000abcd");
}

}  // namespace
}  // namespace kyso::token
