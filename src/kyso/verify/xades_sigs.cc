#include "kyso/verify/xades_sigs.h"

#include <libxml/c14n.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "kyso/verify/algorithms.h"
#include "kyso/xml/hostile.h"

namespace kyso::verify {
namespace {

constexpr char kDsNs[] = "http://www.w3.org/2000/09/xmldsig#";
constexpr char kXadesNsPrefix[] = "http://uri.etsi.org/01903/";
constexpr char kXmlNs[] = "http://www.w3.org/XML/1998/namespace";
constexpr char kHmacSha256[] = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
std::string S(const xmlChar* s) { return s ? std::string(reinterpret_cast<const char*>(s)) : ""; }

// ---- tree helpers ---------------------------------------------------------------------------

bool IsDs(const xmlNode* n, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns != nullptr &&
         xmlStrEqual(n->ns->href, X(kDsNs)) && xmlStrEqual(n->name, X(name));
}

bool IsXades(const xmlNode* n, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns != nullptr &&
         xmlStrncmp(n->ns->href, X(kXadesNsPrefix), static_cast<int>(std::strlen(kXadesNsPrefix))) == 0 &&
         xmlStrEqual(n->name, X(name));
}

std::vector<xmlNode*> Children(xmlNode* n) {
  std::vector<xmlNode*> out;
  if (n == nullptr) return out;
  for (xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

xmlNode* DsChild(xmlNode* n, const char* name) {
  for (xmlNode* c : Children(n)) {
    if (IsDs(c, name)) return c;
  }
  return nullptr;
}

xmlNode* XadesChild(xmlNode* n, const char* name) {
  for (xmlNode* c : Children(n)) {
    if (IsXades(c, name)) return c;
  }
  return nullptr;
}

std::string Attr(const xmlNode* n, const char* name) {
  if (n == nullptr) return "";
  xmlChar* v = xmlGetNoNsProp(n, X(name));
  std::string out = S(v);
  xmlFree(v);
  return out;
}

std::string Text(xmlNode* n) {
  if (n == nullptr) return "";
  xmlChar* v = xmlNodeGetContent(n);
  std::string out = S(v);
  xmlFree(v);
  return out;
}

void CollectSignatures(xmlNode* n, std::vector<xmlNode*>& out) {
  for (; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (IsDs(n, "Signature")) out.push_back(n);
    CollectSignatures(n->children, out);
  }
}

bool IsAncestor(const xmlNode* ancestor, const xmlNode* n) {
  for (; n != nullptr; n = n->parent) {
    if (n == ancestor) return true;
  }
  return false;
}

// ---- Ids ------------------------------------------------------------------------------------

// RegisterIds declares the attributes Id, ID, id (no namespace) and xml:id of every element as
// XML IDs, the first one of a value winning; values declared twice go into `duplicates`.
void RegisterIds(xmlDoc* doc, xmlNode* n, std::set<std::string>& duplicates) {
  for (; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    for (xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      const bool plain = a->ns == nullptr && (xmlStrEqual(a->name, X("Id")) ||
                                              xmlStrEqual(a->name, X("ID")) ||
                                              xmlStrEqual(a->name, X("id")));
      const bool xml_id = a->ns != nullptr && xmlStrEqual(a->ns->href, X(kXmlNs)) &&
                          xmlStrEqual(a->name, X("id"));
      if (!plain && !xml_id) continue;
      xmlChar* value = xmlNodeListGetString(doc, a->children, 1);
      if (value == nullptr) continue;
      xmlAttr* existing = xmlGetID(doc, value);
      if (existing == nullptr) {
        xmlAddID(nullptr, doc, value, a);
      } else if (existing != a) {
        duplicates.insert(S(value));
      }
      xmlFree(value);
    }
    RegisterIds(doc, n->children, duplicates);
  }
}

// SameDocumentId gives the Id a same-document URI names ("#id", "#xpointer(id('id'))"), or
// "" (for "", "#xpointer(/)" and external URIs).
std::string SameDocumentId(const std::string& uri) {
  if (uri.empty() || uri[0] != '#') return "";
  std::string rest = uri.substr(1);
  const std::string xp = "xpointer(id(";
  if (rest.rfind(xp, 0) == 0) {
    rest = rest.substr(xp.size());
    const std::size_t end = rest.find(')');
    if (end == std::string::npos) return "";
    rest = rest.substr(0, end);
    if (rest.size() >= 2 && (rest.front() == '\'' || rest.front() == '"')) {
      rest = rest.substr(1, rest.size() - 2);
    }
    return rest;
  }
  if (rest.rfind("xpointer(", 0) == 0) return "";
  return rest;
}

xmlNode* ElementById(xmlDoc* doc, const std::string& id) {
  if (id.empty()) return nullptr;
  xmlAttr* a = xmlGetID(doc, X(id.c_str()));
  return a ? a->parent : nullptr;
}

// ---- encodings ------------------------------------------------------------------------------

std::optional<Bytes> Base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') clean.push_back(c);
  }
  if (clean.empty()) return Bytes{};
  if (clean.size() % 4 != 0) return std::nullopt;
  Bytes out(clean.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  if (clean.back() == '=') --len;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

ossl::UniquePtr<X509> ParseCertDer(ByteSpan der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert && p != der.data() + der.size()) cert.reset();
  return cert;
}

// ParseXsdDateTime reads "YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm|-hh:mm]" (no zone: UTC).
std::optional<Time> ParseXsdDateTime(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &consumed) != 6) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_min = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
  }
  const Time t = Utc(y, static_cast<unsigned>(mo), static_cast<unsigned>(d), h, mi, se);
  return t - std::chrono::minutes(offset_min);
}

