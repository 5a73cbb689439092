#include "kyso/verify/timestamp_token.h"

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <string>

#include "kyso/pkix/tsp.h"

namespace kyso::verify {
namespace {

struct Pkcs7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};
struct TstInfoFree {
  void operator()(TS_TST_INFO* p) const { TS_TST_INFO_free(p); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); }
};

Status Untrusted(const std::string& why) {
  unsigned long e = ERR_peek_last_error();
  char detail[256] = "";
  if (e != 0) ERR_error_string_n(e, detail, sizeof detail);
  ERR_clear_error();
  return FailedPreconditionError("dấu thời gian không tin cậy được: " + why +
                                 (detail[0] != 0 ? std::string(" (") + detail + ")" : ""));
}

}  // namespace

Result<VerifiedTimestamp> VerifyTimestampToken(ByteSpan token_der, ByteSpan sha256_digest,
                                               const std::vector<const X509*>& anchors,
                                               const std::vector<const X509*>& untrusted) {
  if (token_der.empty() || token_der.size() > pkix::kMaxTimeStampRespLen) {
    return Untrusted("token rỗng hoặc quá lớn");
  }
  const unsigned char* p = token_der.data();
  std::unique_ptr<PKCS7, Pkcs7Free> token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
  if (!token || p != token_der.data() + token_der.size() || !PKCS7_type_is_signed(token.get())) {
    return Untrusted("token không đúng định dạng");
  }
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), X509StackFree> extra(sk_X509_new_null());
  if (!store || !extra) return ossl::Error("timestamp verification setup");
  for (const X509* a : anchors) X509_STORE_add_cert(store.get(), const_cast<X509*>(a));
  for (const X509* c : untrusted) {
    X509_up_ref(const_cast<X509*>(c));
    sk_X509_push(extra.get(), const_cast<X509*>(c));
  }
  X509* signer = nullptr;
  // Signature, ESS certificate binding, and the path with the timeStamping purpose (which
  // requires the critical EKU), all in OpenSSL's RFC 3161 verifier.
  if (TS_RESP_verify_signature(token.get(), extra.get(), store.get(), &signer) != 1) {
    return Untrusted("chữ ký của máy chủ dấu thời gian không kiểm tra được tới chứng thư gốc tin cậy");
  }
  VerifiedTimestamp out;
  out.tsa_cert.reset(signer);  // TS_RESP_verify_signature hands over a reference
  if (STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(token.get());
      infos != nullptr && sk_PKCS7_SIGNER_INFO_num(infos) > 0) {
    X509_ALGOR* digest = nullptr;
    PKCS7_SIGNER_INFO_get0_algs(sk_PKCS7_SIGNER_INFO_value(infos, 0), nullptr, &digest, nullptr);
    if (digest != nullptr) out.digest_nid = OBJ_obj2nid(digest->algorithm);
  }
  std::unique_ptr<TS_TST_INFO, TstInfoFree> info(PKCS7_to_TS_TST_INFO(token.get()));
  if (!info) return Untrusted("không đọc được TSTInfo");
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
  const ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(imprint);
  if (OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(imprint)->algorithm) != NID_sha256 ||
      !std::equal(sha256_digest.begin(), sha256_digest.end(), ASN1_STRING_get0_data(hashed),
                  ASN1_STRING_get0_data(hashed) + ASN1_STRING_length(hashed))) {
    return Untrusted("dấu thời gian không phải cho dữ liệu đã gửi");
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(TS_TST_INFO_get_time(info.get()), &tm) != 1) return Untrusted("genTime hỏng");
  out.gen_time = Time(std::chrono::seconds(timegm(&tm)));
  STACK_OF(X509)* carried = token->d.sign != nullptr ? token->d.sign->cert : nullptr;
  for (int i = 0; carried != nullptr && i < sk_X509_num(carried); ++i) {
    X509* c = sk_X509_value(carried, i);
    X509_up_ref(c);
    out.certificates.emplace_back(c);
  }
  return out;
}

}  // namespace kyso::verify
