#include "kyso/verify/algorithms.h"

#include <gtest/gtest.h>
#include <openssl/obj_mac.h>

#include "kyso/pkix/ossl.h"

namespace kyso::verify {
namespace {

ossl::UniquePtr<EVP_PKEY> Key(const char* type, const char* param) {
  if (std::string_view(type) == "RSA") {
    return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(std::atoi(param))));
  }
  return ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, type, param));
}

TEST(AlgorithmsTest, R7_2_StrongKeysAndHashesPass) {
  auto rsa = Key("RSA", "2048");
  auto p256 = Key("EC", "P-256");
  auto p521 = Key("EC", "P-521");
  for (int nid : {NID_sha256, NID_sha384, NID_sha512, NID_sha3_256}) {
    EXPECT_EQ(AlgorithmProblemVi(rsa.get(), nid), "");
    EXPECT_EQ(AlgorithmProblemVi(p256.get(), nid), "");
    EXPECT_EQ(AlgorithmProblemVi(p521.get(), nid), "");
  }
}

TEST(AlgorithmsTest, R7_2_WeakHashesAndKeysAreNamedInVietnamese) {
  auto rsa = Key("RSA", "2048");
  auto small = Key("RSA", "1024");
  auto p224 = Key("EC", "P-224");
  auto ed = ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_NE(AlgorithmProblemVi(rsa.get(), NID_sha1).find("hàm băm SHA1 yếu hơn SHA-256"), std::string::npos);
  EXPECT_NE(AlgorithmProblemVi(rsa.get(), NID_sha224).find("SHA224"), std::string::npos);
  EXPECT_NE(AlgorithmProblemVi(rsa.get(), NID_undef).find("không xác định được hàm băm"), std::string::npos);
  EXPECT_NE(AlgorithmProblemVi(small.get(), NID_sha256).find("khóa RSA 1024 bit"), std::string::npos);
  EXPECT_NE(AlgorithmProblemVi(p224.get(), NID_sha256).find("khóa ECDSA 224 bit"), std::string::npos);
  EXPECT_NE(AlgorithmProblemVi(ed.get(), NID_sha512).find("không phải RSA hay ECDSA"), std::string::npos);
  EXPECT_NE(AlgorithmProblemVi(nullptr, NID_sha256).find("không có khóa"), std::string::npos);
  // Both shortfalls at once, after the rule's name.
  const std::string both = AlgorithmProblemVi(small.get(), NID_sha1);
  EXPECT_EQ(both.rfind("thuật toán không đạt yêu cầu R7.2", 0), 0u) << both;
  EXPECT_NE(both.find("; "), std::string::npos);
}

// A signature depending on several hashes (PSS parameters, XML References) is judged by the
// weakest; an unknown hash is the weakest of all.
TEST(AlgorithmsTest, R7_2_WeakestDigestDecides) {
  EXPECT_EQ(WeakestDigest({NID_sha256, NID_sha1, NID_sha512}), NID_sha1);
  EXPECT_EQ(WeakestDigest({NID_sha384, NID_sha3_256}), NID_sha3_256);
  EXPECT_EQ(WeakestDigest({NID_sha256, NID_undef}), NID_undef);
  EXPECT_EQ(WeakestDigest({NID_sha512}), NID_sha512);
  EXPECT_EQ(WeakestDigest({}), NID_undef);
}

TEST(AlgorithmsTest, DefaultCutoffIsTheDateOfTt15) {
  EXPECT_EQ(kDefaultAlgorithmsFrom.time_since_epoch().count(), 1755216000);  // 2025-08-15T00:00:00Z
}

}  // namespace
}  // namespace kyso::verify
