#pragma once

// Test support: an RFC 3161 time-stamping authority inside the test process, so that the B-T
// levels of XAdES, CAdES and PAdES are tested hermetically (no network, fixed time). Never
// used by the program itself.
//
// Note: this opens namespace kyso::sign::testing, which hides gtest's ::testing inside
// kyso::sign; test files there spell gtest's namespace `::testing`.

#include <openssl/objects.h>
#include <openssl/rand.h>

#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>

#include <cstdint>
#include <string>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/der.h"
#include "kyso/pkix/signer.h"
#include "kyso/pkix/testing.h"
#include "kyso/pkix/tsp.h"
#include "kyso/pkix/x509.h"
#include "kyso/sign/timestamp.h"

namespace kyso::sign::testing {

// kTestTsaPolicyOid is the TSA policy written into every TSTInfo of InProcessTimestamper.
inline constexpr std::string_view kTestTsaPolicyOid = "2.16.704.1.99.2.1";

// InProcessTimestamper is a TSA in the test process: its own self-signed root ("Kyso Test TSA
// Root") and a TSA certificate issued by it ("Kyso Test TSA", critical extended key usage
// timeStamping), both on fresh in-process keys of `key_spec` ("ec-p256", "rsa-2048", ...),
// valid 2026-01-01..2036-01-01. Every token has genTime `gen_time` (tests use fixed clocks),
// the policy kTestTsaPolicyOid, serial numbers 1, 2, 3..., a random 64-bit nonce, the TSA's
// name, and the TSA certificate in the SignedData certificates (not the root: verifiers are
// given it as their anchor). Key or certificate failures are gtest failures.
//
// Timestamp goes through the same steps as kyso's TSA (ca/tsa.cc): a DER TimeStampReq for
// SHA-256 is encoded and read back with pkix::ParseTimeStampReq, then EncodeTstInfo and
// SignTimeStampToken. Thread-safe.
class InProcessTimestamper final : public Timestamper {
 public:
  explicit InProcessTimestamper(Time gen_time, std::string_view key_spec = "ec-p256")
      : gen_time_(gen_time) {
    root_key_ = TakeKey(pkix::KeySigner::Generate(key_spec));
    tsa_key_ = TakeKey(pkix::KeySigner::Generate(key_spec));
    if (!root_key_ || !tsa_key_) return;
    root_ = pkix::testutil::MakeTestCert(*root_key_, nullptr, root_key_->public_key(),
                                         "Kyso Test TSA Root", /*ca=*/true);
    tsa_ = pkix::testutil::MakeTestCert(*root_key_, root_.get(), tsa_key_->public_key(),
                                        "Kyso Test TSA", /*ca=*/false, "timeStamping");
  }

  // Timestamp returns a TimeStampToken over `sha256_digest` (32 octets, else
  // kInvalidArgument), or the error given to FailWith. Every call is counted.
  Result<Bytes> Timestamp(ByteSpan sha256_digest) override {
    std::lock_guard lock(mu_);
    ++num_calls_;
    last_digest_.assign(sha256_digest.begin(), sha256_digest.end());
    if (failure_) return *failure_;
    if (sha256_digest.size() != 32) {
      return InvalidArgumentError("dấu thời gian: giá trị băm SHA-256 phải dài 32 byte");
    }
    if (!tsa_ || !tsa_key_) return InternalError("InProcessTimestamper has no TSA certificate");
    KYSO_ASSIGN_OR_RETURN(const Bytes request_der, EncodeRequest(sha256_digest));
    KYSO_ASSIGN_OR_RETURN(const pkix::TimeStampReq request, pkix::ParseTimeStampReq(request_der));
    KYSO_ASSIGN_OR_RETURN(const Bytes policy, pkix::EncodeOidBody(kTestTsaPolicyOid));
    ++num_issued_;
    Bytes serial;
    for (uint64_t n = num_issued_; n != 0; n >>= 8) {
      serial.insert(serial.begin(), static_cast<uint8_t>(n & 0xff));
    }
    pkix::TstInfoOptions options;
    options.policy_oid_body = policy;
    options.gen_time = gen_time_;
    options.tsa_name = X509_get_subject_name(tsa_.get());
    KYSO_ASSIGN_OR_RETURN(const Bytes tst_info, pkix::EncodeTstInfo(request, serial, options));
    return pkix::SignTimeStampToken(tst_info, tsa_.get(), {}, /*include_certificates=*/true,
                                    *tsa_key_);
  }

