#pragma once

// PAdES signing of a PDF by incremental update (ETSI EN 319 142-1, baseline B-B): prepare ->
// Signer -> finish (DESIGN decision 1). qpdf only reads the input; the update is written here.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/cms.h"
#include "kyso/pkix/signer.h"
#include "kyso/sign/appearance.h"

namespace kyso::sign {

// kMaxPdfLen bounds the input PDF; larger files are refused before parsing.
inline constexpr std::size_t kMaxPdfLen = std::size_t{512} * 1024 * 1024;
// kDefaultTimestampRoomLen is what an automatically sized /Contents keeps free beyond the
// estimated CMS, for an RFC 3161 token (B-T) added later as an unsigned attribute.
inline constexpr std::size_t kDefaultTimestampRoomLen = 12 * 1024;
// kMaxContentsLen bounds the /Contents placeholder (bytes of DER CMS; the hex is twice that).
inline constexpr std::size_t kMaxContentsLen = 4 * 1024 * 1024;

// PdfRect is a rectangle in PDF points, origin at the page's bottom left.
struct PdfRect {
  double x = 0;
  double y = 0;
  double w = 0;
  double h = 0;
};

// The /TU kyso gives the fields of a person's signature and of an agency's seal (R30.1, R30.2).
inline constexpr char kPersonSignatureLabel[] = "Chữ ký của người có thẩm quyền";
inline constexpr char kAgencySignatureLabel[] = "Chữ ký của cơ quan, tổ chức";

// SignatureWidget is a signature field's widget on a page.
struct SignatureWidget {
  int page = 0;            // from 1
  std::string field_name;  // /T
  std::string label;       // /TU, empty when absent
  PdfRect rect;            // normalised: w, h >= 0
  bool signed_ = false;    // the field has a /V
};

// PageInfo is what placing a signature on a page needs.
struct PageInfo {
  int page_count = 0;
  PdfRect crop_box;  // the CropBox (or MediaBox), in default user space
  int rotate = 0;    // /Rotate: 0, 90, 180 or 270
  std::vector<SignatureWidget> signatures;  // signature widgets on the page, in /Annots order
  bool document_signed = false;  // some signature field of the document (any page) has a /V
};

// ReadPageInfo reads page `page` (from 1) of `pdf` with qpdf; page 0 reads page 1's boxes and
// the signature widgets of every page, in page order (one pass, however many pages). Errors
// as PreparePdf's.
Result<PageInfo> ReadPageInfo(ByteSpan pdf, int page);

// ValidationData is what a verifier needs later to validate a signature without the network
// (PAdES B-LT, R5.3): certificates, CRLs and OCSP responses, each DER.
struct ValidationData {
  std::vector<Bytes> certificates;
  std::vector<Bytes> crls;
  std::vector<Bytes> ocsp_responses;
};

// PdfSignOptions describes one signature. Borrowed for the call to PreparePdf only.
struct PdfSignOptions {
  const X509* signer_cert = nullptr;     // required; its key is the Signer's key
  std::vector<const X509*> extra_certs;  // the chain to embed in the CMS (issuing CA, ...)
  Time signing_time{};                   // required; written as /M in +07:00 (no implicit now)
  // field_name is the new signature field's /T; empty picks "SignatureN", the first N unused.
  // An existing name is kAlreadyExists; '.' is not allowed (it separates name parts).
  std::string field_name;
  std::string name, reason, location;  // optional /Name /Reason /Location, UTF-8
  int page = 1;                        // page of the widget, from 1
  std::optional<PdfRect> rect;         // the widget's box; none makes the signature invisible
  // appearance is drawn in the widget's box (its objects[0] becomes /AP /N, its /BBox the
  // box's size). Null with a box: an empty appearance. Ignored without a box. Borrowed.
  const Appearance* appearance = nullptr;
  // appearance_rotate is the page's /Rotate (0, 90, 180, 270): the appearance, drawn upright
  // for the page as displayed, gets the /Matrix that turns it with the page (its /BBox is then
  // the box's size with width and height swapped for 90 and 270).
  int appearance_rotate = 0;
  // certify, when 1, 2 or 3, makes this a certification signature (ISO 32000-1 12.8.2.2,
  // DocMDP) allowing after it: 1 no change, 2 form filling and signatures, 3 also annotations.
  // Only the first signature of a document may certify (kFailedPrecondition otherwise).
  int certify = 0;
  // field_label is the field's /TU (its name for people), e.g. kPersonSignatureLabel: how a
  // later agency signature finds the person's signature box on the page (R30.2).
  std::string field_label;
  // contents_len is the room reserved for the DER CMS in /Contents. 0 sizes it from the
  // estimated CMS (certificates, signed attributes, signature) plus timestamp_room_len. A
  // CMS that would not fit is refused: in PreparePdf by the estimate, in FinishPdf for real.
  std::size_t contents_len = 0;
  std::size_t timestamp_room_len = kDefaultTimestampRoomLen;
};

// PreparedPdf is a PDF with its signature update written except for the CMS: the ticket of
// prepare -> Signer -> finish. Move-only; FinishPdf consumes it.
// REQUIRES: the input given to PreparePdf stays alive and unchanged until FinishPdf (it is
// borrowed, not copied, so a 100 MB PDF is not held twice).
class PreparedPdf final {
 public:
  PreparedPdf(const PreparedPdf&) = delete;
  PreparedPdf& operator=(const PreparedPdf&) = delete;
  PreparedPdf(PreparedPdf&&) noexcept = default;
  PreparedPdf& operator=(PreparedPdf&&) noexcept = default;

