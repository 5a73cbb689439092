#include "kyso/sign/pdf_signer.h"

#include <gtest/gtest.h>

#include "kyso/base/mutate_testing.h"
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <zlib.h>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "kyso/base/temp_dir.h"
#include "kyso/pkix/testing.h"
#include "kyso/sign/testing.h"

namespace kyso::sign {
namespace {

using pkix::KeySigner;
using pkix::testutil::MakeTestCert;

const Time kSigningTime = Utc(2026, 11, 25, 3, 4, 5);

using testing::MakePdf;

// CertifiedPdf is MakePdf(false) with a DocMDP certification that allows no change.
Bytes CertifiedPdf() {
  const Bytes plain = MakePdf(false);
  QPDF pdf;
  pdf.processMemoryFile("plain", reinterpret_cast<const char*>(plain.data()), plain.size());
  pdf.getRoot().replaceKey(
      "/Perms", QPDFObjectHandle::parse("<< /DocMDP << /Type /Sig /Reference [ << /Type /SigRef "
                                        "/TransformMethod /DocMDP /TransformParams << /P 1 "
                                        "/V /1.2 >> >> ] >> >>"));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  return Bytes(buf->getBuffer(), buf->getBuffer() + buf->getSize());
}

// Identity is a certificate with its key; Pki is a root CA and two leaves under it.
struct Identity {
  std::unique_ptr<KeySigner> signer;
  ossl::UniquePtr<X509> cert;
};
struct Pki {
  std::unique_ptr<KeySigner> root_key;
  ossl::UniquePtr<X509> root;
  Identity rsa;
  Identity ec;
};

Identity MakeLeaf(Pki& pki, const char* spec, const char* cn) {
  Identity id;
  id.signer = std::move(KeySigner::Generate(spec)).value();
  id.cert = MakeTestCert(*pki.root_key, pki.root.get(), id.signer->public_key(), cn, false);
  return id;
}

const Pki& TestPki() {
  static Pki* pki = [] {
    auto* p = new Pki;
    p->root_key = std::move(KeySigner::Generate("ec-p256")).value();
    p->root = MakeTestCert(*p->root_key, nullptr, p->root_key->public_key(), "Kyso PAdES Test Root",
                           true);
    p->rsa = MakeLeaf(*p, "rsa-2048", "Nguyễn Văn Ấn");
    p->ec = MakeLeaf(*p, "ec-p256", "Trần Thị Bình");
    return p;
  }();
  return *pki;
}

PdfSignOptions OptionsFor(const Identity& id) {
  PdfSignOptions o;
  o.signer_cert = id.cert.get();
  o.extra_certs = {TestPki().root.get()};
  o.signing_time = kSigningTime;
  o.reason = "Phê duyệt";
  o.location = "Đồng Nai";
  return o;
}

Result<Bytes> Sign(ByteSpan pdf, const Identity& id, PdfSignOptions o) {
  return SignPdf(pdf, o, *id.signer);
}
Result<Bytes> Sign(ByteSpan pdf, const Identity& id) { return Sign(pdf, id, OptionsFor(id)); }

bool StartsWith(ByteSpan whole, ByteSpan prefix) {
  return whole.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), whole.begin());
}

void WriteFile(const std::filesystem::path& path, ByteSpan data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string ReadText(const std::filesystem::path& path) {
  const Bytes b = ReadFile(path);
  return std::string(AsString(b));
}

void WritePem(const std::filesystem::path& path, X509* cert) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "w"));
  ASSERT_TRUE(bio && PEM_write_bio_X509(bio.get(), cert) == 1);
}

bool HaveTool(const char* tool) {
  return std::system(("command -v " + std::string(tool) + " >/dev/null 2>&1").c_str()) == 0;
}

