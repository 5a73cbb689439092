#include "kyso/pkix/tsp.h"

#include <openssl/err.h>

#include <algorithm>
#include <cstdio>

#include "kyso/pkix/cms.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {

namespace {

constexpr std::size_t kMaxStatusStringLen = 512;
constexpr std::size_t kMaxOidBodyLen = 64;

Status Refuse(TspFailure f, TspFailure* out, std::string message) {
  ERR_clear_error();
  if (out != nullptr) *out = f;
  return InvalidArgumentError(std::move(message));
}

Bytes ToBytes(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  const unsigned char* d = ASN1_STRING_get0_data(s);
  return Bytes(d, d + ASN1_STRING_length(s));
}

std::string OidText(const ASN1_OBJECT* obj) {
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(buf)) return "?";
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string_view DigestName(int nid) {
  switch (nid) {
    case NID_sha256:
      return "SHA-256";
    case NID_sha384:
      return "SHA-384";
    case NID_sha512:
      return "SHA-512";
    default:
      return "?";
  }
}

// CheckImprint applies RFC 3161 2.4.1's messageImprint rules with kyso's allowlist (R7.2:
// never SHA-1): the digest, its parameters (RFC 5754 2: absent; NULL is still common, and
// accepted) and the length of hashedMessage.
Status CheckImprint(TS_MSG_IMPRINT* imprint, TspFailure* failure, TimeStampReq& out) {
  const ASN1_OBJECT* obj = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, TS_MSG_IMPRINT_get_algo(imprint));
  const int nid = OBJ_obj2nid(obj);
  if (nid == NID_sha1) {
    return Refuse(TspFailure::kBadAlg, failure,
                  "SHA-1 message imprints are refused; use SHA-256, SHA-384 or SHA-512");
  }
  if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
    return Refuse(
        TspFailure::kBadAlg, failure,
        "unsupported message imprint digest " + OidText(obj) + "; use SHA-256, SHA-384 or SHA-512");
  }
  if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) {
    return Refuse(TspFailure::kBadAlg, failure, "digest parameters must be absent or NULL");
  }
  const Bytes hashed = ToBytes(TS_MSG_IMPRINT_get_msg(imprint));
  const auto want = static_cast<std::size_t>(EVP_MD_get_size(EVP_get_digestbynid(nid)));
  if (hashed.size() != want) {
    return Refuse(TspFailure::kBadDataFormat, failure,
                  "hashedMessage is " + std::to_string(hashed.size()) + " octets; " +
                      std::string(DigestName(nid)) + " needs " + std::to_string(want));
  }
  out.hash_nid = nid;
  out.hashed_message = hashed;
  out.message_imprint_der = ossl::ToDer(i2d_TS_MSG_IMPRINT, imprint);
  if (out.message_imprint_der.empty()) return ossl::Error("encode message imprint");
  return OkStatus();
}

// GeneralizedTimeDigits gives YYYYMMDDHHMMSS[.f]Z; RFC 3161 2.4.2 drops trailing zeros of
// the fraction and the dot with them.
std::string GeneralizedTimeDigits(Time t, std::chrono::milliseconds fraction) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss hms(t - day);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u%02d%02d%02d", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()));
  std::string out = buf;
  if (fraction.count() > 0) {
    std::snprintf(buf, sizeof(buf), ".%03d", int(fraction.count()));
    std::string frac = buf;
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  return out + "Z";
}

// SmallIntegerContent is the DER content of a non-negative INTEGER below 2^15.
Bytes SmallIntegerContent(int v) {
  if (v < 0x80) return {static_cast<uint8_t>(v)};
  return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v & 0xff)};
}

void WriteAccuracy(DerWriter& w, std::chrono::milliseconds accuracy) {
  const auto seconds = static_cast<int64_t>(accuracy.count() / 1000);
  const auto millis = static_cast<int>(accuracy.count() % 1000);
  w.Sequence([&](DerWriter& acc) {
    if (seconds > 0) acc.Integer(seconds);
    if (millis > 0) acc.Primitive(0x80, SmallIntegerContent(millis));  // millis [0] IMPLICIT
  });
}

// FailInfoContent is the content of a PKIFailureInfo BIT STRING with one named bit set: DER
// drops trailing zero bits (X.690 11.2.2), so the last octet holds the bit.
Bytes FailInfoContent(TspFailure f) {
  const auto bit = static_cast<unsigned>(f);
  Bytes out(1 + bit / 8 + 1, 0);
  out[0] = static_cast<uint8_t>(7 - bit % 8);  // unused bits
  out[1 + bit / 8] = static_cast<uint8_t>(0x80u >> (bit % 8));
  return out;
}

