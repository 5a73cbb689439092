#include "kyso/pkix/csr.h"

#include <openssl/pem.h>

#include "kyso/pkix/signer.h"

namespace kyso::pkix {

namespace {

Status CheckSignatureAlgorithm(const X509_REQ* req) {
  const X509_ALGOR* alg = nullptr;
  X509_REQ_get0_signature(req, nullptr, &alg);
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  const int nid = OBJ_obj2nid(oid);
  if (nid == NID_rsassaPss) return OkStatus();  // PSS parameters are checked on verify
  if (OBJ_find_sigid_algs(nid, &md_nid, &pk_nid) != 1) {
    return InvalidArgumentError("CSR signature algorithm is not recognised");
  }
  if (md_nid != NID_sha256 && md_nid != NID_sha384 && md_nid != NID_sha512) {
    return InvalidArgumentError(std::string("R7.2: CSR is signed with ") + OBJ_nid2sn(md_nid) +
                                "; SHA-256 or stronger is required");
  }
  return OkStatus();
}

}  // namespace

Result<CertRequest> ParseCertRequest(ByteSpan in) {
  if (in.empty()) return InvalidArgumentError("CSR is empty");
  if (in.size() > kMaxCsrLen) return InvalidArgumentError("CSR larger than 64 KiB");
  CertRequest out;
  KYSO_ASSIGN_OR_RETURN(out.req, ossl::ParsePemOrDer<X509_REQ>(in, PEM_read_bio_X509_REQ,
                                                               d2i_X509_REQ, "CSR"));
  X509_REQ* raw = out.req.get();
  out.public_key.reset(X509_REQ_get_pubkey(raw));
  if (!out.public_key) return ossl::Error(Code::kInvalidArgument, "CSR public key unreadable");
  KYSO_RETURN_IF_ERROR(DefaultAlgorithmFor(out.public_key.get(), false), "CSR key");
  KYSO_RETURN_IF_ERROR(CheckSignatureAlgorithm(raw));
  if (X509_REQ_verify(raw, out.public_key.get()) != 1) {
    return ossl::Error(Code::kInvalidArgument, "CSR signature does not verify");
  }
  return out;
}

}  // namespace kyso::pkix