const EVP_MD* DigestByUri(const std::string& uri) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"http://www.w3.org/2000/09/xmldsig#sha1", "SHA1"},
      {"http://www.w3.org/2001/04/xmldsig-more#sha224", "SHA224"},
      {"http://www.w3.org/2001/04/xmlenc#sha256", "SHA256"},
      {"http://www.w3.org/2001/04/xmldsig-more#sha384", "SHA384"},
      {"http://www.w3.org/2001/04/xmlenc#sha384", "SHA384"},
      {"http://www.w3.org/2001/04/xmlenc#sha512", "SHA512"},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-224", "SHA3-224"},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-256", "SHA3-256"},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-384", "SHA3-384"},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-512", "SHA3-512"},
  };
  for (const auto& [u, name] : kMap) {
    if (uri == u) return EVP_get_digestbyname(name);
  }
  return nullptr;
}

std::optional<Bytes> Digest(const EVP_MD* md, ByteSpan data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return std::nullopt;
  return Bytes(out, out + len);
}

// ---- canonicalization -----------------------------------------------------------------------

struct OutputBufferClose {
  void operator()(xmlOutputBuffer* b) const noexcept { xmlOutputBufferClose(b); }
};

int InSubtree(void* root, xmlNodePtr node, xmlNodePtr parent) {
  const xmlNode* n = (node == nullptr || node->type == XML_NAMESPACE_DECL) ? parent : node;
  return IsAncestor(static_cast<const xmlNode*>(root), n) ? 1 : 0;
}

struct C14nMethod {
  int mode = XML_C14N_EXCLUSIVE_1_0;
  bool comments = false;
  std::vector<std::string> prefixes;  // exclusive C14N InclusiveNamespaces PrefixList
};

// C14nFromNode reads a ds:CanonicalizationMethod (or ds:Transform) element; nullopt when the
// algorithm is not a canonicalization.
std::optional<C14nMethod> C14nFromNode(xmlNode* method) {
  const std::string alg = Attr(method, "Algorithm");
  C14nMethod m;
  if (alg == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315") {
    m.mode = XML_C14N_1_0;
  } else if (alg == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments") {
    m.mode = XML_C14N_1_0;
    m.comments = true;
  } else if (alg == "http://www.w3.org/2001/10/xml-exc-c14n#") {
    m.mode = XML_C14N_EXCLUSIVE_1_0;
  } else if (alg == "http://www.w3.org/2001/10/xml-exc-c14n#WithComments") {
    m.mode = XML_C14N_EXCLUSIVE_1_0;
    m.comments = true;
  } else if (alg == "http://www.w3.org/2006/12/xml-c14n11") {
    m.mode = XML_C14N_1_1;
  } else if (alg == "http://www.w3.org/2006/12/xml-c14n11#WithComments") {
    m.mode = XML_C14N_1_1;
    m.comments = true;
  } else {
    return std::nullopt;
  }
  for (xmlNode* c : Children(method)) {
    if (xmlStrEqual(c->name, X("InclusiveNamespaces"))) {
      std::string list = Attr(c, "PrefixList");
      std::size_t pos = 0;
      while (pos < list.size()) {
        const std::size_t end = list.find_first_of(" \t\r\n", pos);
        const std::string p = list.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        if (!p.empty()) m.prefixes.push_back(p == "#default" ? "" : p);
        if (end == std::string::npos) break;
        pos = end + 1;
      }
    }
  }
  return m;
}

std::optional<Bytes> CanonicalizeSubtree(xmlDoc* doc, xmlNode* subtree, const C14nMethod& m) {
  std::unique_ptr<xmlOutputBuffer, OutputBufferClose> buf(xmlAllocOutputBuffer(nullptr));
  if (!buf) return std::nullopt;
  std::vector<xmlChar*> prefixes;
  for (const std::string& p : m.prefixes) {
    prefixes.push_back(const_cast<xmlChar*>(X(p.c_str())));
  }
  prefixes.push_back(nullptr);
  const int rc = xmlC14NExecute(doc, InSubtree, subtree, m.mode,
                                m.mode == XML_C14N_EXCLUSIVE_1_0 && m.prefixes.size() > 0
                                    ? prefixes.data()
                                    : nullptr,
                                m.comments ? 1 : 0, buf.get());
  if (rc < 0) return std::nullopt;
  const xmlChar* content = xmlOutputBufferGetContent(buf.get());
  return Bytes(content, content + xmlOutputBufferGetSize(buf.get()));
}