int CountOf(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// Judges runs the tools kyso did not write on files in a temp folder: qpdf --check, and
// pdfsig with an NSS database that trusts the test root.
class Judges {
 public:
  Judges() {
    WritePem(dir_ / "root.pem", TestPki().root.get());
    std::filesystem::create_directory(dir_ / "nss");
    nss_ok_ = HaveTool("certutil") &&
              Run("certutil -N --empty-password -d nss && "
                  "certutil -A -n root -t CT,C,C -i root.pem -d nss") == 0;
  }
  const TempDir& dir() const { return dir_; }

  // Run runs `cmd` in the folder; stdout and stderr go to out.txt.
  int Run(const std::string& cmd) const {
    const std::string line = "cd '" + dir_.path().string() + "' && (" + cmd + ") >out.txt 2>&1";
    const int rc = std::system(line.c_str());
    return rc == -1 ? -1 : WEXITSTATUS(rc);
  }
  std::string Output() const { return ReadText(dir_ / "out.txt"); }

  // QpdfCheck passes when qpdf finds no syntax, stream or cross-reference error.
  void QpdfCheck(ByteSpan pdf) const {
    WriteFile(dir_ / "check.pdf", pdf);
    EXPECT_EQ(Run("qpdf --check check.pdf"), 0) << Output();
    EXPECT_NE(Output().find("No syntax or stream encoding errors"), std::string::npos) << Output();
  }

  // PdfsigValid expects `num_sigs` signatures, each "Signature is Valid" and its certificate
  // trusted by the NSS database; with `last_covers_all` the last one covers the whole file
  // (not so once a DSS or document timestamp follows it).
  void PdfsigValid(ByteSpan pdf, int num_sigs, bool last_covers_all = true) const {
    ASSERT_TRUE(nss_ok_) << "certutil failed";
    WriteFile(dir_ / "sig.pdf", pdf);
    Run("pdfsig -nssdir nss sig.pdf");
    const std::string out = Output();
    EXPECT_EQ(CountOf(out, "Signature #"), num_sigs) << out;
    EXPECT_EQ(CountOf(out, "Signature is Valid."), num_sigs) << out;
    EXPECT_EQ(CountOf(out, "Certificate is Trusted."), num_sigs) << out;
    EXPECT_EQ(CountOf(out, "Total document signed"), last_covers_all ? 1 : 0) << out;
  }

 private:
  TempDir dir_{"kyso-pades"};
  bool nss_ok_ = false;
};

bool HaveJudges() { return HaveTool("qpdf") && HaveTool("pdfsig") && HaveTool("certutil"); }

class PdfSignerXrefTest : public ::testing::TestWithParam<bool /*xref_stream*/> {};

TEST_P(PdfSignerXrefTest, SignedOutputBeginsWithInputAndIsValid) {
  const Bytes input = MakePdf(GetParam());
  ASSERT_EQ(AsString(input).find("/XRef") != std::string_view::npos, GetParam());
  for (const Identity* id : {&TestPki().rsa, &TestPki().ec}) {
    auto signed_pdf = Sign(input, *id);
    ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status().ToString();
    EXPECT_TRUE(StartsWith(*signed_pdf, input));
    EXPECT_EQ(AsString(*signed_pdf).find("/signingTime"), std::string_view::npos);
    if (!HaveJudges()) GTEST_SKIP() << "qpdf, pdfsig or certutil not installed";
    Judges judges;
    judges.QpdfCheck(*signed_pdf);
    judges.PdfsigValid(*signed_pdf, 1);
  }
}

TEST_P(PdfSignerXrefTest, TwoSignaturesByTwoCertificatesBothValid) {
  const Bytes input = MakePdf(GetParam(), 2);
  auto first = Sign(input, TestPki().rsa);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  PdfSignOptions second_options = OptionsFor(TestPki().ec);
  second_options.page = 2;
  second_options.rect = PdfRect{300, 100, 200, 80};
  auto second = Sign(*first, TestPki().ec, second_options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(StartsWith(*second, *first));
  EXPECT_NE(AsString(*second).find("/T (Signature2)"), std::string_view::npos);
  if (!HaveJudges()) GTEST_SKIP() << "qpdf, pdfsig or certutil not installed";
  Judges judges;
  judges.QpdfCheck(*second);
  judges.PdfsigValid(*second, 2);
}

TEST_P(PdfSignerXrefTest, ThreeSignaturesInSequence) {
  Bytes pdf = MakePdf(GetParam());
  for (int i = 0; i < 3; ++i) {
    auto next = Sign(pdf, i % 2 ? TestPki().ec : TestPki().rsa);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_TRUE(StartsWith(*next, pdf));
    pdf = std::move(next).value();
  }
  if (!HaveJudges()) GTEST_SKIP() << "qpdf, pdfsig or certutil not installed";
  Judges judges;
  judges.QpdfCheck(pdf);
  WriteFile(judges.dir() / "sig.pdf", pdf);
  judges.Run("pdfsig -nssdir nss sig.pdf");
  EXPECT_EQ(CountOf(judges.Output(), "Signature #"), 3) << judges.Output();
}

// WriteOtherSigner makes an RSA key and a certificate from the test root for another tool,
// as other.pem and other.key in the judges' folder.
void WriteOtherSigner(const Judges& judges) {
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  Pki& pki = const_cast<Pki&>(TestPki());
  auto cert = MakeTestCert(*pki.root_key, pki.root.get(), key.get(), "Lê Văn Cường", false);
  WritePem(judges.dir() / "other.pem", cert.get());
  ossl::UniquePtr<BIO> bio(BIO_new_file((judges.dir() / "other.key").c_str(), "w"));
  ASSERT_TRUE(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) == 1);
}

// SignAfter signs `first_signed` with kyso and expects both signatures valid and trusted.
void SignAfter(const Judges& judges, const Bytes& first_signed) {
  judges.PdfsigValid(first_signed, 1);
  auto signed_pdf = Sign(first_signed, TestPki().ec);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status().ToString();
  EXPECT_TRUE(StartsWith(*signed_pdf, first_signed));
  judges.QpdfCheck(*signed_pdf);
  judges.PdfsigValid(*signed_pdf, 2);
}

// An earlier signature by another tool stays valid after kyso signs (incremental update).
TEST_P(PdfSignerXrefTest, PodofosignSignatureStaysValid) {
  if (!HaveJudges() || !HaveTool("podofosign")) GTEST_SKIP() << "podofosign/pdfsig not installed";
  Judges judges;
  WriteOtherSigner(judges);
  WriteFile(judges.dir() / "in.pdf", MakePdf(GetParam()));
  ASSERT_EQ(judges.Run("podofosign -in in.pdf -out other.pdf -cert other.pem -pkey other.key "
                       "-digest SHA256"),
            0)
      << judges.Output();
  SignAfter(judges, ReadFile(judges.dir() / "other.pdf"));
}

// pdfsig 22.12 signs with RSA keys only (an EC key fails "unable update signature").
TEST_P(PdfSignerXrefTest, PdfsigSignatureStaysValid) {
  if (!HaveJudges() || !HaveTool("pk12util") || !HaveTool("openssl")) {
    GTEST_SKIP() << "pdfsig, pk12util or openssl not installed";
  }
  Judges judges;
  WriteOtherSigner(judges);
  WriteFile(judges.dir() / "in.pdf", MakePdf(GetParam()));
  ASSERT_EQ(judges.Run("openssl pkcs12 -export -in other.pem -inkey other.key -out other.p12 "
                       "-passout pass:x -name other && pk12util -i other.p12 -d nss -W x && "
                       "pdfsig -nssdir nss -add-signature -nick other -digest SHA256 in.pdf "
                       "other.pdf"),
            0)
      << judges.Output();
  SignAfter(judges, ReadFile(judges.dir() / "other.pdf"));
}

// A linearized file's last startxref names the first-page section, whose /Prev chains on.
TEST_P(PdfSignerXrefTest, LinearizedInput) {
  const Bytes input = MakePdf(GetParam(), 3, /*linearize=*/true);
  ASSERT_NE(AsString(input).find("/Linearized"), std::string_view::npos);
  auto first = Sign(input, TestPki().rsa);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Sign(*first, TestPki().ec);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(StartsWith(*second, input));
  if (!HaveJudges()) GTEST_SKIP() << "qpdf, pdfsig or certutil not installed";
  Judges judges;
  judges.QpdfCheck(*second);
  judges.PdfsigValid(*second, 2);
}

// The judges are real: one changed byte inside the signed range makes pdfsig complain.
TEST_P(PdfSignerXrefTest, JudgeSeesTampering) {
  if (!HaveJudges()) GTEST_SKIP() << "qpdf, pdfsig or certutil not installed";
  const Bytes input = MakePdf(GetParam());
  auto signed_pdf = Sign(input, TestPki().ec);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status().ToString();
  Bytes tampered = *signed_pdf;
  // Change a byte the signature covers: the MediaBox when it is in plain text, else a byte of
  // the header's comment line. Only the input's bytes are searched: "595" can also occur in
  // the hex of /Contents, which the signature does not cover (that made this test flaky).
  const std::size_t box = AsString(ByteSpan(tampered).first(input.size())).find("595");
  const std::size_t at = box != std::string::npos ? box + 2 : 10;
  ASSERT_LT(at, input.size());
  tampered[at] = tampered[at] == '4' ? '3' : '4';
  Judges judges;
  WriteFile(judges.dir() / "sig.pdf", tampered);
  judges.Run("pdfsig -nssdir nss sig.pdf");
  EXPECT_EQ(CountOf(judges.Output(), "Signature #"), 1) << judges.Output();
  EXPECT_EQ(CountOf(judges.Output(), "Signature is Valid."), 0) << judges.Output();
}

INSTANTIATE_TEST_SUITE_P(Xref, PdfSignerXrefTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "Stream" : "Table");
                         });

