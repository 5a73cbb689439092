#pragma once

// One document, every signature in it validated (ETSI EN 319 102-1): what `kyso verify` does
// per file, as a library so that conformance runs and the future web interface share it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/clock.h"
#include "kyso/pkix/ossl.h"
#include "kyso/verify/report.h"

namespace kyso::verify {

// PathMemo remembers path-validation outcomes within one VerifyContext (a batch): the same
// signer, at the same time, with the same document-carried certificates and revocation data,
// is validated (and its revocation data fetched) once. Thread-safe; bounded.
class PathMemo;

// VerifyContext is what every file is checked against.
struct VerifyContext {
  std::vector<ossl::UniquePtr<X509>> anchors;    // trust anchors; at least one
  std::vector<ossl::UniquePtr<X509>> untrusted;  // more intermediates
  std::vector<Bytes> crls;                       // more CRLs (DER)
  std::optional<Time> at;                        // fixed validation time; default: best time
  bool strict = false;                           // revocation required for every certificate
  // offline: only the revocation data of the document, `crls` and the caller; otherwise what is
  // missing is fetched (OCSP, CRL distribution points) within cert_check's time bounds.
  bool offline = false;
  std::optional<ByteSpan> content;               // the data of a detached CMS signature
  // algorithms_from: signatures and timestamps made (best signature time) from then on must
  // meet R7.2 (verify/algorithms.h), else INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE;
  // empty: no algorithm policy (conformance suites of other jurisdictions).
  std::optional<Time> algorithms_from;
  // memo, when set, is shared by every file verified with this context. The anchors, the
  // pool and the CRLs above must not change while it is in use.
  std::shared_ptr<PathMemo> memo;
};

// NewPathMemo makes the memo a batch shares.
std::shared_ptr<PathMemo> NewPathMemo();

// VerifyFile reads `file` and validates it: a PDF (every signature and document timestamp), a
// CMS signature (.p7s/.p7m, DER or PEM), an S/MIME message, or a certificate (validated as a
// path; other certificates in the file are intermediates). The report's indication is the
// worst of its signatures'; a file that cannot be read or has no signature is INDETERMINATE
// with `error` saying why, in Vietnamese.
FileReport VerifyFile(const std::string& file, const VerifyContext& ctx);

}  // namespace kyso::verify