std::string_view TruncateUtf8(std::string_view s, std::size_t max_len) {
  if (s.size() <= max_len) return s;
  std::size_t n = max_len;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xc0) == 0x80) --n;  // not inside a character
  return s.substr(0, n);
}

// TokenBytes gives the second element of the TimeStampResp SEQUENCE as received, so a token
// is embedded byte for byte (its signature covers what is inside; a re-encoding could differ).
Result<Bytes> TokenBytes(ByteSpan resp) {
  const std::optional<Tlv> outer = ReadTlv(resp);
  if (!outer || outer->tag != 0x30) return InvalidArgumentError("malformed TimeStampResp");
  ByteSpan content = resp.subspan(outer->header_len, outer->len);
  const std::optional<Tlv> status = ReadTlv(content);
  if (!status) return InvalidArgumentError("malformed TimeStampResp status");
  content = content.subspan(status->header_len + status->len);
  const std::optional<Tlv> token = ReadTlv(content);
  if (!token || token->tag != 0x30 || token->header_len + token->len != content.size()) {
    return InvalidArgumentError("malformed TimeStampResp token");
  }
  return Bytes(content.begin(), content.end());
}

Status ReadTstInfo(TS_RESP* resp, TimeStampResp& out) {
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp);
  if (tst == nullptr) return InvalidArgumentError("timestamp token without a TSTInfo");
  out.policy_oid = OidText(TS_TST_INFO_get_policy_id(tst));
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  out.hash_nid = OBJ_obj2nid(obj);
  out.hashed_message = ToBytes(TS_MSG_IMPRINT_get_msg(imprint));
  out.serial = SerialBytes(TS_TST_INFO_get_serial(tst));
  KYSO_ASSIGN_OR_RETURN(out.gen_time, ToTime(TS_TST_INFO_get_time(tst)), "TSTInfo genTime");
  if (const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst); nonce != nullptr) {
    out.nonce_der = ossl::ToDer(i2d_ASN1_INTEGER, nonce);
  }
  return OkStatus();
}

}  // namespace

std::string_view TspFailureName(TspFailure f) {
  switch (f) {
    case TspFailure::kBadAlg:
      return "badAlg";
    case TspFailure::kBadRequest:
      return "badRequest";
    case TspFailure::kBadDataFormat:
      return "badDataFormat";
    case TspFailure::kTimeNotAvailable:
      return "timeNotAvailable";
    case TspFailure::kUnacceptedPolicy:
      return "unacceptedPolicy";
    case TspFailure::kUnacceptedExtension:
      return "unacceptedExtension";
    case TspFailure::kSystemFailure:
      return "systemFailure";
  }
  return "?";
}

Result<TimeStampReq> ParseTimeStampReq(ByteSpan der, TspFailure* failure) {
  if (der.empty()) return Refuse(TspFailure::kBadDataFormat, failure, "empty timestamp request");
  if (der.size() > kMaxTimeStampReqLen) {
    return Refuse(TspFailure::kBadRequest, failure, "timestamp request larger than 16 KiB");
  }
  const unsigned char* p = der.data();
  ossl::UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req || p != der.data() + der.size()) {
    return Refuse(TspFailure::kBadDataFormat, failure,
                  "not a TimeStampReq (RFC 3161 2.4.1) or data after it");
  }
  // OpenSSL's decoder also takes BER; a request that does not re-encode to the same bytes was
  // not DER, and its imprint could not be copied faithfully.
  if (ossl::ToDer(i2d_TS_REQ, req.get()) != Bytes(der.begin(), der.end())) {
    return Refuse(TspFailure::kBadDataFormat, failure, "TimeStampReq is not DER-encoded");
  }
  if (TS_REQ_get_version(req.get()) != 1) {
    return Refuse(TspFailure::kBadRequest, failure, "TimeStampReq version must be 1");
  }
  TimeStampReq out;
  KYSO_RETURN_IF_ERROR(CheckImprint(TS_REQ_get_msg_imprint(req.get()), failure, out));
  if (const ASN1_OBJECT* policy = TS_REQ_get_policy_id(req.get()); policy != nullptr) {
    const unsigned char* body = OBJ_get0_data(policy);
    const auto len = OBJ_length(policy);
    if (body == nullptr || len == 0 || len > kMaxOidBodyLen) {
      return Refuse(TspFailure::kBadDataFormat, failure, "malformed reqPolicy");
    }
    out.req_policy_oid_body.assign(body, body + len);
  }
  if (const ASN1_INTEGER* nonce = TS_REQ_get_nonce(req.get()); nonce != nullptr) {
    const int len = ASN1_STRING_length(nonce);
    if (len < 1 || static_cast<std::size_t>(len) > kMaxTspNonceLen) {
      return Refuse(TspFailure::kBadRequest, failure, "nonce must be 1 to 32 octets");
    }
    out.nonce_der = ossl::ToDer(i2d_ASN1_INTEGER, nonce);
  }
  out.cert_req = TS_REQ_get_cert_req(req.get()) != 0;
  // RFC 3161 2.4.1: an extension the server does not recognise is refused; kyso knows none.
  if (TS_REQ_get_ext_count(req.get()) > 0) {
    return Refuse(TspFailure::kUnacceptedExtension, failure,
                  "TimeStampReq extensions are not supported");
  }
  return out;
}

