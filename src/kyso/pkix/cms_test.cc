#include "kyso/pkix/cms.h"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/cms.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "kyso/base/temp_dir.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {

// PrintTo names the algorithm in test output and CTest names (found by ADL, so outside the
// anonymous namespace).
void PrintTo(SignatureAlgorithm alg, std::ostream* os) { *os << SignatureAlgorithmName(alg); }

namespace {

// Certificates are valid 2026..2036; every verification, in process and on the command line,
// runs at this fixed time instead of "now".
const Time kValidationTime = Utc(2027, 6, 1);
const std::string kAtTime = std::to_string(kValidationTime.time_since_epoch().count());
constexpr std::string_view kContent = "Quyết định số 01/2026/QĐ-UBND — nội dung văn bản ký số\n";
// id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4), an eContentType other than id-data.
constexpr uint8_t kOidTstInfo[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                   0x01, 0x09, 0x10, 0x01, 0x04};

std::unique_ptr<KeySigner> KeyFor(SignatureAlgorithm alg) {
  Result<std::unique_ptr<KeySigner>> key = InternalError("unset");
  switch (alg) {
    case SignatureAlgorithm::kRsaPkcs1Sha256:
      key = KeySigner::Generate("rsa-2048");
      break;
    case SignatureAlgorithm::kRsaPssSha256:
      key = KeySigner::Generate("rsa-2048", true);
      break;
    case SignatureAlgorithm::kEcdsaSha256:
      key = KeySigner::Generate("ec-p256");
      break;
    case SignatureAlgorithm::kEcdsaSha384:
      key = KeySigner::Generate("ec-p384");
      break;
    case SignatureAlgorithm::kRsaPkcs1Sha384:
      key = KeySigner::Create(
          ossl::UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})), alg);
      break;
  }
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ((*key)->algorithm(), alg);
  return std::move(key).value();
}

using testutil::MakeTestCert;

// Chain is an EC P-256 CA and a leaf whose key signs with the algorithm under test.
struct Chain {
  std::unique_ptr<KeySigner> ca_key;
  ossl::UniquePtr<X509> ca;
  std::unique_ptr<KeySigner> leaf_key;
  ossl::UniquePtr<X509> leaf;
};

Chain MakeChain(SignatureAlgorithm leaf_alg) {
  Chain c;
  c.ca_key = KeyFor(SignatureAlgorithm::kEcdsaSha256);
  c.ca = MakeTestCert(*c.ca_key, nullptr, c.ca_key->public_key(), "Kyso Test CA", true);
  c.leaf_key = KeyFor(leaf_alg);
  c.leaf = MakeTestCert(*c.ca_key, c.ca.get(), c.leaf_key->public_key(), "Nguyễn Văn Ấn", false);
  return c;
}

CmsSignOptions OptionsFor(const Chain& c, ByteSpan content, bool detached) {
  CmsSignOptions o;
  o.content = content;
  o.detached = detached;
  o.signer_cert = c.leaf.get();
  o.extra_certs = {c.ca.get()};
  return o;
}

void WriteFile(const std::filesystem::path& path, ByteSpan data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// OpensslCli runs the openssl command line in `dir`, the independent judge of the encoding.
// Returns the exit status; stdout goes to dir/out.txt and stderr to dir/err.txt.
int OpensslCli(const TempDir& dir, const std::string& args) {
  const std::string cmd =
      "cd '" + dir.path().string() + "' && openssl " + args + " >out.txt 2>err.txt";
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string VerifyArgs(bool detached) {
  // -cades also checks signingCertificateV2's hash and issuerSerial against the signer.
  return "cms -verify -cades -inform DER -in sig.p7s -CAfile ca.pem -binary -attime " + kAtTime +
         (detached ? " -content data.bin" : "") + " -out /dev/null";
}

ossl::UniquePtr<CMS_ContentInfo> ParseCms(ByteSpan der) {
  ossl::UniquePtr<BIO> in(BIO_new_mem_buf(der.data(), static_cast<int>(der.size())));
  return ossl::UniquePtr<CMS_ContentInfo>(d2i_CMS_bio(in.get(), nullptr));
}

// VerifyInProcess runs CMS_verify, with CMS_CADES so that the ESS signingCertificateV2 is
// checked against the signer certificate too, and gives the verified content.
Result<Bytes> VerifyInProcess(ByteSpan der, X509* ca, ByteSpan detached_content, bool detached) {
  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(der);
  if (!cms) return ossl::Error("parse CMS");
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()),
                             static_cast<time_t>(kValidationTime.time_since_epoch().count()));
  ossl::UniquePtr<BIO> content(
      detached ? BIO_new_mem_buf(detached_content.data(), static_cast<int>(detached_content.size()))
               : nullptr);
  ossl::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms.get(), nullptr, store.get(), content.get(), out.get(),
                 CMS_BINARY | CMS_CADES) != 1) {
    return ossl::Error("CMS_verify");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  return Bytes(data, data + len);
}

