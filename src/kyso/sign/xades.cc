#include "kyso/sign/xades.h"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>

#include "kyso/pkix/der.h"
#include "kyso/pkix/tsp.h"
#include "kyso/pkix/x509.h"
#include "kyso/xml/hostile.h"

namespace kyso::sign {

namespace {

using pkix::SignatureAlgorithm;

constexpr char kDsNs[] = "http://www.w3.org/2000/09/xmldsig#";
constexpr char kXadesNs[] = "http://uri.etsi.org/01903/v1.3.2#";
constexpr char kExcC14n[] = "http://www.w3.org/2001/10/xml-exc-c14n#";
constexpr char kEnvelopedTransform[] = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
constexpr char kFilter2Ns[] = "http://www.w3.org/2002/06/xmldsig-filter2";
// The document Reference's XPath Filter 2.0 expression: every enveloped signature of the
// document (a ds:Signature child of the root element), this one included. The "ds" prefix is
// the one the ds:Signature around the XPath element declares.
constexpr char kEnvelopedSignaturesXPath[] = "/*/ds:Signature";
constexpr char kSha256Uri[] = "http://www.w3.org/2001/04/xmlenc#sha256";
// XAdES 1.3.2 section 6.3.1 (EN 319 132-1 4.3.1): the Type of the Reference that covers
// SignedProperties keeps the 01903 version-less URI.
constexpr char kSignedPropertiesType[] = "http://uri.etsi.org/01903#SignedProperties";

constexpr std::size_t kMaxUriLen = 2048;
constexpr std::size_t kMaxMimeTypeLen = 255;
constexpr std::size_t kMaxDescriptionLen = 4096;

// ---- libxml2 owners -------------------------------------------------------------------------

struct OutputBufferClose {
  void operator()(xmlOutputBuffer* b) const noexcept { xmlOutputBufferClose(b); }
};
struct XmlCharFree {
  void operator()(xmlChar* s) const noexcept { xmlFree(s); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
using xml::DocPtr;

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

// ---- small encoders -------------------------------------------------------------------------

std::string Base64(ByteSpan bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

Bytes Sha256(ByteSpan data) {
  Bytes out(32);
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Result<std::string> RandomIdPrefix() {
  uint8_t r[8];
  if (RAND_bytes(r, sizeof(r)) != 1) return ossl::Error("random signature Id");
  return "kyso-" + HexEncode(r);
}

// ---- checking the caller's strings ----------------------------------------------------------

// IsXmlText accepts well-formed UTF-8 made only of XML 1.0 Chars: no control character other
// than tab, newline and carriage return, no surrogates, no U+FFFE/U+FFFF. libxml2 would
// otherwise write such text out and the verifier would refuse the document.
bool IsXmlText(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int len = 1;
    long cp = b0;
    if (b0 >= 0x80) {
      if ((b0 & 0xe0) == 0xc0) {
        len = 2, cp = b0 & 0x1f;
      } else if ((b0 & 0xf0) == 0xe0) {
        len = 3, cp = b0 & 0x0f;
      } else if ((b0 & 0xf8) == 0xf0) {
        len = 4, cp = b0 & 0x07;
      } else {
        return false;
      }
      if (i + static_cast<std::size_t>(len) > s.size()) return false;
      for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3f);
      }
      static constexpr long kMinForLen[] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMinForLen[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    }
    if (cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd) return false;
    if (cp == 0xfffe || cp == 0xffff) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

// IsUriReference accepts the characters RFC 3986 allows in a URI reference (unreserved,
// reserved and '%'); anything else must be percent-encoded by the caller, so the Reference
// means the same to every verifier.
bool IsUriReference(std::string_view s) {
  constexpr std::string_view kOther = "-._~:/?#[]@!$&'()*+,;=%";
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    kOther.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

Status CheckOptions(const XadesOptions& o, const pkix::Signer& signer) {
  if (o.signer_cert == nullptr) return InvalidArgumentError("thiếu chứng thư số của người ký");
  const EVP_PKEY* cert_key = X509_get0_pubkey(o.signer_cert);
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, signer.public_key()) != 1) {
    return InvalidArgumentError("khóa ký không khớp với chứng thư số của người ký");
  }
  if (!o.signing_time) {
    return InvalidArgumentError("thiếu thời điểm ký (XAdES B-B bắt buộc SigningTime)");
  }
  if (o.chain.size() > kMaxXadesChainLen) {
    return InvalidArgumentError("chuỗi chứng thư quá dài (tối đa " +
                                std::to_string(kMaxXadesChainLen) + ")");
  }
  for (const X509* c : o.chain) {
    if (c == nullptr) return InvalidArgumentError("chuỗi chứng thư có phần tử rỗng");
  }
  if (o.max_xml_len == 0 || o.max_xml_len > static_cast<std::size_t>(INT_MAX)) {
    return InvalidArgumentError("giới hạn kích thước XML không hợp lệ");
  }
  if (o.packaging == XadesPackaging::kDetached) {
    if (o.detached_uri.empty() || o.detached_uri.size() > kMaxUriLen ||
        o.detached_uri.front() == '#' || !IsUriReference(o.detached_uri)) {
      return InvalidArgumentError(
          "chữ ký tách rời cần URI của tệp được ký (URI tương đối, ký tự ngoài ASCII phải mã "
          "hóa %XX, không bắt đầu bằng #)");
    }
  } else if (!o.detached_uri.empty()) {
    return InvalidArgumentError("URI tệp tách rời chỉ dùng cho chữ ký tách rời");
  }
  for (char c : o.mime_type) {
    if (c < 0x20 || c > 0x7e) return InvalidArgumentError("MimeType chỉ được chứa ký tự ASCII");
  }
  if (o.mime_type.size() > kMaxMimeTypeLen) return InvalidArgumentError("MimeType quá dài");
  if (o.description.size() > kMaxDescriptionLen || !IsXmlText(o.description)) {
    return InvalidArgumentError("mô tả tài liệu không phải văn bản UTF-8 hợp lệ hoặc quá dài");
  }
  return OkStatus();
}

// ---- parsing hostile XML --------------------------------------------------------------------

Result<DocPtr> ParseHostileXml(ByteSpan xml, std::size_t max_len) {
  return xml::ParseHostile(
      xml, max_len, "document.xml",
      {"tài liệu XML " + std::to_string(xml.size()) + " byte vượt giới hạn " +
           std::to_string(max_len) + " byte",
       "tài liệu XML có khai báo DOCTYPE bị từ chối (không chấp nhận DTD và thực thể)",
       "tài liệu không phải XML hợp lệ (không well-formed)", "tài liệu XML không có phần tử gốc"});
}

// ---- exclusive canonicalization -------------------------------------------------------------

// InSubtree makes the node set "the subtree rooted at `root`, with its attributes and its
// in-scope namespace nodes", the node set a same-document "#id" Reference selects. libxml2
// passes namespace nodes as xmlNs with the element that holds them in scope as `parent`.
int InSubtree(void* root, xmlNodePtr node, xmlNodePtr parent) {
  const xmlNode* n = (node == nullptr || node->type == XML_NAMESPACE_DECL) ? parent : node;
  for (; n != nullptr; n = n->parent) {
    if (n == root) return 1;
  }
  return 0;
}

// CanonicalizeNodeSet gives the exclusive C14N 1.0 (without comments) of the nodes of `doc`
// for which `visible` (called with `data`) says 1; all of `doc` when `visible` is null.
Result<Bytes> CanonicalizeNodeSet(xmlDoc* doc, xmlC14NIsVisibleCallback visible, void* data) {
  std::unique_ptr<xmlOutputBuffer, OutputBufferClose> buf(xmlAllocOutputBuffer(nullptr));
  if (!buf) return InternalError("libxml2: no output buffer");
  const int rc = xmlC14NExecute(doc, visible, data, XML_C14N_EXCLUSIVE_1_0, nullptr, 0, buf.get());
  if (rc < 0) {
    return InvalidArgumentError(
        "không chuẩn hóa (C14N) được tài liệu XML (ví dụ: namespace URI tương đối)");
  }
  const xmlChar* content = xmlOutputBufferGetContent(buf.get());
  return Bytes(content, content + xmlOutputBufferGetSize(buf.get()));
}

// Canonicalize gives the exclusive C14N of `subtree` as it sits in `doc`, or of the whole
// document when `subtree` is null. Working on the final document matters: C14N output depends
// on the namespaces in scope.
Result<Bytes> Canonicalize(xmlDoc* doc, xmlNode* subtree) {
  return CanonicalizeNodeSet(doc, subtree ? InSubtree : nullptr, subtree);
}

// IsDsElement tells whether `n` is the XML-DSig element `name`.
bool IsDsElement(const xmlNode* n, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns != nullptr &&
         xmlStrEqual(n->ns->href, X(kDsNs)) && xmlStrEqual(n->name, X(name));
}

// IsEnvelopedSignature tells whether `n` is selected by kEnvelopedSignaturesXPath: a
// ds:Signature whose parent is the root element.
bool IsEnvelopedSignature(const xmlNode* n) {
  return IsDsElement(n, "Signature") && n->parent != nullptr &&
         n->parent->type == XML_ELEMENT_NODE && n->parent->parent != nullptr &&
         n->parent->parent->type == XML_DOCUMENT_NODE;
}

// OutsideEnvelopedSignatures makes the node set of the document Reference after its XPath
// Filter 2.0 transform: every node except the subtrees (elements, attributes, namespace nodes,
// text) of the enveloped signatures. XML-DSig 4.4.3.2: URI="" already drops comments, which
// XML_C14N_EXCLUSIVE_1_0 without comments does too.
int OutsideEnvelopedSignatures(void* /*unused*/, xmlNodePtr node, xmlNodePtr parent) {
  const xmlNode* n = (node == nullptr || node->type == XML_NAMESPACE_DECL) ? parent : node;
  for (; n != nullptr; n = n->parent) {
    if (IsEnvelopedSignature(n)) return 0;
  }
  return 1;
}

// ---- the signature value --------------------------------------------------------------------

std::string_view SignatureMethodUri(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kRsaPkcs1Sha256:
      return "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    case SignatureAlgorithm::kRsaPkcs1Sha384:
      return "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
    case SignatureAlgorithm::kRsaPssSha256:
      // RFC 6931 2.3.10: SHA-256, MGF1 with SHA-256, salt length 32, trailer 1; exactly the
      // parameters of kyso's kRsaPssSha256.
      return "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1";
    case SignatureAlgorithm::kEcdsaSha256:
      return "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    case SignatureAlgorithm::kEcdsaSha384:
      return "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
  }
  return {};
}

bool IsEcdsa(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kEcdsaSha256 || alg == SignatureAlgorithm::kEcdsaSha384;
}

// SignatureValueBytes turns the Signer's output into XML-DSig's SignatureValue octets. RFC
// 4050 3.3 / XML-DSig 1.1 6.4.3: ECDSA is r||s, each left-padded to the size of the curve
// order, not the DER Ecdsa-Sig-Value CMS and X.509 use. RSA signatures pass unchanged.
Result<Bytes> SignatureValueBytes(SignatureAlgorithm alg, const EVP_PKEY* key, ByteSpan sig) {
  if (!IsEcdsa(alg)) return Bytes(sig.begin(), sig.end());
  const unsigned char* p = sig.data();
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> ecdsa(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!ecdsa || p != sig.data() + sig.size()) {
    return InternalError("Signer returned a malformed ECDSA signature");
  }
  const int bits = EVP_PKEY_get_bits(key);
  if (bits <= 0) return ossl::Error("ECDSA key size");
  const auto n = static_cast<std::size_t>((bits + 7) / 8);
  Bytes raw(2 * n);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), raw.data(), static_cast<int>(n)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), raw.data() + n, static_cast<int>(n)) < 0) {
    return InternalError("ECDSA signature component larger than the curve order");
  }
  return raw;
}