Result<Bytes> EncodeTimeStampReq(int hash_nid, ByteSpan digest, ByteSpan nonce, bool cert_req) {
  const EVP_MD* md = EVP_get_digestbynid(hash_nid);
  if (hash_nid != NID_sha256 && hash_nid != NID_sha384 && hash_nid != NID_sha512) {
    return InvalidArgumentError("timestamp request: SHA-256, SHA-384 or SHA-512 only");
  }
  if (md == nullptr || digest.size() != static_cast<std::size_t>(EVP_MD_get_size(md))) {
    return InvalidArgumentError("timestamp request: digest of the wrong length");
  }
  if (nonce.size() > kMaxTspNonceLen) return InvalidArgumentError("timestamp request: nonce too long");
  const ASN1_OBJECT* oid = OBJ_nid2obj(hash_nid);  // a static table entry: not freed
  const Bytes oid_body(OBJ_get0_data(oid), OBJ_get0_data(oid) + OBJ_length(oid));
  DerWriter w(128);
  w.Sequence([&](DerWriter& req) {
    req.Integer(1);
    req.Sequence([&](DerWriter& imprint) {
      imprint.Sequence([&](DerWriter& alg) { alg.Oid(oid_body); });
      imprint.OctetString(digest);
    });
    if (!nonce.empty()) req.UnsignedInteger(nonce);
    if (cert_req) req.Boolean(true);
  });
  return std::move(w).Finish();
}

Result<Bytes> EncodeTstInfo(const TimeStampReq& request, ByteSpan serial, const TstInfoOptions& o) {
  if (o.policy_oid_body.empty() || o.policy_oid_body.size() > kMaxOidBodyLen) {
    return InvalidArgumentError("a TSA policy OID is required");
  }
  if (serial.empty() || serial.size() > kTsaSerialLen) {
    return InvalidArgumentError("TSTInfo serial must be 1 to 20 octets");
  }
  if (request.message_imprint_der.empty()) return InvalidArgumentError("no message imprint");
  const auto fraction = o.gen_time_fraction.value_or(std::chrono::milliseconds(0));
  if (fraction.count() < 0 || fraction.count() > 999) {
    return InvalidArgumentError("genTime fraction must be 0 to 999 ms");
  }
  if (o.accuracy && o.accuracy->count() <= 0) {
    return InvalidArgumentError("accuracy must be positive");
  }
  Bytes tsa_name_der;
  if (o.tsa_name != nullptr) {
    tsa_name_der = NameDer(o.tsa_name);
    if (tsa_name_der.empty()) return ossl::Error("encode TSA name");
  }
  DerWriter w(256 + request.message_imprint_der.size() + tsa_name_der.size());
  w.Sequence([&](DerWriter& tst) {
    tst.Integer(1);
    tst.Oid(o.policy_oid_body);
    tst.Raw(request.message_imprint_der);  // RFC 3161 2.4.2: the same value as the request's
    tst.UnsignedInteger(serial);
    tst.Primitive(0x18, AsBytes(GeneralizedTimeDigits(o.gen_time, fraction)));
    if (o.accuracy) WriteAccuracy(tst, *o.accuracy);
    if (request.nonce_der) tst.Raw(*request.nonce_der);
    if (!tsa_name_der.empty()) {
      // tsa [0] GeneralName: EXPLICIT, since GeneralName is a CHOICE; directoryName [4].
      tst.Explicit(0, [&](DerWriter& gn) {
        gn.Constructed(0xa4, [&](DerWriter& dn) { dn.Raw(tsa_name_der); });
      });
    }
  });
  return std::move(w).Finish();
}

