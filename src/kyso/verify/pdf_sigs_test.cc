#include "kyso/verify/pdf_sigs.h"
#include "kyso/verify/prefix_digest.h"

#include <gtest/gtest.h>

#include "kyso/base/mutate_testing.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>
#include <random>
#include <string>

#include "kyso/pkix/testing.h"
#include "kyso/sign/pdf_signer.h"
#include "kyso/sign/testing.h"

namespace kyso::verify {
namespace {

using pkix::KeySigner;
using pkix::testutil::MakeTestCert;

const Time kSigningTime = Utc(2026, 11, 25, 3, 4, 5);

using sign::testing::MakePdf;

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

const Pki& TestPki() {
  static Pki* pki = [] {
    auto* p = new Pki;
    p->root_key = std::move(KeySigner::Generate("ec-p256")).value();
    p->root =
        MakeTestCert(*p->root_key, nullptr, p->root_key->public_key(), "Kyso Verify Root", true);
    for (auto [id, spec, cn] : {std::tuple{&p->rsa, "rsa-2048", "Nguyễn Văn Ấn"},
                                std::tuple{&p->ec, "ec-p256", "Trần Thị Bình"}}) {
      id->signer = std::move(KeySigner::Generate(spec)).value();
      id->cert = MakeTestCert(*p->root_key, p->root.get(), id->signer->public_key(), cn, false);
    }
    return p;
  }();
  return *pki;
}

sign::PdfSignOptions OptionsFor(const Identity& id, const std::string& field) {
  sign::PdfSignOptions o;
  o.signer_cert = id.cert.get();
  o.extra_certs = {TestPki().root.get()};
  o.signing_time = kSigningTime;
  o.field_name = field;
  o.reason = "Phê duyệt";
  return o;
}

Bytes Sign(ByteSpan pdf, const Identity& id, const std::string& field, int certify = 0) {
  sign::PdfSignOptions o = OptionsFor(id, field);
  o.certify = certify;
  auto r = sign::SignPdf(pdf, o, *id.signer);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Bytes();
}

Bytes Concat(ByteSpan a, ByteSpan b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes Der(X509* cert) { return ossl::ToDer(i2d_X509, cert); }

Bytes AddDss(ByteSpan pdf, const std::vector<Bytes>& certs) {
  sign::ValidationData vd;
  vd.certificates = certs;
  auto update = sign::DssUpdate(pdf, vd);
  EXPECT_TRUE(update.ok()) << update.status().ToString();
  return update.ok() ? Concat(pdf, *update) : Bytes();
}

Bytes AddDocTimestamp(ByteSpan pdf, sign::testing::InProcessTimestamper& tsa) {
  auto prepared = sign::PrepareDocTimestamp(pdf, "Archive");
  EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
  if (!prepared.ok()) return {};
  const Bytes digest(prepared->ByteRangeDigest().begin(), prepared->ByteRangeDigest().end());
  auto token = tsa.Timestamp(digest);
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  auto update = sign::FinishDocTimestampUpdate(std::move(*prepared), *token);
  EXPECT_TRUE(update.ok()) << update.status().ToString();
  return update.ok() ? Concat(pdf, *update) : Bytes();
}

void ExpectIntact(const PdfSignature& s) {
  EXPECT_TRUE(s.byte_range_ok) << s.field_name << ": " << s.byte_range_problem;
  EXPECT_TRUE(s.hash_ok) << s.field_name << ": " << s.crypto_problem;
  EXPECT_TRUE(s.signature_ok) << s.field_name << ": " << s.crypto_problem;
  EXPECT_TRUE(s.crypto_problem.empty()) << s.crypto_problem;
  EXPECT_FALSE(s.cms_der.empty());
  EXPECT_NE(s.signer_cert, nullptr);
}

std::string Describe(const PdfRevisionChange& c) {
  std::string out = "revision " + std::to_string(c.revision) + " " + c.klass +
                    (c.allowed ? " allowed" : " not allowed") + " " + c.attack;
  for (const std::string& d : c.details) out += "\n  " + d;
  return out;
}

// What ReadPdfSignatures finds about the revisions after each signature, in words, for
// comparing two readings.
std::string Changes(const Result<PdfSignatures>& read) {
  if (!read.ok()) return "error: " + read.status().ToString();
  std::string out = std::to_string(read->revisions) + " revisions\n";
  for (const PdfSignature& s : read->signatures) {
    out += s.field_name + " revision " + std::to_string(s.revision) + "\n";
    for (const PdfRevisionChange& c : s.modifications_after) out += Describe(c) + "\n";
  }
  return out;
}

// OnlyChange reads `pdf` twice, reusing walks across revisions and walking each afresh,
// expects the same from both, one intact signature and one revision after it, and returns that
// revision's change.
PdfRevisionChange OnlyChange(ByteSpan pdf) {
  auto reused = ReadPdfSignatures(pdf);
  auto afresh = ReadPdfSignaturesWalkingEveryRevision(pdf);
  EXPECT_TRUE(reused.ok()) << reused.status().ToString();
  if (!reused.ok()) return {};
  EXPECT_EQ(Changes(reused), Changes(afresh));
  if (reused->signatures.size() != 1 || reused->signatures[0].modifications_after.size() != 1) {
    ADD_FAILURE() << "not one signature with one later revision:\n" << Changes(reused);
    return {};
  }
  ExpectIntact(reused->signatures[0]);
  return reused->signatures[0].modifications_after[0];
}

class PdfSigsXrefTest : public ::testing::TestWithParam<bool /*xref_stream*/> {};

// Two signatures, a DSS and a document timestamp (B-LTA): every signature intact, revisions
// numbered, only the last covering the whole file, and every later revision allowed.
TEST_P(PdfSigsXrefTest, SignaturesDssAndDocTimestamp) {
  sign::testing::InProcessTimestamper tsa(kSigningTime);
  const Bytes input = MakePdf(GetParam());
  const Bytes one = Sign(input, TestPki().rsa, "NguoiKy");
  const Bytes two = Sign(one, TestPki().ec, "CoQuan");
  const Bytes lt = AddDss(two, {Der(TestPki().rsa.cert.get()), Der(TestPki().ec.cert.get()),
                                Der(TestPki().root.get())});
  const Bytes lta = AddDocTimestamp(lt, tsa);
  ASSERT_FALSE(lta.empty());

  auto read = ReadPdfSignatures(lta);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->revisions, 5);
  EXPECT_EQ(read->unreferenced_signatures, 0);
  EXPECT_EQ(read->dss.certs.size(), 3u);
  ASSERT_EQ(read->signatures.size(), 3u);
  const PdfSignature& a = read->signatures[0];
  const PdfSignature& b = read->signatures[1];
  const PdfSignature& t = read->signatures[2];
  EXPECT_EQ(a.field_name, "NguoiKy");
  EXPECT_EQ(b.field_name, "CoQuan");
  EXPECT_EQ(t.field_name, "Archive");
  EXPECT_EQ(a.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(b.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(t.sub_filter, "ETSI.RFC3161");
  EXPECT_FALSE(a.doc_timestamp);
  EXPECT_TRUE(t.doc_timestamp);
  EXPECT_EQ(a.revision, 2);
  EXPECT_EQ(b.revision, 3);
  EXPECT_EQ(t.revision, 5);
  EXPECT_FALSE(a.covers_whole_document);
  EXPECT_FALSE(b.covers_whole_document);
  EXPECT_TRUE(t.covers_whole_document);
  for (const PdfSignature* s : {&a, &b, &t}) ExpectIntact(*s);
  EXPECT_EQ(X509_cmp(a.signer_cert.get(), TestPki().rsa.cert.get()), 0);
  EXPECT_EQ(X509_cmp(b.signer_cert.get(), TestPki().ec.cert.get()), 0);
  EXPECT_EQ(X509_cmp(t.signer_cert.get(), tsa.tsa_certificate()), 0);
  EXPECT_EQ(a.cms_certs.size(), 2u);
  ASSERT_TRUE(a.claimed_signing_time.has_value());
  EXPECT_EQ(*a.claimed_signing_time, kSigningTime);  // /M, since PAdES has no signingTime
  EXPECT_EQ(a.byte_range[0], 0);
  EXPECT_EQ(t.byte_range[2] + t.byte_range[3], static_cast<long long>(lta.size()));

  ASSERT_EQ(a.modifications_after.size(), 3u);
  const char* want[] = {"signature", "dss", "timestamp"};
  for (std::size_t i = 0; i < 3; ++i) {
    const PdfRevisionChange& c = a.modifications_after[i];
    EXPECT_EQ(c.revision, static_cast<int>(i) + 3);
    EXPECT_EQ(c.klass, want[i]) << Describe(c);
    EXPECT_TRUE(c.allowed) << Describe(c);
    EXPECT_TRUE(c.attack.empty()) << Describe(c);
  }
  ASSERT_EQ(b.modifications_after.size(), 2u);
  EXPECT_EQ(b.modifications_after[0].klass, "dss");
  EXPECT_TRUE(t.modifications_after.empty());
}

// A byte changed in the page content, inside the signed range: the hash fails, the signature
// over the signed attributes still verifies, the ByteRange itself is fine.
// A digest resumed from the SHA-256 states PrefixDigest kept while the file was read judges
// exactly as hashing from the start: intact passes, a flipped byte fails.
TEST_P(PdfSigsXrefTest, PrefixDigestGivesTheSameVerdicts) {
  Bytes pdf = Sign(MakePdf(GetParam()), TestPki().rsa, "NguoiKy");
  ASSERT_FALSE(pdf.empty());
  for (bool flip : {false, true}) {
    Bytes copy = pdf;
    if (flip) copy[AsString(copy).find('\n') + 2] ^= 0x01;
    PrefixDigest prefix;
    prefix.Ready(ByteSpan(copy).first(copy.size() / 3));
    prefix.Ready(copy);
    prefix.Finish();
    auto read = ReadPdfSignatures(copy, &prefix);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->signatures.size(), 1u);
    EXPECT_EQ(read->signatures[0].hash_ok, !flip);
    EXPECT_TRUE(read->signatures[0].signature_ok) << read->signatures[0].crypto_problem;
  }
}

TEST_P(PdfSigsXrefTest, FlippedByteIsHashFailure) {
  Bytes pdf = Sign(MakePdf(GetParam()), TestPki().rsa, "NguoiKy");
  ASSERT_FALSE(pdf.empty());
  // qpdf compresses the page's text: flip a byte of the binary comment after the header,
  // which is inside the signed range and harmless to the syntax.
  const std::size_t at = AsString(pdf).find('\n') + 2;
  ASSERT_LT(at, 20u);
  pdf[at] ^= 0x01;
  auto read = ReadPdfSignatures(pdf);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  const PdfSignature& s = read->signatures[0];
  EXPECT_TRUE(s.byte_range_ok) << s.byte_range_problem;
  EXPECT_FALSE(s.hash_ok);
  EXPECT_TRUE(s.signature_ok) << s.crypto_problem;
  EXPECT_FALSE(s.crypto_problem.empty());
}

INSTANTIATE_TEST_SUITE_P(Xref, PdfSigsXrefTest, ::testing::Bool());

// PageObjects gives the object numbers of page 1 and of its content stream, the catalog, the
// trailer /Size and the last startxref offset of `pdf`.
struct PdfFacts {
  int page = 0, contents = 0, root = 0, size = 0;
  long long startxref = 0;
};
PdfFacts FactsOf(ByteSpan pdf) {
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  PdfFacts f;
  QPDFObjectHandle page = q.getAllPages().at(0);
  f.page = page.getObjectID();
  f.contents = page.getKey("/Contents").getObjectID();
  f.root = q.getRoot().getObjectID();
  f.size = static_cast<int>(q.getTrailer().getKey("/Size").getIntValue());
  const std::string_view text = AsString(pdf);
  const std::size_t at = text.rfind("startxref");
  f.startxref = std::stoll(std::string(text.substr(at + 9, 24)));
  return f;
}

// AppendUpdate appends an incremental update (classic cross-reference table) that gives each
// object number its new body.
Bytes AppendUpdate(ByteSpan pdf, const std::vector<std::pair<int, std::string>>& objects) {
  const PdfFacts f = FactsOf(pdf);
  std::string update = "\n";
  std::string xref = "xref\n";
  int size = f.size;
  for (const auto& [num, body] : objects) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", pdf.size() + update.size());
    xref += std::to_string(num) + " 1\n" + entry;
    update += std::to_string(num) + " 0 obj\n" + body + "\nendobj\n";
    size = std::max(size, num + 1);
  }
  const std::size_t xref_at = pdf.size() + update.size();
  update += xref;
  update += "trailer\n<< /Size " + std::to_string(size) + " /Root " + std::to_string(f.root) +
            " 0 R /Prev " + std::to_string(f.startxref) + " >>\nstartxref\n" +
            std::to_string(xref_at) + "\n%%EOF\n";
  return Concat(pdf, AsBytes(update));
}
Bytes AppendUpdate(ByteSpan pdf, int num, const std::string& body) {
  return AppendUpdate(pdf, {{num, body}});
}

// AddTextAnnotation appends a sticky note on page 1: a new annotation object and a new
// version of the page whose /Annots lists it after what was there.
Bytes AddTextAnnotation(ByteSpan pdf) {
  const PdfFacts f = FactsOf(pdf);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  QPDFObjectHandle annots = page.getKey("/Annots");
  std::string list = "[";
  if (annots.isArray()) {
    for (QPDFObjectHandle a : annots.getArrayAsVector()) list += a.unparse() + " ";
  }
  list += std::to_string(f.size) + " 0 R]";
  page.removeKey("/Annots");
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " /Annots " + list + " ");
  return AppendUpdate(pdf, {{f.size,
                             "<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] "
                             "/Contents (Da xem) >>"},
                            {f.page, body}});
}

// The incremental saving attack: a new version of the page's content stream after the
// signature keeps the signature's cryptographic result but is page_content, not allowed.
TEST(PdfSigsTest, PageContentChangeAfterSignatureIsNotAllowed) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().rsa, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfFacts f = FactsOf(signed_pdf);
  const std::string text = "BT /F1 18 Tf 72 760 Td (Quyet dinh so 999) Tj ET\n";
  const Bytes attacked = AppendUpdate(
      signed_pdf, f.contents,
      "<< /Length " + std::to_string(text.size()) + " >>\nstream\n" + text + "endstream");
  auto read = ReadPdfSignatures(attacked);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->revisions, 3);
  ASSERT_EQ(read->signatures.size(), 1u);
  const PdfSignature& s = read->signatures[0];
  ExpectIntact(s);
  EXPECT_FALSE(s.covers_whole_document);
  ASSERT_EQ(s.modifications_after.size(), 1u);
  const PdfRevisionChange& c = s.modifications_after[0];
  EXPECT_EQ(c.revision, 3);
  EXPECT_EQ(c.klass, "page_content") << Describe(c);
  EXPECT_FALSE(c.allowed);
  EXPECT_FALSE(c.attack.empty());

  // A page dictionary that points to another content stream is page_content too.
  const Bytes attacked2 =
      AppendUpdate(signed_pdf, f.page,
                   "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents " +
                       std::to_string(f.contents) + " 0 R /Rotate 90 >>");
  auto read2 = ReadPdfSignatures(attacked2);
  ASSERT_TRUE(read2.ok()) << read2.status().ToString();
  ASSERT_EQ(read2->signatures.size(), 1u);
  ASSERT_EQ(read2->signatures[0].modifications_after.size(), 1u);
  EXPECT_EQ(read2->signatures[0].modifications_after[0].klass, "page_content")
      << Describe(read2->signatures[0].modifications_after[0]);
  EXPECT_FALSE(read2->signatures[0].modifications_after[0].allowed);
}