// ---- the signature value --------------------------------------------------------------------

enum class KeyKind { kRsa, kRsaPss, kEcdsa, kDsa };

struct SigAlg {
  KeyKind kind;
  const char* md;
};

// DigestNidOfUri maps an XML-DSig DigestMethod URI to its hash (NID_undef when unknown).
int DigestNidOfUri(const std::string& uri) {
  static const std::pair<const char*, int> kMap[] = {
      {"http://www.w3.org/2000/09/xmldsig#sha1", NID_sha1},
      {"http://www.w3.org/2001/04/xmldsig-more#md5", NID_md5},
      {"http://www.w3.org/2001/04/xmldsig-more#sha224", NID_sha224},
      {"http://www.w3.org/2001/04/xmlenc#sha256", NID_sha256},
      {"http://www.w3.org/2001/04/xmldsig-more#sha384", NID_sha384},
      {"http://www.w3.org/2001/04/xmlenc#sha512", NID_sha512},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-224", NID_sha3_224},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-256", NID_sha3_256},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-384", NID_sha3_384},
      {"http://www.w3.org/2007/05/xmldsig-more#sha3-512", NID_sha3_512},
  };
  for (const auto& [name, nid] : kMap) {
    if (uri == name) return nid;
  }
  return NID_undef;
}

std::optional<SigAlg> SignatureAlgorithmByUri(const std::string& uri) {
  static const std::pair<const char*, SigAlg> kMap[] = {
      {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", {KeyKind::kRsa, "SHA1"}},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", {KeyKind::kRsa, "SHA224"}},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", {KeyKind::kRsa, "SHA256"}},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", {KeyKind::kRsa, "SHA384"}},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", {KeyKind::kRsa, "SHA512"}},
      {"http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1", {KeyKind::kRsaPss, "SHA1"}},
      {"http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1", {KeyKind::kRsaPss, "SHA224"}},
      {"http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", {KeyKind::kRsaPss, "SHA256"}},
      {"http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1", {KeyKind::kRsaPss, "SHA384"}},
      {"http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", {KeyKind::kRsaPss, "SHA512"}},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", {KeyKind::kEcdsa, "SHA1"}},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224", {KeyKind::kEcdsa, "SHA224"}},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", {KeyKind::kEcdsa, "SHA256"}},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", {KeyKind::kEcdsa, "SHA384"}},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", {KeyKind::kEcdsa, "SHA512"}},
      {"http://www.w3.org/2000/09/xmldsig#dsa-sha1", {KeyKind::kDsa, "SHA1"}},
      {"http://www.w3.org/2009/xmldsig11#dsa-sha256", {KeyKind::kDsa, "SHA256"}},
  };
  for (const auto& [u, alg] : kMap) {
    if (uri == u) return alg;
  }
  return std::nullopt;
}

// RawToDer turns an XML-DSig r||s signature into a DER ECDSA/DSA signature.
std::optional<Bytes> RawToDer(ByteSpan raw) {
  if (raw.empty() || raw.size() % 2 != 0) return std::nullopt;
  const std::size_t half = raw.size() / 2;
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

bool VerifyWithKey(EVP_PKEY* key, const SigAlg& alg, ByteSpan data, ByteSpan sig_value) {
  const EVP_MD* md = EVP_get_digestbyname(alg.md);
  if (key == nullptr || md == nullptr) return false;
  const int base = EVP_PKEY_get_base_id(key);
  Bytes sig(sig_value.begin(), sig_value.end());
  switch (alg.kind) {
    case KeyKind::kRsa:
    case KeyKind::kRsaPss:
      if (base != EVP_PKEY_RSA && base != EVP_PKEY_RSA_PSS) return false;
      break;
    case KeyKind::kEcdsa:
    case KeyKind::kDsa: {
      if (alg.kind == KeyKind::kEcdsa && base != EVP_PKEY_EC) return false;
      if (alg.kind == KeyKind::kDsa && base != EVP_PKEY_DSA) return false;
      std::optional<Bytes> der = RawToDer(sig_value);
      if (!der) return false;
      sig = std::move(*der);
      break;
    }
  }
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (alg.kind == KeyKind::kRsaPss) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return false;
    }
  } else if (base == EVP_PKEY_RSA) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  }
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

// RsaKeyValue reads ds:KeyValue/ds:RSAKeyValue.
ossl::UniquePtr<EVP_PKEY> RsaKeyValue(xmlNode* key_info) {
  xmlNode* rsa = DsChild(DsChild(key_info, "KeyValue"), "RSAKeyValue");
  if (rsa == nullptr) return nullptr;
  const std::optional<Bytes> n = Base64Decode(Text(DsChild(rsa, "Modulus")));
  const std::optional<Bytes> e = Base64Decode(Text(DsChild(rsa, "Exponent")));
  if (!n || !e || n->empty() || e->empty()) return nullptr;
  ossl::UniquePtr<BIGNUM> bn_n(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
  ossl::UniquePtr<BIGNUM> bn_e(BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr));
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return nullptr;
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY* key = nullptr;
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (params != nullptr && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1) {
    EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params);
  }
  OSSL_PARAM_free(params);
  return ossl::UniquePtr<EVP_PKEY>(key);
}