CMS_SignerInfo* OnlySigner(CMS_ContentInfo* cms) {
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
  EXPECT_EQ(sk_CMS_SignerInfo_num(infos), 1);
  return sk_CMS_SignerInfo_value(infos, 0);
}

// Tlv is one DER element: its tag, whole encoding and content.
struct Tlv {
  uint8_t tag = 0;
  ByteSpan whole;
  ByteSpan content;
};

// ReadTlv splits the first DER element off `in` (definite lengths up to 4 octets: tests only).
Tlv ReadTlv(ByteSpan& in) {
  Tlv t;
  if (in.size() < 2) {
    ADD_FAILURE() << "truncated DER";
    in = {};
    return t;
  }
  t.tag = in[0];
  std::size_t len = in[1];
  std::size_t header = 2;
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[2 + i];
    header += n;
  }
  if (header + len > in.size()) {
    ADD_FAILURE() << "DER length beyond input";
    in = {};
    return t;
  }
  t.whole = in.subspan(0, header + len);
  t.content = in.subspan(header, len);
  in = in.subspan(header + len);
  return t;
}

std::vector<Tlv> Children(ByteSpan content) {
  std::vector<Tlv> out;
  while (!content.empty()) out.push_back(ReadTlv(content));
  return out;
}

// SignedDataFields gives the elements of SignedData inside a ContentInfo.
std::vector<Tlv> SignedDataFields(ByteSpan cms_der) {
  ByteSpan in = cms_der;
  const Tlv content_info = ReadTlv(in);
  const std::vector<Tlv> ci = Children(content_info.content);
  EXPECT_EQ(ci.size(), 2u);
  ByteSpan explicit0 = ci.at(1).content;
  return Children(ReadTlv(explicit0).content);
}