Result<Bytes> SignTimeStampToken(ByteSpan tst_info_der, const X509* tsa_cert,
                                 const std::vector<const X509*>& chain, bool include_certificates,
                                 Signer& signer) {
  CmsSignOptions o;
  o.content = tst_info_der;
  o.detached = false;
  o.signer_cert = tsa_cert;
  o.extra_certs = chain;
  o.content_type_oid_body = kOidTstInfo;
  o.include_certificates = include_certificates;
  return SignCms(o, signer);
}

Bytes EncodeTimeStampGranted(ByteSpan token_der) {
  DerWriter w(token_der.size() + 16);
  w.Sequence([&](DerWriter& resp) {
    resp.Sequence([&](DerWriter& si) { si.Integer(static_cast<int>(PkiStatus::kGranted)); });
    resp.Raw(token_der);
  });
  return std::move(w).Finish();
}

Bytes EncodeTimeStampRejection(TspFailure failure, std::string_view reason) {
  const std::string_view text = TruncateUtf8(reason, kMaxStatusStringLen);
  DerWriter w(text.size() + 32);
  w.Sequence([&](DerWriter& resp) {
    resp.Sequence([&](DerWriter& si) {
      si.Integer(static_cast<int>(PkiStatus::kRejection));
      if (!text.empty()) {
        si.Sequence([&](DerWriter& free_text) { free_text.Primitive(0x0c, AsBytes(text)); });
      }
      si.Primitive(0x03, FailInfoContent(failure));
    });
  });
  return std::move(w).Finish();
}

Result<TimeStampResp> ParseTimeStampResp(ByteSpan der) {
  if (der.empty() || der.size() > kMaxTimeStampRespLen) {
    return InvalidArgumentError("timestamp response empty or larger than 256 KiB");
  }
  const unsigned char* p = der.data();
  ossl::UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (!resp || p != der.data() + der.size()) {
    return ossl::Error(Code::kInvalidArgument, "malformed TimeStampResp");
  }
  const TS_STATUS_INFO* si = TS_RESP_get_status_info(resp.get());
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
  if (status < 0 || status > 5) return InvalidArgumentError("unknown PKIStatus in TimeStampResp");
  TimeStampResp out;
  out.status = static_cast<PkiStatus>(status);
  if (const auto* texts = TS_STATUS_INFO_get0_text(si); texts != nullptr) {
    for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts); ++i) {
      if (!out.status_string.empty()) out.status_string += "; ";
      out.status_string += AsString(ToBytes(sk_ASN1_UTF8STRING_value(texts, i)));
    }
  }
  if (const ASN1_BIT_STRING* bits = TS_STATUS_INFO_get0_failure_info(si); bits != nullptr) {
    for (int i = 0; i < 32; ++i) {
      if (ASN1_BIT_STRING_get_bit(bits, i) == 1) out.failure_bits.push_back(i);
    }
  }
  const bool granted =
      out.status == PkiStatus::kGranted || out.status == PkiStatus::kGrantedWithMods;
  if (TS_RESP_get_token(resp.get()) == nullptr) {
    if (granted) return InvalidArgumentError("granted TimeStampResp without a token");
    return out;
  }
  KYSO_ASSIGN_OR_RETURN(out.token_der, TokenBytes(der));
  KYSO_RETURN_IF_ERROR(ReadTstInfo(resp.get(), out));
  return out;
}

Result<Bytes> TimeStampTokenFrom(ByteSpan resp_der) {
  KYSO_ASSIGN_OR_RETURN(TimeStampResp resp, ParseTimeStampResp(resp_der));
  if (resp.status != PkiStatus::kGranted && resp.status != PkiStatus::kGrantedWithMods) {
    std::string why = "the TSA refused the request";
    for (int bit : resp.failure_bits) {
      why += (bit == resp.failure_bits.front() ? " (" : ", ") +
             std::string(TspFailureName(static_cast<TspFailure>(bit)));
    }
    if (!resp.failure_bits.empty()) why += ")";
    if (!resp.status_string.empty()) why += ": " + resp.status_string;
    return FailedPreconditionError(why);
  }
  return std::move(resp.token_der);
}

}  // namespace kyso::pkix