  // SignedAttributesDer is what the Signer signs (the CMS SignedAttributes over the
  // ByteRange digest). Valid while this object lives.
  // Empty for a document timestamp.
  ByteSpan SignedAttributesDer() const { return cms_ ? cms_->SignedAttributesDer() : ByteSpan(); }
  // ByteRangeDigest is the digest of everything the signature covers: SHA-256 for a document
  // timestamp (what the TSA is asked to stamp), DigestOf(alg) for a signature.
  ByteSpan ByteRangeDigest() const { return digest_; }
  // field_name is the /T of the new signature field.
  const std::string& field_name() const { return field_name_; }
  // contents_len is the room for the DER CMS in /Contents.
  std::size_t contents_len() const { return contents_len_; }

 private:
  friend Result<PreparedPdf> PreparePdf(ByteSpan, const PdfSignOptions&, pkix::SignatureAlgorithm);
  friend Result<Bytes> FinishPdfUpdate(PreparedPdf&&, ByteSpan, std::span<const Bytes>);
  friend Result<Bytes> FinishPdf(PreparedPdf&&, ByteSpan, std::span<const Bytes>);
  friend Result<PreparedPdf> PrepareDocTimestamp(ByteSpan, const std::string&, std::size_t);
  friend Result<Bytes> FinishDocTimestampUpdate(PreparedPdf&&, ByteSpan);
  PreparedPdf() = default;
  // Parts is what filling /Contents needs, taken out of a consumed PreparedPdf.
  struct Parts {
    Bytes update;
    std::size_t contents_pos = 0;
    std::size_t contents_len = 0;
  };
  Parts TakeParts() { return {std::move(update_), contents_pos_, contents_len_}; }
  friend Result<PreparedPdf> PrepareUpdate(ByteSpan, const PdfSignOptions&, bool,
                                           std::size_t, pkix::SignatureAlgorithm, PreparedPdf);
  friend Result<Bytes> FillContents(Parts&, ByteSpan);