bool Contains(ByteSpan haystack, ByteSpan needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// --- Every algorithm, attached and detached, judged by the openssl command line ---

class CmsAlgorithmTest
    : public testing::TestWithParam<std::tuple<SignatureAlgorithm, bool /*detached*/>> {};

TEST_P(CmsAlgorithmTest, OpensslVerifiesAndRejectsTamperedContent) {
  const auto [alg, detached] = GetParam();
  Chain chain = MakeChain(alg);
  const ByteSpan content = AsBytes(kContent);
  Result<Bytes> der = SignCms(OptionsFor(chain, content, detached), *chain.leaf_key);
  ASSERT_TRUE(der.ok()) << der.status().ToString();

  TempDir dir("kyso-cms");
  WriteFile(dir / "sig.p7s", *der);
  WriteFile(dir / "data.bin", content);
  WriteFile(dir / "ca.pem", AsBytes(CertificatePem(chain.ca.get())));
  EXPECT_EQ(OpensslCli(dir, VerifyArgs(detached)), 0) << ReadText(dir / "err.txt");

  EXPECT_EQ(OpensslCli(dir, "cms -cmsout -print -inform DER -in sig.p7s"), 0);
  const std::string printed = ReadText(dir / "out.txt");
  EXPECT_NE(printed.find("1.2.840.113549.1.9.16.2.47"), std::string::npos)  // signingCertV2
      << printed;
  EXPECT_EQ(printed.find("1.2.840.113549.1.9.5"), std::string::npos);  // no signingTime

  // Tampering: change the detached file, or one octet of the embedded content.
  Bytes tampered_content(content.begin(), content.end());
  tampered_content[3] ^= 0x01;
  if (detached) {
    WriteFile(dir / "data.bin", tampered_content);
  } else {
    Bytes tampered = *der;
    auto at = std::search(tampered.begin(), tampered.end(), content.begin(), content.end());
    ASSERT_NE(at, tampered.end());
    at[3] ^= 0x01;
    WriteFile(dir / "sig.p7s", tampered);
  }
  EXPECT_NE(OpensslCli(dir, VerifyArgs(detached)), 0);
}

TEST_P(CmsAlgorithmTest, OpensslLibraryVerifiesAndSeesAlgorithms) {
  const auto [alg, detached] = GetParam();
  Chain chain = MakeChain(alg);
  const ByteSpan content = AsBytes(kContent);
  Result<Bytes> der = SignCms(OptionsFor(chain, content, detached), *chain.leaf_key);
  ASSERT_TRUE(der.ok()) << der.status().ToString();

  Result<Bytes> verified = VerifyInProcess(*der, chain.ca.get(), content, detached);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  if (detached) {
    Bytes tampered(content.begin(), content.end());
    tampered[0] ^= 0x01;
    EXPECT_FALSE(VerifyInProcess(*der, chain.ca.get(), tampered, true).ok());
  } else {
    EXPECT_EQ(AsString(*verified), kContent);
  }

  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(*der);
  ASSERT_TRUE(cms);
  // OpenSSL's encoder gives back the same octets: nothing it would canonicalise differently.
  EXPECT_EQ(ossl::ToDer(i2d_CMS_ContentInfo, static_cast<const CMS_ContentInfo*>(cms.get())), *der);
  EXPECT_EQ(CMS_is_detached(cms.get()), detached ? 1 : 0);
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(OnlySigner(cms.get()), nullptr, nullptr, &digest_alg, &sig_alg);
  const ASN1_OBJECT* digest_oid = nullptr;
  const ASN1_OBJECT* sig_oid = nullptr;
  X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest_alg);
  X509_ALGOR_get0(&sig_oid, nullptr, nullptr, sig_alg);
  EXPECT_EQ(OBJ_obj2nid(digest_oid), EVP_MD_get_type(DigestOf(alg)));
  switch (alg) {
    case SignatureAlgorithm::kRsaPkcs1Sha256:
    case SignatureAlgorithm::kRsaPkcs1Sha384:
      EXPECT_EQ(OBJ_obj2nid(sig_oid), NID_rsaEncryption);
      break;
    case SignatureAlgorithm::kRsaPssSha256:
      EXPECT_EQ(OBJ_obj2nid(sig_oid), NID_rsassaPss);
      break;
    case SignatureAlgorithm::kEcdsaSha256:
      EXPECT_EQ(OBJ_obj2nid(sig_oid), NID_ecdsa_with_SHA256);
      break;
    case SignatureAlgorithm::kEcdsaSha384:
      EXPECT_EQ(OBJ_obj2nid(sig_oid), NID_ecdsa_with_SHA384);
      break;
  }
  STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
  EXPECT_EQ(sk_X509_num(certs), 2);  // leaf and CA
  sk_X509_pop_free(certs, X509_free);
}

std::string AlgorithmTestName(
    const testing::TestParamInfo<std::tuple<SignatureAlgorithm, bool>>& info) {
  static constexpr const char* kNames[] = {"RsaPkcs1Sha256", "RsaPkcs1Sha384", "RsaPssSha256",
                                           "EcdsaP256Sha256", "EcdsaP384Sha384"};
  return std::string(kNames[static_cast<int>(std::get<0>(info.param))]) +
         (std::get<1>(info.param) ? "_Detached" : "_Attached");
}

INSTANTIATE_TEST_SUITE_P(R7_2, CmsAlgorithmTest,
                         testing::Combine(testing::Values(SignatureAlgorithm::kRsaPkcs1Sha256,
                                                          SignatureAlgorithm::kRsaPkcs1Sha384,
                                                          SignatureAlgorithm::kRsaPssSha256,
                                                          SignatureAlgorithm::kEcdsaSha256,
                                                          SignatureAlgorithm::kEcdsaSha384),
                                          testing::Bool()),
                         AlgorithmTestName);