// A page whose /Contents refers, when signed, to an object that does not exist draws nothing
// through it; adding that object later is new content drawn (page_content, not allowed), not
// an object that "only something new refers to".
TEST(PdfSigsTest, ContentAddedBehindADanglingReferenceIsNotAllowed) {
  const Bytes plain = MakePdf(false);
  const PdfFacts f = FactsOf(plain);
  const int missing = f.size + 1000;
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  page.removeKey("/Contents");
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " /Contents [" + std::to_string(f.contents) + " 0 R " +
                                    std::to_string(missing) + " 0 R] ");
  const Bytes signed_pdf = Sign(AppendUpdate(plain, f.page, body), TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const std::string text = "q 1 1 1 rg 0 0 612 792 re f Q BT /F1 18 Tf 72 760 Td (Huy bo) Tj ET\n";
  const Bytes attacked = AppendUpdate(
      signed_pdf, missing,
      "<< /Length " + std::to_string(text.size()) + " >>\nstream\n" + text + "endstream");
  const PdfRevisionChange c = OnlyChange(attacked);
  EXPECT_EQ(c.klass, "page_content") << Describe(c);
  EXPECT_FALSE(c.allowed);
  EXPECT_FALSE(c.attack.empty()) << Describe(c);
}

// An appended catalog with a new /OpenAction is a catalog change, not allowed.
TEST(PdfSigsTest, CatalogChangeAfterSignatureIsNotAllowed) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
  QPDFObjectHandle root = q.getRoot();
  root.replaceKey("/OpenAction", QPDFObjectHandle::parse("<< /S /JavaScript /JS (1) >>"));
  const Bytes attacked = AppendUpdate(signed_pdf, root.getObjectID(), root.unparseResolved());
  auto read = ReadPdfSignatures(attacked);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  ASSERT_EQ(read->signatures[0].modifications_after.size(), 1u);
  const PdfRevisionChange& c = read->signatures[0].modifications_after[0];
  EXPECT_EQ(c.klass, "catalog") << Describe(c);
  EXPECT_FALSE(c.allowed);
}

// ReplaceByteRange rewrites the signature's "/ByteRange [...]" with `values`, keeping the
// file's length (the array is padded with spaces).
bool ReplaceByteRange(Bytes& pdf, const std::array<long long, 4>& values) {
  std::string text(AsString(pdf));
  const std::size_t at = text.rfind("/ByteRange [");
  if (at == std::string::npos) return false;
  const std::size_t open = at + 11;
  const std::size_t close = text.find(']', open);
  std::string arr = "[" + std::to_string(values[0]) + " " + std::to_string(values[1]) + " " +
                    std::to_string(values[2]) + " " + std::to_string(values[3]);
  if (arr.size() > close - open) return false;
  arr.append(close - open - arr.size(), ' ');
  std::copy(arr.begin(), arr.end(), pdf.begin() + static_cast<std::ptrdiff_t>(open));
  return true;
}