// ---- xmlsec ---------------------------------------------------------------------------------

// The detached data of the signature being checked on this thread, by Reference URI, resolved
// before xmlsec runs (xmlsec's IO callbacks are process-wide; only ours is registered, so
// nothing else is ever opened).
thread_local const std::map<std::string, Bytes>* tl_detached = nullptr;

struct DetachedStream {
  const Bytes* data = nullptr;
  std::size_t pos = 0;
};

int IoMatch(const char* uri) {
  return tl_detached != nullptr && uri != nullptr && tl_detached->count(uri) > 0 ? 1 : 0;
}

void* IoOpen(const char* uri) {
  if (tl_detached == nullptr || uri == nullptr) return nullptr;
  auto it = tl_detached->find(uri);
  if (it == tl_detached->end()) return nullptr;
  auto* s = new DetachedStream;
  s->data = &it->second;
  return s;
}

int IoRead(void* context, char* buffer, int len) {
  auto* s = static_cast<DetachedStream*>(context);
  if (len <= 0) return 0;
  const std::size_t n = std::min(static_cast<std::size_t>(len), s->data->size() - s->pos);
  std::memcpy(buffer, s->data->data() + s->pos, n);
  s->pos += n;
  return static_cast<int>(n);
}

int IoClose(void* context) {
  delete static_cast<DetachedStream*>(context);
  return 0;
}

void SilentErrors(const char*, int, const char*, const char*, const char*, int, const char*) {}

bool InitXmlsec() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    if (xmlSecInit() < 0) return;
    if (xmlSecCheckVersion() != 1) return;
    if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0) return;
    xmlSecErrorsSetCallback(SilentErrors);
    xmlSecIOCleanupCallbacks();
    if (xmlSecIORegisterCallbacks(IoMatch, IoOpen, IoRead, IoClose) < 0) return;
    ok = true;
  });
  return ok;
}

// xmlsec 1.2 keeps error and IO state in globals; one signature at a time is plenty here.
std::mutex& XmlsecMutex() {
  static std::mutex m;
  return m;
}

struct DsigCtxFree {
  void operator()(xmlSecDSigCtx* c) const noexcept { xmlSecDSigCtxDestroy(c); }
};

struct RefCheck {
  bool ok = false;
  std::string sub_indication, problem;
  std::vector<std::string> unresolved;
};

bool IsExternalUri(const xmlNode* ref) {
  if (!xmlHasProp(const_cast<xmlNode*>(ref), X("URI"))) return false;
  const std::string uri = Attr(ref, "URI");
  return !uri.empty() && uri[0] != '#';
}

