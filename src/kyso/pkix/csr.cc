#include "kyso/pkix/csr.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "kyso/base/parallel.h"
#include "kyso/pkix/signer.h"
#include "kyso/pkix/x509.h"

namespace kyso::pkix {

namespace {

bool StrongDigest(int md_nid) {
  return md_nid == NID_sha256 || md_nid == NID_sha384 || md_nid == NID_sha512;
}

// PssDigests gives the message and MGF1 digests of RSASSA-PSS parameters (RFC 4055 3.1),
// where an absent hashAlgorithm or maskGenAlgorithm means SHA-1.
Result<std::pair<int, int>> PssDigests(const X509_ALGOR* alg) {
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
  if (ptype != V_ASN1_SEQUENCE) return InvalidArgumentError("CSR has malformed RSASSA-PSS parameters");
  const ASN1_STRING* seq = static_cast<const ASN1_STRING*>(pval);
  const unsigned char* p = ASN1_STRING_get0_data(seq);
  ossl::UniquePtr<RSA_PSS_PARAMS> params(d2i_RSA_PSS_PARAMS(nullptr, &p, ASN1_STRING_length(seq)));
  if (!params) return InvalidArgumentError("CSR has malformed RSASSA-PSS parameters");
  const int md = params->hashAlgorithm ? OBJ_obj2nid(params->hashAlgorithm->algorithm) : NID_sha1;
  int mgf_md = NID_sha1;
  if (params->maskGenAlgorithm != nullptr) {
    if (OBJ_obj2nid(params->maskGenAlgorithm->algorithm) != NID_mgf1) {
      return InvalidArgumentError("CSR uses an RSASSA-PSS mask generation other than MGF1");
    }
    ossl::UniquePtr<X509_ALGOR> mgf_hash(static_cast<X509_ALGOR*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), params->maskGenAlgorithm->parameter)));
    mgf_md = mgf_hash ? OBJ_obj2nid(mgf_hash->algorithm) : NID_undef;
  }
  return std::make_pair(md, mgf_md);
}

Status CheckSignatureAlgorithm(const X509_REQ* req) {
  const X509_ALGOR* alg = nullptr;
  X509_REQ_get0_signature(req, nullptr, &alg);
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  const int nid = OBJ_obj2nid(oid);
  if (nid == NID_rsassaPss) {
    KYSO_ASSIGN_OR_RETURN(auto digests, PssDigests(alg));
    if (!StrongDigest(digests.first) || !StrongDigest(digests.second)) {
      return InvalidArgumentError(
          "R7.2: CSR is signed with RSASSA-PSS over SHA-1; SHA-256 or stronger is required");
    }
    return OkStatus();
  }
  if (OBJ_find_sigid_algs(nid, &md_nid, &pk_nid) != 1) {
    return InvalidArgumentError("CSR signature algorithm is not recognised");
  }
  if (!StrongDigest(md_nid)) {
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

std::vector<Result<CertRequest>> ParseCertRequests(std::span<const Bytes> inputs, int threads) {
  std::vector<Result<CertRequest>> out;
  out.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) out.emplace_back(InternalError("unparsed"));
  ParallelFor(inputs.size(), threads, [&](std::size_t i) { out[i] = ParseCertRequest(inputs[i]); });
  return out;
}

Result<Bytes> MakeCertRequest(Signer& signer, std::string_view common_name) {
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new());
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  if (!req || !name || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(signer.public_key())) != 1) {
    return ossl::Error("build CSR");
  }
  if (!common_name.empty() &&
      X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return ossl::Error("CSR subject");
  }
  if (X509_REQ_set_subject_name(req.get(), name.get()) != 1) return ossl::Error("CSR subject");
  unsigned char* tbs = nullptr;
  const int tbs_len = i2d_re_X509_REQ_tbs(req.get(), &tbs);
  if (tbs_len <= 0) return ossl::Error("encode CSR info");
  const Bytes info(tbs, tbs + tbs_len);
  OPENSSL_free(tbs);
  KYSO_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(info));
  return AssembleSigned(info, signer.algorithm(), sig);
}

}  // namespace kyso::pkix