TEST(PdfSigsTest, ByteRangeProblems) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().rsa, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  auto good = ReadPdfSignatures(signed_pdf);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(good->signatures.size(), 1u);
  const auto br = good->signatures[0].byte_range;
  ExpectIntact(good->signatures[0]);

  // Not starting at 0.
  Bytes shifted = signed_pdf;
  ASSERT_TRUE(ReplaceByteRange(shifted, {1, br[1] - 1, br[2], br[3]}));
  auto r1 = ReadPdfSignatures(shifted);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_EQ(r1->signatures.size(), 1u);
  EXPECT_FALSE(r1->signatures[0].byte_range_ok);
  EXPECT_NE(r1->signatures[0].byte_range_problem.find("start at 0"), std::string::npos)
      << r1->signatures[0].byte_range_problem;

  // A gap that is not exactly /Contents (one byte of the hex string is covered).
  Bytes wrapped = signed_pdf;
  ASSERT_TRUE(ReplaceByteRange(wrapped, {0, br[1] + 1, br[2], br[3]}));
  auto r2 = ReadPdfSignatures(wrapped);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_EQ(r2->signatures.size(), 1u);
  EXPECT_FALSE(r2->signatures[0].byte_range_ok);
  EXPECT_NE(r2->signatures[0].byte_range_problem.find("wrapping"), std::string::npos)
      << r2->signatures[0].byte_range_problem;

  // Not reaching the end of its revision.
  Bytes short_end = signed_pdf;
  ASSERT_TRUE(ReplaceByteRange(short_end, {0, br[1], br[2], br[3] - 20}));
  auto r3 = ReadPdfSignatures(short_end);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  ASSERT_EQ(r3->signatures.size(), 1u);
  EXPECT_FALSE(r3->signatures[0].byte_range_ok);
  EXPECT_FALSE(r3->signatures[0].covers_whole_document);

  // Outside the file: reported, never read.
  Bytes outside = signed_pdf;
  ASSERT_TRUE(ReplaceByteRange(outside, {0, br[1], br[2] + br[3], br[3]}));
  auto r4 = ReadPdfSignatures(outside);
  ASSERT_TRUE(r4.ok()) << r4.status().ToString();
  ASSERT_EQ(r4->signatures.size(), 1u);
  EXPECT_FALSE(r4->signatures[0].byte_range_ok);
  EXPECT_FALSE(r4->signatures[0].hash_ok);
}

// A document timestamp whose token is a copy of an earlier one (a replayed token) fails its
// imprint and names the one it copies; the signatures before it keep their results.
TEST(PdfSigsTest, ReplayedDocTimestamp) {
  sign::testing::InProcessTimestamper tsa(kSigningTime);
  const Bytes stamped = AddDocTimestamp(Sign(MakePdf(false), TestPki().rsa, "NguoiKy"), tsa);
  ASSERT_FALSE(stamped.empty());
  auto first = ReadPdfSignatures(stamped);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->signatures.size(), 2u);
  const Bytes token = first->signatures[1].cms_der;
  auto prepared = sign::PrepareDocTimestamp(stamped, "Archive2");
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  auto update = sign::FinishDocTimestampUpdate(std::move(*prepared), token);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  auto read = ReadPdfSignatures(Concat(stamped, *update));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 3u);
  ExpectIntact(read->signatures[0]);
  ExpectIntact(read->signatures[1]);
  EXPECT_TRUE(read->signatures[1].copy_of.empty());
  const PdfSignature& replayed = read->signatures[2];
  EXPECT_TRUE(replayed.byte_range_ok) << replayed.byte_range_problem;
  EXPECT_FALSE(replayed.hash_ok);
  EXPECT_EQ(replayed.copy_of, "Archive");
  EXPECT_NE(replayed.crypto_problem.find("replayed"), std::string::npos) << replayed.crypto_problem;
  ASSERT_EQ(read->signatures[0].modifications_after.size(), 2u);
  EXPECT_TRUE(read->signatures[0].modifications_after[1].allowed);
}

// CmsKind is how ReplaceCms builds the CMS it puts into /Contents.
enum class CmsKind {
  kDetached,           // an ordinary detached CMS over the ByteRange
  kEnveloping,         // the ByteRange itself as eContent
  kEnvelopingEmpty,    // messageDigest of the ByteRange, eContent an empty OCTET STRING
  kEnvelopingOther,    // another document as eContent, signed over it
  kDigestAlgIsSigAlg,  // detached, digestAlgorithm ecdsa-with-SHA256 instead of sha256
};

// ReplaceCms signs the ByteRange of the last signature of `pdf` again with a fresh EC key (the
// certificate from TestPki's root) and writes the new CMS into its /Contents, zero padded.
// False when it does not fit.
bool ReplaceCms(Bytes& pdf, CmsKind kind) {
  std::string text(AsString(pdf));
  const std::size_t at = text.rfind("/ByteRange [");
  if (at == std::string::npos) return false;
  std::array<long long, 4> br{};
  std::sscanf(text.c_str() + at + 12, "%lld %lld %lld %lld", &br[0], &br[1], &br[2], &br[3]);
  const std::string data =
      text.substr(static_cast<std::size_t>(br[0]), static_cast<std::size_t>(br[1])) +
      text.substr(static_cast<std::size_t>(br[2]), static_cast<std::size_t>(br[3]));
  static EVP_PKEY* key = EVP_EC_gen("P-256");
  static X509* cert =
      MakeTestCert(*TestPki().root_key, TestPki().root.get(), key, "Lê Văn Cường", false).release();
  const std::string content = kind == CmsKind::kEnvelopingOther ? "%PDF-1.7 another" : data;
  ossl::UniquePtr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  const bool detached = kind != CmsKind::kEnveloping && kind != CmsKind::kEnvelopingOther;
  ossl::UniquePtr<CMS_ContentInfo> cms(
      CMS_sign(cert, key, nullptr, in.get(), CMS_BINARY | (detached ? CMS_DETACHED : 0)));
  if (!cms) return false;
  if (kind == CmsKind::kEnvelopingEmpty) {
    ASN1_OCTET_STRING** econtent = CMS_get0_content(cms.get());
    *econtent = ASN1_OCTET_STRING_new();
  }
  if (kind == CmsKind::kDigestAlgIsSigAlg) {
    X509_ALGOR* digest_alg = nullptr;
    CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0), nullptr,
                             nullptr, &digest_alg, nullptr);
    X509_ALGOR_set0(digest_alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, nullptr);
  }
  const Bytes der = ossl::ToDer(i2d_CMS_ContentInfo, cms.get());
  const std::size_t gap = static_cast<std::size_t>(br[1] + 1);
  const std::size_t room = static_cast<std::size_t>(br[2] - br[1] - 2);
  static const char kHex[] = "0123456789ABCDEF";
  std::string hex;
  for (uint8_t b : der) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  if (hex.size() > room) return false;
  hex.append(room - hex.size(), '0');
  std::copy(hex.begin(), hex.end(), pdf.begin() + static_cast<std::ptrdiff_t>(gap));
  return true;
}

// An enveloping CMS (eContent present) signs its eContent: it covers the document only when
// that is exactly the ByteRange. An empty eContent or another document is a hash failure,
// whatever messageDigest says (EU DSS: pades-enveloping-empty-bytes-cms.pdf).
TEST(PdfSigsTest, EnvelopingCms) {
  sign::PdfSignOptions o = OptionsFor(TestPki().ec, "NguoiKy");
  o.contents_len = 16384;
  auto signed_pdf = sign::SignPdf(MakePdf(false), o, *TestPki().ec.signer);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status().ToString();
  for (const auto& [kind, intact] :
       {std::pair{CmsKind::kDetached, true}, std::pair{CmsKind::kEnveloping, true},
        std::pair{CmsKind::kEnvelopingEmpty, false}, std::pair{CmsKind::kEnvelopingOther, false}}) {
    SCOPED_TRACE(static_cast<int>(kind));
    Bytes pdf = *signed_pdf;
    ASSERT_TRUE(ReplaceCms(pdf, kind));
    auto read = ReadPdfSignatures(pdf);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->signatures.size(), 1u);
    const PdfSignature& s = read->signatures[0];
    EXPECT_TRUE(s.byte_range_ok) << s.byte_range_problem;
    if (intact) {
      ExpectIntact(s);
    } else {
      EXPECT_FALSE(s.hash_ok);
      EXPECT_NE(s.crypto_problem.find("encapsulated content is not the ByteRange"),
                std::string::npos)
          << s.crypto_problem;
    }
  }
}

// A signature algorithm in the SignerInfo's digestAlgorithm (RFC 5652 5.3 wants a digest) is a
// malformed SignerInfo: not intact (EU DSS: Signature-P-HU_NET-2.pdf).
TEST(PdfSigsTest, SignatureAlgorithmAsDigestAlgorithm) {
  sign::PdfSignOptions o = OptionsFor(TestPki().ec, "NguoiKy");
  o.contents_len = 16384;
  auto signed_pdf = sign::SignPdf(MakePdf(false), o, *TestPki().ec.signer);
  ASSERT_TRUE(signed_pdf.ok()) << signed_pdf.status().ToString();
  Bytes pdf = *signed_pdf;
  ASSERT_TRUE(ReplaceCms(pdf, CmsKind::kDigestAlgIsSigAlg));
  auto read = ReadPdfSignatures(pdf);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  EXPECT_FALSE(read->signatures[0].hash_ok);
  EXPECT_FALSE(read->signatures[0].signature_ok);
  EXPECT_NE(read->signatures[0].crypto_problem.find("digest algorithm is a signature algorithm"),
            std::string::npos)
      << read->signatures[0].crypto_problem;
}