std::vector<std::string> ValidationLines(const std::string& pdfsig_out) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while ((at = pdfsig_out.find("Signature Validation: ", at)) != std::string::npos) {
    at += 22;
    lines.push_back(pdfsig_out.substr(at, pdfsig_out.find('\n', at) - at));
  }
  return lines;
}

// EU DSS's PAdES samples (real-world and attack PDFs, ../shared/testdata): kyso signs each one
// it accepts without changing what pdfsig says of the signatures already there, and its own
// signature is valid; the others (damaged, encrypted, certified) are refused with one line.
TEST(PdfSignerTest, DssSamplesKeepTheirSignatures) {
  const std::filesystem::path corpus =
      std::filesystem::path(KYSO_SOURCE_DIR) / "../shared/testdata/dss-signatures/pades";
  if (!std::filesystem::is_directory(corpus) || !HaveTool("pdfsig")) {
    GTEST_SKIP() << "no DSS samples or no pdfsig";
  }
  Judges judges;
  int num_signed = 0, num_refused = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
    if (entry.path().extension() != ".pdf" || entry.file_size() > 2 * 1024 * 1024) continue;
    const Bytes input = ReadFile(entry.path());
    auto out = Sign(input, TestPki().ec);
    if (!out.ok()) {
      ++num_refused;
      EXPECT_EQ(out.status().message().find('\n'), std::string::npos);
      std::printf("refused %s: %s\n", entry.path().filename().c_str(),
                  out.status().ToString().c_str());
      continue;
    }
    ++num_signed;
    EXPECT_TRUE(StartsWith(*out, input));
    WriteFile(judges.dir() / "before.pdf", input);
    judges.Run("pdfsig before.pdf");
    const std::vector<std::string> before = ValidationLines(judges.Output());
    WriteFile(judges.dir() / "after.pdf", *out);
    judges.Run("pdfsig after.pdf");
    const std::vector<std::string> after = ValidationLines(judges.Output());
    ASSERT_EQ(after.size(), before.size() + 1) << entry.path() << judges.Output();
    // A valid signature stays valid and an invalid one invalid. (pdf-eof.pdf's ByteRange ends
    // one byte past the file: "not yet verified" before, a digest mismatch once bytes follow.)
    for (std::size_t i = 0; i < before.size(); ++i) {
      EXPECT_EQ(after[i] == "Signature is Valid.", before[i] == "Signature is Valid.")
          << entry.path() << " signature " << i + 1 << ": " << before[i] << " -> " << after[i];
    }
    EXPECT_EQ(after.back(), "Signature is Valid.") << entry.path();
    if (HaveTool("qpdf") && judges.Run("qpdf --check before.pdf") == 0) {
      EXPECT_EQ(judges.Run("qpdf --check after.pdf"), 0) << entry.path() << judges.Output();
    }
  }
  std::printf("DSS samples: %d signed, %d refused\n", num_signed, num_refused);
  EXPECT_GT(num_signed, 0);
}

