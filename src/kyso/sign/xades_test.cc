#include "kyso/sign/xades.h"

#include <gtest/gtest.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <openssl/sha.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "kyso/base/temp_dir.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/tsp.h"
#include "kyso/pkix/x509.h"
#include "kyso/sign/testing.h"

namespace kyso::sign {
namespace {

using pkix::KeySigner;
using pkix::SignatureAlgorithm;
using pkix::Signer;
using pkix::testutil::MakeTestCert;

const Time kSigningTime = Utc(2026, 11, 25, 3, 4, 5);
// xmlsec1 checks the certificates at this fixed time (they are valid 2026..2036), not "now".
constexpr char kXmlsecTime[] = "2027-06-01 00:00:00";
constexpr char kDetachedUri[] = "quyet-dinh-01.xml";

// The document has a default namespace, a prefixed one, a comment, CDATA, an attribute and
// Vietnamese text in NFC, so canonicalization and UTF-8 are both exercised.
constexpr std::string_view kDocument =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<vb:VanBan xmlns:vb=\"urn:kyso:test:van-ban\" xmlns=\"urn:kyso:test:mac-dinh\" "
    "so=\"01/2026/QĐ-UBND\">\n"
    "  <!-- bản thử -->\n"
    "  <CoQuan>Ủy ban nhân dân tỉnh Đồng Nai</CoQuan>\n"
    "  <TrichYeu>Quyết định về việc ban hành quy chế chữ ký số</TrichYeu>\n"
    "  <NoiDung><![CDATA[Điều 1. Phạm vi & đối tượng áp dụng]]></NoiDung>\n"
    "  <vb:NguoiKy chucVu=\"Chủ tịch\">Nguyễn Văn Ấn</vb:NguoiKy>\n"
    "</vb:VanBan>\n";

// Chain is root CA -> issuing CA -> signer, the CAs on EC P-256, the signer on `leaf_spec`.
// The CAs are named "<ca_prefix> Root" and "<ca_prefix> Issuing CA": two chains trusted at
// once need different names, or xmlsec1 takes the wrong root by name.
struct Chain {
  std::unique_ptr<KeySigner> root_key, issuing_key, leaf_key;
  ossl::UniquePtr<X509> root, issuing, leaf;
};

Chain MakeChain(std::string_view leaf_spec, bool rsa_pss = false,
                const char* leaf_cn = "Nguyễn Văn Ấn", const std::string& ca_prefix = "Kyso Test") {
  Chain c;
  c.root_key = std::move(KeySigner::Generate("ec-p256")).value();
  c.root = MakeTestCert(*c.root_key, nullptr, c.root_key->public_key(),
                        (ca_prefix + " Root").c_str(), true);
  c.issuing_key = std::move(KeySigner::Generate("ec-p256")).value();
  c.issuing = MakeTestCert(*c.root_key, c.root.get(), c.issuing_key->public_key(),
                           (ca_prefix + " Issuing CA").c_str(), true);
  auto leaf_key = KeySigner::Generate(leaf_spec, rsa_pss);
  EXPECT_TRUE(leaf_key.ok()) << leaf_key.status().ToString();
  c.leaf_key = std::move(leaf_key).value();
  c.leaf = MakeTestCert(*c.issuing_key, c.issuing.get(), c.leaf_key->public_key(), leaf_cn, false);
  return c;
}

XadesOptions OptionsFor(const Chain& c, XadesPackaging packaging) {
  XadesOptions o;
  o.packaging = packaging;
  if (packaging == XadesPackaging::kDetached) o.detached_uri = kDetachedUri;
  o.signer_cert = c.leaf.get();
  o.chain = {c.issuing.get()};
  o.signing_time = kSigningTime;
  o.description = "Quyết định số 01/2026/QĐ-UBND";
  return o;
}

void WriteFile(const std::filesystem::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool HaveXmlsec() { return std::system("xmlsec1 --version >/dev/null 2>&1") == 0; }

// XmlsecVerify runs `xmlsec1 --verify` in `dir` on signed.xml, trusting only root.pem: the
// issuing CA must come from the signature's own ds:X509Data. The XAdES Id attribute is
// declared with --id-attr (xmlsec1 knows no XAdES schema); detached signatures get their
// file through --url-map, and only the URI kinds the packaging needs are enabled.
// Returns the exit status; output goes to dir/out.txt and dir/err.txt.
// `extra` is added to the arguments (more anchors, --node-id).
int XmlsecVerify(const TempDir& dir, XadesPackaging packaging, const std::string& extra = "") {
  std::string args = "--verify --trusted-pem root.pem --verification-gmt-time '" +
                     std::string(kXmlsecTime) +
                     "' --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties";
  if (packaging == XadesPackaging::kDetached) {
    // xmlsec1 counts a relative URI as "remote" (only file:// is "local"); --url-map serves it
    // from the file next to the signature, so nothing is fetched.
    args += " --enabled-reference-uris same-doc,remote --url-map:" + std::string(kDetachedUri) +
            " document.bin";
  } else {
    args += " --enabled-reference-uris empty,same-doc";
  }
  const std::string cmd = "cd '" + dir.path().string() + "' && xmlsec1 " + args + " " + extra +
                          " signed.xml >out.txt 2>err.txt";
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string Base64Of(const X509* cert) {
  const Bytes der = pkix::CertificateDer(cert);
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  out.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                                      der.data(), static_cast<int>(der.size()))));
  return out;
}

struct Case {
  const char* key_spec;
  XadesPackaging packaging;
};

// PrintTo names the case in test output and CTest names instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.key_spec << (c.packaging == XadesPackaging::kEnveloped ? " enveloped" : " detached");
}