// --- The pieces issue 5 builds on ---

TEST(CmsSignTest, PrecomputedDigestSignsTheSameAsContent) {
  // PKCS#1 v1.5 is deterministic, so both routes must give the same octets.
  Chain chain = MakeChain(SignatureAlgorithm::kRsaPkcs1Sha256);
  const ByteSpan content = AsBytes(kContent);
  Result<Bytes> from_content = SignCms(OptionsFor(chain, content, true), *chain.leaf_key);
  ASSERT_TRUE(from_content.ok()) << from_content.status().ToString();

  Bytes digest(32);
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(content.data(), content.size(), digest.data(), &len, EVP_sha256(), nullptr),
            1);
  CmsSignOptions o = OptionsFor(chain, {}, true);
  o.content_digest = digest;
  Result<Bytes> from_digest = SignCms(o, *chain.leaf_key);
  ASSERT_TRUE(from_digest.ok()) << from_digest.status().ToString();
  EXPECT_EQ(*from_digest, *from_content);
  EXPECT_TRUE(VerifyInProcess(*from_digest, chain.ca.get(), content, true).ok());
}

TEST(CmsSignTest, SignedAttributesAreTheSortedSetThatIsSigned) {
  Chain chain = MakeChain(SignatureAlgorithm::kEcdsaSha256);
  CmsSignOptions o = OptionsFor(chain, AsBytes(kContent), true);
  o.signing_time = Utc(2026, 11, 25, 9, 30);
  Result<PreparedCms> prepared = PreparedCms::Prepare(o, chain.leaf_key->algorithm());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  const Bytes attrs(prepared->SignedAttributesDer().begin(), prepared->SignedAttributesDer().end());
  ASSERT_FALSE(attrs.empty());
  EXPECT_EQ(attrs[0], 0x31);
  ByteSpan in = attrs;
  const Tlv set = ReadTlv(in);
  EXPECT_TRUE(in.empty());
  const std::vector<Tlv> elements = Children(set.content);
  ASSERT_EQ(elements.size(), 4u);  // contentType, messageDigest, signingCertificateV2, signingTime
  for (std::size_t i = 1; i < elements.size(); ++i) {
    EXPECT_TRUE(std::lexicographical_compare(elements[i - 1].whole.begin(),
                                             elements[i - 1].whole.end(), elements[i].whole.begin(),
                                             elements[i].whole.end()))
        << "element " << i << " out of DER order";
  }

  Result<Bytes> sig = chain.leaf_key->Sign(attrs);
  ASSERT_TRUE(sig.ok());
  Result<Bytes> der = std::move(*prepared).Finish(*sig);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  // In the SignerInfo the same octets carry the [0] IMPLICIT tag.
  Bytes implicit = attrs;
  implicit[0] = 0xa0;
  EXPECT_TRUE(Contains(*der, implicit));
  EXPECT_TRUE(VerifyInProcess(*der, chain.ca.get(), AsBytes(kContent), true).ok());

  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(*der);
  ASSERT_TRUE(cms);
  CMS_SignerInfo* si = OnlySigner(cms.get());
  const int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  ASSERT_GE(idx, 0);
  const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0);
  ASSERT_EQ(t->type, V_ASN1_UTCTIME);
  Result<Time> when = ToTime(t->value.utctime);
  ASSERT_TRUE(when.ok());
  EXPECT_EQ(*when, Utc(2026, 11, 25, 9, 30));
}

