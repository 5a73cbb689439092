#include "kyso/sign/xades.h"

#include <gtest/gtest.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "kyso/base/temp_dir.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/x509.h"

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
struct Chain {
  std::unique_ptr<KeySigner> root_key, issuing_key, leaf_key;
  ossl::UniquePtr<X509> root, issuing, leaf;
};

Chain MakeChain(std::string_view leaf_spec, bool rsa_pss = false) {
  Chain c;
  c.root_key = std::move(KeySigner::Generate("ec-p256")).value();
  c.root = MakeTestCert(*c.root_key, nullptr, c.root_key->public_key(), "Kyso Test Root", true);
  c.issuing_key = std::move(KeySigner::Generate("ec-p256")).value();
  c.issuing = MakeTestCert(*c.root_key, c.root.get(), c.issuing_key->public_key(),
                           "Kyso Test Issuing CA", true);
  auto leaf_key = KeySigner::Generate(leaf_spec, rsa_pss);
  EXPECT_TRUE(leaf_key.ok()) << leaf_key.status().ToString();
  c.leaf_key = std::move(leaf_key).value();
  c.leaf = MakeTestCert(*c.issuing_key, c.issuing.get(), c.leaf_key->public_key(), "Nguyễn Văn Ấn",
                        false);
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
int XmlsecVerify(const TempDir& dir, XadesPackaging packaging) {
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
  const std::string cmd =
      "cd '" + dir.path().string() + "' && xmlsec1 " + args + " signed.xml >out.txt 2>err.txt";
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

}  // namespace
}  // namespace kyso::sign