// ShadowPdf writes, by hand, a one-page PDF prepared for the three shadow attacks (Mainka,
// Mladenov, Rohlmann, NDSS 2021): the page draws "So tien: 100" in font 5 0 R, then hidden text
// "DA THANH TOAN" under a white form XObject 6 0 R (the overlay), and object 7 0 R is a content
// stream no page draws (a hidden alternative page content).
Bytes WritePdf(const std::vector<std::string>& objects);
Bytes ShadowPdf() {
  auto stream = [](const std::string& ops, const std::string& dict = "") {
    return "<< " + dict + "/Length " + std::to_string(ops.size()) + " >>\nstream\n" + ops +
           "\nendstream";
  };
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources "
      "<< /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>",
      stream("BT /F1 14 Tf 72 760 Td (So tien: 100) Tj ET\n"
             "BT /F1 14 Tf 72 700 Td (DA THANH TOAN) Tj ET\nq /Fm1 Do Q"),
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
      stream("1 g 60 690 300 30 re f", "/Type /XObject /Subtype /Form /BBox [0 0 595 842] "),
      stream("BT /F1 14 Tf 72 760 Td (So tien: 900) Tj ET"),
  };
  return WritePdf(objects);
}

// WritePdf writes objects 1.. (object 1 the catalog) with a classic cross-reference table.
Bytes WritePdf(const std::vector<std::string>& objects) {
  std::string out = "%PDF-1.7\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    out += entry;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return Bytes(out.begin(), out.end());
}

// PageWithContents is the body of page `page` of `pdf` with /Contents `contents`.
std::string PageWithContents(ByteSpan pdf, const std::string& contents) {
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  // A placeholder, since a reference to an object `pdf` does not have yet would parse as null.
  page.replaceKey("/Contents", QPDFObjectHandle::newName("/KysoContents"));
  std::string body = page.unparseResolved();
  body.replace(body.find("/KysoContents"), 13, contents);
  return body;
}

// The three shadow attacks are told apart by what the later revision does with what the signed
// revision already held; new content drawn is the incremental saving attack.
TEST(PdfSigsTest, ShadowAttacksToldApart) {
  const Bytes signed_pdf = Sign(ShadowPdf(), TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfFacts f = FactsOf(signed_pdf);
  ASSERT_EQ(f.contents, 4);

  // Hide: the overlay emptied in place uncovers the text it hid.
  const PdfRevisionChange hide = OnlyChange(AppendUpdate(
      signed_pdf, 6,
      "<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length 0 >>\nstream\n\nendstream"));
  EXPECT_EQ(hide.attack, "shadow_hide") << Describe(hide);
  EXPECT_FALSE(hide.allowed);
  EXPECT_EQ(hide.klass, "page_content");

  // Hide: the overlay's cross-reference entry pointed at a stream that is not an XObject.
  const PdfRevisionChange hide2 = OnlyChange(AppendUpdate(
      signed_pdf, 6, "<< /Type /Metadata /Subtype /XML /Length 2 >>\nstream\n<>\nendstream"));
  EXPECT_EQ(hide2.attack, "shadow_hide") << Describe(hide2);

  // Hide: the overlay taken out of the page's resources ("/Fm1 Do" then draws nothing), and
  // nothing new drawn.
  {
    QPDF q;
    q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
    QPDFObjectHandle page = q.getAllPages().at(0);
    page.replaceKey("/Resources", QPDFObjectHandle::parse(&q, "<< /Font << /F1 5 0 R >> >>"));
    const PdfRevisionChange unlisted =
        OnlyChange(AppendUpdate(signed_pdf, f.page, page.unparseResolved()));
    EXPECT_EQ(unlisted.attack, "shadow_hide") << Describe(unlisted);
  }

  // Replace: the font redefined in place; the page's content is untouched but "100" reads "900".
  const PdfRevisionChange replace = OnlyChange(AppendUpdate(
      signed_pdf, 5,
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
      "/Differences [49 /nine] >> >>"));
  EXPECT_EQ(replace.attack, "shadow_replace") << Describe(replace);
  EXPECT_FALSE(replace.allowed);

  // Hide-and-replace: the page re-pointed to the hidden content stream 7 0 R, nothing new.
  const PdfRevisionChange swap =
      OnlyChange(AppendUpdate(signed_pdf, f.page, PageWithContents(signed_pdf, "7 0 R")));
  EXPECT_EQ(swap.attack, "shadow_hide_and_replace") << Describe(swap);
  EXPECT_FALSE(swap.allowed);
  EXPECT_EQ(swap.klass, "page_content");

  // Incremental saving: a new content stream drawn after the signed one.
  const std::string extra = "BT /F1 24 Tf 72 400 Td (DA THANH TOAN) Tj ET";
  const PdfRevisionChange isa = OnlyChange(AppendUpdate(
      signed_pdf,
      {{f.size,
        "<< /Length " + std::to_string(extra.size()) + " >>\nstream\n" + extra + "\nendstream"},
       {f.page, PageWithContents(signed_pdf, "[4 0 R " + std::to_string(f.size) + " 0 R]")}}));
  EXPECT_EQ(isa.attack, "incremental_saving") << Describe(isa);

  // The page's content replaced by a new stream that leaves the overlay out: new content, so
  // the incremental saving attack, not a hide.
  const std::string unveiled = "BT /F1 14 Tf 72 760 Td (So tien: 100) Tj ET\n";
  const PdfRevisionChange repointed = OnlyChange(AppendUpdate(
      signed_pdf, {{f.size, "<< /Length " + std::to_string(unveiled.size()) + " >>\nstream\n" +
                                unveiled + "endstream"},
                   {f.page, PageWithContents(signed_pdf, std::to_string(f.size) + " 0 R")}}));
  EXPECT_EQ(repointed.attack, "incremental_saving") << Describe(repointed);
}

// A certification signature with DocMDP P2: a later signature and a DSS are allowed, and the
// certification is reported with its /P.
TEST(PdfSigsTest, CertificationP2AllowsSignatureAndDss) {
  const Bytes certified = Sign(MakePdf(false), TestPki().rsa, "ChungNhan", /*certify=*/2);
  ASSERT_FALSE(certified.empty());
  const Bytes second = Sign(certified, TestPki().ec, "NguoiKy");
  const Bytes lt = AddDss(second, {Der(TestPki().root.get())});
  auto read = ReadPdfSignatures(lt);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 2u);
  const PdfSignature& c = read->signatures[0];
  ExpectIntact(c);
  ExpectIntact(read->signatures[1]);
  EXPECT_EQ(c.certification_p, 2);
  EXPECT_EQ(read->signatures[1].certification_p, 0);
  ASSERT_EQ(c.modifications_after.size(), 2u);
  EXPECT_EQ(c.modifications_after[0].klass, "signature") << Describe(c.modifications_after[0]);
  EXPECT_TRUE(c.modifications_after[0].allowed);
  EXPECT_EQ(c.modifications_after[1].klass, "dss") << Describe(c.modifications_after[1]);
  EXPECT_TRUE(c.modifications_after[1].allowed);
}

// DocMDP P1 allows a DSS but not a page content change.
TEST(PdfSigsTest, CertificationP1) {
  const Bytes certified = Sign(MakePdf(false), TestPki().rsa, "ChungNhan", /*certify=*/1);
  ASSERT_FALSE(certified.empty());
  const Bytes lt = AddDss(certified, {Der(TestPki().root.get())});
  auto read = ReadPdfSignatures(lt);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  EXPECT_EQ(read->signatures[0].certification_p, 1);
  ASSERT_EQ(read->signatures[0].modifications_after.size(), 1u);
  EXPECT_EQ(read->signatures[0].modifications_after[0].klass, "dss");
  EXPECT_TRUE(read->signatures[0].modifications_after[0].allowed);
}

// A comment added after an approval signature is an allowed annotation by default, and not
// allowed after a certification with DocMDP P2.
TEST(PdfSigsTest, AnnotationAfterSignature) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  auto read = ReadPdfSignatures(AddTextAnnotation(signed_pdf));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  ExpectIntact(read->signatures[0]);
  ASSERT_EQ(read->signatures[0].modifications_after.size(), 1u);
  const PdfRevisionChange& c = read->signatures[0].modifications_after[0];
  EXPECT_EQ(c.klass, "annotation") << Describe(c);
  EXPECT_TRUE(c.allowed) << Describe(c);

  const Bytes certified = Sign(MakePdf(false), TestPki().ec, "ChungNhan", /*certify=*/2);
  ASSERT_FALSE(certified.empty());
  auto read2 = ReadPdfSignatures(AddTextAnnotation(certified));
  ASSERT_TRUE(read2.ok()) << read2.status().ToString();
  ASSERT_EQ(read2->signatures.size(), 1u);
  ASSERT_EQ(read2->signatures[0].modifications_after.size(), 1u);
  const PdfRevisionChange& c2 = read2->signatures[0].modifications_after[0];
  EXPECT_EQ(c2.klass, "annotation") << Describe(c2);
  EXPECT_FALSE(c2.allowed) << Describe(c2);
}

// FormPdf is MakePdf(false) with text fields (each merged with its widget) on page 1, by
// default one named "HoTen".
Bytes FormPdf(const std::vector<std::string>& names = {"HoTen"}) {
  const Bytes plain = MakePdf(false);
  QPDF pdf;
  pdf.processMemoryFile("plain", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFObjectHandle page = pdf.getAllPages().at(0);
  QPDFObjectHandle annots = QPDFObjectHandle::newArray();
  QPDFObjectHandle fields = QPDFObjectHandle::newArray();
  int y = 700;
  for (const std::string& name : names) {
    QPDFObjectHandle field = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /FT /Tx /Type /Annot /Subtype /Widget /Rect [100 " + std::to_string(y) + " 300 " +
        std::to_string(y + 20) + "] /V () >>"));
    field.replaceKey("/T", QPDFObjectHandle::newString(name));
    field.replaceKey("/P", page);
    annots.appendItem(field);
    fields.appendItem(field);
    y -= 40;
  }
  page.replaceKey("/Annots", annots);
  QPDFObjectHandle form = QPDFObjectHandle::newDictionary();
  form.replaceKey("/Fields", fields);
  pdf.getRoot().replaceKey("/AcroForm", form);
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  return Bytes(buf->getBuffer(), buf->getBuffer() + buf->getSize());
}

