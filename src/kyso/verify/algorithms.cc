#include "kyso/verify/algorithms.h"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

namespace kyso::verify {

std::string AlgorithmProblemVi(const EVP_PKEY* key, int digest_nid) {
  std::string problems;
  auto add = [&problems](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
  switch (digest_nid) {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
    case NID_sha512_256:
    case NID_sha3_256:
    case NID_sha3_384:
    case NID_sha3_512:
      break;
    case NID_undef:
      add("không xác định được hàm băm");
      break;
    default: {
      const char* name = OBJ_nid2sn(digest_nid);
      add(std::string("hàm băm ") + (name != nullptr ? name : "?") + " yếu hơn SHA-256");
    }
  }
  if (key == nullptr) {
    add("không có khóa công khai");
  } else {
    const int bits = EVP_PKEY_get_bits(key);
    if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
      if (bits < 2048) add("khóa RSA " + std::to_string(bits) + " bit (cần từ 2048 bit)");
    } else if (EVP_PKEY_is_a(key, "EC")) {
      if (bits < 256) add("khóa ECDSA " + std::to_string(bits) + " bit (cần từ 256 bit)");
    } else {
      add(std::string("khóa ") + (EVP_PKEY_get0_type_name(key) != nullptr ? EVP_PKEY_get0_type_name(key) : "?") +
          " không phải RSA hay ECDSA");
    }
  }
  if (problems.empty()) return problems;
  return "thuật toán không đạt yêu cầu R7.2 (Thông tư 15/2025, Phụ lục I): " + problems;
}

int WeakestDigest(const std::vector<int>& nids) {
  auto strength = [](int nid) {
    switch (nid) {
      case NID_sha512:
      case NID_sha3_512:
        return 512;
      case NID_sha384:
      case NID_sha3_384:
        return 384;
      case NID_sha256:
      case NID_sha512_256:
      case NID_sha3_256:
        return 256;
      case NID_sha224:
      case NID_sha512_224:
      case NID_sha3_224:
        return 224;
      case NID_sha1:
        return 160;
      case NID_md5:
        return 128;
      default:
        return 0;
    }
  };
  int weakest = NID_undef;
  for (std::size_t i = 0; i < nids.size(); ++i) {
    if (i == 0 || strength(nids[i]) < strength(weakest)) weakest = nids[i];
  }
  return weakest;
}

}  // namespace kyso::verify
