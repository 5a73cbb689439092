#pragma once

// XML signatures (XML-DSig core, XAdES properties): the signatures of one XML document, each
// checked cryptographically. No path validation here: that is ValidatePath's, with the
// certificates and revocation values the signature carries. Sibling of cms_sigs.h.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// kMaxXmlSignatureInputLen bounds the XML document read by ReadXmlSignatures.
inline constexpr std::size_t kMaxXmlSignatureInputLen = std::size_t{64} * 1024 * 1024;

// XmlSignature is one ds:Signature element of the document (counter-signatures included).
struct XmlSignature {
  std::string id;  // ds:Signature/@Id
  // signer_cert: the certificate whose key verifies the SignatureValue, chosen among the
  // certificates the signature carries (xades:SigningCertificate(V2) first, then
  // ds:KeyInfo/ds:X509Data, then xades:CertificateValues); may be null.
  ossl::UniquePtr<X509> signer_cert;
  int digest_nid = 0;  // the weakest of the SignatureMethod's and References' hashes (NID), for R7.2
  // certificates: every certificate the signature carries (KeyInfo, CertificateValues).
  std::vector<ossl::UniquePtr<X509>> certificates;
  std::vector<Bytes> crls, ocsp_responses;  // xades:RevocationValues (DER)
  // references_ok: every ds:Reference of ds:SignedInfo resolves and its digest matches after
  // its transforms, no Id it uses is ambiguous, and the xades:SignedProperties (if any) are
  // referenced.
  bool references_ok = false;
  // signature_ok: ds:SignatureValue verifies over the canonicalized ds:SignedInfo with
  // signer_cert's key (or a ds:KeyValue key when no certificate is carried).
  bool signature_ok = false;
  // signing_certificate_ok: xades:SigningCertificate(V2) is absent, or its first CertDigest
  // matches signer_cert.
  bool signing_certificate_ok = false;
  std::string problem;  // English, the most serious failure; empty when all checks passed
  // sub_indication names the most serious failure in ETSI EN 319 102-1 terms, empty when all
  // checks passed. TOTAL-FAILED ones (the checks prove the signature wrong): "FORMAT_FAILURE"
  // (signature wrapping, unsigned SignedProperties, a counter-signature that does not cover its
  // parent, an unprocessable Reference), "HASH_FAILURE" (a Reference digest mismatch),
  // "SIG_CRYPTO_FAILURE" (the SignatureValue does not verify with the key found). INDETERMINATE
  // ones (the checks could not be completed): "SIGNED_DATA_NOT_FOUND" (a detached Reference the
  // resolver could not supply, or a Reference without URI), "NO_SIGNING_CERTIFICATE_FOUND" (no
  // key to check the SignatureValue, or SigningCertificate(V2) names no carried certificate),
  // "CRYPTO_CONSTRAINTS_FAILURE" (an unsupported SignatureMethod or CanonicalizationMethod).
  std::string sub_indication;
  // unresolved_references: the URIs of the References whose data was not available ("" for a
  // Reference without URI).
  std::vector<std::string> unresolved_references;
  std::optional<Time> signing_time;      // xades:SigningTime
  std::vector<Bytes> timestamp_tokens;   // xades:SignatureTimeStamp/EncapsulatedTimeStamp (DER)
  // signature_value_c14n: the canonical form of ds:SignatureValue (exclusive C14N, or the first
  // SignatureTimeStamp's ds:CanonicalizationMethod): what a SignatureTimeStamp's imprint covers.
  Bytes signature_value_c14n;
  // attack: "signature_wrapping" when a Reference uses an Id that is declared twice in the
  // document, or the SignedProperties a Reference points at are not this signature's. Best
  // effort; empty otherwise.
  std::string attack;
};

// XmlSignatureFailed tells whether `sig`'s sub_indication is one of the TOTAL-FAILED ones.
bool XmlSignatureFailed(const XmlSignature& sig);

// XmlDetachedResolver gives the bytes of the external file a Reference URI (not
// same-document) names, or nullopt: that Reference then fails. Called on the caller's thread
// during ReadXmlSignatures. Nothing else is ever fetched (no file, no network).
using XmlDetachedResolver = std::function<std::optional<Bytes>(std::string_view uri)>;

// ReadXmlSignatures parses `xml` as hostile (no DOCTYPE, no entities, no network, at most
// kMaxXmlSignatureInputLen bytes) and checks every ds:Signature in it, in document order.
// References are digested with libxmlsec1 (C14N 1.0/1.1/exclusive, enveloped-signature, XPath,
// XPath Filter 2.0, XPointer, base64; no XSLT), same-document Ids resolved only through the
// attributes Id, ID, id and xml:id. `detached_resolver` may be empty (every detached Reference
// fails). A document that cannot be parsed is kInvalidArgument in Vietnamese; a document with
// no signature gives an empty vector. Thread-safe.
Result<std::vector<XmlSignature>> ReadXmlSignatures(ByteSpan xml,
                                                    const XmlDetachedResolver& detached_resolver);

// LooksLikeXml tells whether `input` starts (after a BOM and blanks) with '<'.
bool LooksLikeXml(ByteSpan input);

}  // namespace kyso::verify
