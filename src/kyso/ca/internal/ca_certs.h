#pragma once

#include <string_view>

#include "kyso/base/config.h"
#include "kyso/pkix/signer.h"
#include "kyso/store/store.h"

namespace kyso::ca::internal {

// MakeOcspSignerCert issues the delegated OCSP responder certificate (RFC 6960 4.2.2.2:
// id-kp-OCSPSigning, id-pkix-ocsp-nocheck) for `responder`'s key, signed by the issuing CA.
// It is valid `ocsp_signer_validity_days`, never past the issuing CA.
Result<ossl::UniquePtr<X509>> MakeOcspSignerCert(const Config::Ca& config, X509* issuing_cert,
                                                 pkix::Signer& issuing, const pkix::Signer& responder,
                                                 Time now);

// MakeTsaCert issues the timestamp authority's certificate (RFC 3161 2.3: critical EKU
// id-kp-timeStamping only; key usage digitalSignature + nonRepudiation) for `tsa`'s key,
// signed by the issuing CA. Valid kTsaCertYears (tsa.h), never past the issuing CA.
Result<ossl::UniquePtr<X509>> MakeTsaCert(const Config::Ca& config, X509* issuing_cert,
                                          pkix::Signer& issuing, const pkix::Signer& tsa,
                                          Time now);

// StoreCaCert records a CA or responder certificate like any issuance (it is audited and
// `cert show` finds it) and names the token key that belongs to it under `role`.
Status StoreCaCert(store::Store& store, std::string_view role, std::string_view issuer_role,
                   std::string_view key_label, const X509* cert, std::string_view actor);

}  // namespace kyso::ca::internal
