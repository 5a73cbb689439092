// POST /tsa through CaRoutes: RFC 3161 answers, and the refusals made over HTTP.
#include <gtest/gtest.h>
#include <openssl/ts.h>

#include <future>

#include "kyso/base/temp_dir.h"
#include "kyso/ca/testing.h"
#include "kyso/http/ca_routes.h"
#include "kyso/pkix/x509.h"

namespace kyso::http {
namespace {

std::string Sha256Query() {
  ossl::UniquePtr<TS_REQ> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), 1);
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* alg = X509_ALGOR_new();
  X509_ALGOR_set_md(alg, EVP_sha256());
  TS_MSG_IMPRINT_set_algo(imprint, alg);
  X509_ALGOR_free(alg);
  unsigned char digest[32] = {1, 2, 3};
  TS_MSG_IMPRINT_set_msg(imprint, digest, sizeof(digest));
  TS_REQ_set_msg_imprint(req.get(), imprint);
  TS_MSG_IMPRINT_free(imprint);
  const Bytes der = ossl::ToDer(i2d_TS_REQ, static_cast<const TS_REQ*>(req.get()));
  return std::string(AsString(der));
}

// A TSA certificate of its own, self-signed: the routes only need a TimestampAuthority.
std::unique_ptr<ca::TimestampAuthority> MakeTsa(const ca::Authority& authority,
                                                const Clock& clock) {
  auto key = std::move(pkix::KeySigner::Generate("ec-p256")).value();
  ossl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Test TSA"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  EXPECT_TRUE(pkix::SetTime(X509_getm_notBefore(cert.get()), Utc(2026, 1, 1)).ok());
  EXPECT_TRUE(pkix::SetTime(X509_getm_notAfter(cert.get()), Utc(2030, 1, 1)).ok());
  X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(key->public_key()));
  EXPECT_TRUE(pkix::AddExtension(cert.get(), NID_ext_key_usage, "critical,timeStamping").ok());
  auto signed_cert = std::move(pkix::SignCertificate(cert.get(), *key)).value();
  auto tsa = ca::TimestampAuthority::Create(std::move(signed_cert), std::move(key),
                                            authority.issuing_cert(), "2.16.704.1.99.2.1", clock);
  EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
  return std::move(tsa).value();
}

TEST(TsaRouteTest, AnswersTimestampQueriesAndRefusesTheRestOverHttp) {
  TempDir dir("kyso-http-tsa");
  FakeClock clock(Utc(2026, 6, 1));
  Config config;
  config.ca.root_key = config.ca.issuing_key = config.ca.ocsp_key = config.ca.tsa_key =
      KeySpec::kEcP256;
  auto store = std::move(store::OpenSqliteStore((dir / "kyso.db").string(), clock)).value();
  auto authority = std::move(ca::testing::MakeTestAuthority(config, *store, clock)).value();
  auto tsa = MakeTsa(*authority, clock);
  CaRoutes routes(*authority, 1, tsa.get());

  const Request query{"POST", "/tsa", "application/timestamp-query", Sha256Query()};
  Response granted = routes.Handle(query);
  EXPECT_EQ(granted.status, 200u);
  EXPECT_EQ(granted.content_type, "application/timestamp-reply");
  Result<pkix::TimeStampResp> parsed = pkix::ParseTimeStampResp(AsBytes(granted.body));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->status, pkix::PkiStatus::kGranted);

  // The asynchronous path signs on the pool and answers from there.
  std::promise<Response> answered;
  routes.HandleAsync(query, [&answered](Response r) { answered.set_value(std::move(r)); });
  Response async = answered.get_future().get();
  EXPECT_EQ(async.status, 200u);
  EXPECT_EQ(async.content_type, "application/timestamp-reply");

  Request r = query;
  r.content_type = "Application/Timestamp-Query; charset=binary";
  EXPECT_EQ(routes.Handle(r).status, 200u);
  r.content_type = "application/ocsp-request";
  EXPECT_EQ(routes.Handle(r).status, 415u);
  r = query;
  r.method = "GET";
  EXPECT_EQ(routes.Handle(r).status, 405u);
  r = query;
  r.body = "not DER";
  EXPECT_EQ(routes.Handle(r).status, 400u);
  EXPECT_EQ(tsa->stats().granted, 3u);
  EXPECT_EQ(tsa->stats().rejected, 1u);

  Request cert{"GET", "/ca/tsa.crt", "", ""};
  EXPECT_EQ(routes.Handle(cert).status, 200u);
  CaRoutes without_tsa(*authority, 1);
  EXPECT_EQ(without_tsa.Handle(query).status, 404u);
  EXPECT_EQ(without_tsa.Handle(cert).status, 404u);
}

}  // namespace
}  // namespace kyso::http
