#pragma once

// Extraction and cryptographic validation of the signatures in a PDF, with the PDF-specific
// checks of issue 6 (item 3): the ByteRange of every signature, the revision (incremental
// update) that holds it, and what each later revision changed, classified, judged against
// DocMDP and FieldMDP, and named when it is an attack (incremental saving, the three shadow
// attacks). No path validation and no revocation here: that is the caller's (verify/path).
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

class PrefixDigest;

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
//     tree (/StructTreeRoot, /MarkInfo, /Lang), the catalog's /Version and /Extensions,
//     resource dictionaries and name maps that only gain names (a new font for a new widget;
//     not a graphics state gaining /SMask), the form's first /DR and /DA, and objects freed
//     or added that the document does not reach.
//     Counted: an object added where the revision before referred to nothing (content, an
//     action, a value put behind a reference that led nowhere when signed); objects freed
//     that it reached; what a page inherits changed on its page tree node (page_content); a
//     catalog replaced through the trailer's /Root (compared key by key); the form dictionary
//     key by key (/NeedAppearances, a default font rebound, /DA: form_fill; /XFA: other); an
//     object in use given a new generation (other: readers resolve it differently).
//   allowed: per DocMDP /P of a certification signature made in an earlier revision (P1: dss
//     and timestamp only; P2: also signature and form_fill; P3: also annotation), otherwise the
//     default rule (signature, timestamp, dss, form_fill, annotation allowed; page_content,
//     pages, catalog, other not). A PDF 2.0 field lock's /P counts as DocMDP /P from the revision
//     after its signature's on (the strictest /P applies). FieldMDP: a change to a form field
//     (its dictionary, value, widget or appearance; signing an empty signature field; removing
//     it) that the PdfFieldLock of a signature made in an earlier revision locks is not
//     allowed, whatever its class, and its detail says "locked by FieldMDP".
//   attack: empty, or the attack a change that is not allowed amounts to, decided from what the
//     revision did with the objects the revision before it already held (the strongest wins):
//     "shadow_hide_and_replace": a page now draws content (a content stream, form or image
//       XObject) that was already there, unchanged, but drawn by no page and no annotation: a
//       reference (page /Contents, a resource, /Kids, catalog /Pages) was re-pointed to a
//       hidden alternative, and the document is swapped without new content objects;
//     "shadow_hide": something shown is made to show nothing, uncovering what it covered: a
//       drawn form or image XObject rewritten blank (blank content, a /BBox without area, an
//       image given a mask) or into something that is not an XObject (its cross-reference
//       entry re-pointed), an annotation or widget removed, flagged Hidden/NoView or stripped
//       of its appearance, or content no page draws any more while nothing new is drawn;
//     "shadow_replace": an object shown when signed (a content stream, font, font descriptor or
//       glyphs, XObject, form field value, widget or its appearance) redefined in place: the
//       references stay, what they lead to changes;
//     "incremental_saving": any other change not allowed that alters what a reader sees
//       (page_content, pages, catalog, other), e.g. new content drawn;
//     "too_many_revisions". An allowed change names no attack (a form fill after an approval
//     signature is form_fill, allowed; the same fill after DocMDP P1 is shadow_replace).
//     Signature wrapping is named in PdfSignature::byte_range_problem and universal signature
//     forgery (no ByteRange, empty /Contents) in byte_range_problem or crypto_problem.
//   details: the individual changes, e.g. "page 1 /Contents", for a person or a report.
struct PdfRevisionChange {
  int revision = 0;
  std::string klass;
  bool allowed = false;
  std::string attack;
  std::vector<std::string> details;
};

// PdfFieldLock is what a signature locks (FieldMDP, ISO 32000-1 12.7.4.5 and 12.8.2.4): read
// from the /TransformParams of the /Reference with /TransformMethod /FieldMDP in the signature
// dictionary, else from the signature field's /Lock (both are inside the signed range).
//   action: "All" (every field), "Include" (the fields named), "Exclude" (every field but
//     those named). A name also locks the fields below it ("a" locks "a.b").
//   fields: fully qualified field names, UTF-8.
//   p: the PDF 2.0 /P of the lock (1..3), 0 when absent.
struct PdfFieldLock {
  std::string action;
  std::vector<std::string> fields;
  int p = 0;
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
  Bytes signature_value;               // the SignerInfo's signature: what a signature timestamp covers
  int digest_nid = 0;                  // the weakest hash the signature depends on (NID), for R7.2
  // hash_ok: the messageDigest signed attribute equals the digest of the ByteRange (for
  // adbe.pkcs7.sha1: the encapsulated content is the SHA-1 of the ByteRange and messageDigest
  // its digest; for a document timestamp: the TSTInfo's messageImprint is the digest of the
  // ByteRange and messageDigest that of the TSTInfo). A CMS that encapsulates content (eContent
  // present, even empty) signs that content (RFC 5652 5.4): hash_ok also needs it to be exactly
  // the ByteRange. A SignerInfo whose digestAlgorithm is a signature algorithm (RFC 5652 5.3
  // wants a digest) is malformed: hash_ok and signature_ok false. Without signed attributes,
  // hash_ok and signature_ok both mean the signature over the ByteRange verifies.
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
  // copy_of: for a document timestamp that fails its imprint because its token is, byte for
  // byte, one an earlier signature (signature-time-stamp) or document timestamp carries, that
  // signature's field_name: a replayed token, which proves nothing about this revision. It is
  // not a change to the document: the revisions it follows keep their own results.
  std::string copy_of;
  // certification_p is DocMDP /P (1..3) when this is the certification signature, else 0.
  int certification_p = 0;
  // field_lock is what this signature locks (FieldMDP), if it locks anything.
  std::optional<PdfFieldLock> field_lock;
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
  // unreferenced_signatures counts the signature dictionaries written in the file (distinct
  // /ByteRange arrays in the uncompressed bytes) that no signature field of the document
  // reaches: signed revisions cut off from the cross-reference chain, or hidden. Best effort.
  int unreferenced_signatures = 0;
};

// ReadPdfSignatures parses `pdf` with qpdf (in memory, nothing written; a damaged
// cross-reference table is reconstructed, as viewers do), finds every signature field with a value
// and checks each signature as described on PdfSignature. Input over kMaxVerifyPdfLen, or that qpdf
// cannot read even with repair, is kInvalidArgument; a damaged signature is reported in its
// PdfSignature, not as an error. Hostile input is bounded: every walk keeps a visited set and a
// cap. `pdf` is borrowed for the call only.
// `prefix`, when given, holds SHA-256 states of `pdf` from byte 0 (computed while it was read):
// a ByteRange starting at 0 is then not hashed again up to the last state it covers.
Result<PdfSignatures> ReadPdfSignatures(ByteSpan pdf, const PrefixDigest* prefix = nullptr);

// ReadPdfSignaturesWalkingEveryRevision is ReadPdfSignatures without reusing what one revision's
// walks found in the next (ReadPdfSignatures reads again only the objects a revision changed):
// slower, and the same result. For the tests that check exactly that.
Result<PdfSignatures> ReadPdfSignaturesWalkingEveryRevision(ByteSpan pdf);

}  // namespace kyso::verify