  // root is the TSA's self-signed trust anchor; tsa_certificate the certificate that signs
  // the tokens. Owned by this object.
  X509* root() const { return root_.get(); }
  X509* tsa_certificate() const { return tsa_.get(); }

  // num_calls counts calls to Timestamp, failed ones included.
  int num_calls() const {
    std::lock_guard lock(mu_);
    return num_calls_;
  }
  // last_digest is the digest of the last call (empty before the first).
  Bytes last_digest() const {
    std::lock_guard lock(mu_);
    return last_digest_;
  }

  // FailWith makes every following call return `status` (not OK), as a TSA that refuses or
  // cannot be reached; Succeed undoes it.
  void FailWith(Status status) {
    std::lock_guard lock(mu_);
    failure_ = std::move(status);
  }
  void Succeed() {
    std::lock_guard lock(mu_);
    failure_.reset();
  }

  // set_gen_time changes the genTime of the following tokens.
  void set_gen_time(Time gen_time) {
    std::lock_guard lock(mu_);
    gen_time_ = gen_time;
  }

 private:
  static std::unique_ptr<pkix::KeySigner> TakeKey(Result<std::unique_ptr<pkix::KeySigner>> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // EncodeRequest writes the request a client such as `openssl ts -query` sends: SHA-256,
  // a 64-bit nonce, certReq TRUE.
  static Result<Bytes> EncodeRequest(ByteSpan digest) {
    uint8_t nonce[8];
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) return InternalError("RAND_bytes failed");
    nonce[0] |= 0x01;  // never all zero, so the INTEGER keeps its length
    return pkix::EncodeTimeStampReq(NID_sha256, digest, nonce, /*cert_req=*/true);
  }

  std::unique_ptr<pkix::KeySigner> root_key_, tsa_key_;
  ossl::UniquePtr<X509> root_, tsa_;

  mutable std::mutex mu_;
  Time gen_time_;
  int num_calls_ = 0;
  uint64_t num_issued_ = 0;
  Bytes last_digest_;
  std::optional<Status> failure_;
};

// MakePdf builds a small PDF with `num_pages` pages of text: classic cross-reference table,
// or (xref_stream) object streams and a cross-reference stream.
inline Bytes MakePdf(bool xref_stream, int num_pages = 1, bool linearize = false) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle font = pdf.makeIndirectObject(
      QPDFObjectHandle::parse("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"));
  for (int i = 0; i < num_pages; ++i) {
    QPDFObjectHandle page = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Page /MediaBox [0 0 595 842] >>"));
    page.replaceKey("/Contents",
                    QPDFObjectHandle::newStream(
                        &pdf, "BT /F1 18 Tf 72 760 Td (Quyet dinh so " + std::to_string(i + 1) +
                                  ") Tj ET\n"));
    QPDFObjectHandle fonts = QPDFObjectHandle::newDictionary();
    fonts.replaceKey("/F1", font);
    QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
    resources.replaceKey("/Font", fonts);
    page.replaceKey("/Resources", resources);
    pdf.addPage(page, false);
  }
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setStaticID(true);
  writer.setObjectStreamMode(xref_stream ? qpdf_o_generate : qpdf_o_disable);
  writer.setLinearization(linearize);
  writer.write();
  std::shared_ptr<Buffer> buf = writer.getBufferSharedPointer();
  return Bytes(buf->getBuffer(), buf->getBuffer() + buf->getSize());
}

}  // namespace kyso::sign::testing