// IssuerSerialV2Der encodes RFC 5035 IssuerSerial { issuer GeneralNames (one directoryName),
// serialNumber }, the content of xades:IssuerSerialV2 (EN 319 132-1 5.2.2.2).
Bytes IssuerSerialV2Der(const X509* cert) {
  const Bytes issuer_der = pkix::NameDer(X509_get_issuer_name(cert));
  const Bytes serial_der = ossl::ToDer(i2d_ASN1_INTEGER, X509_get0_serialNumber(cert));
  pkix::DerWriter w;
  w.Sequence([&](pkix::DerWriter& issuer_serial) {
    issuer_serial.Sequence([&](pkix::DerWriter& names) {
      // directoryName is [4], explicit because Name is a CHOICE.
      names.Constructed(0xa4, [&](pkix::DerWriter& dn) { dn.Raw(issuer_der); });
    });
    issuer_serial.Raw(serial_der);
  });
  return std::move(w).Finish();
}

// ---- building the ds:Signature --------------------------------------------------------------

xmlNode* Elem(xmlNode* parent, xmlNs* ns, const char* name) {
  return xmlNewChild(parent, ns, X(name), nullptr);
}
// TextElem escapes `text` (xmlNewTextChild), unlike xmlNewChild.
xmlNode* TextElem(xmlNode* parent, xmlNs* ns, const char* name, const std::string& text) {
  return xmlNewTextChild(parent, ns, X(name), X(text.c_str()));
}
void Attr(xmlNode* n, const char* name, const std::string& value) {
  xmlNewProp(n, X(name), X(value.c_str()));
}
xmlNode* Method(xmlNode* parent, xmlNs* ds, const char* name, std::string_view algorithm) {
  xmlNode* n = Elem(parent, ds, name);
  Attr(n, "Algorithm", std::string(algorithm));
  return n;
}

