// Conformance: BoringSSL's (Chromium's) CRL and OCSP checking cases
// (../shared/testdata/boringssl-pki/crl_unittest, ocsp_unittest). Each case is one target
// certificate, its CA and a CRL or an OCSP response; the expected status is GOOD, REVOKED or
// UNKNOWN (the revocation data must not be trusted either way). kyso judges a CRL case through
// ValidatePath with the CA as trust anchor and revocation required at the case's time
// (TOTAL-PASSED is GOOD, REVOKED is REVOKED, anything else UNKNOWN), and an OCSP case on the
// OCSP layer alone (CheckOcspResponse, which ValidatePath uses), as BoringSSL's own test does.
// Scores are printed with the disagreements; the test fails only below the floors.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "kyso/pkix/x509.h"
#include "kyso/verify/path.h"

namespace kyso::verify {
namespace {

namespace fs = std::filesystem;

fs::path Dir() { return fs::path(KYSO_SOURCE_DIR) / ".." / "shared" / "testdata" / "boringssl-pki"; }

// Blocks reads every PEM block of a file: name -> DER (in order, names may repeat).
std::vector<std::pair<std::string, Bytes>> Blocks(const fs::path& p) {
  std::vector<std::pair<std::string, Bytes>> out;
  ossl::UniquePtr<BIO> bio(BIO_new_file(p.c_str(), "r"));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  while (bio && PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1) {
    out.emplace_back(name, Bytes(data, data + len));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  ERR_clear_error();
  return out;
}

Time ParseUtc(const std::string& s) {
  std::tm tm{};
  std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
              &tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return Time(std::chrono::seconds(timegm(&tm)));
}

// JudgeOcsp runs one OCSP case on the OCSP layer alone (CheckOcspResponse), as BoringSSL's
// own test does: the response about CERTIFICATE, issued by CA CERTIFICATE, at `at`, with the
// case's maximum age.
std::string JudgeOcsp(const fs::path& file, Time at, std::chrono::seconds max_age) {
  ossl::UniquePtr<X509> ca, target;
  Bytes response;
  for (auto& [name, der] : Blocks(file)) {
    if (name == "CERTIFICATE") {
      if (auto c = pkix::ParseCertificate(der); c.ok()) target = std::move(*c);
    } else if (name == "CA CERTIFICATE") {
      if (auto c = pkix::ParseCertificate(der); c.ok()) ca = std::move(*c);
    } else if (name == "OCSP RESPONSE") {
      response = der;
    }
  }
  if (!target || !ca) return "UNKNOWN";
  const unsigned char* p = response.data();
  ossl::UniquePtr<OCSP_RESPONSE> r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.size())));
  ERR_clear_error();
  if (!r || OCSP_response_status(r.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) return "UNKNOWN";
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(r.get()));
  ERR_clear_error();
  if (!basic) return "UNKNOWN";
  const OcspCheck c = CheckOcspResponse(basic.get(), target.get(), ca.get(), {}, at, max_age);
  switch (c.status) {
    case OcspCertStatus::kGood:
      return "GOOD";
    case OcspCertStatus::kRevoked:
      return "REVOKED";
    case OcspCertStatus::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string Judge(const fs::path& file, Time at, bool ocsp) {
  std::vector<ossl::UniquePtr<X509>> cas;
  ossl::UniquePtr<X509> target;
  PathOptions o;
  for (auto& [name, der] : Blocks(file)) {
    if (name == "CERTIFICATE") {
      if (auto c = pkix::ParseCertificate(der); c.ok()) target = std::move(*c);
    } else if (name.find("CA CERTIFICATE") != std::string::npos) {
      if (auto c = pkix::ParseCertificate(der); c.ok()) cas.push_back(std::move(*c));
    } else if (name == "CRL") {
      o.crls_der.push_back(der);
    } else if (name == "OCSP RESPONSE") {
      o.ocsp_responses_der.push_back(der);
    }
  }
  if (!target || cas.empty()) return "UNKNOWN";
  o.anchors.push_back(cas.front().get());
  for (std::size_t i = 1; i < cas.size(); ++i) o.untrusted.push_back(cas[i].get());
  o.at = at;
  o.require_revocation = true;
  (void)ocsp;
  Result<PathResult> r = ValidatePath(target.get(), o);
  if (!r.ok()) return "UNKNOWN";
  if (r->passed()) return "GOOD";
  if (r->sub == SubIndication::kRevoked) return "REVOKED";
  return "UNKNOWN";
}

int RunSuite(const std::string& tsv, const std::string& folder, bool ocsp, int* total) {
  std::ifstream in(Dir() / tsv);
  std::string line;
  std::getline(in, line);
  int agree = 0;
  std::ostringstream dis;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, '\t');) f.push_back(cell);
    if (f.size() < 3) continue;
    const std::string& time = ocsp ? f[3] : f[2];
    ++*total;
    const std::string got = ocsp ? JudgeOcsp(Dir() / folder / f[0], ParseUtc(time), std::chrono::seconds(std::stol(f[4])))
                                 : Judge(Dir() / folder / f[0], ParseUtc(time), ocsp);
    if (got == f[1]) {
      ++agree;
    } else {
      dis << "  " << folder << "/" << f[0] << ": expected " << f[1] << ", kyso " << got << " ("
          << f.back() << ")\n";
    }
  }
  std::cout << "BoringSSL " << (ocsp ? "OCSP" : "CRL") << ": " << agree << "/" << *total << " agree\n" << dis.str();
  return agree;
}

TEST(BoringsslConformance, CrlAndOcsp) {
  if (!fs::exists(Dir() / "crl_expected.tsv")) GTEST_SKIP() << "no BoringSSL test data at " << Dir();
  int crl_total = 0, ocsp_total = 0;
  const int crl = RunSuite("crl_expected.tsv", "crl_unittest", false, &crl_total);
  const int ocsp = RunSuite("ocsp_expected.tsv", "ocsp_unittest", true, &ocsp_total);
  EXPECT_EQ(crl_total, 66);
  EXPECT_EQ(ocsp_total, 36);
  // Floors: the scores reached; they may only go up.
  EXPECT_GE(crl, 57);
  EXPECT_GE(ocsp, 35);
}

}  // namespace
}  // namespace kyso::verify
