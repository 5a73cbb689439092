#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"
#include "kyso/pkix/signer.h"
#include "kyso/sign/timestamp.h"

namespace kyso::sign {

// kMaxXadesXmlLen bounds an enveloped input: the whole document is held as a DOM (several
// times its size in memory) and canonicalized twice. Administrative XML documents are far
// smaller; larger files can still be signed detached, where they are only hashed.
inline constexpr std::size_t kMaxXadesXmlLen = 32 * 1024 * 1024;
// kMaxXadesChainLen bounds the certificates put into ds:KeyInfo after the signer's.
inline constexpr std::size_t kMaxXadesChainLen = 8;

// XadesPackaging says where the signature sits relative to what it signs.
enum class XadesPackaging {
  // kEnveloped: the input is an XML document; the output is that document with a
  // ds:Signature appended as the last child of its root element. The Reference has URI=""
  // and the transforms XPath Filter 2.0 (http://www.w3.org/2002/06/xmldsig-filter2)
  // subtract "/*/ds:Signature", then exclusive C14N: the signature covers the whole document
  // (comments excluded) except every ds:Signature that is a child of the root element, its own
  // and the other enveloped signatures of the document, before or after it.
  //
  // Several enveloped signatures in one document (the person, then the agency, R30.2) are
  // therefore parallel signatures of the same content: adding one breaks none of the others,
  // each can later get unsigned properties (B-T, B-LT) without breaking the others, and none
  // covers another. WARNING: so a later signature does not attest an earlier one, and
  // anything put inside a ds:Signature child of the root element is outside every such
  // signature (a viewer must not show it as part of the document). A ds:Signature deeper in
  // the document (an embedded signed part) is covered like any other content.
  //
  // Refused (kInvalidArgument): a document whose root element is a ds:Signature (a detached
  // signature file; sign it detached), and a document that already holds a signature with
  // the enveloped-signature transform over the whole document (URI "", "#xpointer(/)" or the
  // root element's Id), as kyso wrote before and most tools write by default: appending
  // would break it. Other signature schemes in the input are not analysed.
  kEnveloped,
  // kDetached: the input is any file (XML or not), only hashed; the output is a standalone
  // XML document whose root is the ds:Signature, with a Reference naming the file by
  // `XadesOptions::detached_uri` and carrying the SHA-256 of its exact bytes (no transforms).
  // The verifier must find the file by that URI, usually next to the signature.
  kDetached,
};

// XadesOptions describes one XAdES baseline B-B or B-T signature (ETSI EN 319 132-1).
// Everything is borrowed for the call to SignXml only.
struct XadesOptions {
  XadesPackaging packaging = XadesPackaging::kEnveloped;
  // detached_uri is the Reference URI for kDetached: a relative URI such as
  // "quyet-dinh-01.xml" (RFC 3986, so spaces and non-ASCII letters percent-encoded). Required
  // for kDetached, must be empty for kEnveloped. It may not start with '#' (that would name
  // something inside the signature document).
  std::string detached_uri;
  // signer_cert is required; its public key must be the Signer's (checked). It goes first in
  // ds:KeyInfo/ds:X509Data and is bound by xades:SigningCertificateV2.
  const X509* signer_cert = nullptr;
  // chain is the issuing CA(s) to add to ds:X509Data so a verifier can build the path; the
  // trust anchor may be left out. Duplicates of the signer certificate are dropped.
  std::vector<const X509*> chain;
  // signing_time is the claimed signing time (xades:SigningTime), required by B-B; there is
  // no implicit "now" so the caller's Clock decides. Written in UTC with a trailing Z.
  std::optional<Time> signing_time;
  // mime_type goes into xades:DataObjectFormat for the signed document (EN 319 132-1 baseline
  // requires one per signed data object). Empty means "text/xml" for kEnveloped and
  // "application/octet-stream" for kDetached.
  std::string mime_type;
  // description, when not empty, adds xades:Description to the DataObjectFormat (e.g. the
  // document's number and title, in Vietnamese).
  std::string description;
  // max_xml_len bounds an enveloped input; 0 is rejected. Larger than kMaxXadesXmlLen is
  // allowed only by raising it here, knowingly.
  std::size_t max_xml_len = kMaxXadesXmlLen;
  // timestamper, when set, makes the signature XAdES B-T: once the signature value is
  // obtained and checked, a TimeStampToken over SHA-256 of the exclusive C14N of the
  // ds:SignatureValue element (EN 319 132-1 5.3) is added as xades:SignatureTimeStamp in
  // xades:UnsignedProperties. Borrowed for the call; called exactly once.
  Timestamper* timestamper = nullptr;
};

// SignXml makes an XAdES B-B or B-T signature (XAdES 1.3.2 namespace,
// http://uri.etsi.org/01903/v1.3.2#) through `signer`, the one signing interface of kyso
// (DESIGN decision 1): it builds the ds:Signature in the final document, canonicalizes
// ds:SignedInfo there with exclusive C14N, hands those bytes to Signer::Sign, checks the
// returned signature against the signer certificate's key, and returns the serialized
// document (UTF-8).
//
// What it writes: SignatureMethod rsa-sha256 / rsa-sha384 / ecdsa-sha256 / ecdsa-sha384
// (ECDSA as r||s, RFC 4050, not the Signer's DER) or sha256-rsa-MGF1 for RSA-PSS (RFC 6931;
// note xmlsec1 1.2 cannot verify that one); SHA-256 reference digests; a second Reference to
// xades:SignedProperties holding SigningTime, SigningCertificateV2 (SHA-256 CertDigest and
// IssuerSerialV2) and DataObjectFormat; ds:KeyInfo with the signer certificate and `chain`.
//
// With `options.timestamper` it is XAdES B-T: a Timestamper failure fails the signing with
// the Timestamper's Status (code and message) and nothing is returned; a token whose
// messageImprint is not SHA-256 of the canonicalized ds:SignatureValue is kInvalidArgument.
//
// The enveloped input is parsed as hostile: a DOCTYPE (hence any DTD, entity declaration,
// XXE or entity expansion bomb) is refused, nothing is fetched from the network, and inputs
// over max_xml_len are refused before parsing. Bad input or options are kInvalidArgument
// with one line for the signer, in Vietnamese (R5.4); a Signer failure keeps its code. The
// input is never modified.
Result<Bytes> SignXml(ByteSpan input, const XadesOptions& options, pkix::Signer& signer);

// XmlDsigSignatureMethod gives the ds:SignatureMethod Algorithm URI for `alg`.
std::string_view XmlDsigSignatureMethod(pkix::SignatureAlgorithm alg);

}  // namespace kyso::sign