// AddReference appends a ds:Reference and returns its DigestValue element.
xmlNode* AddReference(xmlNode* signed_info, xmlNs* ds, const std::string& id,
                      const std::string& uri, const char* type,
                      std::initializer_list<const char*> transforms, const std::string& digest) {
  xmlNode* ref = Elem(signed_info, ds, "Reference");
  if (!id.empty()) Attr(ref, "Id", id);
  if (type != nullptr) Attr(ref, "Type", type);
  Attr(ref, "URI", uri);
  if (transforms.size() > 0) {
    xmlNode* ts = Elem(ref, ds, "Transforms");
    for (const char* t : transforms) Method(ts, ds, "Transform", t);
  }
  Method(ref, ds, "DigestMethod", kSha256Uri);
  return TextElem(ref, ds, "DigestValue", digest);
}

struct SignatureNodes {
  xmlNode* qualifying_properties = nullptr;
  std::string timestamp_id;  // Id of xades:SignatureTimeStamp, for B-T
  xmlNode* signed_info = nullptr;
  xmlNode* signed_properties = nullptr;
  xmlNode* properties_digest = nullptr;  // DigestValue of the SignedProperties Reference
  xmlNode* signature_value = nullptr;
};

struct Ids {
  std::string signature, doc_reference, signed_properties, signature_value, signature_timestamp;
};