// FillField appends a new version of the field `name` with a value.
Bytes FillField(ByteSpan pdf, const std::string& value, const std::string& name = "HoTen") {
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  for (QPDFObjectHandle f : q.getRoot().getKey("/AcroForm").getKey("/Fields").getArrayAsVector()) {
    if (f.getKey("/T").getUTF8Value() != name) continue;
    f.replaceKey("/V", QPDFObjectHandle::newString(value));
    return AppendUpdate(pdf, f.getObjectID(), f.unparseResolved());
  }
  ADD_FAILURE() << "no field " << name;
  return {};
}

// Filling a form field after a signature is form_fill: allowed by default and by DocMDP P2,
// not after a certification with P1.
TEST(PdfSigsTest, FormFillAfterSignature) {
  for (int certify : {0, 1, 2}) {
    const Bytes signed_pdf = Sign(FormPdf(), TestPki().ec, "NguoiKy", certify);
    ASSERT_FALSE(signed_pdf.empty());
    auto read = ReadPdfSignatures(FillField(signed_pdf, "Nguyen Van A"));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->signatures.size(), 1u);
    EXPECT_EQ(read->signatures[0].field_name, "NguoiKy");
    EXPECT_EQ(read->signatures[0].certification_p, certify);
    ExpectIntact(read->signatures[0]);
    ASSERT_EQ(read->signatures[0].modifications_after.size(), 1u);
    const PdfRevisionChange& c = read->signatures[0].modifications_after[0];
    EXPECT_EQ(c.klass, "form_fill") << Describe(c);
    EXPECT_EQ(c.allowed, certify != 1) << certify << " " << Describe(c);
  }
}

// A form fill not allowed (DocMDP P1) redefines a field shown when signed: shadow_replace. An
// annotation removed after a certification with P2 uncovers what it covered: shadow_hide.
TEST(PdfSigsTest, ShadowAttacksThroughFormsAndAnnotations) {
  const Bytes certified = Sign(FormPdf(), TestPki().ec, "NguoiKy", /*certify=*/1);
  ASSERT_FALSE(certified.empty());
  const PdfRevisionChange fill = OnlyChange(FillField(certified, "Nguyen Van B"));
  EXPECT_EQ(fill.klass, "form_fill") << Describe(fill);
  EXPECT_FALSE(fill.allowed);
  EXPECT_EQ(fill.attack, "shadow_replace") << Describe(fill);

  // Allowed (no certification): no attack named.
  const Bytes approved = Sign(FormPdf(), TestPki().ec, "NguoiKy");
  const PdfRevisionChange allowed_fill = OnlyChange(FillField(approved, "Nguyen Van B"));
  EXPECT_TRUE(allowed_fill.allowed) << Describe(allowed_fill);
  EXPECT_TRUE(allowed_fill.attack.empty()) << Describe(allowed_fill);

  // The text field's widget flagged Hidden after a P1 certification.
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(certified.data()), certified.size());
  for (QPDFObjectHandle fld :
       q.getRoot().getKey("/AcroForm").getKey("/Fields").getArrayAsVector()) {
    if (fld.getKey("/T").getUTF8Value() != "HoTen") continue;
    fld.replaceKey("/F", QPDFObjectHandle::newInteger(2));
    const PdfRevisionChange hidden =
        OnlyChange(AppendUpdate(certified, fld.getObjectID(), fld.unparseResolved()));
    EXPECT_FALSE(hidden.allowed) << Describe(hidden);
    EXPECT_EQ(hidden.attack, "shadow_hide") << Describe(hidden);
  }

  // A comment removed after a certification with P2 (annotations not allowed): it uncovers
  // what it covered.
  const Bytes noted = Sign(AddTextAnnotation(MakePdf(false)), TestPki().ec, "ChungNhan", 2);
  ASSERT_FALSE(noted.empty());
  QPDF n;
  n.processMemoryFile("x", reinterpret_cast<const char*>(noted.data()), noted.size());
  QPDFObjectHandle page = n.getAllPages().at(0);
  QPDFObjectHandle kept = QPDFObjectHandle::newArray();
  for (QPDFObjectHandle a : page.getKey("/Annots").getArrayAsVector()) {
    if (a.getKey("/Subtype").getName() != "/Text") kept.appendItem(a);
  }
  page.replaceKey("/Annots", kept);
  const PdfRevisionChange removed =
      OnlyChange(AppendUpdate(noted, page.getObjectID(), page.unparseResolved()));
  EXPECT_EQ(removed.klass, "annotation") << Describe(removed);
  EXPECT_FALSE(removed.allowed) << Describe(removed);
  EXPECT_EQ(removed.attack, "shadow_hide") << Describe(removed);
}

// SignLocked signs FormPdf({"HoTen", "DiaChi"}) (certified with `certify` when not 0), then puts
// `reference` (a /Reference entry) into the signature dictionary, or `lock` (a /Lock entry) into
// the signature field, in place of a filler of the same length inside the signed range, and
// signs the ByteRange again (ReplaceCms): the signer does not write FieldMDP itself.
Bytes SignLocked(const std::string& reference, const std::string& lock, int certify = 0) {
  sign::PdfSignOptions o = OptionsFor(TestPki().ec, "NguoiKy");
  o.certify = certify;
  o.contents_len = 16384;
  o.location = std::string(200, 'L');
  o.field_label = std::string(200, 'T');
  auto signed_pdf = sign::SignPdf(FormPdf({"HoTen", "DiaChi"}), o, *TestPki().ec.signer);
  EXPECT_TRUE(signed_pdf.ok()) << signed_pdf.status().ToString();
  if (!signed_pdf.ok()) return {};
  Bytes pdf = *signed_pdf;
  std::string text(AsString(pdf));
  for (const auto& [key, filler, entry] :
       {std::tuple{"/Location ", 'L', reference}, std::tuple{"/TU ", 'T', lock}}) {
    if (entry.empty()) continue;
    const std::size_t at = text.find(key);
    const std::size_t end = text.find(std::string(200, filler), at) + 200 + 1;  // and ")"
    EXPECT_NE(at, std::string::npos);
    EXPECT_LE(entry.size(), end - at);
    std::string padded = entry;
    padded.resize(end - at, ' ');
    text.replace(at, end - at, padded);
  }
  std::copy(text.begin(), text.end(), pdf.begin());
  EXPECT_TRUE(ReplaceCms(pdf, CmsKind::kDetached));
  return pdf;
}

// FieldMDP from the signature dictionary's /Reference: a fill of a locked field is not allowed
// (and, redefining a field shown when signed, is shadow_replace); an unlocked one is.
TEST(PdfSigsTest, FieldMdpReferenceLocksIncludedFields) {
  const Bytes pdf = SignLocked(
      "/Reference [<< /Type /SigRef /TransformMethod /FieldMDP /TransformParams << /Type "
      "/TransformParams /Action /Include /Fields [(HoTen)] /V /1.2 >> >>]",
      "");
  ASSERT_FALSE(pdf.empty());
  auto read = ReadPdfSignatures(pdf);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  ExpectIntact(read->signatures[0]);
  ASSERT_TRUE(read->signatures[0].field_lock.has_value());
  EXPECT_EQ(read->signatures[0].field_lock->action, "Include");
  EXPECT_EQ(read->signatures[0].field_lock->fields, std::vector<std::string>{"HoTen"});
  EXPECT_EQ(read->signatures[0].field_lock->p, 0);

  const PdfRevisionChange locked = OnlyChange(FillField(pdf, "Nguyen Van B", "HoTen"));
  EXPECT_EQ(locked.klass, "form_fill") << Describe(locked);
  EXPECT_FALSE(locked.allowed) << Describe(locked);
  EXPECT_EQ(locked.attack, "shadow_replace") << Describe(locked);
  ASSERT_FALSE(locked.details.empty());
  EXPECT_NE(locked.details[0].find("locked by FieldMDP"), std::string::npos) << Describe(locked);

  const PdfRevisionChange free = OnlyChange(FillField(pdf, "Dong Nai", "DiaChi"));
  EXPECT_EQ(free.klass, "form_fill") << Describe(free);
  EXPECT_TRUE(free.allowed) << Describe(free);
  EXPECT_TRUE(free.attack.empty()) << Describe(free);
}

// FieldMDP from the signature field's /Lock, with Exclude and All; and under a certification
// with DocMDP P2, an unlocked field may be filled, a locked one not.
TEST(PdfSigsTest, FieldMdpLockDictionary) {
  const Bytes exclude =
      SignLocked("", "/Lock << /Type /SigFieldLock /Action /Exclude /Fields [(HoTen)] >>");
  ASSERT_FALSE(exclude.empty());
  EXPECT_TRUE(OnlyChange(FillField(exclude, "Nguyen Van B", "HoTen")).allowed);
  EXPECT_FALSE(OnlyChange(FillField(exclude, "Dong Nai", "DiaChi")).allowed);

  const Bytes all = SignLocked("", "/Lock << /Type /SigFieldLock /Action /All >>");
  ASSERT_FALSE(all.empty());
  EXPECT_FALSE(OnlyChange(FillField(all, "Nguyen Van B", "HoTen")).allowed);
  EXPECT_FALSE(OnlyChange(FillField(all, "Dong Nai", "DiaChi")).allowed);

  for (int certify : {2, 3}) {
    SCOPED_TRACE(certify);
    const Bytes certified = SignLocked(
        "", "/Lock << /Type /SigFieldLock /Action /Include /Fields [(HoTen)] >>", certify);
    ASSERT_FALSE(certified.empty());
    auto read = ReadPdfSignatures(certified);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->signatures.size(), 1u);
    EXPECT_EQ(read->signatures[0].certification_p, certify);
    const PdfRevisionChange free = OnlyChange(FillField(certified, "Dong Nai", "DiaChi"));
    EXPECT_TRUE(free.allowed) << Describe(free);
    const PdfRevisionChange locked = OnlyChange(FillField(certified, "Nguyen Van B", "HoTen"));
    EXPECT_FALSE(locked.allowed) << Describe(locked);
  }

  // A PDF 2.0 lock's /P acts as DocMDP: with P1 no field may be filled, locked or not.
  const Bytes p1 =
      SignLocked("", "/Lock << /Type /SigFieldLock /Action /Include /Fields [(HoTen)] /P 1 >>");
  ASSERT_FALSE(p1.empty());
  const PdfRevisionChange under_p1 = OnlyChange(FillField(p1, "Dong Nai", "DiaChi"));
  EXPECT_FALSE(under_p1.allowed) << Describe(under_p1);
}

