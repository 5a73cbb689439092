#pragma once

// Extraction and cryptographic validation of the signatures in a PDF, with the PDF-specific
// checks of issue 6 (item 3): the ByteRange of every signature, the revision (incremental
// update) that holds it, and what each later revision changed, classified and judged against
// DocMDP. No path validation and no revocation here: that is the caller's (verify/path).
// qpdf only reads; its exceptions stop in pdf_sigs.cc.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// kMaxVerifyPdfLen bounds the input of ReadPdfSignatures; larger files are refused unread.
inline constexpr std::size_t kMaxVerifyPdfLen = std::size_t{512} * 1024 * 1024;
// kMaxPdfSignatures bounds the signatures read from one document; the rest are ignored.
inline constexpr std::size_t kMaxPdfSignatures = 256;
// kMaxClassifiedRevisions bounds how many revisions after the first signature are opened and
// compared; later ones are reported as class "other", not allowed, attack "too_many_revisions".
inline constexpr int kMaxClassifiedRevisions = 64;

// PdfRevisionChange is what one revision after a signature changed.
//   klass: the most significant kind of change the revision makes, one of (least to most
//     significant) "dss", "timestamp", "signature", "form_fill", "annotation", "other",
//     "catalog", "page_content", "pages". An empty update is "other" with allowed true.
//     Not counted as changes: objects rewritten unchanged (compared structurally, numbers by
//     value), the document information dictionary, the XMP /Metadata, the logical structure
//     tree (/StructTreeRoot, /MarkInfo, /Lang), the catalog's /Version and /Extensions, and
//     resource dictionaries that only gain names (a new font for a new widget).
//   allowed: per DocMDP /P of a certification signature made in an earlier revision (P1: dss
//     and timestamp only; P2: also signature and form_fill; P3: also annotation), otherwise the
//     default rule (signature, timestamp, dss, form_fill, annotation allowed; page_content,
//     pages, catalog, other not). FieldMDP (/Lock) is not yet evaluated.
//   attack: empty, or "incremental_saving" for a change that is not allowed and alters what a
//     reader sees (page_content, pages, catalog, other), "shadow" when a not-allowed change
//     rewrites an object that was already present and drawn on a page (shadow attacks hide,
//     replace and hide-and-replace rewrite such objects), "too_many_revisions". Signature
//     wrapping is named in PdfSignature::byte_range_problem and universal signature forgery
//     (no ByteRange, empty /Contents) in byte_range_problem or crypto_problem.
//   details: the individual changes, e.g. "page 1 /Contents", for a person or a report.
struct PdfRevisionChange {
  int revision = 0;
  std::string klass;
  bool allowed = false;
  std::string attack;
  std::vector<std::string> details;
};

// PdfSignature is one signature field with a signature value (/V), in the order of the
// AcroForm field tree. Crypto results say nothing about the certificate's path.
struct PdfSignature {
  int index = 0;               // from 0, field tree order
  std::string field_name;      // fully qualified /T ("a.b")
  std::string sub_filter;      // without the slash: ETSI.CAdES.detached, adbe.pkcs7.detached, ...
  bool doc_timestamp = false;  // /Type /DocTimeStamp or /SubFilter /ETSI.RFC3161
  std::array<long long, 4> byte_range{};
  // revision is the revision (from 1) whose end the ByteRange reaches; when it reaches none,
  // the first revision ending after it (byte_range_ok is then false).
  int revision = 0;
  // byte_range_ok: four integers, starting at 0, one gap that is exactly the hex /Contents
  // string of this signature dictionary (preceded by the /Contents key), ending at the end of a
  // revision (its %%EOF, with or without the end-of-line after it). Otherwise the reason, in
  // English, in byte_range_problem ("signature wrapping" names a gap that is not /Contents).
  bool byte_range_ok = false;
  std::string byte_range_problem;
  bool covers_whole_document = false;  // the ByteRange reaches the end of the file
  Bytes cms_der;                       // /Contents without the zero padding after the DER
  // hash_ok: the messageDigest signed attribute equals the digest of the ByteRange (for
  // adbe.pkcs7.sha1: the encapsulated content is the SHA-1 of the ByteRange and messageDigest
  // its digest; for a document timestamp: the TSTInfo's messageImprint is the digest of the
  // ByteRange and messageDigest that of the TSTInfo). Without signed attributes, hash_ok and
  // signature_ok both mean the signature over the ByteRange verifies.
  bool hash_ok = false;
  // signature_ok: the signature over the signed attributes verifies with the public key of
  // signer_cert, and signing-certificate(-v2), when present, names signer_cert.
  bool signature_ok = false;
  std::string crypto_problem;  // first failure, in English; empty when both are true
  // signer_cert is found in the CMS by issuerAndSerial or SKI (for a document timestamp: the
  // TSA's certificate); null when the CMS does not carry it.
  ossl::UniquePtr<X509> signer_cert;
  std::vector<ossl::UniquePtr<X509>> cms_certs;  // every certificate of the CMS
  std::optional<Time> claimed_signing_time;      // the signingTime attribute, else /M
  // timestamp_tokens are the signature-time-stamp unsigned attributes (PAdES B-T), DER
  // TimeStampTokens, not yet verified. Empty for a document timestamp (cms_der is the token).
  std::vector<Bytes> timestamp_tokens;
  // certification_p is DocMDP /P (1..3) when this is the certification signature, else 0.
  int certification_p = 0;
  // modifications_after has one entry per revision after `revision`, in order.
  std::vector<PdfRevisionChange> modifications_after;
};

// PdfDss is the document security store (/DSS of the final revision), each item DER. Items
// whose stream cannot be decoded or exceeds 16 MiB (256 MiB for all together) are left out.
struct PdfDss {
  std::vector<Bytes> certs, crls, ocsps;
};

// PdfSignatures is everything ReadPdfSignatures found.
struct PdfSignatures {
  std::vector<PdfSignature> signatures;
  PdfDss dss;
  int revisions = 0;  // incremental updates, counting the original document as 1
  // revision_ends[i] is the offset just after the %%EOF of revision i+1 and its end-of-line.
  std::vector<std::size_t> revision_ends;
};

// ReadPdfSignatures parses `pdf` with qpdf (in memory, nothing written; a damaged
// cross-reference table is reconstructed, as viewers do), finds every signature field with a value
// and checks each signature as described on PdfSignature. Input over kMaxVerifyPdfLen, or that qpdf
// cannot read even with repair, is kInvalidArgument; a damaged signature is reported in its
// PdfSignature, not as an error. Hostile input is bounded: every walk keeps a visited set and a
// cap. `pdf` is borrowed for the call only.
Result<PdfSignatures> ReadPdfSignatures(ByteSpan pdf);

}  // namespace kyso::verify