class XadesInteropTest : public ::testing::TestWithParam<Case> {};

// Signs the Vietnamese document with the key under test and has xmlsec1 accept it; then a
// changed text node (enveloped) or a changed file (detached) must make xmlsec1 refuse it.
TEST_P(XadesInteropTest, XmlsecAcceptsAndDetectsTampering) {
  if (!HaveXmlsec()) GTEST_SKIP() << "xmlsec1 not installed";
  const Case p = GetParam();
  const Chain c = MakeChain(p.key_spec);
  auto signed_xml = SignXml(AsBytes(kDocument), OptionsFor(c, p.packaging), *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  const std::string out(AsString(*signed_xml));

  TempDir dir("kyso-xades");
  WriteFile(dir / "root.pem", pkix::CertificatePem(c.root.get()));
  WriteFile(dir / "signed.xml", out);
  WriteFile(dir / "document.bin", kDocument);
  ASSERT_EQ(XmlsecVerify(dir, p.packaging), 0) << ReadText(dir / "err.txt") << "\n" << out;
  // Both the document and the SignedProperties Reference were checked.
  EXPECT_NE(ReadText(dir / "err.txt").find("SignedInfo References (ok/all): 2/2"),
            std::string::npos)
      << ReadText(dir / "err.txt");

  if (p.packaging == XadesPackaging::kEnveloped) {
    const std::size_t at = out.find("Ủy ban");
    ASSERT_NE(at, std::string::npos);
    WriteFile(dir / "signed.xml", out.substr(0, at) + "Uỷ ban" + out.substr(at + 8));
  } else {
    std::string changed(kDocument);
    changed.replace(changed.find("Ấn"), 4, "An");
    WriteFile(dir / "document.bin", changed);
  }
  EXPECT_NE(XmlsecVerify(dir, p.packaging), 0) << "tampered document verified";
}

INSTANTIATE_TEST_SUITE_P(Keys, XadesInteropTest,
                         ::testing::Values(Case{"rsa-2048", XadesPackaging::kEnveloped},
                                           Case{"rsa-2048", XadesPackaging::kDetached},
                                           Case{"ec-p256", XadesPackaging::kEnveloped},
                                           Case{"ec-p256", XadesPackaging::kDetached}),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           std::string name = param_info.param.key_spec;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name + (param_info.param.packaging == XadesPackaging::kEnveloped
                                              ? "Enveloped"
                                              : "Detached");
                         });