// A page added after the signature (a new page and a new version of the page tree root).
TEST(PdfSigsTest, PageAddedAfterSignatureIsNotAllowed) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().rsa, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfFacts f = FactsOf(signed_pdf);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
  const int pages = q.getRoot().getKey("/Pages").getObjectID();
  const Bytes attacked = AppendUpdate(
      signed_pdf, {{f.size, "<< /Type /Page /Parent " + std::to_string(pages) +
                                " 0 R /MediaBox [0 0 595 842] /Contents " +
                                std::to_string(f.contents) + " 0 R >>"},
                   {pages, "<< /Type /Pages /Kids [" + std::to_string(f.page) + " 0 R " +
                               std::to_string(f.size) + " 0 R] /Count 2 >>"}});
  auto read = ReadPdfSignatures(attacked);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->signatures.size(), 1u);
  ExpectIntact(read->signatures[0]);
  ASSERT_EQ(read->signatures[0].modifications_after.size(), 1u);
  const PdfRevisionChange& c = read->signatures[0].modifications_after[0];
  EXPECT_EQ(c.klass, "pages") << Describe(c);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.attack, "incremental_saving");
}

// A linearized input has two startxref sections in its first revision; the first-page one
// ("startxref 0") does not end a revision.
TEST(PdfSigsTest, LinearizedInput) {
  QPDF pdf;
  const Bytes plain = MakePdf(false, 2);
  pdf.processMemoryFile("plain", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setLinearization(true);
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  const Bytes linearized(buf->getBuffer(), buf->getBuffer() + buf->getSize());
  const Bytes signed_pdf = Sign(linearized, TestPki().rsa, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  auto read = ReadPdfSignatures(signed_pdf);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->revisions, 2);
  ASSERT_EQ(read->signatures.size(), 1u);
  ExpectIntact(read->signatures[0]);
  EXPECT_EQ(read->signatures[0].revision, 2);
  EXPECT_TRUE(read->signatures[0].covers_whole_document);
}

TEST(PdfSigsTest, RefusesWhatIsNotAPdf) {
  EXPECT_EQ(ReadPdfSignatures(AsBytes("not a pdf")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ReadPdfSignatures({}).status().code(), Code::kInvalidArgument);
  auto unsigned_pdf = ReadPdfSignatures(MakePdf(true));
  ASSERT_TRUE(unsigned_pdf.ok()) << unsigned_pdf.status().ToString();
  EXPECT_TRUE(unsigned_pdf->signatures.empty());
  EXPECT_EQ(unsigned_pdf->revisions, 1);
}

// Truncated and mutated signed PDFs give a Status or a result, never a crash or a hang.
TEST(PdfSigsTest, MutatedInputsNeverCrash) {
  std::mt19937 rng(20261125);
  const Bytes one = Sign(MakePdf(false), TestPki().ec, "A");
  const Bytes signed_twice = Sign(one, TestPki().ec, "B");
  ASSERT_FALSE(signed_twice.empty());
  // With a DSS (compressed streams in it), so that its reading is mutated too.
  const Bytes two = AddDss(signed_twice, {Der(TestPki().root.get())});
  ASSERT_FALSE(two.empty());
  for (std::size_t len = 0; len < two.size(); len += 97) {
    (void)ReadPdfSignatures(ByteSpan(two).first(len));
  }
  // KYSO_PDF_SIGS_MUTATIONS raises the count for a longer run by hand (under ASan, say).
  const char* env = std::getenv("KYSO_PDF_SIGS_MUTATIONS");
  const int num_mutations = env != nullptr ? std::atoi(env) : 150;
  for (int i = 0; i < num_mutations; ++i) {
    Bytes mutated = two;
    kyso::testutil::MutatePdfLike(mutated, rng);
    (void)ReadPdfSignatures(mutated);
  }
}

// Signature dictionaries the document does not reach are counted: a wrapped signature
// (siwa.pdf: a second /ByteRange written for the attack), and five signed revisions cut off by
// a last update whose cross-reference section has /Prev 0.
TEST(PdfSigsTest, UnreferencedSignaturesAreCounted) {
  const std::filesystem::path dir =
      std::filesystem::path(KYSO_SOURCE_DIR) / "../shared/testdata/dss-signatures/pades";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not found";
  auto read_file = [](const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), {});
  };
  auto wrapped = ReadPdfSignatures(read_file(dir / "siwa.pdf"));
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->unreferenced_signatures, 1);
  auto cut = ReadPdfSignatures(read_file(dir / "pades-5-signatures-and-1-document-timestamp.pdf"));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->signatures.size(), 1u);  // the document timestamp: all the document still has
  EXPECT_EQ(cut->unreferenced_signatures, 5);
  auto usage_rights = ReadPdfSignatures(read_file(dir / "DSS-2601.pdf"));  // /Perms /UR3 is reached
  ASSERT_TRUE(usage_rights.ok());
  EXPECT_EQ(usage_rights->unreferenced_signatures, 0);
}

// The EU DSS PAdES samples: never a crash or a hang; prints what was found. Agreement with
// DSS's own verdicts is the report's business (issue 6), not this test's.
TEST(PdfSigsTest, DssPadesCorpus) {
  const std::filesystem::path dir =
      std::filesystem::path(KYSO_SOURCE_DIR) / "../shared/testdata/dss-signatures/pades";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not found";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".pdf") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int num_files = 0, num_read = 0, num_sigs = 0, num_ok = 0, num_br_ok = 0, num_not_allowed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const Bytes data((std::istreambuf_iterator<char>(in)), {});
    ++num_files;
    auto read = ReadPdfSignatures(data);
    if (!read.ok()) continue;
    ++num_read;
    for (const PdfSignature& s : read->signatures) {
      if (std::getenv("KYSO_PDF_SIGS_VERBOSE") != nullptr) {
        std::printf("%s #%d %s rev %d/%d br %d %s hash %d sig %d %s\n", path.filename().c_str(),
                    s.index, s.sub_filter.c_str(), s.revision, read->revisions, s.byte_range_ok,
                    s.byte_range_problem.c_str(), s.hash_ok, s.signature_ok,
                    s.crypto_problem.c_str());
        for (const PdfRevisionChange& c : s.modifications_after) {
          std::printf("    %s\n", Describe(c).c_str());
        }
      }
      ++num_sigs;
      if (s.hash_ok && s.signature_ok) ++num_ok;
      if (s.byte_range_ok) ++num_br_ok;
      for (const PdfRevisionChange& c : s.modifications_after) {
        if (!c.allowed) {
          ++num_not_allowed;
          break;
        }
      }
    }
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf(
      "DSS PAdES corpus: %d files, %d read, %d signatures, %d hash_ok && signature_ok, "
      "%d byte_range_ok, %d with a later change not allowed, %lld ms\n",
      num_files, num_read, num_sigs, num_ok, num_br_ok, num_not_allowed,
      static_cast<long long>(ms));
  EXPECT_GT(num_ok, 0);
}


// RepointedResources gives the page of a signed document indirect resources (revision 2),
// makes them refer to a new object (revision 3), then changes that object (revision 4): the
// third update changes an object the walks reached through one the second changed.
Bytes RepointedResources(ByteSpan signed_pdf) {
  const PdfFacts f = FactsOf(signed_pdf);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  const std::string resources = page.getKey("/Resources").unparseResolved();
  page.removeKey("/Resources");
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " /Resources " + std::to_string(f.size) + " 0 R ");
  const Bytes two = AppendUpdate(signed_pdf, {{f.size, resources}, {f.page, body}});
  std::string more = resources;
  more.insert(more.rfind(">>"), " /Properties << /P0 " + std::to_string(f.size + 1) + " 0 R >> ");
  const Bytes three = AppendUpdate(two, {{f.size, more}, {f.size + 1, "<< /Marker 1 >>"}});
  return AppendUpdate(three, {{f.size + 1, "<< /Marker 2 >>"}});
}

// SharedFieldNode makes the second field of a signed form also a kid of the first (revision 2:
// the field tree reaches it twice), then takes it back (revision 3).
Bytes SharedFieldNode(ByteSpan signed_pdf) {
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
  std::vector<QPDFObjectHandle> fields =
      q.getRoot().getKey("/AcroForm").getKey("/Fields").getArrayAsVector();
  const std::string first = fields.at(0).unparseResolved();
  std::string shared = first;
  shared.insert(shared.rfind(">>"), " /Kids [" + fields.at(1).unparse() + "] ");
  const Bytes two = AppendUpdate(signed_pdf, fields[0].getObjectID(), shared);
  return AppendUpdate(two, fields[0].getObjectID(), first);
}

