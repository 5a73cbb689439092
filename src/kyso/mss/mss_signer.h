#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "kyso/base/secret.h"
#include "kyso/base/status.h"
#include "kyso/mss/soap.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"

namespace kyso::mss {

// kTimeoutCode is the code of "the phone did not answer in time" (our own deadline, or the
// MSSP's 208 EXPIRED_TRANSACTION).
inline constexpr Code kTimeoutCode = Code::kDeadlineExceeded;

// MssOptions configures a signer that signs with a SIM PKI through an MSSP (ETSI TS 102 204).
struct MssOptions {
  // url is the MSSP's MSS_Signature endpoint, http://host:port/path. Status queries go to the
  // same URL unless status_url is set.
  std::string url;
  std::string status_url;
  std::string ap_id = "http://kyso.local/ap";
  SecretString ap_password;  // optional AP_PWD; never logged, never in an error message
  std::string mssp_id;       // optional MSSP_ID URI
  std::string msisdn;        // digits only, e.g. 84912345678
  // signature_profile is the SignatureProfile URI. TS 102 204 defines no default profile: each
  // MSSP publishes its own (e.g. "http://mobile-id.vn/digitalSignature",
  // "http://alauda.mobi/nonRepudiation"). Empty leaves the element out, so the MSSP applies
  // its default profile.
  std::string signature_profile;
  // mss_format asks for the bare signature value. MSSPs name it differently: TS 102 204-style
  // kFormatPkcs1 (mobile-id.vn), "http://mss.ficom.fi/TS102204/v1.0.0#PKCS1" (FiCom),
  // "http://www.methics.fi/KiuruMSSP/v3.2.0#PKCS1" (Kiuru). A CMS/PKCS#7 format is not
  // supported: Sign needs the raw signature.
  std::string mss_format = std::string(kFormatPkcs1);
  MessagingMode mode = MessagingMode::kSynch;
  // timeout bounds one Sign call overall: the phone's answer, polling and HTTP included.
  // Also sent as the TimeOut attribute (whole seconds). Bounded to [1 s, 10 min].
  std::chrono::milliseconds timeout{120000};
  std::chrono::milliseconds poll_interval{2000};  // asynchClientServer polling; >= 100 ms
  std::string display_text;  // DataToBeDisplayed, shown on the phone (Vietnamese, UTF-8)
  // digest_info sends the DER DigestInfo (SHA-256 AlgorithmIdentifier + digest, 51 bytes) as
  // DataToBeSigned instead of the bare 32-byte digest, for MSSPs whose SIM applet signs what
  // it is given with raw PKCS#1 v1.5 padding (RSA keys only).
  bool digest_info = false;
};

// NewMssSigner makes a pkix::Signer over the SIM key whose public half is `public_key` (from
// the subscriber's certificate). algorithm() is kRsaPkcs1Sha256 for RSA >= 2048 and
// kEcdsaSha256 for EC P-256; other keys are kInvalidArgument, as are options out of range.
//
// Sign(tbs) sends the SHA-256 of tbs in an MSS_SignatureReq (MSS_Format PKCS1), waits for the
// subscriber's PIN (synchronously, or by MSS_StatusQuery polling), and returns the signature
// only after it VERIFIES against `public_key` (an ECDSA r||s answer is converted to DER).
// Failures carry a Vietnamese message naming the ETSI code; their codes are:
//   kPermissionDenied    401 USER_CANCEL: the subscriber refused on the phone
//   kFailedPrecondition  402 PIN_BLOCKED, 403 CARD_BLOCKED: the SIM is locked
//   kTimeoutCode         208 EXPIRED_TRANSACTION, or no answer within options.timeout
//   kNotFound            105 UNKNOWN_CLIENT, 404 NO_KEY_FOUND, 405 NO_URL_FOUND,
//                        422 NO_CERT_FOUND: the MSSP does not know this SIM or its key
//   kUnauthenticated     104 UNAUTHORIZED_ACCESS: the MSSP refused kyso's AP_ID/AP_PWD
//   kInvalidArgument     101-103, 106-109: the MSSP refused the request's form or profile
//   kUnavailable         MSSP unreachable or HTTP error (the message names the URL), 209,
//                        406, 407, 423-425, 7xx, 900, unknown codes: a retry may work
//   kInternal            a signature that does not verify (wrong SIM key or a broken
//                        MSSP), 501 REVOKED_CERTIFICATE, 503 INVALID_SIGNATURE, a malformed
//                        answer
// Sign is thread-safe; each call uses its own connection and transaction id.
Result<std::unique_ptr<pkix::Signer>> NewMssSigner(MssOptions options,
                                                   ossl::UniquePtr<EVP_PKEY> public_key);

// StatusForMssCode turns a TS 102 204 error status code into the Status NewMssSigner's
// signers return for it (see the table above). `msisdn` is named in messages where it helps.
Status StatusForMssCode(int status_code, std::string_view msisdn);

// NormalizeEcdsaSignature returns a DER Ecdsa-Sig-Value: `sig` itself when it is one, else
// `sig` read as r||s of `field_len` bytes each. Anything else is kInvalidArgument.
Result<Bytes> NormalizeEcdsaSignature(ByteSpan sig, std::size_t field_len);

}  // namespace kyso::mss