  std::optional<pkix::PreparedCms> cms_;  // none for a document timestamp
  Bytes digest_;
  ByteSpan input_;
  Bytes update_;              // the bytes appended to the input, /Contents still zeros
  std::size_t contents_pos_ = 0;  // offset in update_ of the first hex digit of /Contents
  std::size_t contents_len_ = 0;  // DER bytes the placeholder holds (hex digits / 2)
  std::string field_name_;
};

// PreparePdf parses `input` with qpdf (from memory, nothing written anywhere), appends an
// incremental update holding a signature dictionary (/SubFilter /ETSI.CAdES.detached), a
// signature field with its widget on `options.page`, the page's new /Annots, the catalog's
// /AcroForm (/SigFlags 3) and a cross-reference section of the input's kind (table or stream),
// hashes the /ByteRange with DigestOf(alg) and prepares the CMS (no signingTime: PAdES B-B).
// Errors, each one line: input too large, not a PDF, damaged (qpdf would have to reconstruct
// the cross-reference table), encrypted, bad options (no page, bad name, CMS estimate larger
// than contents_len) are kInvalidArgument; an existing field name is kAlreadyExists.
Result<PreparedPdf> PreparePdf(ByteSpan input, const PdfSignOptions& options,
                               pkix::SignatureAlgorithm alg);

// FinishPdfUpdate checks `signature` (see PreparedCms::Finish), builds the DER CMS with the
// `unsigned_attributes_der` (e.g. a signature timestamp) and returns only the bytes to append
// to the input: input || result is the signed PDF. A CMS larger than contents_len() is
// kOutOfRange and nothing is returned.
Result<Bytes> FinishPdfUpdate(PreparedPdf&& prepared, ByteSpan signature,
                              std::span<const Bytes> unsigned_attributes_der = {});

// FinishPdf is FinishPdfUpdate returning the whole signed PDF, which begins with the exact
// bytes of the input.
Result<Bytes> FinishPdf(PreparedPdf&& prepared, ByteSpan signature,
                        std::span<const Bytes> unsigned_attributes_der = {});

// SignPdf runs PreparePdf with signer.algorithm(), Signer::Sign and FinishPdf. The signer
// certificate's key must be signer.public_key() (kInvalidArgument, checked before signing).
Result<Bytes> SignPdf(ByteSpan input, const PdfSignOptions& options, pkix::Signer& signer);

// kDocTimestampContentsLen is the room for a document timestamp token: the TSTInfo, the TSA's
// signature and its certificate chain (a three-certificate RSA chain is about 5 KiB).
inline constexpr std::size_t kDocTimestampContentsLen = 16 * 1024;

// PrepareDocTimestamp appends an incremental update holding a document timestamp (ISO
// 32000-2 12.8.5, PAdES B-LTA): /Type /DocTimeStamp, /SubFilter /ETSI.RFC3161, in an
// invisible signature field named `field_name` (empty: the first unused "SignatureN"). The
// TSA is asked to stamp ByteRangeDigest() (SHA-256).
Result<PreparedPdf> PrepareDocTimestamp(ByteSpan input, const std::string& field_name = "",
                                        std::size_t contents_len = kDocTimestampContentsLen);

// FinishDocTimestampUpdate puts the DER TimeStampToken into /Contents and returns the bytes to
// append to the input. A token larger than contents_len() is kOutOfRange.
Result<Bytes> FinishDocTimestampUpdate(PreparedPdf&& prepared, ByteSpan token_der);

// kMaxValidationDataItems bounds what one DSS update adds.
inline constexpr std::size_t kMaxValidationDataItems = 64;

// DssUpdate returns an incremental update adding `data` to the document security store
// (ISO 32000-2 12.8.4.3, PAdES B-LT): a new /DSS whose /Certs, /CRLs and /OCSPs keep what an
// existing DSS held and add each new item once (as a stream), and a new version of the catalog
// naming it, with the ESIC extension (/Extensions /ESIC, BaseVersion 1.7, level 5). `input`
// must be a PDF PreparePdf accepts. input || result is the extended document; earlier
// signatures stay valid (a DSS is an allowed change after any signature).
Result<Bytes> DssUpdate(ByteSpan input, const ValidationData& data);

// FormatPdfDate gives the PDF date string of `t` in Vietnam time: "D:20261125174706+07'00'".
std::string FormatPdfDate(Time t);

// PdfTextString encodes UTF-8 as a PDF text string object: a literal "(...)" for printable
// ASCII, otherwise UTF-16BE with a byte order mark as "<FEFF...>". Bad UTF-8 is
// kInvalidArgument.
Result<std::string> PdfTextString(std::string_view utf8);

}  // namespace kyso::sign