// CheckReferences digests every ds:Reference of `sig` with xmlsec. References whose data is not
// available (no URI, or a detached URI the resolver cannot supply) are replaced by a comment
// during the call, so the others are still checked. The SignatureMethod is swapped for HMAC
// (with a dummy key) during the call so that xmlsec's own signature step never stops the
// references from being processed; the signature value is checked separately, on the restored
// SignedInfo.
RefCheck CheckReferences(xmlNode* sig, xmlNode* signed_info, const XmlDetachedResolver& resolver) {
  RefCheck out;
  xmlNode* sm = DsChild(signed_info, "SignatureMethod");
  if (sm == nullptr) {
    out.sub_indication = "FORMAT_FAILURE";
    out.problem = "ds:SignatureMethod missing";
    return out;
  }
  std::map<std::string, Bytes> detached;
  std::vector<std::pair<xmlNode*, xmlNode*>> parked;  // (Reference, placeholder)
  std::vector<xmlNode*> refs;
  for (xmlNode* c : Children(signed_info)) {
    if (IsDs(c, "Reference")) refs.push_back(c);
  }
  if (refs.empty()) {
    out.sub_indication = "FORMAT_FAILURE";
    out.problem = "ds:SignedInfo has no Reference";
    return out;
  }
  for (xmlNode* ref : refs) {
    const bool has_uri = xmlHasProp(ref, X("URI")) != nullptr;
    const std::string uri = Attr(ref, "URI");
    bool available = has_uri;
    if (IsExternalUri(ref) && detached.count(uri) == 0) {
      std::optional<Bytes> data = resolver ? resolver(uri) : std::nullopt;
      if (data) {
        detached.emplace(uri, std::move(*data));
      } else {
        available = false;
      }
    }
    if (!available) {
      out.unresolved.push_back(uri);
      xmlNode* placeholder = xmlNewComment(X("kyso: reference data not available"));
      xmlReplaceNode(ref, placeholder);
      parked.emplace_back(ref, placeholder);
    }
  }

  bool digests_ok = true;
  if (parked.size() < refs.size()) {
    std::lock_guard<std::mutex> lock(XmlsecMutex());
    tl_detached = &detached;
    // A bare HMAC SignatureMethod in place of the real one (whose parameters, e.g. RSAPSSParams,
    // HMAC would refuse), put back below.
    xmlNode* hmac = xmlNewDocNode(sm->doc, sm->ns, X("SignatureMethod"), nullptr);
    xmlSetProp(hmac, X("Algorithm"), X(kHmacSha256));
    xmlReplaceNode(sm, hmac);
    std::unique_ptr<xmlSecDSigCtx, DsigCtxFree> ctx(xmlSecDSigCtxCreate(nullptr));
    if (!ctx) {
      digests_ok = false;
      out.sub_indication = "FORMAT_FAILURE";
      out.problem = "xmlsec: no context";
    } else {
      static const unsigned char kDummy[] = "kyso-reference-check";
      ctx->signKey = xmlSecKeyReadMemory(xmlSecKeyDataHmacId, kDummy, sizeof(kDummy) - 1);
      ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
      ctx->enabledReferenceUris = static_cast<xmlSecTransformUriType>(
          xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument |
          xmlSecTransformUriTypeLocal | xmlSecTransformUriTypeRemote);
      const xmlSecTransformId c14n[] = {
          xmlSecTransformInclC14NId,   xmlSecTransformInclC14NWithCommentsId,
          xmlSecTransformInclC14N11Id, xmlSecTransformInclC14N11WithCommentsId,
          xmlSecTransformExclC14NId,   xmlSecTransformExclC14NWithCommentsId};
      const xmlSecTransformId reference_only[] = {
          xmlSecTransformEnvelopedId, xmlSecTransformXPathId, xmlSecTransformXPath2Id,
          xmlSecTransformXPointerId,  xmlSecTransformBase64Id, xmlSecTransformSha1Id,
          xmlSecTransformSha224Id,    xmlSecTransformSha256Id, xmlSecTransformSha384Id,
          xmlSecTransformSha512Id};
      for (xmlSecTransformId id : c14n) {
        xmlSecDSigCtxEnableReferenceTransform(ctx.get(), id);
        xmlSecDSigCtxEnableSignatureTransform(ctx.get(), id);
      }
      for (xmlSecTransformId id : reference_only) {
        xmlSecDSigCtxEnableReferenceTransform(ctx.get(), id);
      }
      xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecTransformHmacSha256Id);
      if (ctx->signKey == nullptr) {
        digests_ok = false;
        out.sub_indication = "FORMAT_FAILURE";
        out.problem = "xmlsec: no key";
      } else {
        xmlSecDSigCtxVerify(ctx.get(), sig);
        const std::size_t num_checked = refs.size() - parked.size();
        const xmlSecSize done = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
        digests_ok = done == num_checked;
        for (xmlSecSize i = 0; i < done; ++i) {
          auto* ref = static_cast<xmlSecDSigReferenceCtxPtr>(
              xmlSecPtrListGetItem(&ctx->signedInfoReferences, i));
          if (ref != nullptr && ref->status == xmlSecDSigStatusSucceeded) continue;
          digests_ok = false;
          const std::string uri =
              ref && ref->uri ? reinterpret_cast<const char*>(ref->uri) : "(none)";
          if (ref != nullptr && ref->status == xmlSecDSigStatusInvalid) {
            out.sub_indication = "HASH_FAILURE";
            out.problem = "digest of Reference " + uri + " does not match";
          } else {
            out.sub_indication = "FORMAT_FAILURE";
            out.problem = "Reference " + uri +
                          " could not be resolved or transformed (unsupported transform or "
                          "algorithm, or no such Id)";
          }
          break;
        }
        if (!digests_ok && out.problem.empty()) {
          out.sub_indication = "FORMAT_FAILURE";
          out.problem = "SignedInfo could not be processed (unsupported algorithm?)";
        }
      }
    }
    xmlReplaceNode(hmac, sm);
    xmlFreeNode(hmac);
    tl_detached = nullptr;
  }
  for (auto& [ref, placeholder] : parked) {
    xmlReplaceNode(placeholder, ref);
    xmlFreeNode(placeholder);
  }
  if (digests_ok && !out.unresolved.empty()) {
    out.sub_indication = "SIGNED_DATA_NOT_FOUND";
    out.problem = "the data of Reference \"" + out.unresolved.front() + "\" was not supplied";
  }
  out.ok = digests_ok && out.unresolved.empty();
  return out;
}

// ---- one signature --------------------------------------------------------------------------

