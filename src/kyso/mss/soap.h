#pragma once

// ETSI TS 102 204 v1.1.2 (Mobile Signature Service, web service interface) messages in a SOAP
// 1.1 envelope: the requests kyso sends as an application provider (AP), the answers an MSSP
// gives, and, for the simulator, the other way round. Element names, attributes and the
// RPC-style wrappers (<MSS_Signature>, <MSS_SignatureResponse>, ...) follow the standard's
// schema and the SOAP bindings MSSPs publish (Kiuru/Laverca, Swisscom, mobile-id.vn).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kyso/base/bytes.h"
#include "kyso/base/secret.h"
#include "kyso/base/status.h"

namespace kyso::mss {

inline constexpr std::string_view kMssNamespace = "http://uri.etsi.org/TS102204/v1.1.2#";
inline constexpr std::string_view kSoap11Namespace = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view kSoap12Namespace = "http://www.w3.org/2003/05/soap-envelope";
// kFormatPkcs1 asks for the bare PKCS#1 / ECDSA signature value (no CMS around it).
inline constexpr std::string_view kFormatPkcs1 = "http://uri.etsi.org/TS102204/v1.1.2#PKCS1";
// SOAPAction values of the two operations kyso uses.
inline constexpr std::string_view kActionSignature = "#MSS_Signature";
inline constexpr std::string_view kActionStatusQuery = "#MSS_StatusQuery";

// kMaxMessageLen bounds every message ParseMessage accepts; larger input is refused before
// the XML parser sees it.
inline constexpr std::size_t kMaxMessageLen = 256 * 1024;

enum class MessagingMode { kSynch, kAsynchClientServer };
std::string_view MessagingModeName(MessagingMode mode);  // "synch", "asynchClientServer"

// ApInfo is the AP_Info block every request carries. `password` is borrowed for the call.
struct ApInfo {
  std::string ap_id;
  std::string trans_id;  // AP_TransID: an NCName, unique per request
  std::chrono::system_clock::time_point instant;
  const SecretString* password = nullptr;  // AP_PWD; null or empty: the attribute is left out
};

// SignatureRequest is the content of an MSS_SignatureReq.
struct SignatureRequest {
  ApInfo ap;
  std::string mssp_id;  // MSSP_Info/MSSP_ID/URI; empty: an empty MSSP_ID
  std::string msisdn;
  Bytes data_to_be_signed;        // sent base64, MimeType application/octet-stream
  std::string display_text;       // DataToBeDisplayed, UTF-8; empty: left out
  std::string signature_profile;  // empty: left out (the MSSP's default profile)
  std::string mss_format = std::string(kFormatPkcs1);
  MessagingMode mode = MessagingMode::kSynch;
  int timeout_seconds = 0;  // TimeOut attribute; 0: left out
};

// StatusQuery is the content of an MSS_StatusReq (asynchronous client-server mode).
struct StatusQuery {
  ApInfo ap;
  std::string mssp_id;
  std::string mssp_trans_id;
};

// BuildSignatureRequest and BuildStatusQuery give the SOAP envelope to POST with
// SOAPAction kActionSignature / kActionStatusQuery. Text that XML cannot carry (invalid UTF-8,
// control characters) or an MSISDN other than digits is kInvalidArgument.
Result<std::string> BuildSignatureRequest(const SignatureRequest& request);
Result<std::string> BuildStatusQuery(const StatusQuery& query);

// MessageType names the TS 102 204 message a SOAP body carries.
enum class MessageType { kSignatureReq, kSignatureResp, kStatusReq, kStatusResp, kFault };

// Message is what ParseMessage read. Fields a message type does not have stay empty.
struct Message {
  MessageType type = MessageType::kFault;
  std::string ap_id;
  std::string ap_trans_id;
  std::string mssp_trans_id;
  std::string msisdn;
  // Requests only.
  MessagingMode mode = MessagingMode::kSynch;
  int timeout_seconds = 0;
  Bytes data_to_be_signed;
  std::string display_text;
  // Responses and faults: Status/StatusCode@Value, or the fault's code (mss:_105 -> 105);
  // 0 when a fault names no TS 102 204 code.
  int status_code = 0;
  std::string status_message;      // StatusMessage, or the fault's reason
  std::string detail;              // the fault's detail text, trimmed and bounded
  std::optional<Bytes> signature;  // MSS_Signature/Base64Signature, decoded
};

// ParseMessage reads a SOAP 1.1 or 1.2 envelope holding one TS 102 204 message or a SOAP
// fault. It is safe on hostile input: input over kMaxMessageLen is refused unparsed, and a
// document type declaration (the door to XXE and entity expansion) stops the parser; no
// network access, no DTD loading, no entity substitution. Errors are kInvalidArgument.
Result<Message> ParseMessage(std::string_view xml);

// Builders of the MSSP's side, used by the simulator and by tests.
struct ResponseParams {
  std::string ap_id;
  std::string ap_trans_id;
  std::string mssp_id;
  std::string mssp_trans_id;
  std::string msisdn;
  int status_code = 0;
  std::optional<Bytes> signature;
};
// BuildSignatureResponse gives <MSS_SignatureResponse><mss:MSS_SignatureResp>...
std::string BuildSignatureResponse(const ResponseParams& params);
// BuildStatusResponse gives <MSS_StatusQueryResponse><mss:MSS_StatusResp>...
std::string BuildStatusResponse(const ResponseParams& params);
// BuildFault gives a SOAP 1.1 fault with faultcode mss:_<code>, faultstring the code's name
// and `detail` as text (the TS 102 204 fault convention carried in SOAP 1.1).
std::string BuildFault(int status_code, std::string_view detail);

// StatusCodeName gives the TS 102 204 name of a status code ("USER_CANCEL"), or "" when the
// code is not one the standard defines.
std::string_view StatusCodeName(int status_code);

// IsMsisdn: 1 to 20 decimal digits, as TS 102 204 MSISDNs are written here (84912345678).
bool IsMsisdn(std::string_view s);

// Base64Encode and Base64Decode use the standard alphabet with padding. Decode skips XML
// whitespace and refuses anything else that is not base64.
std::string Base64Encode(ByteSpan bytes);
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace kyso::mss