// AddQualifyingProperties writes ds:Object/xades:QualifyingProperties with the signed
// properties of B-B (EN 319 132-1 6.3: SigningTime, SigningCertificateV2, DataObjectFormat)
// and returns xades:SignedProperties.
xmlNode* AddQualifyingProperties(xmlNode* signature, xmlNs* ds, const XadesOptions& o,
                                 const Ids& ids) {
  xmlNode* qp = Elem(Elem(signature, ds, "Object"), nullptr, "QualifyingProperties");
  xmlNs* xades = xmlNewNs(qp, X(kXadesNs), X("xades"));
  xmlSetNs(qp, xades);
  Attr(qp, "Target", "#" + ids.signature);
  xmlNode* sp = Elem(qp, xades, "SignedProperties");
  Attr(sp, "Id", ids.signed_properties);
  xmlNode* ssp = Elem(sp, xades, "SignedSignatureProperties");
  TextElem(ssp, xades, "SigningTime", FormatIso8601Utc(*o.signing_time));
  xmlNode* cert = Elem(Elem(ssp, xades, "SigningCertificateV2"), xades, "Cert");
  xmlNode* cert_digest = Elem(cert, xades, "CertDigest");
  Method(cert_digest, ds, "DigestMethod", kSha256Uri);
  TextElem(cert_digest, ds, "DigestValue", Base64(Sha256(pkix::CertificateDer(o.signer_cert))));
  TextElem(cert, xades, "IssuerSerialV2", Base64(IssuerSerialV2Der(o.signer_cert)));
  xmlNode* format = Elem(Elem(sp, xades, "SignedDataObjectProperties"), xades, "DataObjectFormat");
  Attr(format, "ObjectReference", "#" + ids.doc_reference);
  if (!o.description.empty()) TextElem(format, xades, "Description", o.description);
  std::string mime = o.mime_type;
  if (mime.empty()) {
    mime = o.packaging == XadesPackaging::kEnveloped ? "text/xml" : "application/octet-stream";
  }
  TextElem(format, xades, "MimeType", mime);
  return sp;
}