TEST(CmsSignTest, TimestampTokenHookGivesParsableCms) {
  Chain chain = MakeChain(SignatureAlgorithm::kEcdsaSha384);
  const ByteSpan content = AsBytes(kContent);
  Result<PreparedCms> prepared =
      PreparedCms::Prepare(OptionsFor(chain, content, true), chain.leaf_key->algorithm());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  Result<Bytes> sig = chain.leaf_key->Sign(prepared->SignedAttributesDer());
  ASSERT_TRUE(sig.ok());
  // A stand-in for the TSA's TimeStampToken (itself a ContentInfo): any signed CMS will do,
  // since the attribute's value is opaque to the SignedData around it.
  CmsSignOptions token_options = OptionsFor(chain, *sig, true);
  token_options.content_type_oid_body = kOidTstInfo;
  Result<Bytes> token = SignCms(token_options, *chain.leaf_key);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const Bytes attr = CmsAttributeDer(kOidSignatureTimeStampToken, *token);
  Result<Bytes> der = std::move(*prepared).Finish(*sig, std::span(&attr, 1));
  ASSERT_TRUE(der.ok()) << der.status().ToString();

  EXPECT_TRUE(VerifyInProcess(*der, chain.ca.get(), content, true).ok());
  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(*der);
  ASSERT_TRUE(cms);
  CMS_SignerInfo* si = OnlySigner(cms.get());
  const ASN1_OCTET_STRING* sig_value = CMS_SignerInfo_get0_signature(si);
  EXPECT_EQ(Bytes(ASN1_STRING_get0_data(sig_value),
                  ASN1_STRING_get0_data(sig_value) + ASN1_STRING_length(sig_value)),
            *sig);  // what the TSA's messageImprint hashes
  const int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  ASSERT_GE(idx, 0);
  const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, idx), 0);
  ASSERT_EQ(t->type, V_ASN1_SEQUENCE);
  EXPECT_EQ(Bytes(t->value.sequence->data, t->value.sequence->data + t->value.sequence->length),
            *token);

  TempDir dir("kyso-cms");
  WriteFile(dir / "sig.p7s", *der);
  WriteFile(dir / "data.bin", content);
  WriteFile(dir / "ca.pem", AsBytes(CertificatePem(chain.ca.get())));
  EXPECT_EQ(OpensslCli(dir, VerifyArgs(true)), 0) << ReadText(dir / "err.txt");
  EXPECT_EQ(OpensslCli(dir, "cms -cmsout -print -inform DER -in sig.p7s"), 0);
  EXPECT_NE(ReadText(dir / "out.txt").find("1.2.840.113549.1.9.16.2.14"), std::string::npos);
}

// CAdES B-LT: certificates and revocation data after the signature; with an OCSP response the
// SignedData is version 5 (RFC 5652 5.1) and openssl still verifies it.
TEST(CmsSignTest, ValidationDataGoesIntoCertificatesAndCrls) {
  Chain chain = MakeChain(SignatureAlgorithm::kEcdsaSha256);
  const ByteSpan content = AsBytes(kContent);
  Result<PreparedCms> prepared =
      PreparedCms::Prepare(OptionsFor(chain, content, true), chain.leaf_key->algorithm());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  Result<Bytes> sig = chain.leaf_key->Sign(prepared->SignedAttributesDer());
  ASSERT_TRUE(sig.ok());
  // A real (if unrelated) CRL and OCSPResponse: openssl parses what `crls` holds.
  ossl::UniquePtr<EVP_PKEY> crl_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ossl::UniquePtr<X509_CRL> x509_crl(X509_CRL_new());
  X509_CRL_set_version(x509_crl.get(), 1);
  X509_CRL_set_issuer_name(x509_crl.get(), X509_get_subject_name(chain.ca.get()));
  ossl::UniquePtr<ASN1_TIME> now(ASN1_TIME_set(nullptr, 1800000000));
  X509_CRL_set1_lastUpdate(x509_crl.get(), now.get());
  ASSERT_GT(X509_CRL_sign(x509_crl.get(), crl_key.get(), EVP_sha256()), 0);
  const Bytes crl = ossl::ToDer(i2d_X509_CRL, x509_crl.get());
  ossl::UniquePtr<OCSP_RESPONSE> try_later(OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, nullptr));
  const Bytes ocsp = ossl::ToDer(i2d_OCSP_RESPONSE, try_later.get());
  const Bytes extra_cert = ossl::ToDer(i2d_X509, chain.ca.get());
  EXPECT_TRUE(prepared->AddValidationData({&extra_cert, 1}, {&crl, 1}, {&ocsp, 1}).ok());
  EXPECT_TRUE(prepared->AddValidationData({}, {&crl, 1}, {}).ok());  // a duplicate is dropped
  const Bytes junk = {0x04, 0x00};
  EXPECT_EQ(prepared->AddValidationData({}, {&junk, 1}, {}).code(), Code::kInvalidArgument);
  Result<Bytes> der = std::move(*prepared).Finish(*sig);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(*der);
  ASSERT_TRUE(cms);
  // SignedData version 5, one CRL and one "other" (OCSP) revocation item.
  const Bytes v5 = {0x02, 0x01, 0x05};
  EXPECT_NE(std::search(der->begin(), der->end(), v5.begin(), v5.end()), der->end());
  const Bytes ri_ocsp = {0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02};
  EXPECT_NE(std::search(der->begin(), der->end(), ri_ocsp.begin(), ri_ocsp.end()), der->end());
  EXPECT_NE(std::search(der->begin(), der->end(), crl.begin(), crl.end()), der->end());
  TempDir dir("kyso-cms");
  WriteFile(dir / "sig.p7s", *der);
  WriteFile(dir / "data.bin", content);
  WriteFile(dir / "ca.pem", AsBytes(CertificatePem(chain.ca.get())));
  EXPECT_EQ(OpensslCli(dir, "cms -cmsout -print -inform DER -in sig.p7s"), 0) << ReadText(dir / "err.txt");
  EXPECT_EQ(OpensslCli(dir, VerifyArgs(true)), 0) << ReadText(dir / "err.txt");
}

