#pragma once

// One CMS SignerInfo (RFC 5652 5.3), checked the way EU DSS and Bouncy Castle check it, for the
// CMS verifier (cms_sigs.cc) and the PDF one (pdf_sigs.cc):
//   - the signature covers the DER encoding of the signed attributes (RFC 5652 5.4): a SET OF
//     sorted as X.690 11.6 requires, whatever order the attributes came in. OpenSSL's
//     CMS_SignerInfo_verify hashes them in the order received instead, so it rejects a
//     signature over the sorted set that was sent unsorted (DSS sample dss-667) and accepts one
//     over the unsorted set as sent (dss-646), the opposite of DSS on both;
//   - RSASSA-PSS takes its hash from its own parameters (SHA-3 too), which CMS_SignerInfo_verify
//     does not do when the SignerInfo's digest algorithm differs (DSS sample dss-1419);
//   - the rules of RFC 5652 11.1-11.4 on contentType, messageDigest, signingTime and
//     countersignature, and RFC 6211's CMSAlgorithmProtection, which OpenSSL does not enforce.

#include <openssl/cms.h>

#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"
#include "kyso/pkix/ossl.h"

namespace kyso::verify {

// SignedAttributesDer is the DER encoding of `si`'s signed attributes with the SET OF tag:
// what its signature covers (RFC 5652 5.4). Empty when it has none.
Bytes SignedAttributesDer(CMS_SignerInfo* si);

// SignedAttributesProblem says, in English, how `si`'s signed attributes break RFC 5652
// 11.1-11.4 (empty: they do not): contentType, messageDigest and signingTime at most once and
// with one value each; messageDigest present; contentType present, or absent for a
// countersignature; no countersignature among them; and a CMSAlgorithmProtection attribute
// (RFC 6211), when present, naming the SignerInfo's own digest and signature algorithms (absent
// parameters matching NULL ones, nothing else: as Bouncy Castle). A SignerInfo without signed
// attributes has no problem here.
std::string SignedAttributesProblem(CMS_SignerInfo* si, bool counter_signature);

// VerifySignerInfoSignature checks `si`'s signature value with `key` over
// SignedAttributesDer(si). The algorithm is the SignerInfo's signatureAlgorithm (with its
// RSASSA-PSS parameters), or, when that names only the key type (rsaEncryption, id-ecPublicKey,
// id-dsa, and the key is of that type), that key type with the SignerInfo's digestAlgorithm.
// Any other OID (a curve's, a digest's) is an unknown algorithm, as for EU DSS. kInvalidArgument,
// in English, when `si` has no signed attributes, the algorithm is unknown or the signature does
// not verify. It does not check the attributes' content (SignedAttributesProblem) nor the
// messageDigest.
Status VerifySignerInfoSignature(CMS_SignerInfo* si, EVP_PKEY* key);

// SignatureHashNids lists every hash `si`'s signature depends on: the digestAlgorithm, the
// signatureAlgorithm's own hash (sha256WithRSAEncryption: SHA-256), and RSASSA-PSS's hash and
// MGF1 hash (SHA-1 when its parameters omit them, RFC 4055). R7.2 judges the weakest.
std::vector<int> SignatureHashNids(CMS_SignerInfo* si);

// CounterSignature is one SignerInfo of a countersignature attribute (RFC 5652 11.4): `holder`
// is a SignedData made to hold it, which owns `signer_info`.
struct CounterSignature {
  ossl::UniquePtr<CMS_ContentInfo> holder;
  CMS_SignerInfo* signer_info = nullptr;
};

// CounterSignatures parses the values of the countersignature attributes among `si`'s unsigned
// attributes (at most 16). A value that is not a SignerInfo is skipped.
std::vector<CounterSignature> CounterSignatures(CMS_SignerInfo* si);

// VerifyCounterSignatureDigest checks that the messageDigest attribute of `counter` is the
// digest, with its digestAlgorithm, of `countersigned_value`: the signature value of the
// SignerInfo it countersigns (RFC 5652 11.4). kInvalidArgument, in English, when not.
Status VerifyCounterSignatureDigest(CMS_SignerInfo* counter, ByteSpan countersigned_value);

}  // namespace kyso::verify
