#include "kyso/mss/soap.h"

#include "kyso/xml/hostile.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <array>
#include <charconv>
#include <ctime>
#include <memory>
#include <mutex>

namespace kyso::mss {

namespace {

constexpr std::size_t kMaxDetailLen = 512;

// ---- base64 ---------------------------------------------------------------------------------

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// ---- text that XML 1.0 can carry ------------------------------------------------------------

// NextCodePoint decodes one UTF-8 sequence at `s[i]`, advancing `i`; -1 when it is malformed
// (overlong, surrogate, beyond U+10FFFF, truncated).
long NextCodePoint(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  long cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07;
  } else {
    return -1;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr long kMinForLen[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLen[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  i += static_cast<std::size_t>(len);
  return cp;
}

// IsXmlText accepts UTF-8 made only of XML 1.0 Chars (tab, newline, carriage return and no
// other control character; no U+FFFE/U+FFFF).
bool IsXmlText(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const long cp = NextCodePoint(s, i);
    if (cp < 0) return false;
    if (cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd) return false;
    if (cp == 0xfffe || cp == 0xffff) return false;
  }
  return true;
}

// Escape makes text safe in element content and in double-quoted attributes. Tab, newline and
// carriage return become character references so attribute normalisation keeps them.
std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Status CheckText(std::string_view what, std::string_view text) {
  if (!IsXmlText(text)) {
    return InvalidArgumentError(
        std::string(what) + " không phải văn bản UTF-8 hợp lệ (có ký tự điều khiển hoặc byte sai)");
  }
  return OkStatus();
}

// An AP_TransID or MSSP_TransID is an xs:NCName; kyso keeps to the ASCII subset.
bool IsSimpleNcName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  const char c0 = s[0];
  if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z') || c0 == '_')) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string FormatInstant(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---- building -------------------------------------------------------------------------------

constexpr std::string_view kEnvelopeOpen =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:mss=\"http://uri.etsi.org/TS102204/v1.1.2#\">\n"
    "<soapenv:Body>\n";
constexpr std::string_view kEnvelopeClose = "</soapenv:Body>\n</soapenv:Envelope>\n";

Status CheckApInfo(const ApInfo& ap) {
  KYSO_RETURN_IF_ERROR(CheckText("AP_ID", ap.ap_id));
  if (!IsSimpleNcName(ap.trans_id)) return InvalidArgumentError("AP_TransID phải là NCName");
  if (ap.password != nullptr) KYSO_RETURN_IF_ERROR(CheckText("AP_PWD", ap.password->reveal()));
  return OkStatus();
}

// AppendApAndMssp writes AP_Info and MSSP_Info, the head every TS 102 204 message shares.
void AppendApAndMssp(std::string& out, const ApInfo& ap, std::string_view mssp_id) {
  out += "<mss:AP_Info AP_ID=\"" + Escape(ap.ap_id) + "\"";
  if (ap.password != nullptr && !ap.password->empty()) {
    out += " AP_PWD=\"";
    out += Escape(ap.password->reveal());
    out += "\"";
  }
  out += " AP_TransID=\"" + Escape(ap.trans_id) + "\" Instant=\"" + FormatInstant(ap.instant) +
         "\"/>\n";
  out += "<mss:MSSP_Info><mss:MSSP_ID>";
  if (!mssp_id.empty()) out += "<mss:URI>" + Escape(mssp_id) + "</mss:URI>";
  out += "</mss:MSSP_ID></mss:MSSP_Info>\n";
}

void AppendUri(std::string& out, std::string_view element, std::string_view uri) {
  out += "<mss:" + std::string(element) + "><mss:mssURI>" + Escape(uri) +
         "</mss:mssURI></mss:" + std::string(element) + ">\n";
}

void AppendResponseHead(std::string& out, std::string_view element, const ResponseParams& p) {
  out += "<mss:" + std::string(element) + " MajorVersion=\"1\" MinorVersion=\"1\"";
  if (!p.mssp_trans_id.empty()) out += " MSSP_TransID=\"" + Escape(p.mssp_trans_id) + "\"";
  out += ">\n";
  out += "<mss:AP_Info AP_ID=\"" + Escape(p.ap_id) + "\" AP_TransID=\"" + Escape(p.ap_trans_id) +
         "\" Instant=\"" + FormatInstant(std::chrono::system_clock::now()) + "\"/>\n";
  out += "<mss:MSSP_Info Instant=\"" + FormatInstant(std::chrono::system_clock::now()) +
         "\"><mss:MSSP_ID>";
  if (!p.mssp_id.empty()) out += "<mss:URI>" + Escape(p.mssp_id) + "</mss:URI>";
  out += "</mss:MSSP_ID></mss:MSSP_Info>\n";
  out += "<mss:MobileUser><mss:MSISDN>" + Escape(p.msisdn) + "</mss:MSISDN></mss:MobileUser>\n";
  if (p.signature) {
    out += "<mss:MSS_Signature><mss:Base64Signature>" + Base64Encode(*p.signature) +
           "</mss:Base64Signature></mss:MSS_Signature>\n";
  }
}

void AppendStatus(std::string& out, int code) {
  out += "<mss:Status><mss:StatusCode Value=\"" + std::to_string(code) + "\"/>";
  const std::string_view name = StatusCodeName(code);
  if (!name.empty()) out += "<mss:StatusMessage>" + std::string(name) + "</mss:StatusMessage>";
  out += "</mss:Status>\n";
}

// ---- parsing --------------------------------------------------------------------------------

struct XmlCharFree {
  void operator()(xmlChar* s) const noexcept { xmlFree(s); }
};
using XmlString = std::unique_ptr<xmlChar, XmlCharFree>;

std::string_view View(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

bool Is(const xmlNode* n, std::string_view ns, std::string_view name) {
  if (n == nullptr || n->type != XML_ELEMENT_NODE || View(n->name) != name) return false;
  if (ns.empty()) return n->ns == nullptr;
  return n->ns != nullptr && View(n->ns->href) == ns;
}

const xmlNode* FirstElement(const xmlNode* parent) {
  for (const xmlNode* c = parent == nullptr ? nullptr : parent->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) return c;
  }
  return nullptr;
}

const xmlNode* Child(const xmlNode* parent, std::string_view ns, std::string_view name) {
  for (const xmlNode* c = parent == nullptr ? nullptr : parent->children; c; c = c->next) {
    if (Is(c, ns, name)) return c;
  }
  return nullptr;
}

// Find searches the subtree of `root` (depth-first, bounded) for an element.
const xmlNode* Find(const xmlNode* root, std::string_view ns, std::string_view name,
                    int depth = 8) {
  if (root == nullptr || depth < 0) return nullptr;
  for (const xmlNode* c = root->children; c; c = c->next) {
    if (Is(c, ns, name)) return c;
    if (const xmlNode* hit = Find(c, ns, name, depth - 1)) return hit;
  }
  return nullptr;
}

std::string Text(const xmlNode* n) {
  if (n == nullptr) return {};
  XmlString s(xmlNodeGetContent(n));
  return std::string(View(s.get()));
}

std::string Attr(const xmlNode* n, const char* name) {
  if (n == nullptr) return {};
  XmlString s(xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(name)));
  return std::string(View(s.get()));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsXmlSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsXmlSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Bounded cuts `s` to at most kMaxDetailLen bytes on a character boundary, whitespace folded.
std::string Bounded(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : Trim(s)) {
    if (IsXmlSpace(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() <= kMaxDetailLen) return out;
  std::size_t cut = kMaxDetailLen;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
  out.resize(cut);
  return out + "…";
}

std::optional<int> ParseCode(std::string_view s) {
  s = Trim(s);
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > 99999) return std::nullopt;
  return v;
}

// FaultCodeFrom reads "mss:_105" (a QName whose local part is _ and digits) as 105.
std::optional<int> FaultCodeFrom(std::string_view qname) {
  qname = Trim(qname);
  const auto colon = qname.rfind(':');
  std::string_view local = colon == std::string_view::npos ? qname : qname.substr(colon + 1);
  if (local.size() < 2 || local[0] != '_') return std::nullopt;
  return ParseCode(local.substr(1));
}

std::optional<int> CodeForName(std::string_view name);

Status ParseFault(const xmlNode* fault, std::string_view env_ns, Message& m) {
  m.type = MessageType::kFault;
  std::optional<int> code;
  const xmlNode* detail = nullptr;
  if (env_ns == kSoap11Namespace) {
    // SOAP 1.1 leaves the fault's children unqualified; some servers qualify them anyway.
    auto part = [&](std::string_view name) {
      const xmlNode* n = Child(fault, "", name);
      return n != nullptr ? n : Child(fault, env_ns, name);
    };
    code = FaultCodeFrom(Text(part("faultcode")));
    m.status_message = Bounded(Text(part("faultstring")));
    detail = part("detail");
  } else {
    const xmlNode* fault_code = Child(fault, env_ns, "Code");
    for (const xmlNode* sub = Child(fault_code, env_ns, "Subcode"); sub && !code;
         sub = Child(sub, env_ns, "Subcode")) {
      code = FaultCodeFrom(Text(Child(sub, env_ns, "Value")));
    }
    m.status_message = Bounded(Text(Child(Child(fault, env_ns, "Reason"), env_ns, "Text")));
    detail = Child(fault, env_ns, "Detail");
  }
  if (!code && detail != nullptr) {
    code = ParseCode(Attr(Find(detail, kMssNamespace, "StatusCode"), "Value"));
  }
  if (!code) code = CodeForName(Trim(m.status_message));
  m.status_code = code.value_or(0);
  m.detail = Bounded(Text(detail));
  return OkStatus();
}

Status ParseSignatureReq(const xmlNode* msg, Message& m) {
  const std::string mode = Attr(msg, "MessagingMode");
  if (mode == "synch") {
    m.mode = MessagingMode::kSynch;
  } else if (mode == "asynchClientServer") {
    m.mode = MessagingMode::kAsynchClientServer;
  } else {
    return InvalidArgumentError("MessagingMode '" + Bounded(mode) + "' is not supported");
  }
  if (const std::string t = Attr(msg, "TimeOut"); !t.empty()) {
    m.timeout_seconds = ParseCode(t).value_or(0);
  }
  const xmlNode* dtbs = Child(msg, kMssNamespace, "DataToBeSigned");
  if (dtbs == nullptr) return InvalidArgumentError("MSS_SignatureReq without DataToBeSigned");
  const std::string data = Text(dtbs);
  if (Attr(dtbs, "Encoding") == "base64") {
    KYSO_ASSIGN_OR_RETURN(m.data_to_be_signed, Base64Decode(data), "DataToBeSigned");
  } else {
    m.data_to_be_signed.assign(data.begin(), data.end());
  }
  m.display_text = Text(Child(msg, kMssNamespace, "DataToBeDisplayed"));
  return OkStatus();
}

Status ParseResponseBody(const xmlNode* msg, Message& m) {
  const xmlNode* status = Child(msg, kMssNamespace, "Status");
  if (status == nullptr) return InvalidArgumentError("response without Status");
  const std::optional<int> code =
      ParseCode(Attr(Child(status, kMssNamespace, "StatusCode"), "Value"));
  if (!code) return InvalidArgumentError("response without a numeric StatusCode");
  m.status_code = *code;
  m.status_message = Bounded(Text(Child(status, kMssNamespace, "StatusMessage")));
  const xmlNode* sig = Child(msg, kMssNamespace, "MSS_Signature");
  if (sig != nullptr) {
    const xmlNode* b64 = Child(sig, kMssNamespace, "Base64Signature");
    if (b64 == nullptr) return InvalidArgumentError("MSS_Signature without Base64Signature");
    KYSO_ASSIGN_OR_RETURN(Bytes bytes, Base64Decode(Text(b64)), "Base64Signature");
    m.signature = std::move(bytes);
  }
  return OkStatus();
}

// ParseTsMessage reads the TS 102 204 element itself (MSS_SignatureReq, ...).
Status ParseTsMessage(const xmlNode* msg, Message& m) {
  const std::string_view name = View(msg->name);
  if (name == "MSS_SignatureReq") {
    m.type = MessageType::kSignatureReq;
  } else if (name == "MSS_SignatureResp") {
    m.type = MessageType::kSignatureResp;
  } else if (name == "MSS_StatusReq") {
    m.type = MessageType::kStatusReq;
  } else if (name == "MSS_StatusResp") {
    m.type = MessageType::kStatusResp;
  } else {
    return InvalidArgumentError("unsupported TS 102 204 message " + Bounded(name));
  }
  const xmlNode* ap = Child(msg, kMssNamespace, "AP_Info");
  m.ap_id = Attr(ap, "AP_ID");
  m.ap_trans_id = Attr(ap, "AP_TransID");
  m.mssp_trans_id = Attr(msg, "MSSP_TransID");
  m.msisdn = std::string(
      Trim(Text(Child(Child(msg, kMssNamespace, "MobileUser"), kMssNamespace, "MSISDN"))));
  switch (m.type) {
    case MessageType::kSignatureReq:
      return ParseSignatureReq(msg, m);
    case MessageType::kSignatureResp:
    case MessageType::kStatusResp:
      return ParseResponseBody(msg, m);
    case MessageType::kStatusReq:
      if (m.mssp_trans_id.empty())
        return InvalidArgumentError("MSS_StatusReq without MSSP_TransID");
      return OkStatus();
    case MessageType::kFault:
      break;
  }
  return OkStatus();
}

Result<Message> ParseEnvelope(const xmlNode* root) {
  std::string_view env_ns;
  if (Is(root, kSoap11Namespace, "Envelope")) {
    env_ns = kSoap11Namespace;
  } else if (Is(root, kSoap12Namespace, "Envelope")) {
    env_ns = kSoap12Namespace;
  } else {
    return InvalidArgumentError("not a SOAP envelope");
  }
  const xmlNode* payload = FirstElement(Child(root, env_ns, "Body"));
  if (payload == nullptr) return InvalidArgumentError("SOAP body is empty or missing");
  Message m;
  if (Is(payload, env_ns, "Fault")) {
    KYSO_RETURN_IF_ERROR(ParseFault(payload, env_ns, m));
    return m;
  }
  // RPC style wraps the message (<MSS_Signature>, <MSS_SignatureResponse>); document style
  // does not. Accept both.
  const xmlNode* msg = payload;
  if (msg->ns == nullptr || View(msg->ns->href) != kMssNamespace) msg = FirstElement(payload);
  if (msg == nullptr || msg->ns == nullptr || View(msg->ns->href) != kMssNamespace) {
    return InvalidArgumentError("SOAP body holds no TS 102 204 message");
  }
  KYSO_RETURN_IF_ERROR(ParseTsMessage(msg, m));
  return m;
}

struct NamedCode {
  int code;
  std::string_view name;
};
// TS 102 204 status codes (the standard's status-code table), with the names the standard
// gives them. 1xx/2xx/4xx/7xx/9xx are errors, 100 and 5xx are statuses.
constexpr NamedCode kStatusCodes[] = {
    {100, "REQUEST_OK"},
    {101, "WRONG_PARAM"},
    {102, "MISSING_PARAM"},
    {103, "WRONG_DATA_LENGTH"},
    {104, "UNAUTHORIZED_ACCESS"},
    {105, "UNKNOWN_CLIENT"},
    {106, "HANDSHAKE_REQUIRED"},
    {107, "INAPPROPRIATE_DATA"},
    {108, "INCOMPATIBLE_INTERFACE"},
    {109, "UNSUPPORTED_PROFILE"},
    {208, "EXPIRED_TRANSACTION"},
    {209, "OTA_ERROR"},
    {401, "USER_CANCEL"},
    {402, "PIN_BLOCKED"},
    {403, "CARD_BLOCKED"},
    {404, "NO_KEY_FOUND"},
    {405, "NO_URL_FOUND"},
    {406, "PB_SIGNATURE_PROCESS"},
    {407, "REGISTRATION_NOK"},
    {422, "NO_CERT_FOUND"},
    {423, "CRL_PB"},
    {424, "CRL_EXPIRED"},
    {425, "ERROR_CERTIFICATE"},
    {500, "SIGNATURE"},
    {501, "REVOKED_CERTIFICATE"},
    {502, "VALID_SIGNATURE"},
    {503, "INVALID_SIGNATURE"},
    {504, "OUTSTANDING_TRANSACTION"},
    {780, "UNABLE_TO_PROVIDE_SERVICES"},
    {900, "INTERNAL_ERROR"},
};

std::optional<int> CodeForName(std::string_view name) {
  for (const NamedCode& c : kStatusCodes) {
    if (c.name == name) return c.code;
  }
  return std::nullopt;
}

}  // namespace

bool IsMsisdn(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}


std::string_view MessagingModeName(MessagingMode mode) {
  return mode == MessagingMode::kSynch ? "synch" : "asynchClientServer";
}

std::string_view StatusCodeName(int status_code) {
  for (const NamedCode& c : kStatusCodes) {
    if (c.code == status_code) return c.name;
  }
  return {};
}

std::string Base64Encode(ByteSpan bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= uint32_t{bytes[i + 1]} << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<Bytes> Base64Decode(std::string_view text) {
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  int pad = 0;
  std::size_t chars = 0;
  for (char c : text) {
    if (IsXmlSpace(c)) continue;
    if (c == '=') {
      ++pad;
      ++chars;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || pad > 0) return InvalidArgumentError("malformed base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (chars % 4 != 0 || pad > 2) return InvalidArgumentError("malformed base64");
  return out;
}

Result<std::string> BuildSignatureRequest(const SignatureRequest& r) {
  KYSO_RETURN_IF_ERROR(CheckApInfo(r.ap));
  if (!IsMsisdn(r.msisdn))
    return InvalidArgumentError("MSISDN phải là dãy chữ số, ví dụ 84912345678");
  KYSO_RETURN_IF_ERROR(CheckText("MSSP_ID", r.mssp_id));
  KYSO_RETURN_IF_ERROR(CheckText("Nội dung hiển thị trên điện thoại", r.display_text));
  KYSO_RETURN_IF_ERROR(CheckText("SignatureProfile", r.signature_profile));
  KYSO_RETURN_IF_ERROR(CheckText("MSS_Format", r.mss_format));
  if (r.data_to_be_signed.empty()) return InvalidArgumentError("DataToBeSigned is empty");
  std::string out(kEnvelopeOpen);
  out +=
      "<MSS_Signature>\n<mss:MSS_SignatureReq MajorVersion=\"1\" MinorVersion=\"1\" "
      "MessagingMode=\"";
  out += MessagingModeName(r.mode);
  out += "\"";
  if (r.timeout_seconds > 0) out += " TimeOut=\"" + std::to_string(r.timeout_seconds) + "\"";
  out += ">\n";
  AppendApAndMssp(out, r.ap, r.mssp_id);
  out += "<mss:MobileUser><mss:MSISDN>" + r.msisdn + "</mss:MSISDN></mss:MobileUser>\n";
  out += "<mss:DataToBeSigned MimeType=\"application/octet-stream\" Encoding=\"base64\">" +
         Base64Encode(r.data_to_be_signed) + "</mss:DataToBeSigned>\n";
  if (!r.display_text.empty()) {
    out += "<mss:DataToBeDisplayed MimeType=\"text/plain\" Encoding=\"UTF-8\">" +
           Escape(r.display_text) + "</mss:DataToBeDisplayed>\n";
  }
  if (!r.signature_profile.empty()) AppendUri(out, "SignatureProfile", r.signature_profile);
  if (!r.mss_format.empty()) AppendUri(out, "MSS_Format", r.mss_format);
  out += "</mss:MSS_SignatureReq>\n</MSS_Signature>\n";
  out += kEnvelopeClose;
  return out;
}

Result<std::string> BuildStatusQuery(const StatusQuery& q) {
  KYSO_RETURN_IF_ERROR(CheckApInfo(q.ap));
  KYSO_RETURN_IF_ERROR(CheckText("MSSP_ID", q.mssp_id));
  if (!IsSimpleNcName(q.mssp_trans_id)) {
    return InvalidArgumentError("MSSP_TransID from the MSSP is not an NCName");
  }
  std::string out(kEnvelopeOpen);
  out +=
      "<MSS_StatusQuery>\n<mss:MSS_StatusReq MajorVersion=\"1\" MinorVersion=\"1\" "
      "MSSP_TransID=\"" +
      q.mssp_trans_id + "\">\n";
  AppendApAndMssp(out, q.ap, q.mssp_id);
  out += "</mss:MSS_StatusReq>\n</MSS_StatusQuery>\n";
  out += kEnvelopeClose;
  return out;
}

std::string BuildSignatureResponse(const ResponseParams& p) {
  std::string out(kEnvelopeOpen);
  out += "<MSS_SignatureResponse>\n";
  AppendResponseHead(out, "MSS_SignatureResp", p);
  AppendStatus(out, p.status_code);
  out += "</mss:MSS_SignatureResp>\n</MSS_SignatureResponse>\n";
  out += kEnvelopeClose;
  return out;
}

std::string BuildStatusResponse(const ResponseParams& p) {
  std::string out(kEnvelopeOpen);
  out += "<MSS_StatusQueryResponse>\n";
  AppendResponseHead(out, "MSS_StatusResp", p);
  AppendStatus(out, p.status_code);
  out += "</mss:MSS_StatusResp>\n</MSS_StatusQueryResponse>\n";
  out += kEnvelopeClose;
  return out;
}

std::string BuildFault(int status_code, std::string_view detail) {
  std::string out(kEnvelopeOpen);
  out += "<soapenv:Fault>\n<faultcode>mss:_" + std::to_string(status_code) + "</faultcode>\n";
  out += "<faultstring>" + std::string(StatusCodeName(status_code)) + "</faultstring>\n";
  out += "<detail><mss:Status><mss:StatusCode Value=\"" + std::to_string(status_code) +
         "\"/></mss:Status><message>" + Escape(IsXmlText(detail) ? detail : "") +
         "</message></detail>\n";
  out += "</soapenv:Fault>\n";
  out += kEnvelopeClose;
  return out;
}

Result<Message> ParseMessage(std::string_view text) {
  KYSO_ASSIGN_OR_RETURN(
      xml::DocPtr doc,
      xml::ParseHostile(AsBytes(text), kMaxMessageLen, "mss.xml",
                        {"MSS message of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                             std::to_string(kMaxMessageLen / 1024) + " KiB",
                         "MSS message with a DOCTYPE refused (SOAP forbids DTDs)",
                         "MSS message is not well-formed XML", "MSS message has no root element"}));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  return ParseEnvelope(root);
}

}  // namespace kyso::mss