bool CertDigestMatches(xmlNode* cert_digest, X509* cert) {
  // ds:DigestMethod/ds:DigestValue; XAdES 1.1.1 put them in its own namespace.
  xmlNode* dm = DsChild(cert_digest, "DigestMethod");
  if (dm == nullptr) dm = XadesChild(cert_digest, "DigestMethod");
  xmlNode* dv = DsChild(cert_digest, "DigestValue");
  if (dv == nullptr) dv = XadesChild(cert_digest, "DigestValue");
  const EVP_MD* md = DigestByUri(Attr(dm, "Algorithm"));
  const std::optional<Bytes> want = Base64Decode(Text(dv));
  if (md == nullptr || !want) return false;
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return false;
  const std::optional<Bytes> got = Digest(md, ByteSpan(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return got && *got == *want;
}

void AddCert(XmlSignature& out, ossl::UniquePtr<X509> cert) {
  if (!cert) return;
  for (const auto& c : out.certificates) {
    if (X509_cmp(c.get(), cert.get()) == 0) return;
  }
  out.certificates.push_back(std::move(cert));
}

// Severity orders the sub-indications: the most serious one is reported.
int Severity(std::string_view sub) {
  static constexpr std::string_view kOrder[] = {
      "FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "SIGNED_DATA_NOT_FOUND",
      "NO_SIGNING_CERTIFICATE_FOUND", "CRYPTO_CONSTRAINTS_FAILURE"};
  for (std::size_t i = 0; i < std::size(kOrder); ++i) {
    if (sub == kOrder[i]) return static_cast<int>(std::size(kOrder) - i);
  }
  return 0;
}

void Fail(XmlSignature& out, std::string_view sub, std::string problem) {
  if (out.sub_indication.empty() || Severity(sub) > Severity(out.sub_indication)) {
    out.sub_indication = std::string(sub);
    out.problem = std::move(problem);
  }
}

XmlSignature CheckSignature(xmlDoc* doc, xmlNode* sig, const std::set<std::string>& duplicates,
                            const XmlDetachedResolver& resolver) {
  XmlSignature out;
  out.id = Attr(sig, "Id");
  xmlNode* signed_info = DsChild(sig, "SignedInfo");
  xmlNode* sig_value_node = DsChild(sig, "SignatureValue");
  xmlNode* key_info = DsChild(sig, "KeyInfo");
  if (signed_info == nullptr || sig_value_node == nullptr) {
    Fail(out, "FORMAT_FAILURE", "ds:SignedInfo or ds:SignatureValue missing");
    return out;
  }

  // The XAdES properties: ds:Object/xades:QualifyingProperties of this signature.
  xmlNode* qp = nullptr;
  for (xmlNode* obj : Children(sig)) {
    if (!IsDs(obj, "Object")) continue;
    for (xmlNode* c : Children(obj)) {
      if (IsXades(c, "QualifyingProperties")) qp = qp ? qp : c;
    }
  }
  xmlNode* signed_props = XadesChild(qp, "SignedProperties");
  xmlNode* ssp = XadesChild(signed_props, "SignedSignatureProperties");
  xmlNode* usp = XadesChild(XadesChild(qp, "UnsignedProperties"), "UnsignedSignatureProperties");

  // Certificates: KeyInfo first, then CertificateValues.
  for (xmlNode* x509_data : Children(key_info)) {
    if (!IsDs(x509_data, "X509Data")) continue;
    for (xmlNode* c : Children(x509_data)) {
      if (!IsDs(c, "X509Certificate")) continue;
      const std::optional<Bytes> der = Base64Decode(Text(c));
      if (der) AddCert(out, ParseCertDer(*der));
    }
  }
  for (xmlNode* prop : Children(usp)) {
    if (IsXades(prop, "CertificateValues")) {
      for (xmlNode* c : Children(prop)) {
        if (!IsXades(c, "EncapsulatedX509Certificate")) continue;
        const std::optional<Bytes> der = Base64Decode(Text(c));
        if (der) AddCert(out, ParseCertDer(*der));
      }
    } else if (IsXades(prop, "RevocationValues")) {
      for (xmlNode* group : Children(prop)) {
        const bool crl = IsXades(group, "CRLValues");
        const bool ocsp = IsXades(group, "OCSPValues");
        for (xmlNode* v : Children(group)) {
          std::optional<Bytes> der = Base64Decode(Text(v));
          if (!der) continue;
          if (crl && IsXades(v, "EncapsulatedCRLValue")) out.crls.push_back(std::move(*der));
          if (ocsp && IsXades(v, "EncapsulatedOCSPValue")) {
            out.ocsp_responses.push_back(std::move(*der));
          }
        }
      }
    } else if (IsXades(prop, "SignatureTimeStamp")) {
      for (xmlNode* c : Children(prop)) {
        if (!IsXades(c, "EncapsulatedTimeStamp")) continue;
        std::optional<Bytes> der = Base64Decode(Text(c));
        if (der) out.timestamp_tokens.push_back(std::move(*der));
      }
      if (out.signature_value_c14n.empty()) {
        std::optional<C14nMethod> m;
        if (xmlNode* cm = DsChild(prop, "CanonicalizationMethod")) m = C14nFromNode(cm);
        std::optional<Bytes> c14n = CanonicalizeSubtree(doc, sig_value_node, m.value_or(C14nMethod{}));
        if (c14n) out.signature_value_c14n = std::move(*c14n);
      }
    }
  }
  if (out.signature_value_c14n.empty()) {
    std::optional<Bytes> c14n = CanonicalizeSubtree(doc, sig_value_node, C14nMethod{});
    if (c14n) out.signature_value_c14n = std::move(*c14n);
  }

  if (xmlNode* st = XadesChild(ssp, "SigningTime")) out.signing_time = ParseXsdDateTime(Text(st));

  // Candidates for the signer: those named by SigningCertificate(V2), then KeyInfo, then the rest.
  xmlNode* signing_cert = XadesChild(ssp, "SigningCertificateV2");
  if (signing_cert == nullptr) signing_cert = XadesChild(ssp, "SigningCertificate");
  std::vector<X509*> candidates;
  if (signing_cert != nullptr) {
    for (xmlNode* cert : Children(signing_cert)) {
      xmlNode* digest = XadesChild(cert, "CertDigest");
      for (const auto& c : out.certificates) {
        if (digest != nullptr && CertDigestMatches(digest, c.get())) {
          candidates.push_back(c.get());
        }
      }
      break;  // the first Cert is the signer's
    }
  }
  for (std::size_t i = 0; i < out.certificates.size(); ++i) {
    if (std::find(candidates.begin(), candidates.end(), out.certificates[i].get()) ==
        candidates.end()) {
      candidates.push_back(out.certificates[i].get());
    }
  }

  // References (xmlsec), with the Id checks first.
  bool refs_ok = true;
  bool signed_props_referenced = false;
  xmlNode* countersigned_value = nullptr;  // the parent's SignatureValue, for a counter-signature
  if (sig->parent != nullptr && IsXades(sig->parent, "CounterSignature")) {
    for (xmlNode* n = sig->parent; n != nullptr; n = n->parent) {
      if (IsDs(n, "Signature")) {
        countersigned_value = DsChild(n, "SignatureValue");
        break;
      }
    }
  }
  bool countersigned_covered = false;
  for (xmlNode* ref : Children(signed_info)) {
    if (!IsDs(ref, "Reference")) continue;
    const std::string uri = Attr(ref, "URI");
    const std::string id = SameDocumentId(uri);
    if (!id.empty() && duplicates.count(id) > 0) {
      out.attack = "signature_wrapping";
      refs_ok = false;
      Fail(out, "FORMAT_FAILURE", "Id \"" + id + "\" is declared more than once (signature wrapping)");
    }
    xmlNode* target = ElementById(doc, id);
    const std::string type = Attr(ref, "Type");
    const bool sp_type = type.size() >= 17 && type.compare(type.size() - 17, 17, "#SignedProperties") == 0;
    // The SignedProperties are signed by a Reference to them, or (XAdES 1.1.1 style) by a
    // SignedProperties-typed Reference to the ds:Object of this signature that holds them.
    if (signed_props != nullptr && target != nullptr &&
        (target == signed_props || (sp_type && IsAncestor(sig, target) && IsAncestor(target, signed_props)))) {
      signed_props_referenced = true;
    }
    if (countersigned_value != nullptr && target == countersigned_value) countersigned_covered = true;
    // Elements a verifier looks for in fixed places (XML-DSig 4.5, 5.1; XAdES 4.1): one moved
    // elsewhere while its Id stays referenced is the usual wrapping of signed content.
    const bool misplaced =
        target != nullptr &&
        ((IsDs(target, "Object") && !IsDs(target->parent, "Signature")) ||
         (IsDs(target, "Manifest") &&
          !(IsDs(target->parent, "Object") && IsDs(target->parent->parent, "Signature"))) ||
         (IsXades(target, "SignedProperties") && !IsXades(target->parent, "QualifyingProperties")));
    if (misplaced) {
      out.attack = "signature_wrapping";
      refs_ok = false;
      Fail(out, "FORMAT_FAILURE",
           "Reference \"" + uri + "\" points at a " + S(target->name) +
               " that is not where a verifier looks for it (signature wrapping)");
    }
    bool enveloped = false;
    for (xmlNode* t : Children(DsChild(ref, "Transforms"))) {
      enveloped |= IsDs(t, "Transform") &&
                   Attr(t, "Algorithm") == "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    }
    if (enveloped && target != nullptr && IsAncestor(sig, target)) {
      out.attack = "signature_wrapping";
      refs_ok = false;
      Fail(out, "FORMAT_FAILURE",
           "the enveloped content \"" + id + "\" sits inside its own signature (signature wrapping)");
    }
    if (sp_type && target != nullptr && !IsAncestor(sig, target)) {
      out.attack = "signature_wrapping";
      refs_ok = false;
      Fail(out, "FORMAT_FAILURE",
           "the SignedProperties Reference points outside the signature (signature wrapping)");
    }
  }
  RefCheck digests = CheckReferences(sig, signed_info, resolver);
  out.unresolved_references = digests.unresolved;
  if (!digests.ok) {
    refs_ok = false;
    Fail(out, digests.sub_indication, digests.problem);
  }
  if (signed_props != nullptr && !signed_props_referenced) {
    refs_ok = false;
    Fail(out, "FORMAT_FAILURE", "SignedProperties not signed");
  }
  if (countersigned_value != nullptr && !countersigned_covered) {
    refs_ok = false;
    Fail(out, "FORMAT_FAILURE",
         "counter-signature does not cover the SignatureValue of the signature it counter-signs");
  }
  out.references_ok = refs_ok;

  // The signature value.
  const std::string method_uri = Attr(DsChild(signed_info, "SignatureMethod"), "Algorithm");
  const std::optional<SigAlg> alg = SignatureAlgorithmByUri(method_uri);
  // R7.2 judges the weakest hash the signature depends on: the SignatureMethod's and every
  // Reference's DigestMethod (a weak Reference digest lets the signed content be swapped).
  std::vector<int> hashes;
  if (alg) {
    const EVP_MD* md = EVP_get_digestbyname(alg->md);
    hashes.push_back(md != nullptr ? EVP_MD_get_type(md) : NID_undef);
  }
  for (xmlNode* ref : Children(signed_info)) {
    if (IsDs(ref, "Reference")) hashes.push_back(DigestNidOfUri(Attr(DsChild(ref, "DigestMethod"), "Algorithm")));
  }
  out.digest_nid = WeakestDigest(hashes);
  std::optional<C14nMethod> c14n_method =
      C14nFromNode(DsChild(signed_info, "CanonicalizationMethod"));
  const std::optional<Bytes> sig_value = Base64Decode(Text(sig_value_node));
  std::optional<Bytes> signed_info_c14n;
  if (c14n_method) signed_info_c14n = CanonicalizeSubtree(doc, signed_info, *c14n_method);
  ossl::UniquePtr<EVP_PKEY> key_value = RsaKeyValue(key_info);
  if (!alg) {
    Fail(out, "CRYPTO_CONSTRAINTS_FAILURE", "unsupported SignatureMethod " + method_uri);
  } else if (!c14n_method || !signed_info_c14n) {
    Fail(out, "CRYPTO_CONSTRAINTS_FAILURE",
         "unsupported or failed CanonicalizationMethod of SignedInfo");
  } else if (candidates.empty() && !key_value) {
    Fail(out, "NO_SIGNING_CERTIFICATE_FOUND", "no signing certificate or key found");
  } else if (!sig_value || sig_value->empty()) {
    Fail(out, "SIG_CRYPTO_FAILURE", "SignatureValue is not base64");
  } else {
    for (X509* cand : candidates) {
      if (VerifyWithKey(X509_get0_pubkey(cand), *alg, *signed_info_c14n, *sig_value)) {
        out.signer_cert.reset(X509_dup(cand));
        out.signature_ok = true;
        break;
      }
    }
    if (!out.signature_ok && key_value) {
      out.signature_ok = VerifyWithKey(key_value.get(), *alg, *signed_info_c14n, *sig_value);
    }
    if (!out.signature_ok) Fail(out, "SIG_CRYPTO_FAILURE", "SignatureValue does not verify");
  }
  if (!out.signer_cert && !out.signature_ok && !candidates.empty()) {
    out.signer_cert.reset(X509_dup(candidates.front()));
  }

  out.signing_certificate_ok = signing_cert == nullptr;
  if (signing_cert != nullptr && out.signer_cert) {
    std::vector<xmlNode*> certs = Children(signing_cert);
    out.signing_certificate_ok =
        !certs.empty() && CertDigestMatches(XadesChild(certs.front(), "CertDigest"), out.signer_cert.get());
  }
  if (!out.signing_certificate_ok) {
    Fail(out, "NO_SIGNING_CERTIFICATE_FOUND",
         "SigningCertificate(V2) does not match the signer's certificate");
  }
  return out;
}

}  // namespace

bool XmlSignatureFailed(const XmlSignature& sig) {
  return sig.sub_indication == "FORMAT_FAILURE" || sig.sub_indication == "HASH_FAILURE" ||
         sig.sub_indication == "SIG_CRYPTO_FAILURE";
}

bool LooksLikeXml(ByteSpan input) {
  std::size_t i = 0;
  if (input.size() >= 3 && input[0] == 0xEF && input[1] == 0xBB && input[2] == 0xBF) i = 3;
  while (i < input.size() && (input[i] == ' ' || input[i] == '\n' || input[i] == '\r' || input[i] == '\t')) {
    ++i;
  }
  return i < input.size() && input[i] == '<';
}

Result<std::vector<XmlSignature>> ReadXmlSignatures(ByteSpan xml,
                                                    const XmlDetachedResolver& detached_resolver) {
  if (!InitXmlsec()) return InternalError("xmlsec1 initialization failed");
  KYSO_ASSIGN_OR_RETURN(
      xml::DocPtr doc,
      xml::ParseHostile(xml, kMaxXmlSignatureInputLen, nullptr,
                        {"tài liệu XML quá lớn", "tài liệu XML có DOCTYPE (DTD/thực thể): bị từ chối",
                         "tài liệu không phải XML hợp lệ (không well-formed)",
                         "tài liệu XML không có phần tử gốc"}));
  std::set<std::string> duplicates;
  RegisterIds(doc.get(), xmlDocGetRootElement(doc.get()), duplicates);
  std::vector<xmlNode*> nodes;
  CollectSignatures(xmlDocGetRootElement(doc.get()), nodes);
  std::vector<XmlSignature> out;
  out.reserve(nodes.size());
  for (xmlNode* sig : nodes) out.push_back(CheckSignature(doc.get(), sig, duplicates, detached_resolver));
  return out;
}

}  // namespace kyso::verify