TEST(CmsSignTest, OtherContentTypeMakesVersion3AndDropsDuplicateCertificates) {
  Chain chain = MakeChain(SignatureAlgorithm::kEcdsaSha256);
  CmsSignOptions o = OptionsFor(chain, AsBytes(kContent), false);
  o.content_type_oid_body = kOidTstInfo;
  o.extra_certs = {chain.ca.get(), chain.leaf.get(), chain.ca.get()};
  Result<Bytes> der = SignCms(o, *chain.leaf_key);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  const std::vector<Tlv> fields = SignedDataFields(*der);
  ASSERT_GE(fields.size(), 5u);
  EXPECT_EQ(HexEncode(fields[0].whole), "020103");  // version 3 (RFC 5652 5.1)
  EXPECT_EQ(fields[3].tag, 0xa0);                   // certificates [0] IMPLICIT
  const std::vector<Tlv> certs = Children(fields[3].content);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_TRUE(std::lexicographical_compare(certs[0].whole.begin(), certs[0].whole.end(),
                                           certs[1].whole.begin(), certs[1].whole.end()));

  ossl::UniquePtr<CMS_ContentInfo> cms = ParseCms(*der);
  ASSERT_TRUE(cms);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_eContentType(cms.get())), NID_id_smime_ct_TSTInfo);
  Result<Bytes> verified = VerifyInProcess(*der, chain.ca.get(), {}, false);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(AsString(*verified), kContent);

  Result<Bytes> id_data_der = SignCms(OptionsFor(chain, {}, true), *chain.leaf_key);
  ASSERT_TRUE(id_data_der.ok());
  const std::vector<Tlv> id_data = SignedDataFields(*id_data_der);
  ASSERT_FALSE(id_data.empty());
  EXPECT_EQ(HexEncode(id_data[0].whole), "020101");  // version 1 for id-data
}

// --- Refusals ---