// BuildSignature appends the complete ds:Signature to `parent` (enveloped) or makes it the
// root of `doc` (detached), with empty DigestValue for SignedProperties and empty
// SignatureValue: those are filled in once the final document can be canonicalized.
Result<SignatureNodes> BuildSignature(xmlDoc* doc, xmlNode* parent, const XadesOptions& o,
                                      SignatureAlgorithm alg, ByteSpan doc_digest) {
  KYSO_ASSIGN_OR_RETURN(const std::string prefix, RandomIdPrefix());
  const Ids ids{prefix + "-sig", prefix + "-ref-doc", prefix + "-signedprops", prefix + "-sigvalue",
                prefix + "-sigtst"};
  xmlNode* sig = xmlNewDocNode(doc, nullptr, X("Signature"), nullptr);
  if (sig == nullptr) return InternalError("libxml2: out of memory");
  xmlNs* ds = xmlNewNs(sig, X(kDsNs), X("ds"));
  xmlSetNs(sig, ds);
  if (parent != nullptr) {
    xmlAddChild(parent, sig);
  } else {
    xmlDocSetRootElement(doc, sig);
  }
  Attr(sig, "Id", ids.signature);

  SignatureNodes nodes;
  nodes.signed_info = Elem(sig, ds, "SignedInfo");
  Method(nodes.signed_info, ds, "CanonicalizationMethod", kExcC14n);
  Method(nodes.signed_info, ds, "SignatureMethod", SignatureMethodUri(alg));
  const std::string digest_b64 = Base64(doc_digest);
  if (o.packaging == XadesPackaging::kEnveloped) {
    xmlNode* digest = AddReference(nodes.signed_info, ds, ids.doc_reference, "", nullptr,
                                   {kFilter2Ns, kExcC14n}, digest_b64);
    // RFC 3653 3: <XPath Filter="subtract">, in the filter2 namespace, inside the Transform.
    xmlNode* transform =
        digest ? xmlFirstElementChild(xmlFirstElementChild(digest->parent)) : nullptr;
    if (transform == nullptr) return InternalError("libxml2: out of memory");
    xmlNode* xpath = xmlNewTextChild(transform, nullptr, X("XPath"), X(kEnvelopedSignaturesXPath));
    if (xpath == nullptr) return InternalError("libxml2: out of memory");
    xmlSetNs(xpath, xmlNewNs(xpath, X(kFilter2Ns), X("dsig-filter2")));
    Attr(xpath, "Filter", "subtract");
  } else {
    AddReference(nodes.signed_info, ds, ids.doc_reference, o.detached_uri, nullptr, {}, digest_b64);
  }
  // Without a Transform the "#id" node set would be serialized with inclusive C14N 1.0
  // (XML-DSig 4.4.3.2); name exclusive C14N so it matches what is hashed here.
  nodes.properties_digest = AddReference(nodes.signed_info, ds, "", "#" + ids.signed_properties,
                                         kSignedPropertiesType, {kExcC14n}, "");
  nodes.signature_value = TextElem(sig, ds, "SignatureValue", "");
  Attr(nodes.signature_value, "Id", ids.signature_value);

  xmlNode* x509_data = Elem(Elem(sig, ds, "KeyInfo"), ds, "X509Data");
  const Bytes signer_der = pkix::CertificateDer(o.signer_cert);
  TextElem(x509_data, ds, "X509Certificate", Base64(signer_der));
  for (const X509* c : o.chain) {
    const Bytes der = pkix::CertificateDer(c);
    if (der != signer_der) TextElem(x509_data, ds, "X509Certificate", Base64(der));
  }
  nodes.signed_properties = AddQualifyingProperties(sig, ds, o, ids);
  nodes.qualifying_properties = nodes.signed_properties ? nodes.signed_properties->parent : nullptr;
  nodes.timestamp_id = ids.signature_timestamp;
  if (!nodes.signed_info || !nodes.signed_properties || !nodes.properties_digest ||
      !nodes.signature_value) {
    return InternalError("libxml2: out of memory");
  }
  return nodes;
}