TEST(PdfSignerTest, FieldNames) {
  const Bytes input = MakePdf(false);
  PdfSignOptions o = OptionsFor(TestPki().ec);
  o.field_name = "Giám đốc";
  auto first = Sign(input, TestPki().ec, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Sign(*first, TestPki().ec, o).status().code(), Code::kAlreadyExists);
  o.field_name = "a.b";
  EXPECT_EQ(Sign(input, TestPki().ec, o).status().code(), Code::kInvalidArgument);
  auto second = Sign(*first, TestPki().rsa);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(AsString(*second).find("/T (Signature1)"), std::string_view::npos);
}

TEST(PdfSignerTest, RefusesBadOptions) {
  const Bytes input = MakePdf(false);
  PdfSignOptions o = OptionsFor(TestPki().ec);
  o.page = 2;
  EXPECT_EQ(Sign(input, TestPki().ec, o).status().code(), Code::kInvalidArgument);
  o = OptionsFor(TestPki().ec);
  o.signing_time = Time{};
  EXPECT_EQ(Sign(input, TestPki().ec, o).status().code(), Code::kInvalidArgument);
  o = OptionsFor(TestPki().ec);
  o.rect = PdfRect{0, 0, -1, 10};
  EXPECT_EQ(Sign(input, TestPki().ec, o).status().code(), Code::kInvalidArgument);
  // The certificate of one key, the Signer of another.
  EXPECT_EQ(SignPdf(input, OptionsFor(TestPki().ec), *TestPki().rsa.signer).status().code(),
            Code::kInvalidArgument);
}