TEST(CmsSignTest, RefusesBadOptions) {
  Chain chain = MakeChain(SignatureAlgorithm::kEcdsaSha256);
  const ByteSpan content = AsBytes(kContent);
  auto code = [&](const CmsSignOptions& o) { return SignCms(o, *chain.leaf_key).status().code(); };

  CmsSignOptions no_cert = OptionsFor(chain, content, true);
  no_cert.signer_cert = nullptr;
  EXPECT_EQ(code(no_cert), Code::kInvalidArgument);

  CmsSignOptions wrong_cert = OptionsFor(chain, content, true);
  wrong_cert.signer_cert = chain.ca.get();  // not the leaf key's certificate
  EXPECT_EQ(code(wrong_cert), Code::kInvalidArgument);
  EXPECT_EQ(
      PreparedCms::Prepare(OptionsFor(chain, content, true), SignatureAlgorithm::kRsaPkcs1Sha256)
          .status()
          .code(),
      Code::kInvalidArgument);  // an EC certificate cannot carry an RSA signature

  const Bytes short_digest(20, 0xab);
  CmsSignOptions bad_digest = OptionsFor(chain, {}, true);
  bad_digest.content_digest = short_digest;
  EXPECT_EQ(code(bad_digest), Code::kInvalidArgument);
  const Bytes digest(32, 0xab);
  CmsSignOptions attached_digest = OptionsFor(chain, {}, false);
  attached_digest.content_digest = digest;
  EXPECT_EQ(code(attached_digest), Code::kInvalidArgument);
  CmsSignOptions digest_and_content = OptionsFor(chain, content, true);
  digest_and_content.content_digest = digest;
  EXPECT_EQ(code(digest_and_content), Code::kInvalidArgument);

  CmsSignOptions null_chain = OptionsFor(chain, content, true);
  null_chain.extra_certs.push_back(nullptr);
  EXPECT_EQ(code(null_chain), Code::kInvalidArgument);
  CmsSignOptions long_chain = OptionsFor(chain, content, true);
  long_chain.extra_certs.assign(kMaxCmsCertificates, chain.ca.get());
  EXPECT_EQ(code(long_chain), Code::kInvalidArgument);

  static constexpr uint8_t kBadOid[] = {0x2a, 0x86};  // ends inside a subidentifier
  CmsSignOptions bad_type = OptionsFor(chain, content, true);
  bad_type.content_type_oid_body = kBadOid;
  EXPECT_EQ(code(bad_type), Code::kInvalidArgument);
}

TEST(CmsSignTest, FinishRefusesWrongSignatureAndBadUnsignedAttributes) {
  Chain chain = MakeChain(SignatureAlgorithm::kEcdsaSha256);
  const CmsSignOptions o = OptionsFor(chain, AsBytes(kContent), true);
  auto finish = [&](std::optional<Bytes> signature, std::vector<Bytes> attrs) {
    Result<PreparedCms> p = PreparedCms::Prepare(o, chain.leaf_key->algorithm());
    EXPECT_TRUE(p.ok());
    const Bytes sig = signature ? *signature : *chain.leaf_key->Sign(p->SignedAttributesDer());
    return std::move(*p).Finish(sig, attrs).status().code();
  };
  EXPECT_EQ(finish(std::nullopt, {}), Code::kOk);
  // A signature over other bytes (a token that signed the wrong thing) is caught here.
  EXPECT_EQ(finish(*chain.leaf_key->Sign(AsBytes("other")), {}), Code::kInvalidArgument);
  EXPECT_EQ(finish(Bytes{}, {}), Code::kInvalidArgument);
  EXPECT_EQ(finish(Bytes(kMaxCmsSignatureLen + 1, 0x30), {}), Code::kInvalidArgument);

  DerWriter null_value;
  null_value.Null();
  const Bytes good = CmsAttributeDer(kOidSignatureTimeStampToken, std::move(null_value).Finish());
  EXPECT_EQ(finish(std::nullopt, {good}), Code::kOk);
  EXPECT_EQ(finish(std::nullopt, {Bytes{0x30, 0x00}}), Code::kInvalidArgument);
  Bytes trailing = good;
  trailing.push_back(0x00);
  EXPECT_EQ(finish(std::nullopt, {trailing}), Code::kInvalidArgument);
  const ByteSpan garbage = AsBytes("garbage");
  EXPECT_EQ(finish(std::nullopt, {Bytes(garbage.begin(), garbage.end())}), Code::kInvalidArgument);
  static constexpr uint8_t kOidContentType[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                0x0d, 0x01, 0x09, 0x03};
  DerWriter oid_value;
  oid_value.Oid(kOidIdData);
  EXPECT_EQ(finish(std::nullopt, {CmsAttributeDer(kOidContentType, std::move(oid_value).Finish())}),
            Code::kInvalidArgument);  // RFC 5652 11.1: contentType is signed only
  const Bytes huge(kMaxCmsUnsignedAttributeLen, 0x00);
  EXPECT_EQ(finish(std::nullopt, {CmsAttributeDer(kOidSignatureTimeStampToken, huge)}),
            Code::kInvalidArgument);
  EXPECT_EQ(finish(std::nullopt, std::vector<Bytes>(kMaxCmsUnsignedAttributes + 1, good)),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::pkix