// ---- what an enveloped input may already hold ----------------------------------------------

// ElementId gives the value of an Id, ID or id attribute of `n`, empty when none.
std::string ElementId(const xmlNode* n) {
  for (const char* name : {"Id", "ID", "id"}) {
    if (xmlChar* v = xmlGetNoNsProp(n, X(name))) {
      std::string id(reinterpret_cast<const char*>(v));
      xmlFree(v);
      return id;
    }
  }
  return {};
}

// BreaksWithAppend tells whether the ds:Signature `sig` has a Reference that an appended
// ds:Signature would break: the enveloped-signature transform (which removes only its own
// signature) over the whole document: URI "", "#xpointer(/)", or the root element's Id.
bool BreaksWithAppend(const xmlNode* sig, const std::string& root_id) {
  const xmlNode* signed_info = xmlFirstElementChild(const_cast<xmlNode*>(sig));
  if (!IsDsElement(signed_info, "SignedInfo")) return false;
  for (const xmlNode* ref = signed_info->children; ref != nullptr; ref = ref->next) {
    if (!IsDsElement(ref, "Reference")) continue;
    xmlChar* uri_value = xmlGetNoNsProp(ref, X("URI"));
    const bool has_uri = uri_value != nullptr;
    const std::string uri = has_uri ? reinterpret_cast<const char*>(uri_value) : "";
    xmlFree(uri_value);
    // Without a URI attribute the application names the object (XML-DSig 4.4.3.1): unknown.
    const bool whole = has_uri && (uri.empty() || uri == "#xpointer(/)" ||
                                   (!root_id.empty() && uri == "#" + root_id));
    if (!whole) continue;
    const xmlNode* transforms = xmlFirstElementChild(const_cast<xmlNode*>(ref));
    if (!IsDsElement(transforms, "Transforms")) continue;
    for (const xmlNode* t = transforms->children; t != nullptr; t = t->next) {
      if (!IsDsElement(t, "Transform")) continue;
      xmlChar* alg = xmlGetNoNsProp(t, X("Algorithm"));
      const bool enveloped = alg != nullptr && xmlStrEqual(alg, X(kEnvelopedTransform));
      xmlFree(alg);
      if (enveloped) return true;
    }
  }
  return false;
}