// Changing a signed property (here the signing time) must break the SignedProperties
// Reference, so the time cannot be moved after signing.
TEST(XadesTest, XmlsecRefusesChangedSigningTime) {
  if (!HaveXmlsec()) GTEST_SKIP() << "xmlsec1 not installed";
  const Chain c = MakeChain("ec-p256");
  auto signed_xml =
      SignXml(AsBytes(kDocument), OptionsFor(c, XadesPackaging::kEnveloped), *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  std::string out(AsString(*signed_xml));
  const std::size_t at = out.find("2026-11-25T03:04:05Z");
  ASSERT_NE(at, std::string::npos);
  out.replace(at, 4, "2025");
  TempDir dir("kyso-xades");
  WriteFile(dir / "root.pem", pkix::CertificatePem(c.root.get()));
  WriteFile(dir / "signed.xml", out);
  EXPECT_NE(XmlsecVerify(dir, XadesPackaging::kEnveloped), 0);
}

// ---- the structure, checked in process ------------------------------------------------------

struct DocFree {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

const xmlNode* FindElement(const xmlNode* n, std::string_view name) {
  for (; n != nullptr; n = n->next) {
    if (n->type == XML_ELEMENT_NODE &&
        std::string_view(reinterpret_cast<const char*>(n->name)) == name) {
      return n;
    }
    if (const xmlNode* hit = FindElement(n->children, name)) return hit;
  }
  return nullptr;
}

std::string Content(const xmlNode* n) {
  xmlChar* s = xmlNodeGetContent(n);
  std::string out(reinterpret_cast<const char*>(s));
  xmlFree(s);
  return out;
}

Bytes Base64Decode(const std::string& b64) {
  Bytes out(b64.size());
  const int len = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
  EXPECT_GE(len, 0);
  std::size_t pad = 0;
  while (pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<std::size_t>(len) - pad);
  return out;
}

int InSubtree(void* root, xmlNodePtr node, xmlNodePtr parent) {
  const xmlNode* n = (node == nullptr || node->type == XML_NAMESPACE_DECL) ? parent : node;
  for (; n != nullptr; n = n->parent) {
    if (n == root) return 1;
  }
  return 0;
}

// SignedInfoC14n re-parses the output and canonicalizes its SignedInfo the way a verifier
// does, independently of the code under test, and returns the decoded SignatureValue too.
void SignedInfoAndValue(ByteSpan signed_xml, Bytes& signed_info, Bytes& value) {
  DocPtr doc(xmlReadMemory(reinterpret_cast<const char*>(signed_xml.data()),
                           static_cast<int>(signed_xml.size()), "signed.xml", nullptr,
                           XML_PARSE_NONET));
  ASSERT_TRUE(doc);
  const xmlNode* si = FindElement(xmlDocGetRootElement(doc.get()), "SignedInfo");
  ASSERT_NE(si, nullptr);
  xmlChar* c14n = nullptr;
  xmlOutputBufferPtr buf = xmlAllocOutputBuffer(nullptr);
  ASSERT_GE(xmlC14NExecute(doc.get(), InSubtree, const_cast<xmlNode*>(si), XML_C14N_EXCLUSIVE_1_0,
                           nullptr, 0, buf),
            0);
  c14n = const_cast<xmlChar*>(xmlOutputBufferGetContent(buf));
  signed_info.assign(c14n, c14n + xmlOutputBufferGetSize(buf));
  xmlOutputBufferClose(buf);
  value = Base64Decode(Content(FindElement(xmlDocGetRootElement(doc.get()), "SignatureValue")));
}

// XML-DSig wants ECDSA as r||s (64 octets for P-256), not the Signer's DER.
TEST(XadesTest, EcdsaSignatureValueIsRawRAndS) {
  const Chain c = MakeChain("ec-p256");
  auto signed_xml =
      SignXml(AsBytes(kDocument), OptionsFor(c, XadesPackaging::kEnveloped), *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  Bytes signed_info, value;
  SignedInfoAndValue(*signed_xml, signed_info, value);
  ASSERT_EQ(value.size(), 64u);
  auto der = pkix::EcdsaRawToDer(value);
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(pkix::VerifySignature(c.leaf_key->public_key(), SignatureAlgorithm::kEcdsaSha256,
                                    signed_info, *der)
                  .ok());
}

// xmlsec1 1.2 has no RSA-PSS, so the sha256-rsa-MGF1 signature is checked in process.
TEST(XadesTest, RsaPssSignatureVerifiesInProcess) {
  const Chain c = MakeChain("rsa-2048", /*rsa_pss=*/true);
  ASSERT_EQ(c.leaf_key->algorithm(), SignatureAlgorithm::kRsaPssSha256);
  auto signed_xml =
      SignXml(AsBytes(kDocument), OptionsFor(c, XadesPackaging::kDetached), *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  EXPECT_NE(AsString(*signed_xml).find("xmldsig-more#sha256-rsa-MGF1"), std::string::npos);
  Bytes signed_info, value;
  SignedInfoAndValue(*signed_xml, signed_info, value);
  EXPECT_TRUE(pkix::VerifySignature(c.leaf_key->public_key(), SignatureAlgorithm::kRsaPssSha256,
                                    signed_info, value)
                  .ok());
}

// The B-B signed properties are present, bound to the signer certificate.
TEST(XadesTest, WritesBaselineBProperties) {
  const Chain c = MakeChain("ec-p256");
  auto signed_xml =
      SignXml(AsBytes(kDocument), OptionsFor(c, XadesPackaging::kEnveloped), *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  const std::string out(AsString(*signed_xml));
  for (const char* needle : {"xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\"",
                             "Type=\"http://uri.etsi.org/01903#SignedProperties\"",
                             "<xades:SigningTime>2026-11-25T03:04:05Z</xades:SigningTime>",
                             "<xades:SigningCertificateV2>", "<xades:IssuerSerialV2>",
                             "<ds:Transform Algorithm=\"http://www.w3.org/2002/06/"
                             "xmldsig-filter2\"><dsig-filter2:XPath xmlns:dsig-filter2=\""
                             "http://www.w3.org/2002/06/xmldsig-filter2\" Filter=\"subtract\">"
                             "/*/ds:Signature</dsig-filter2:XPath></ds:Transform>",
                             "<xades:MimeType>text/xml</xades:MimeType>",
                             "<xades:Description>Quyết định số 01/2026/QĐ-UBND</xades:Description>",
                             "Nguyễn Văn Ấn</vb:NguoiKy>"}) {
    EXPECT_NE(out.find(needle), std::string::npos) << needle;
  }
  // Signer certificate first, then the issuing CA, in ds:X509Data.
  const std::size_t leaf_at = out.find("<ds:X509Certificate>" + Base64Of(c.leaf.get()));
  const std::size_t issuing_at = out.find("<ds:X509Certificate>" + Base64Of(c.issuing.get()));
  EXPECT_NE(leaf_at, std::string::npos);
  EXPECT_NE(issuing_at, std::string::npos);
  EXPECT_LT(leaf_at, issuing_at);
  // The enveloped-signature transform would make a second enveloped signature break this one.
  EXPECT_EQ(out.find("enveloped-signature"), std::string::npos);
  // B-B only: no unsigned properties without a Timestamper.
  EXPECT_EQ(out.find("UnsignedProperties"), std::string::npos);
}

// Documents that stress canonicalization: a declared non-UTF-8 encoding, processing
// instructions and comments outside the root, a root that binds "ds" to another namespace,
// xml:space and redeclared default namespaces, attribute values with character references.
TEST(XadesTest, XmlsecAcceptsVariedDocuments) {
  if (!HaveXmlsec()) GTEST_SKIP() << "xmlsec1 not installed";
  const Chain c = MakeChain("ec-p256");
  const std::string docs[] = {
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<doc>Fran\xe7"
      "ais caf\xe9</doc>\n",
      "<?xml-stylesheet type=\"text/xsl\" href=\"vb.xsl\"?>\n<!-- tr\xc6\xb0\xe1\xbb\x9b"
      "c -->\n"
      "<doc a=\"1\"/>\n<!-- sau -->\n<?pi cuoi?>\n",
      "<ds:doc xmlns:ds=\"urn:khong-phai-dsig\" xml:space=\"preserve\" xml:lang=\"vi\">"
      "<x xmlns=\"urn:a\"><y xmlns=\"\">  c\xc3\xb3  </y></x></ds:doc>",
      "<doc t=\"a&#9;b&#10;c &amp; &lt;d&gt; &quot;\">&#x1EA0;&#233; &gt; 1</doc>",
      "<doc/>",
  };
  for (const std::string& doc : docs) {
    SCOPED_TRACE(doc);
    auto signed_xml = SignXml(AsBytes(doc), OptionsFor(c, XadesPackaging::kEnveloped), *c.leaf_key);
    ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
    TempDir dir("kyso-xades");
    WriteFile(dir / "root.pem", pkix::CertificatePem(c.root.get()));
    WriteFile(dir / "signed.xml", AsString(*signed_xml));
    EXPECT_EQ(XmlsecVerify(dir, XadesPackaging::kEnveloped), 0) << ReadText(dir / "err.txt") << "\n"
                                                                << AsString(*signed_xml);
  }
}

// ---- refusals -------------------------------------------------------------------------------

// ExpectRefused checks a kInvalidArgument with one line of message for the signer.
void ExpectRefused(const Result<Bytes>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_FALSE(r.status().message().empty());
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
}

TEST(XadesTest, RefusesHostileXml) {
  const Chain c = MakeChain("ec-p256");
  const XadesOptions o = OptionsFor(c, XadesPackaging::kEnveloped);
  const std::string billion_laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
      "<lolz>&lol3;</lolz>";
  for (const std::string& hostile : {
           std::string("<?xml version=\"1.0\"?><!DOCTYPE a [<!ELEMENT a ANY>]><a>x</a>"),
           std::string("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>"),
           std::string("<!DOCTYPE a SYSTEM \"http://example.invalid/a.dtd\"><a/>"),
           billion_laughs,
           std::string("<a><b></a>"),
           std::string("<a>&undefined;</a>"),
           std::string(""),
           std::string("không phải XML"),
       }) {
    SCOPED_TRACE(hostile);
    ExpectRefused(SignXml(AsBytes(hostile), o, *c.leaf_key));
  }
  // Over the size limit: refused before parsing.
  std::string huge = "<a>" + std::string(kMaxXadesXmlLen, 'x') + "</a>";
  ExpectRefused(SignXml(AsBytes(huge), o, *c.leaf_key));
  XadesOptions small = o;
  small.max_xml_len = 64;
  ExpectRefused(SignXml(AsBytes(kDocument), small, *c.leaf_key));
}

TEST(XadesTest, RefusesBadOptions) {
  const Chain c = MakeChain("ec-p256");
  const Chain other = MakeChain("ec-p256");
  const ByteSpan doc = AsBytes(kDocument);
  XadesOptions o = OptionsFor(c, XadesPackaging::kEnveloped);
  o.signing_time.reset();
  ExpectRefused(SignXml(doc, o, *c.leaf_key));  // B-B needs SigningTime

  o = OptionsFor(c, XadesPackaging::kEnveloped);
  ExpectRefused(SignXml(doc, o, *other.leaf_key));  // key is not the certificate's
  o.signer_cert = nullptr;
  ExpectRefused(SignXml(doc, o, *c.leaf_key));

  o = OptionsFor(c, XadesPackaging::kDetached);
  for (const char* uri : {"", "#frag", "tệp có dấu.xml", "a b.xml"}) {
    o.detached_uri = uri;
    ExpectRefused(SignXml(doc, o, *c.leaf_key));
  }
  o = OptionsFor(c, XadesPackaging::kEnveloped);
  o.detached_uri = "x.xml";
  ExpectRefused(SignXml(doc, o, *c.leaf_key));
  o = OptionsFor(c, XadesPackaging::kEnveloped);
  o.description = std::string("bad\x01control");
  ExpectRefused(SignXml(doc, o, *c.leaf_key));
  o.description = std::string("\xc3\x28");  // malformed UTF-8
  ExpectRefused(SignXml(doc, o, *c.leaf_key));
}

// Detached signing takes any bytes, XML or not: they are only hashed.
TEST(XadesTest, DetachedSignsNonXml) {
  const Chain c = MakeChain("ec-p256");
  XadesOptions o = OptionsFor(c, XadesPackaging::kDetached);
  o.detached_uri = "bao-cao%20nam.pdf";
  o.mime_type = "application/pdf";
  const std::string pdf = "%PDF-1.7\n\xff\xfe binary";
  auto signed_xml = SignXml(AsBytes(pdf), o, *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  const std::string out(AsString(*signed_xml));
  EXPECT_NE(out.find("URI=\"bao-cao%20nam.pdf\""), std::string::npos);
  EXPECT_NE(out.find("<xades:MimeType>application/pdf</xades:MimeType>"), std::string::npos);
}

// ---- B-T: the signature timestamp (EN 319 132-1 5.3) -----------------------------------------

const Time kTstTime = Utc(2026, 11, 25, 3, 4, 9);

// FindAll gives every element named `name` (any namespace), in document order.
void FindAll(const xmlNode* n, std::string_view name, std::vector<const xmlNode*>& out) {
  for (; n != nullptr; n = n->next) {
    if (n->type == XML_ELEMENT_NODE &&
        std::string_view(reinterpret_cast<const char*>(n->name)) == name) {
      out.push_back(n);
    }
    FindAll(n->children, name, out);
  }
}

std::string Attribute(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

DocPtr ParseOutput(ByteSpan xml) {
  return DocPtr(xmlReadMemory(reinterpret_cast<const char*>(xml.data()),
                              static_cast<int>(xml.size()), "signed.xml", nullptr,
                              XML_PARSE_NONET));
}

// ExcC14n canonicalizes the subtree of `n` the way a verifier does, in its parsed document.
Bytes ExcC14n(xmlDoc* doc, const xmlNode* n) {
  xmlOutputBufferPtr buf = xmlAllocOutputBuffer(nullptr);
  EXPECT_GE(xmlC14NExecute(doc, InSubtree, const_cast<xmlNode*>(n), XML_C14N_EXCLUSIVE_1_0, nullptr,
                           0, buf),
            0);
  const xmlChar* c = xmlOutputBufferGetContent(buf);
  Bytes out(c, c + xmlOutputBufferGetSize(buf));
  xmlOutputBufferClose(buf);
  return out;
}

Bytes Sha256Of(ByteSpan data) {
  Bytes out(32);
  SHA256(data.data(), data.size(), out.data());
  return out;
}

// SignatureIds gives the Id of every ds:Signature of `xml`, in document order.
std::vector<std::string> SignatureIds(ByteSpan xml) {
  DocPtr doc = ParseOutput(xml);
  std::vector<const xmlNode*> sigs;
  if (doc) FindAll(xmlDocGetRootElement(doc.get()), "Signature", sigs);
  std::vector<std::string> ids;
  for (const xmlNode* s : sigs) ids.push_back(Attribute(s, "Id"));
  return ids;
}

int RunShell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

// The token is over SHA-256 of the canonicalized ds:SignatureValue, recomputed here from the
// parsed output; OpenSSL's `ts -verify` accepts it against the TSA root, and xmlsec1 still
// accepts the signature with the unsigned properties added.
TEST(XadesTest, BtTimestampCoversCanonicalSignatureValue) {
  for (XadesPackaging packaging : {XadesPackaging::kEnveloped, XadesPackaging::kDetached}) {
    SCOPED_TRACE(packaging == XadesPackaging::kEnveloped ? "enveloped" : "detached");
    const Chain c = MakeChain("ec-p256");
    testing::InProcessTimestamper tsa(kTstTime);
    XadesOptions o = OptionsFor(c, packaging);
    o.timestamper = &tsa;
    auto signed_xml = SignXml(AsBytes(kDocument), o, *c.leaf_key);
    ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
    EXPECT_EQ(tsa.num_calls(), 1);

    DocPtr doc = ParseOutput(*signed_xml);
    ASSERT_TRUE(doc);
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    const xmlNode* value = FindElement(root, "SignatureValue");
    const xmlNode* tst = FindElement(root, "SignatureTimeStamp");
    ASSERT_NE(value, nullptr);
    ASSERT_NE(tst, nullptr);
    const Bytes c14n = ExcC14n(doc.get(), value);
    ASSERT_EQ(AsString(c14n).rfind("<ds:SignatureValue xmlns:ds=", 0), 0u) << AsString(c14n);
    const Bytes digest = Sha256Of(c14n);
    EXPECT_EQ(tsa.last_digest(), digest);

    // Where EN 319 132-1 puts it, with the canonicalization named and an Id.
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(tst->ns->href)),
              "http://uri.etsi.org/01903/v1.3.2#");
    EXPECT_FALSE(Attribute(tst, "Id").empty());
    ASSERT_NE(tst->parent, nullptr);
    EXPECT_STREQ(reinterpret_cast<const char*>(tst->parent->name), "UnsignedSignatureProperties");
    EXPECT_STREQ(reinterpret_cast<const char*>(tst->parent->parent->name), "UnsignedProperties");
    EXPECT_STREQ(reinterpret_cast<const char*>(tst->parent->parent->parent->name),
                 "QualifyingProperties");
    const xmlNode* method = xmlFirstElementChild(const_cast<xmlNode*>(tst));
    ASSERT_NE(method, nullptr);
    EXPECT_STREQ(reinterpret_cast<const char*>(method->name), "CanonicalizationMethod");
    EXPECT_EQ(Attribute(method, "Algorithm"), "http://www.w3.org/2001/10/xml-exc-c14n#");
    const Bytes token = Base64Decode(Content(FindElement(tst, "EncapsulatedTimeStamp")));

    auto parsed = pkix::ParseTimeStampResp(pkix::EncodeTimeStampGranted(token));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->hash_nid, NID_sha256);
    EXPECT_EQ(parsed->hashed_message, digest);
    EXPECT_EQ(parsed->gen_time, kTstTime);
    EXPECT_EQ(parsed->policy_oid, testing::kTestTsaPolicyOid);

    if (!HaveXmlsec()) continue;  // the openssl and xmlsec1 checks below
    TempDir dir("kyso-xades");
    WriteFile(dir / "token.der", AsString(token));
    WriteFile(dir / "tsa-root.pem", pkix::CertificatePem(tsa.root()));
    WriteFile(dir / "tsa.pem", pkix::CertificatePem(tsa.tsa_certificate()));
    const std::string verify = "cd '" + dir.path().string() +
                               "' && openssl ts -verify -in token.der -token_in -CAfile "
                               "tsa-root.pem -untrusted tsa.pem -digest ";
    EXPECT_EQ(RunShell(verify + HexEncode(digest) + " >ts.txt 2>&1"), 0)
        << ReadText(dir / "ts.txt");
    Bytes other = digest;
    other[31] ^= 1;
    EXPECT_NE(RunShell(verify + HexEncode(other) + " >ts.txt 2>&1"), 0) << "other digest verified";

    WriteFile(dir / "root.pem", pkix::CertificatePem(c.root.get()));
    WriteFile(dir / "signed.xml", AsString(*signed_xml));
    WriteFile(dir / "document.bin", kDocument);
    EXPECT_EQ(XmlsecVerify(dir, packaging), 0) << ReadText(dir / "err.txt");
  }
}

// A Timestamper failure fails the signing, with the Timestamper's code and message.
TEST(XadesTest, BtTimestamperFailureFailsSigning) {
  const Chain c = MakeChain("ec-p256");
  testing::InProcessTimestamper tsa(kTstTime);
  tsa.FailWith(UnavailableError("không kết nối được máy chủ cấp dấu thời gian"));
  XadesOptions o = OptionsFor(c, XadesPackaging::kEnveloped);
  o.timestamper = &tsa;
  auto r = SignXml(AsBytes(kDocument), o, *c.leaf_key);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "không kết nối được máy chủ cấp dấu thời gian");
  EXPECT_EQ(tsa.num_calls(), 1);

  tsa.Succeed();
  EXPECT_TRUE(SignXml(AsBytes(kDocument), o, *c.leaf_key).ok());
  EXPECT_EQ(tsa.num_calls(), 2);
}

// OtherDigestTimestamper asks its TSA about another digest than the one given: a token that
// does not match the signature value is refused, not embedded.
class OtherDigestTimestamper final : public Timestamper {
 public:
  explicit OtherDigestTimestamper(Timestamper& inner) : inner_(inner) {}
  Result<Bytes> Timestamp(ByteSpan sha256_digest) override {
    Bytes other(sha256_digest.begin(), sha256_digest.end());
    other[0] ^= 0x80;
    return inner_.Timestamp(other);
  }

 private:
  Timestamper& inner_;
};

TEST(XadesTest, BtRefusesTokenOverOtherDigest) {
  const Chain c = MakeChain("ec-p256");
  testing::InProcessTimestamper tsa(kTstTime);
  OtherDigestTimestamper wrong(tsa);
  XadesOptions o = OptionsFor(c, XadesPackaging::kEnveloped);
  o.timestamper = &wrong;
  ExpectRefused(SignXml(AsBytes(kDocument), o, *c.leaf_key));
}

// ---- several enveloped signatures (R30.2) ---------------------------------------------------

// The person signs, then the agency, each B-T, with certificates under different roots.
// xmlsec1 accepts both signatures, each selected by its Id; changing the document text breaks
// both. Changing the person's signature breaks only the person's: the signatures are parallel.
TEST(XadesTest, PersonThenAgencyBothVerify) {
  const Chain person = MakeChain("ec-p256");
  const Chain agency =
      MakeChain("rsa-2048", false, "Ủy ban nhân dân tỉnh Đồng Nai", "Kyso Test Agency");
  testing::InProcessTimestamper tsa(kTstTime);
  XadesOptions po = OptionsFor(person, XadesPackaging::kEnveloped);
  po.timestamper = &tsa;
  auto first = SignXml(AsBytes(kDocument), po, *person.leaf_key);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  XadesOptions ao = OptionsFor(agency, XadesPackaging::kEnveloped);
  ao.signing_time = Utc(2026, 11, 25, 8, 0, 0);
  ao.timestamper = &tsa;
  auto second = SignXml(*first, ao, *agency.leaf_key);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(tsa.num_calls(), 2);
  const std::vector<std::string> ids = SignatureIds(*second);
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_EQ(SignatureIds(*first), std::vector<std::string>{ids[0]});

  if (!HaveXmlsec()) GTEST_SKIP() << "xmlsec1 not installed";
  TempDir dir("kyso-xades");
  WriteFile(dir / "root.pem", pkix::CertificatePem(person.root.get()));
  WriteFile(dir / "agency-root.pem", pkix::CertificatePem(agency.root.get()));
  const auto verify = [&](const std::string& id) {
    return XmlsecVerify(dir, XadesPackaging::kEnveloped,
                        "--trusted-pem agency-root.pem --id-attr:Id "
                        "http://www.w3.org/2000/09/xmldsig#:Signature --node-id " + id);
  };
  const std::string out(AsString(*second));
  WriteFile(dir / "signed.xml", out);
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    EXPECT_EQ(verify(id), 0) << ReadText(dir / "err.txt") << "\n" << out;
    EXPECT_NE(ReadText(dir / "err.txt").find("SignedInfo References (ok/all): 2/2"),
              std::string::npos)
        << ReadText(dir / "err.txt");
  }

  // One changed letter of the document text: both refuse.
  const std::size_t at = out.find("Ủy ban");
  ASSERT_NE(at, std::string::npos);
  WriteFile(dir / "signed.xml", out.substr(0, at) + "Uỷ ban" + out.substr(at + 8));
  for (const std::string& id : ids) EXPECT_NE(verify(id), 0) << id << " verified a changed text";

  // The person's signing time moved: the person's signature breaks, the agency's does not
  // cover it (documented in xades.h).
  std::string moved = out;
  const std::size_t time_at = moved.find("2026-11-25T03:04:05Z");
  ASSERT_NE(time_at, std::string::npos);
  ASSERT_LT(time_at, moved.find(ids[1]));
  moved.replace(time_at, 4, "2025");
  WriteFile(dir / "signed.xml", moved);
  EXPECT_NE(verify(ids[0]), 0);
  EXPECT_EQ(verify(ids[1]), 0) << ReadText(dir / "err.txt");
}

// A ds:Signature deeper than a child of the root element (an embedded signed part) is
// document content: the enveloped signature covers it.
TEST(XadesTest, EnvelopedCoversEmbeddedSignature) {
  if (!HaveXmlsec()) GTEST_SKIP() << "xmlsec1 not installed";
  const Chain c = MakeChain("ec-p256");
  const std::string doc =
      "<HoSo><TepDinhKem><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
      "Id=\"nhung\"><ds:SignatureValue>QUJD</ds:SignatureValue></ds:Signature></TepDinhKem>"
      "<NoiDung>Hồ sơ đề nghị</NoiDung></HoSo>";
  auto signed_xml = SignXml(AsBytes(doc), OptionsFor(c, XadesPackaging::kEnveloped), *c.leaf_key);
  ASSERT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  const std::vector<std::string> ids = SignatureIds(*signed_xml);
  ASSERT_EQ(ids.size(), 2u);
  TempDir dir("kyso-xades");
  WriteFile(dir / "root.pem", pkix::CertificatePem(c.root.get()));
  const std::string select =
      "--id-attr:Id http://www.w3.org/2000/09/xmldsig#:Signature --node-id " + ids[1];
  std::string out(AsString(*signed_xml));
  WriteFile(dir / "signed.xml", out);
  ASSERT_EQ(XmlsecVerify(dir, XadesPackaging::kEnveloped, select), 0) << ReadText(dir / "err.txt");
  out.replace(out.find("QUJD"), 4, "QUJE");
  WriteFile(dir / "signed.xml", out);
  EXPECT_NE(XmlsecVerify(dir, XadesPackaging::kEnveloped, select), 0);
}

// A signature with the enveloped-signature transform over the whole document would be broken
// by an appended one: refused. Over a part of the document it is not affected: signed.
TEST(XadesTest, RefusesDocumentWithEnvelopedSignatureTransform) {
  const Chain c = MakeChain("ec-p256");
  const XadesOptions o = OptionsFor(c, XadesPackaging::kEnveloped);
  const auto with_reference = [](const std::string& uri) {
    return "<VanBan Id=\"vb1\"><Phan Id=\"p1\">a</Phan>"
           "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo>"
           "<Reference URI=\"" + uri + "\"><Transforms><Transform Algorithm=\""
           "http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/></Transforms></Reference>"
           "</SignedInfo></Signature></VanBan>";
  };
  for (const char* uri : {"", "#xpointer(/)", "#vb1"}) {
    SCOPED_TRACE(uri);
    ExpectRefused(SignXml(AsBytes(with_reference(uri)), o, *c.leaf_key));
  }
  EXPECT_TRUE(SignXml(AsBytes(with_reference("#p1")), o, *c.leaf_key).ok());
}

// A detached signature file (root ds:Signature) cannot get an enveloped signature inside its
// ds:Signature (invalid XML-DSig, and nothing else would be signed); it can be signed detached.
TEST(XadesTest, RefusesEnvelopedSignatureOfSignatureFile) {
  const Chain c = MakeChain("ec-p256");
  auto detached =
      SignXml(AsBytes(kDocument), OptionsFor(c, XadesPackaging::kDetached), *c.leaf_key);
  ASSERT_TRUE(detached.ok()) << detached.status().ToString();
  ExpectRefused(SignXml(*detached, OptionsFor(c, XadesPackaging::kEnveloped), *c.leaf_key));
  XadesOptions o = OptionsFor(c, XadesPackaging::kDetached);
  o.detached_uri = "quyet-dinh-01.xml.sig.xml";
  EXPECT_TRUE(SignXml(*detached, o, *c.leaf_key).ok());
}

}  // namespace
}  // namespace kyso::sign