Status PrepareStatus(ByteSpan input) {
  return PreparePdf(input, OptionsFor(TestPki().ec), pkix::SignatureAlgorithm::kEcdsaSha256)
      .status();
}

TEST(PdfSignerTest, RefusesGarbageTruncatedAndEncrypted) {
  const Bytes input = MakePdf(false);
  for (ByteSpan bad : {ByteSpan{}, AsBytes("hello, world"), AsBytes("%PDF-1.7\n%%EOF\n"),
                       ByteSpan(input).first(input.size() / 2),
                       ByteSpan(input).first(input.size() - 10)}) {
    const Status s = PrepareStatus(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
  QPDF pdf;
  pdf.processMemoryFile("in", reinterpret_cast<const char*>(input.data()), input.size());
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setR6EncryptionParameters("", "owner", true, true, true, true, true, true,
                                   qpdf_r3p_full, true);
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  const Bytes encrypted(buf->getBuffer(), buf->getBuffer() + buf->getSize());
  const Status s = PrepareStatus(encrypted);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
}

TEST(PdfSignerTest, RefusesCertifiedDocumentWithNoChangesAllowed) {
  EXPECT_EQ(PrepareStatus(CertifiedPdf()).code(), Code::kFailedPrecondition);
}

TEST(PdfSignerTest, RefusesCmsLargerThanReserved) {
  const Bytes input = MakePdf(false);
  PdfSignOptions o = OptionsFor(TestPki().rsa);
  o.contents_len = 1024;  // two certificates alone are larger
  EXPECT_EQ(Sign(input, TestPki().rsa, o).status().code(), Code::kInvalidArgument);

  // The estimate passes, the real CMS (with a 20 KiB unsigned attribute) does not.
  o.contents_len = 8192;
  auto prepared = PreparePdf(input, o, TestPki().rsa.signer->algorithm());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  auto sig = TestPki().rsa.signer->Sign(prepared->SignedAttributesDer());
  ASSERT_TRUE(sig.ok());
  Bytes big_value = {0x04, 0x82, 0x50, 0x00};
  big_value.resize(4 + 0x5000, 0xab);
  const Bytes attr = pkix::CmsAttributeDer(pkix::kOidSignatureTimeStampToken, big_value);
  auto out = FinishPdf(std::move(prepared).value(), *sig, std::span<const Bytes>(&attr, 1));
  EXPECT_EQ(out.status().code(), Code::kOutOfRange) << out.status().ToString();
}

TEST(PdfSignerTest, PrepareThenFinishWithUnsignedAttribute) {
  const Bytes input = MakePdf(true);
  auto prepared =
      PreparePdf(input, OptionsFor(TestPki().ec), pkix::SignatureAlgorithm::kEcdsaSha256);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_GE(prepared->contents_len(), kDefaultTimestampRoomLen);
  EXPECT_EQ(prepared->field_name(), "Signature1");
  auto sig = TestPki().ec.signer->Sign(prepared->SignedAttributesDer());
  ASSERT_TRUE(sig.ok());
  const Bytes token = {0x04, 0x03, 1, 2, 3};  // stands in for a timestamp token
  const Bytes attr = pkix::CmsAttributeDer(pkix::kOidSignatureTimeStampToken, token);
  auto out = FinishPdf(std::move(prepared).value(), *sig, std::span<const Bytes>(&attr, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(StartsWith(*out, input));
}

// Robustness: truncated and mutated PDFs give a Status or a PDF, never a crash or a hang.
TEST(PdfSignerTest, MutatedInputsNeverCrash) {
  std::mt19937 rng(20261125);
  for (bool xref_stream : {false, true}) {
    const Bytes input = MakePdf(xref_stream, 2);
    for (std::size_t len = 0; len < input.size(); len += 7) {
      (void)PrepareStatus(ByteSpan(input).first(len));
    }
    for (int i = 0; i < 400; ++i) {
      Bytes mutated = input;
      kyso::testutil::MutatePdfLike(mutated, rng);
      (void)PrepareStatus(mutated);
    }
  }
}

// SignBt signs `pdf` at PAdES B-T: the signature value stamped by `tsa`.
Result<Bytes> SignBt(ByteSpan pdf, const Identity& id, Timestamper& tsa) {
  KYSO_ASSIGN_OR_RETURN(PreparedPdf prepared, PreparePdf(pdf, OptionsFor(id), id.signer->algorithm()));
  KYSO_ASSIGN_OR_RETURN(Bytes signature, id.signer->Sign(prepared.SignedAttributesDer()));
  Bytes digest(32);
  SHA256(signature.data(), signature.size(), digest.data());
  KYSO_ASSIGN_OR_RETURN(Bytes token, tsa.Timestamp(digest));
  const Bytes attr = pkix::CmsAttributeDer(pkix::kOidSignatureTimeStampToken, token);
  return FinishPdf(std::move(prepared), signature, std::span<const Bytes>(&attr, 1));
}

Bytes Concat(ByteSpan a, ByteSpan b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes Der(X509* cert) { return ossl::ToDer(i2d_X509, cert); }

// DssArrayLen reads the catalog's /DSS with qpdf and counts the items of `key`.
int DssArrayLen(ByteSpan pdf, const std::string& key) {
  QPDF q;
  q.processMemoryFile("dss", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  QPDFObjectHandle arr = q.getRoot().getKey("/DSS").getKey(key);
  return arr.isArray() ? arr.getArrayNItems() : -1;
}

// B-T, then B-LT (a DSS), then a second DSS that repeats an item, then B-LTA (a document
// timestamp): every step keeps the bytes before it and the signature valid, the DSS holds each
// item once, and openssl accepts the document timestamp over the ByteRange.
TEST_P(PdfSignerXrefTest, LevelsBtLtLta) {
  testing::InProcessTimestamper tsa(kSigningTime);
  const Bytes input = MakePdf(GetParam());
  auto bt = SignBt(input, TestPki().rsa, tsa);
  ASSERT_TRUE(bt.ok()) << bt.status().ToString();
  EXPECT_EQ(tsa.num_calls(), 1);

  ValidationData vd;
  vd.certificates = {Der(TestPki().rsa.cert.get()), Der(TestPki().root.get()),
                     Der(tsa.tsa_certificate())};
  auto dss = DssUpdate(*bt, vd);
  ASSERT_TRUE(dss.ok()) << dss.status().ToString();
  const Bytes lt = Concat(*bt, *dss);
  EXPECT_EQ(DssArrayLen(lt, "/Certs"), 3);
  EXPECT_NE(AsString(*dss).find("/ESIC"), std::string_view::npos);

  ValidationData more;
  more.certificates = {Der(TestPki().root.get()), Der(tsa.root())};  // one old, one new
  auto dss2 = DssUpdate(lt, more);
  ASSERT_TRUE(dss2.ok()) << dss2.status().ToString();
  const Bytes lt2 = Concat(lt, *dss2);
  EXPECT_EQ(DssArrayLen(lt2, "/Certs"), 4);

  auto prepared = PrepareDocTimestamp(lt2);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_TRUE(prepared->SignedAttributesDer().empty());
  const Bytes digest(prepared->ByteRangeDigest().begin(), prepared->ByteRangeDigest().end());
  auto token = tsa.Timestamp(digest);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto ts_update = FinishDocTimestampUpdate(std::move(*prepared), *token);
  ASSERT_TRUE(ts_update.ok()) << ts_update.status().ToString();
  const Bytes lta = Concat(lt2, *ts_update);
  EXPECT_TRUE(StartsWith(lta, input));
  EXPECT_NE(AsString(*ts_update).find("/Type /DocTimeStamp"), std::string_view::npos);
  EXPECT_NE(AsString(*ts_update).find("/SubFilter /ETSI.RFC3161"), std::string_view::npos);

  if (!HaveJudges() || !HaveTool("openssl")) GTEST_SKIP() << "qpdf, pdfsig, certutil or openssl missing";
  Judges judges;
  judges.QpdfCheck(lta);
  judges.PdfsigValid(lt2, 1, /*last_covers_all=*/false);
  // openssl hashes what the document timestamp's ByteRange covers, read back from the file.
  const std::string text(AsString(lta));
  const std::size_t br = text.rfind("/ByteRange [");
  ASSERT_NE(br, std::string::npos);
  std::size_t a = 0, b = 0, c = 0, d = 0;
  ASSERT_EQ(std::sscanf(text.c_str() + br, "/ByteRange [%zu %zu %zu %zu]", &a, &b, &c, &d), 4);
  EXPECT_EQ(c + d, lta.size());
  WriteFile(judges.dir() / "covered.bin", Concat(ByteSpan(lta).subspan(a, b), ByteSpan(lta).subspan(c, d)));
  WriteFile(judges.dir() / "token.der", *token);
  WritePem(judges.dir() / "tsa-root.pem", tsa.root());
  EXPECT_EQ(judges.Run("openssl ts -verify -in token.der -token_in -data covered.bin -CAfile tsa-root.pem"), 0)
      << judges.Output();
}

// A certification signature (DocMDP P 2) first, then an approval signature, which P 2 allows:
// both valid for pdfsig; the catalog's /Perms names the first. P 1 forbids the second; only
// the first signature may certify.
TEST_P(PdfSignerXrefTest, CertificationSignatureThenApproval) {
  const Bytes input = MakePdf(GetParam());
  PdfSignOptions o = OptionsFor(TestPki().rsa);
  o.certify = 2;
  auto certified = Sign(input, TestPki().rsa, o);
  ASSERT_TRUE(certified.ok()) << certified.status().ToString();
  EXPECT_NE(AsString(*certified).find("/TransformMethod /DocMDP"), std::string_view::npos);
  {
    QPDF q;
    q.processMemoryFile("c", reinterpret_cast<const char*>(certified->data()), certified->size());
    QPDFObjectHandle mdp = q.getRoot().getKey("/Perms").getKey("/DocMDP");
    ASSERT_TRUE(mdp.isDictionary());
    EXPECT_TRUE(mdp.getKey("/Reference").getArrayItem(0).getKey("/TransformParams").getKey("/P").getIntValue() == 2);
  }
  auto approved = Sign(*certified, TestPki().ec);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  PdfSignOptions second = OptionsFor(TestPki().ec);
  second.certify = 2;
  EXPECT_EQ(Sign(*certified, TestPki().ec, second).status().code(), Code::kFailedPrecondition);
  o.certify = 1;
  auto locked = Sign(input, TestPki().rsa, o);
  ASSERT_TRUE(locked.ok()) << locked.status().ToString();
  EXPECT_EQ(Sign(*locked, TestPki().ec).status().code(), Code::kFailedPrecondition);
  o.certify = 4;
  EXPECT_EQ(Sign(input, TestPki().rsa, o).status().code(), Code::kInvalidArgument);
  if (!HaveJudges()) GTEST_SKIP() << "qpdf, pdfsig or certutil not installed";
  Judges judges;
  judges.QpdfCheck(*approved);
  judges.PdfsigValid(*approved, 2);
}

// A field tree whose /Kids point back at their own field (4^32 paths if walked naively) is
// answered at once by every reader that walks the form.
TEST(PdfSignerTest, CyclicFieldTreeDoesNotHang) {
  const Bytes plain = MakePdf(false);
  QPDF pdf;
  pdf.processMemoryFile("plain", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFObjectHandle field = pdf.makeIndirectObject(QPDFObjectHandle::parse("<< /FT /Tx /T (loop) >>"));
  field.replaceKey("/Kids", QPDFObjectHandle::newArray({field, field, field, field}));
  pdf.getRoot().replaceKey("/AcroForm", QPDFObjectHandle::parse("<< >>"));
  pdf.getRoot().getKey("/AcroForm").replaceKey("/Fields", QPDFObjectHandle::newArray({field}));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  const Bytes cyclic(buf->getBuffer(), buf->getBuffer() + buf->getSize());
  Result<PageInfo> info = ReadPageInfo(cyclic, 1);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->document_signed);
  PdfSignOptions o = OptionsFor(TestPki().ec);
  o.certify = 2;
  auto certified = Sign(cyclic, TestPki().ec, o);
  EXPECT_TRUE(certified.ok()) << certified.status().ToString();
}

// An existing DSS item that inflates to 256 MiB is carried over, never decoded.
TEST(PdfSignerTest, DssBombIsNotDecoded) {
  const Bytes plain = MakePdf(false);
  QPDF pdf;
  pdf.processMemoryFile("plain", reinterpret_cast<const char*>(plain.data()), plain.size());
  const std::string zeros(1 << 20, '\0');
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, 9), Z_OK);
  std::string compressed(1 << 20, '\0');
  z.next_out = reinterpret_cast<Bytef*>(compressed.data());
  z.avail_out = static_cast<uInt>(compressed.size());
  for (int i = 0; i < 256; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(zeros.size());
    ASSERT_EQ(deflate(&z, i == 255 ? Z_FINISH : Z_NO_FLUSH), i == 255 ? Z_STREAM_END : Z_OK);
  }
  compressed.resize(z.total_out);
  deflateEnd(&z);
  QPDFObjectHandle bomb = QPDFObjectHandle::newStream(&pdf);
  bomb.replaceStreamData(compressed, QPDFObjectHandle::parse("/FlateDecode"), QPDFObjectHandle::newNull());
  pdf.getRoot().replaceKey("/DSS", QPDFObjectHandle::parse("<< /Type /DSS >>"));
  pdf.getRoot().getKey("/DSS").replaceKey("/Certs", QPDFObjectHandle::newArray({bomb}));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setCompressStreams(false);
  writer.setDecodeLevel(qpdf_dl_none);
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  const Bytes with_bomb(buf->getBuffer(), buf->getBuffer() + buf->getSize());
  ASSERT_LT(with_bomb.size(), 2u << 20);
  ValidationData vd;
  vd.certificates = {Der(TestPki().root.get())};
  auto update = DssUpdate(with_bomb, vd);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_LT(update->size(), 8u << 10);
  EXPECT_EQ(DssArrayLen(Concat(with_bomb, *update), "/Certs"), 2);
}

// ISO 32000-2 12.8.2.2.1: a DSS and a document timestamp are allowed after a certification
// that allows no change (P 1); a new signature is not.
TEST(PdfSignerTest, CertifiedNoChangesStillTakesDssAndDocTimestamp) {
  PdfSignOptions o = OptionsFor(TestPki().rsa);
  o.certify = 1;
  auto certified = Sign(MakePdf(false), TestPki().rsa, o);
  ASSERT_TRUE(certified.ok()) << certified.status().ToString();
  EXPECT_EQ(Sign(*certified, TestPki().ec).status().code(), Code::kFailedPrecondition);
  ValidationData vd;
  vd.certificates = {Der(TestPki().root.get())};
  auto dss = DssUpdate(*certified, vd);
  ASSERT_TRUE(dss.ok()) << dss.status().ToString();
  EXPECT_TRUE(PrepareDocTimestamp(Concat(*certified, *dss)).ok());
}

TEST(PdfSignerTest, DocTimestampAndDssRefusals) {
  const Bytes input = MakePdf(false);
  auto prepared = PrepareDocTimestamp(input, "", 0);
  EXPECT_EQ(prepared.status().code(), Code::kInvalidArgument);
  prepared = PrepareDocTimestamp(input, "", 64);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(FinishDocTimestampUpdate(std::move(*prepared), Bytes(100, 0x30)).status().code(),
            Code::kInvalidArgument);  // not one DER SEQUENCE
  prepared = PrepareDocTimestamp(input, "", 64);
  ASSERT_TRUE(prepared.ok());
  Bytes big = {0x30, 0x81, 0x80};
  big.resize(0x83, 0);
  EXPECT_EQ(FinishDocTimestampUpdate(std::move(*prepared), big).status().code(), Code::kOutOfRange);
  ValidationData bad;
  bad.crls = {Bytes{1, 2, 3}};
  EXPECT_EQ(DssUpdate(input, bad).status().code(), Code::kInvalidArgument);
  ValidationData many;
  many.certificates.assign(kMaxValidationDataItems + 1, Der(TestPki().root.get()));
  EXPECT_EQ(DssUpdate(input, many).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(DssUpdate(AsBytes(std::string_view("not a pdf")), {}).status().code(), Code::kInvalidArgument);
}

TEST(PdfSignerTest, PdfDateIsVietnamTime) {
  EXPECT_EQ(FormatPdfDate(Utc(2026, 12, 31, 20, 1, 2)), "D:20270101030102+07'00'");
}

TEST(PdfSignerTest, PdfTextString) {
  EXPECT_EQ(*PdfTextString("a(b)\\"), "(a\\(b\\)\\\\)");
  EXPECT_EQ(*PdfTextString("Ấn"), "<feff1ea4006e>");
  EXPECT_EQ(*PdfTextString("\xf0\x9f\x98\x80"), "<feffd83dde00>");
  EXPECT_EQ(PdfTextString("\xc3").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PdfTextString("\xc0\x80").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kyso::sign