// XrefStreamBehindADanglingReference is a signed document (its signature's CMS left empty: only
// the revisions matter here) whose catalog's /DSS 20 0 R leads to nothing, then an update that
// rewrites the /OpenAction script and whose cross-reference stream is object 20, not listing
// itself: qpdf resolves 20 to that stream in the last revision only.
Bytes XrefStreamBehindADanglingReference() {
  std::string sig_dict =
      "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange "
      "[0000000000 0000000000 0000000000 0000000000] /Contents <" + std::string(64, '0') + "> >>";
  Bytes pdf = WritePdf({
      "<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /DSS 20 0 R /OpenAction 9 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font "
      "<< /F1 5 0 R >> >> /Annots [7 0 R] >>",
      "<< /Length 44 >>\nstream\nBT /F1 24 Tf 72 700 Td (Pay 100 EUR) Tj ET\n\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
      "<< /Fields [7 0 R] /SigFlags 3 >>",
      "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig1) /V 8 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>",
      sig_dict,
      "<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
  });
  std::string text(pdf.begin(), pdf.end());
  const std::size_t range = text.find("[0000000000 ");
  const std::size_t c = text.find("/Contents <", range) + 10;
  const std::size_t e = text.find('>', c) + 1;
  char br[64];
  std::snprintf(br, sizeof br, "[%010d %010zu %010zu %010zu]", 0, c, e, text.size() - e);
  text.replace(range, std::strlen(br), br);
  const std::size_t prev = std::stoul(text.substr(text.rfind("startxref") + 10));
  const std::size_t at = text.size();
  text += "9 0 obj\n<< /S /JavaScript /JS (app.alert\\(2\\)) >>\nendobj\n";
  const std::string data = {'\x01', static_cast<char>((at >> 24) & 0xff),
                            static_cast<char>((at >> 16) & 0xff),
                            static_cast<char>((at >> 8) & 0xff), static_cast<char>(at & 0xff),
                            '\0', '\0'};
  const std::size_t stream_at = text.size();
  text += "20 0 obj\n<< /Type /XRef /W [1 4 2] /Index [9 1] /Size 21 /Root 1 0 R /Prev " +
          std::to_string(prev) + " /Length 7 >>\nstream\n" + data +
          "\nendstream\nendobj\nstartxref\n" + std::to_string(stream_at) + "\n%%EOF\n";
  return Bytes(text.begin(), text.end());
}

// PageWith rewrites the first page of `pdf` (an update) with `extra` added to its dictionary
// and the keys `drop` removed.
Bytes PageWith(ByteSpan pdf, const std::string& extra, const std::vector<std::string>& drop = {}) {
  const PdfFacts f = FactsOf(pdf);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  for (const std::string& key : drop) page.removeKey(key);
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " " + extra + " ");
  return AppendUpdate(pdf, f.page, body);
}

// AppendFree appends an update whose cross-reference section marks object `num` free.
Bytes AppendFree(ByteSpan pdf, int num) {
  const PdfFacts f = FactsOf(pdf);
  const std::string update = "\nxref\n0 1\n0000000000 65535 f \n" + std::to_string(num) +
                             " 1\n0000000000 00001 f \ntrailer\n<< /Size " + std::to_string(f.size) +
                             " /Root " + std::to_string(f.root) + " 0 R /Prev " +
                             std::to_string(f.startxref) + " >>\nstartxref\n" +
                             std::to_string(pdf.size() + 1) + "\n%%EOF\n";
  return Concat(pdf, AsBytes(update));
}

// What an update puts behind a reference that led to nothing when the document was signed is
// a change, whatever the reference: an /OpenAction script, page resources that replace the
// inherited ones.
TEST(PdfSigsTest, ObjectsAddedBehindDanglingReferencesAreChanges) {
  const Bytes plain = MakePdf(false);
  const PdfFacts f = FactsOf(plain);
  const int missing = f.size + 1000;
  {
    // The catalog's /OpenAction is an action whose /Next leads nowhere (an object the signer
    // does not rewrite); a script put there later runs when the document opens.
    QPDF q;
    q.processMemoryFile("x", reinterpret_cast<const char*>(plain.data()), plain.size());
    std::string body = q.getRoot().unparseResolved();
    body.insert(body.rfind(">>"), " /OpenAction " + std::to_string(f.size) + " 0 R ");
    const Bytes with_action = AppendUpdate(
        plain, {{f.size, "<< /S /GoTo /D [" + std::to_string(f.page) + " 0 R /Fit] /Next " +
                             std::to_string(missing) + " 0 R >>"},
                {f.root, body}});
    const Bytes signed_pdf = Sign(with_action, TestPki().ec, "NguoiKy");
    ASSERT_FALSE(signed_pdf.empty());
    const PdfRevisionChange c = OnlyChange(
        AppendUpdate(signed_pdf, missing, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"));
    EXPECT_EQ(c.klass, "other") << Describe(c);
    EXPECT_FALSE(c.allowed);
    EXPECT_EQ(c.attack, "incremental_saving");
  }
  {
    // Page 2 (which the signer does not rewrite) has /Resources that lead to nothing: the
    // inherited ones apply; resources put there later draw.
    const Bytes two_pages = MakePdf(false, 2);
    const PdfFacts t = FactsOf(two_pages);
    QPDF q;
    q.processMemoryFile("x", reinterpret_cast<const char*>(two_pages.data()), two_pages.size());
    QPDFObjectHandle page2 = q.getAllPages().at(1);
    const std::string font = page2.getKey("/Resources").getKey("/Font").unparseResolved();
    page2.removeKey("/Resources");
    std::string body = page2.unparseResolved();
    body.insert(body.rfind(">>"), " /Resources " + std::to_string(t.size + 1000) + " 0 R ");
    const Bytes signed_pdf = Sign(AppendUpdate(two_pages, page2.getObjectID(), body),
                                  TestPki().ec, "NguoiKy");
    ASSERT_FALSE(signed_pdf.empty());
    const PdfRevisionChange c = OnlyChange(
        AppendUpdate(signed_pdf, t.size + 1000, "<< /Font " + font + " >>"));
    EXPECT_FALSE(c.allowed) << Describe(c);
  }
}

// An update that frees the page's content stream (its cross-reference entry "f") hides what
// the page showed.
TEST(PdfSigsTest, FreedContentStreamIsHidingIt) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfRevisionChange c = OnlyChange(AppendFree(signed_pdf, FactsOf(signed_pdf).contents));
  EXPECT_EQ(c.klass, "page_content") << Describe(c);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.attack, "shadow_hide");
}

// The form dictionary is compared key by key: an XFA form added is "other", a viewer told to
// draw the fields anew (/NeedAppearances) a form fill.
TEST(PdfSigsTest, FormDictionaryChangesAreCompared) {
  const Bytes signed_pdf = Sign(FormPdf(), TestPki().ec, "NguoiKy", /*certify=*/1);
  ASSERT_FALSE(signed_pdf.empty());
  for (const auto& [extra, klass] : {std::pair<std::string, std::string>{"/XFA [(x) 1 0 R]", "other"},
                                     {"/NeedAppearances true", "form_fill"}}) {
    // The signer wrote the form into the catalog (direct) or as an object of its own.
    QPDF q;
    q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
    QPDFObjectHandle root = q.getRoot();
    QPDFObjectHandle form = root.getKey("/AcroForm");
    const bool own = form.isIndirect();
    std::string changed = form.unparseResolved();
    changed.insert(changed.rfind(">>"), " " + extra + " ");
    std::string body = changed;
    if (!own) {
      root.replaceKey("/AcroForm", QPDFObjectHandle::parse(&q, changed));
      body = root.unparseResolved();
    }
    const PdfRevisionChange c = OnlyChange(
        AppendUpdate(signed_pdf, own ? form.getObjectID() : root.getObjectID(), body));
    EXPECT_EQ(c.klass, klass) << extra << "\n" << Describe(c);
    EXPECT_FALSE(c.allowed) << "DocMDP P1";
  }
}

// A field value kept in an object of its own (an indirect string) and rewritten is a form fill:
// a string compared at the top is what it says, not the reference.
TEST(PdfSigsTest, IndirectFieldValueRewrittenIsAFormFill) {
  const Bytes form = FormPdf();
  const PdfFacts f = FactsOf(form);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(form.data()), form.size());
  QPDFObjectHandle field = q.getRoot().getKey("/AcroForm").getKey("/Fields").getArrayItem(0);
  field.replaceKey("/V", QPDFObjectHandle::newName("/KysoValue"));
  std::string body = field.unparseResolved();
  body.replace(body.find("/KysoValue"), 10, std::to_string(f.size) + " 0 R");
  const Bytes signed_pdf = Sign(
      AppendUpdate(form, {{f.size, "(100 000 VND)"}, {field.getObjectID(), body}}), TestPki().ec,
      "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfRevisionChange c = OnlyChange(AppendUpdate(signed_pdf, f.size, "(999 999 VND)"));
  EXPECT_EQ(c.klass, "form_fill") << Describe(c);
  EXPECT_EQ(c.attack, "");
}

// A graphics state the page draws with that gains /ca 0 (everything painted with it now
// transparent) has not just gained a resource name: page_content, not allowed.
TEST(PdfSigsTest, GraphicsStateGainingAnEntryIsAChange) {
  const Bytes plain = MakePdf(false);
  const PdfFacts f = FactsOf(plain);
  const int gs = f.size;
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  std::string resources = page.getKey("/Resources").unparseResolved();
  resources.insert(resources.rfind(">>"), " /ExtGState << /GS0 " + std::to_string(gs) + " 0 R >> ");
  page.removeKey("/Resources");
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " /Resources " + resources + " ");
  const Bytes with_gs = AppendUpdate(plain, {{gs, "<< /LW 1 >>"}, {f.page, body}});
  const Bytes signed_pdf = Sign(with_gs, TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfRevisionChange c = OnlyChange(AppendUpdate(signed_pdf, gs, "<< /LW 1 /ca 0 >>"));
  EXPECT_EQ(c.klass, "page_content") << Describe(c);
  EXPECT_FALSE(c.allowed);
}

