// Conformance: the 224 S/MIME messages of NIST PKITS (../shared/testdata/pkits/smime), each
// multipart/signed by a test's end-entity key with the whole chain and the CRLs inside. A
// message is valid when its signature verifies (ReadSmime) and the signer's path validates
// (ValidatePath) from TrustAnchorRootCertificate at 2022-05-01 with revocation required, as the
// suite's README says. The score is printed next to OpenSSL 3.0's (222/224).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kyso/verify/cms_sigs.h"
#include "kyso/verify/path.h"
#include "kyso/pkix/x509.h"

namespace kyso::verify {
namespace {

namespace fs = std::filesystem;

fs::path Pkits() { return fs::path(KYSO_SOURCE_DIR) / ".." / "shared" / "testdata" / "pkits"; }

Bytes ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Judge says whether a message is valid, and why not.
std::pair<bool, std::string> Judge(const fs::path& eml, const X509* anchor, const Bytes& anchor_crl) {
  Result<CmsMessage> msg = ReadSmime(ReadAll(eml));
  if (!msg.ok()) return {false, "read: " + msg.status().message()};
  if (msg->signatures.size() != 1) return {false, "signatures: " + std::to_string(msg->signatures.size())};
  const CmsSignature& s = msg->signatures[0];
  if (!s.hash_ok || !s.signature_ok || !s.signer_cert) return {false, "crypto: " + s.problem};
  PathOptions o;
  o.anchors = {anchor};
  for (const auto& c : msg->certificates) o.untrusted.push_back(c.get());
  o.crls_der = msg->crls;
  o.crls_der.push_back(anchor_crl);
  o.at = Utc(2022, 5, 1);
  o.require_revocation = true;
  Result<PathResult> path = ValidatePath(s.signer_cert.get(), o);
  if (!path.ok()) return {false, "path: " + path.status().message()};
  return {path->passed(), std::string(SubIndicationName(path->sub)) + " " + path->diagnostic};
}

TEST(PkitsSmimeConformance, AllMessages) {
  const fs::path dir = Pkits();
  if (!fs::exists(dir / "smime_expected.tsv")) GTEST_SKIP() << "no PKITS test data at " << dir;
  auto anchor = pkix::ParseCertificate(ReadAll(dir / "certs" / "TrustAnchorRootCertificate.crt"));
  ASSERT_TRUE(anchor.ok()) << anchor.status().ToString();
  const Bytes anchor_crl = ReadAll(dir / "crls" / "TrustAnchorRootCRL.crl");
  std::ifstream tsv(dir / "smime_expected.tsv");
  std::string line;
  std::getline(tsv, line);  // header
  int total = 0, agree = 0;
  std::ostringstream disagreements;
  while (std::getline(tsv, line)) {
    std::istringstream fields(line);
    std::string file, id, name, expected;
    std::getline(fields, file, '\t');
    std::getline(fields, id, '\t');
    std::getline(fields, name, '\t');
    std::getline(fields, expected, '\t');
    if (file.empty()) continue;
    ++total;
    const auto [valid, why] = Judge(dir / "smime" / file, anchor->get(), anchor_crl);
    if (valid == (expected == "valid")) {
      ++agree;
    } else {
      disagreements << "  " << file << " (" << id << "): expected " << expected << ", kyso "
                    << (valid ? "valid" : "invalid: " + why) << "\n";
    }
  }
  std::cout << "PKITS S/MIME: " << agree << "/" << total << " agree (OpenSSL 3.0: 222/224)\n"
            << disagreements.str();
  EXPECT_EQ(total, 224);
  // The floor is the score reached; it may only go up.
  EXPECT_GE(agree, 224) << disagreements.str();
}

}  // namespace
}  // namespace kyso::verify