// FindBrokenByAppend looks, depth first, for a ds:Signature under `n` that BreaksWithAppend.
// The depth is bounded by libxml2's parser limit.
bool FindBrokenByAppend(const xmlNode* n, const std::string& root_id) {
  for (; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (IsDsElement(n, "Signature") && BreaksWithAppend(n, root_id)) return true;
    if (FindBrokenByAppend(n->children, root_id)) return true;
  }
  return false;
}

// CheckEnvelopedInput refuses the documents an enveloped signature must not be appended to
// (see XadesPackaging::kEnveloped).
Status CheckEnvelopedInput(const xmlNode* root) {
  if (IsDsElement(root, "Signature")) {
    return InvalidArgumentError(
        "tài liệu là một chữ ký số XML (phần tử gốc ds:Signature), không thể thêm chữ ký kèm "
        "bên trong; hãy ký tách rời tệp này");
  }
  if (FindBrokenByAppend(root, ElementId(root))) {
    return InvalidArgumentError(
        "tài liệu đã có chữ ký số kiểu cũ (phép biến đổi enveloped-signature); thêm chữ ký kèm "
        "sẽ làm hỏng chữ ký đó, hãy ký tách rời");
  }
  return OkStatus();
}

// ---- B-T: the signature timestamp -----------------------------------------------------------

// CheckTokenImprint reads the token's TSTInfo (through a granted TimeStampResp, the shape
// ParseTimeStampResp reads) and checks that it is over `digest` with SHA-256: a token over
// something else would make a B-T signature that no verifier accepts.
Status CheckTokenImprint(ByteSpan token, ByteSpan digest) {
  Result<pkix::TimeStampResp> resp = pkix::ParseTimeStampResp(pkix::EncodeTimeStampGranted(token));
  if (!resp.ok() || resp->hash_nid != NID_sha256 || resp->hashed_message.size() != digest.size() ||
      CRYPTO_memcmp(resp->hashed_message.data(), digest.data(), digest.size()) != 0) {
    return InvalidArgumentError(
        "dấu thời gian nhận được không hợp lệ hoặc không khớp với giá trị chữ ký");
  }
  return OkStatus();
}

// AddSignatureTimeStamp makes the signature B-T (EN 319 132-1 5.3): the TimeStampToken over
// SHA-256 of the exclusive C14N of ds:SignatureValue, as it sits in the final document, goes
// into QualifyingProperties/UnsignedProperties/UnsignedSignatureProperties with the
// CanonicalizationMethod a verifier must use to recompute the imprint.
Status AddSignatureTimeStamp(xmlDoc* doc, const SignatureNodes& nodes, Timestamper& tsa) {
  KYSO_ASSIGN_OR_RETURN(const Bytes value_c14n, Canonicalize(doc, nodes.signature_value));
  const Bytes digest = Sha256(value_c14n);
  KYSO_ASSIGN_OR_RETURN(const Bytes token, tsa.Timestamp(digest));
  KYSO_RETURN_IF_ERROR(CheckTokenImprint(token, digest));
  xmlNs* ds = nodes.signature_value->ns;
  xmlNs* xades = nodes.qualifying_properties->ns;
  xmlNode* usp = Elem(Elem(nodes.qualifying_properties, xades, "UnsignedProperties"), xades,
                      "UnsignedSignatureProperties");
  xmlNode* tst = usp ? Elem(usp, xades, "SignatureTimeStamp") : nullptr;
  if (tst == nullptr) return InternalError("libxml2: out of memory");
  Attr(tst, "Id", nodes.timestamp_id);
  Method(tst, ds, "CanonicalizationMethod", kExcC14n);
  if (TextElem(tst, xades, "EncapsulatedTimeStamp", Base64(token)) == nullptr) {
    return InternalError("libxml2: out of memory");
  }
  return OkStatus();
}