// Updates that change nothing shown stay allowed: an object nothing uses freed, and page
// resources gaining a graphics state, a colour space or a /ProcSet no content uses yet.
TEST(PdfSigsTest, UnusedObjectsFreedOrAddedAreNoChange) {
  const Bytes plain = MakePdf(false);
  const PdfFacts f = FactsOf(plain);
  // An unused font, and the page's resources in an object of their own.
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFObjectHandle page = q.getAllPages().at(0);
  const std::string resources = page.getKey("/Resources").unparseResolved();
  page.removeKey("/Resources");
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " /Resources " + std::to_string(f.size + 1) + " 0 R ");
  const Bytes signed_pdf = Sign(
      AppendUpdate(plain, {{f.size, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"},
                           {f.size + 1, resources},
                           {f.page, body}}),
      TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfRevisionChange freed = OnlyChange(AppendFree(signed_pdf, f.size));
  EXPECT_TRUE(freed.allowed) << Describe(freed);
  EXPECT_TRUE(freed.details.empty()) << Describe(freed);
  for (const std::string& extra :
       {std::string("/ExtGState << /GS9 << /CA 1 >> >>"), std::string("/ColorSpace << /CS9 /DeviceRGB >>"),
        std::string("/ProcSet [/PDF /Text]")}) {
    std::string more = resources;
    more.insert(more.rfind(">>"), " " + extra + " ");
    const PdfRevisionChange c = OnlyChange(AppendUpdate(signed_pdf, f.size + 1, more));
    EXPECT_TRUE(c.allowed) << extra << "\n" << Describe(c);
    EXPECT_TRUE(c.details.empty()) << extra << "\n" << Describe(c);
  }
}

// What a page inherits from its page tree node (resources, boxes, rotation) changed there is
// page_content, as on the page; a catalog replaced through the trailer's /Root is compared
// with the one before; an object in use given a new generation (which readers resolve
// differently) is other.
TEST(PdfSigsTest, InheritedAttributesNewCatalogAndNewGenerationAreChanges) {
  const Bytes signed_pdf = Sign(MakePdf(false), TestPki().ec, "NguoiKy");
  ASSERT_FALSE(signed_pdf.empty());
  const PdfFacts f = FactsOf(signed_pdf);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(signed_pdf.data()), signed_pdf.size());
  QPDFObjectHandle first_page = q.getAllPages().at(0);
  QPDFObjectHandle parent = first_page.getKey("/Parent");
  std::string node = parent.unparseResolved();
  node.insert(node.rfind(">>"), " /Rotate 180 ");
  const PdfRevisionChange inherited =
      OnlyChange(AppendUpdate(signed_pdf, parent.getObjectID(), node));
  EXPECT_EQ(inherited.klass, "page_content") << Describe(inherited);
  EXPECT_FALSE(inherited.allowed);

  std::string catalog = q.getRoot().unparseResolved();
  catalog.insert(catalog.rfind(">>"), " /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> ");
  const std::string update = "\n" + std::to_string(f.size) + " 0 obj\n" + catalog +
                             "\nendobj\n";
  const std::size_t xref_at = signed_pdf.size() + update.size();
  char entry[32];
  std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", signed_pdf.size() + 1);
  const std::string tail = "xref\n" + std::to_string(f.size) + " 1\n" + entry + "trailer\n<< /Size " +
                           std::to_string(f.size + 1) + " /Root " + std::to_string(f.size) +
                           " 0 R /Prev " + std::to_string(f.startxref) + " >>\nstartxref\n" +
                           std::to_string(xref_at) + "\n%%EOF\n";
  const PdfRevisionChange root = OnlyChange(Concat(signed_pdf, AsBytes(update + tail)));
  EXPECT_EQ(root.klass, "catalog") << Describe(root);
  EXPECT_FALSE(root.allowed);

  const std::string blank = "\n" + std::to_string(f.contents) +
                            " 1 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n";
  const std::size_t at = signed_pdf.size() + blank.size();
  std::snprintf(entry, sizeof entry, "%010zu 00001 n \n", signed_pdf.size() + 1);
  const std::string tail2 = "xref\n" + std::to_string(f.contents) + " 1\n" + entry +
                            "trailer\n<< /Size " + std::to_string(f.size) + " /Root " +
                            std::to_string(f.root) + " 0 R /Prev " + std::to_string(f.startxref) +
                            " >>\nstartxref\n" + std::to_string(at) + "\n%%EOF\n";
  const PdfRevisionChange generation = OnlyChange(Concat(signed_pdf, AsBytes(blank + tail2)));
  EXPECT_FALSE(generation.allowed) << Describe(generation);
}

// NulledResources signs a two-page document whose second page (which signing does not
// rewrite) has its resources in an object of their own, the page tree node holding resources
// it could inherit, then sets that object to null: the page falls back to what it inherits.
Bytes NulledResources() {
  const Bytes plain = MakePdf(false, 2);
  const PdfFacts f = FactsOf(plain);
  QPDF q;
  q.processMemoryFile("x", reinterpret_cast<const char*>(plain.data()), plain.size());
  QPDFObjectHandle page = q.getAllPages().at(1);
  const std::string resources = page.getKey("/Resources").unparseResolved();
  QPDFObjectHandle parent = page.getKey("/Parent");
  std::string parent_body = parent.unparseResolved();
  parent_body.insert(parent_body.rfind(">>"), " /Resources << >> ");
  page.removeKey("/Resources");
  std::string body = page.unparseResolved();
  body.insert(body.rfind(">>"), " /Resources " + std::to_string(f.size) + " 0 R ");
  const Bytes signed_pdf = Sign(AppendUpdate(plain, {{f.size, resources},
                                                     {page.getObjectID(), body},
                                                     {parent.getObjectID(), parent_body}}),
                                TestPki().ec, "A");
  return signed_pdf.empty() ? Bytes() : AppendUpdate(signed_pdf, f.size, "null");
}

// KidsBehindALeaf gives a page a /Kids that leads to nothing (revision 2), then puts a page
// list there (revision 3), then adds an object nothing uses (revision 4).
Bytes KidsBehindALeaf(ByteSpan signed_pdf) {
  const PdfFacts f = FactsOf(signed_pdf);
  const Bytes two = PageWith(signed_pdf, "/Kids " + std::to_string(f.size) + " 0 R");
  const Bytes three = AppendUpdate(
      two, {{f.size, "[" + std::to_string(f.size + 1) + " 0 R]"},
            {f.size + 1, "<< /Type /Page /Parent " + std::to_string(f.page) +
                             " 0 R /MediaBox [0 0 595 842] >>"}});
  return AppendUpdate(three, f.size + 2, "<< /Unused true >>");
}

// A revision reads again only the objects it changed and takes the rest from the revision
// before: the result is exactly that of walking every revision afresh, on the EU DSS samples
// (50 revisions, large forms, object streams, damaged files), on documents signed, filled,
// annotated, timestamped, and on mutations of them.
TEST(PdfSigsTest, ReusedWalksGiveWhatWalkingAgainGives) {
  std::vector<Bytes> docs;
  const std::filesystem::path dir =
      std::filesystem::path(KYSO_SOURCE_DIR) / "../shared/testdata/dss-signatures/pades";
  if (std::filesystem::is_directory(dir)) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".pdf") continue;
      std::ifstream in(e.path(), std::ios::binary);
      docs.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
  }
  const Bytes filled = FillField(Sign(FormPdf({"HoTen", "DiaChi"}), TestPki().ec, "NguoiKy"), "A", "DiaChi");
  const Bytes noted = AddTextAnnotation(Sign(MakePdf(false), TestPki().ec, "A"));
  const Bytes twice = AddDss(Sign(Sign(MakePdf(true), TestPki().ec, "A"), TestPki().rsa, "B"),
                             {Der(TestPki().root.get())});
  const Bytes again = FillField(AddDss(filled, {Der(TestPki().root.get())}), "B", "HoTen");
  const Bytes repointed = RepointedResources(Sign(MakePdf(false), TestPki().ec, "A"));
  const Bytes shared = SharedFieldNode(Sign(FormPdf({"HoTen", "DiaChi"}), TestPki().ec, "NguoiKy"));
  const Bytes nulled = NulledResources();
  const Bytes kids = KidsBehindALeaf(Sign(MakePdf(false, 2), TestPki().ec, "A"));
  const Bytes xref_stream = XrefStreamBehindADanglingReference();
  std::mt19937 rng(20261125);
  for (const Bytes* base :
       {&filled, &noted, &twice, &again, &repointed, &shared, &nulled, &kids, &xref_stream}) {
    ASSERT_FALSE(base->empty());
    docs.push_back(*base);
    for (int i = 0; i < 60; ++i) {
      Bytes mutated = *base;
      kyso::testutil::MutatePdfLike(mutated, rng);
      docs.push_back(std::move(mutated));
    }
  }
  int compared = 0;
  for (const Bytes& doc : docs) {
    const std::string reused = Changes(ReadPdfSignatures(doc));
    const std::string afresh = Changes(ReadPdfSignaturesWalkingEveryRevision(doc));
    ASSERT_EQ(reused, afresh) << "document " << compared;
    ++compared;
  }
  EXPECT_GE(compared, 549);
}

}  // namespace
}  // namespace kyso::verify