Result<Bytes> Serialize(xmlDoc* doc) {
  xmlChar* mem = nullptr;
  int len = 0;
  xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
  std::unique_ptr<xmlChar, XmlCharFree> owned(mem);
  if (mem == nullptr || len <= 0) return InternalError("libxml2: cannot serialize document");
  return Bytes(mem, mem + len);
}

}  // namespace

std::string_view XmlDsigSignatureMethod(pkix::SignatureAlgorithm alg) {
  return SignatureMethodUri(alg);
}

Result<Bytes> SignXml(ByteSpan input, const XadesOptions& options, pkix::Signer& signer) {
  KYSO_RETURN_IF_ERROR(CheckOptions(options, signer));
  const SignatureAlgorithm alg = signer.algorithm();

  // 1. The document and the digest of its Reference.
  DocPtr doc;
  xmlNode* parent = nullptr;
  Bytes doc_digest;
  if (options.packaging == XadesPackaging::kEnveloped) {
    KYSO_ASSIGN_OR_RETURN(doc, ParseHostileXml(input, options.max_xml_len));
    parent = xmlDocGetRootElement(doc.get());
    KYSO_RETURN_IF_ERROR(CheckEnvelopedInput(parent));
    // The filter subtracts the enveloped signatures, the one appended below among them, so
    // the document without them, canonicalized before the append, is the transforms' output.
    KYSO_ASSIGN_OR_RETURN(const Bytes c14n,
                          CanonicalizeNodeSet(doc.get(), OutsideEnvelopedSignatures, nullptr));
    doc_digest = Sha256(c14n);
  } else {
    doc_digest = Sha256(input);
    doc.reset(xmlNewDoc(X("1.0")));
    if (!doc) return InternalError("libxml2: out of memory");
  }

  // 2. The ds:Signature in place, then the digest of SignedProperties from the final tree.
  KYSO_ASSIGN_OR_RETURN(const SignatureNodes nodes,
                        BuildSignature(doc.get(), parent, options, alg, doc_digest));
  KYSO_ASSIGN_OR_RETURN(const Bytes properties_c14n,
                        Canonicalize(doc.get(), nodes.signed_properties));
  xmlNodeSetContent(nodes.properties_digest, X(Base64(Sha256(properties_c14n)).c_str()));

  // 3. SignedInfo -> Signer -> SignatureValue. The signature is checked against the
  // certificate's key first, so a token or SIM that signed something else is caught here.
  KYSO_ASSIGN_OR_RETURN(const Bytes signed_info, Canonicalize(doc.get(), nodes.signed_info));
  KYSO_ASSIGN_OR_RETURN(const Bytes signature, signer.Sign(signed_info));
  const EVP_PKEY* key = X509_get0_pubkey(options.signer_cert);
  if (!pkix::VerifySignature(key, alg, signed_info, signature).ok()) {
    return InvalidArgumentError("chữ ký trả về không khớp với chứng thư số của người ký");
  }
  KYSO_ASSIGN_OR_RETURN(const Bytes value, SignatureValueBytes(alg, key, signature));
  xmlNodeSetContent(nodes.signature_value, X(Base64(value).c_str()));

  // 4. B-T: the signature timestamp, over the SignatureValue just written.
  if (options.timestamper != nullptr) {
    KYSO_RETURN_IF_ERROR(AddSignatureTimeStamp(doc.get(), nodes, *options.timestamper));
  }
  return Serialize(doc.get());
}

}  // namespace kyso::sign
