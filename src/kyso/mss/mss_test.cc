#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "kyso/base/temp_dir.h"
#include "kyso/http/server.h"
#include "kyso/mss/http_client.h"
#include "kyso/mss/mss_signer.h"
#include "kyso/mss/soap.h"

extern char** environ;

namespace kyso::mss {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const fs::path kTestData = fs::path(KYSO_SOURCE_DIR) / "src/kyso/mss/testdata";
const fs::path kSimulator = fs::path(KYSO_BINARY_DIR) / "kyso-mssp-simulator";
constexpr char kSoftHsm[] = "/usr/lib/softhsm/libsofthsm2.so";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes Sha256(std::string_view text) {
  Bytes d(32);
  unsigned len = 0;
  EVP_Digest(text.data(), text.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

ApInfo TestAp(const SecretString* password = nullptr) {
  return ApInfo{"http://kyso.local/ap", "kysoTest1", std::chrono::system_clock::now(), password};
}

// ---- SOAP messages --------------------------------------------------------------------------

TEST(MssSoap, SignatureRequestIsWellFormedAndCarriesDigest) {
  const SecretString password("ap-secret-&<\"");
  SignatureRequest r;
  r.ap = TestAp(&password);
  r.mssp_id = "http://mssp.example.vn";
  r.msisdn = "84912345678";
  r.data_to_be_signed = Sha256("tờ trình");
  r.display_text = "Ký Quyết định số 15/QĐ-UBND <Đồng Nai> & phụ lục \"A\"";
  r.signature_profile = "http://mobile-id.vn/digitalSignature";
  r.mode = MessagingMode::kAsynchClientServer;
  r.timeout_seconds = 90;
  Result<std::string> xml = BuildSignatureRequest(r);
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_NE(xml->find(Base64Encode(r.data_to_be_signed)), std::string::npos);
  EXPECT_NE(xml->find("<mss:mssURI>http://uri.etsi.org/TS102204/v1.1.2#PKCS1</mss:mssURI>"),
            std::string::npos);
  EXPECT_NE(xml->find("MimeType=\"application/octet-stream\" Encoding=\"base64\""),
            std::string::npos);
  EXPECT_EQ(xml->find("<!DOCTYPE"), std::string::npos);

  // Well-formed and namespace-correct: our own hardened parser reads every field back.
  Result<Message> m = ParseMessage(*xml);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, MessageType::kSignatureReq);
  EXPECT_EQ(m->data_to_be_signed, r.data_to_be_signed);
  EXPECT_EQ(m->display_text, r.display_text);
  EXPECT_EQ(m->msisdn, r.msisdn);
  EXPECT_EQ(m->ap_trans_id, "kysoTest1");
  EXPECT_EQ(m->mode, MessagingMode::kAsynchClientServer);
  EXPECT_EQ(m->timeout_seconds, 90);
}

TEST(MssSoap, ApPasswordIsOptional) {
  SignatureRequest r;
  r.ap = TestAp();
  r.msisdn = "84912345678";
  r.data_to_be_signed = Sha256("x");
  Result<std::string> xml = BuildSignatureRequest(r);
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(xml->find("AP_PWD"), std::string::npos);
  EXPECT_EQ(xml->find("DataToBeDisplayed"), std::string::npos);
  EXPECT_EQ(xml->find("SignatureProfile"), std::string::npos);
}

TEST(MssSoap, StatusQueryRoundTrips) {
  Result<std::string> xml = BuildStatusQuery(StatusQuery{TestAp(), "", "simtx42"});
  ASSERT_TRUE(xml.ok());
  Result<Message> m = ParseMessage(*xml);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, MessageType::kStatusReq);
  EXPECT_EQ(m->mssp_trans_id, "simtx42");
  EXPECT_EQ(BuildStatusQuery(StatusQuery{TestAp(), "", "bad id\"/>"}).status().code(),
            Code::kInvalidArgument);
}

TEST(MssSoap, BuildRefusesTextXmlCannotCarry) {
  SignatureRequest r;
  r.ap = TestAp();
  r.msisdn = "84912345678";
  r.data_to_be_signed = Sha256("x");
  r.display_text = std::string("bell\x07");
  EXPECT_EQ(BuildSignatureRequest(r).status().code(), Code::kInvalidArgument);
  r.display_text = "\xc3\x28";  // invalid UTF-8
  EXPECT_EQ(BuildSignatureRequest(r).status().code(), Code::kInvalidArgument);
  r.display_text = "\xed\xa0\x80";  // a UTF-16 surrogate
  EXPECT_EQ(BuildSignatureRequest(r).status().code(), Code::kInvalidArgument);
  r.display_text = "ok";
  r.msisdn = "+84 912";
  EXPECT_EQ(BuildSignatureRequest(r).status().code(), Code::kInvalidArgument);
}

TEST(MssSoap, ResponsesBuiltForTheSimulatorParse) {
  ResponseParams p{"http://kyso.local/ap", "kysoT", "http://sim",       "simtx1",
                   "84912345678",          500,     Bytes{1, 2, 3, 250}};
  Result<Message> sig = ParseMessage(BuildSignatureResponse(p));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->type, MessageType::kSignatureResp);
  EXPECT_EQ(sig->status_code, 500);
  EXPECT_EQ(sig->signature, p.signature);
  EXPECT_EQ(sig->mssp_trans_id, "simtx1");
  p.status_code = 504;
  p.signature.reset();
  Result<Message> status = ParseMessage(BuildStatusResponse(p));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->type, MessageType::kStatusResp);
  EXPECT_EQ(status->status_code, 504);
  Result<Message> fault = ParseMessage(BuildFault(402, "PIN <blocked> & more"));
  ASSERT_TRUE(fault.ok());
  EXPECT_EQ(fault->type, MessageType::kFault);
  EXPECT_EQ(fault->status_code, 402);
  EXPECT_EQ(fault->status_message, "PIN_BLOCKED");
}

struct Sample {
  const char* file;
  MessageType type;
  int code;
  bool has_signature;
};

TEST(MssSoap, ParsesSampleMessages) {
  const Sample samples[] = {
      {"sig_resp_synch_signature.xml", MessageType::kSignatureResp, 500, true},
      {"sig_resp_async_request_ok.xml", MessageType::kSignatureResp, 100, false},
      {"sig_resp_document_style_soap12.xml", MessageType::kSignatureResp, 500, true},
      {"status_resp_outstanding.xml", MessageType::kStatusResp, 504, false},
      {"status_resp_valid_signature.xml", MessageType::kStatusResp, 502, true},
      {"status_resp_user_cancel.xml", MessageType::kStatusResp, 401, false},
      {"fault_soap11_unknown_client.xml", MessageType::kFault, 105, false},
      {"fault_soap11_reason_only.xml", MessageType::kFault, 402, false},
      {"fault_soap11_detail_status.xml", MessageType::kFault, 208, false},
      {"fault_soap12_user_cancel.xml", MessageType::kFault, 401, false},
      {"sig_req_synch.xml", MessageType::kSignatureReq, 0, false},
      {"status_req.xml", MessageType::kStatusReq, 0, false},
  };
  for (const Sample& s : samples) {
    SCOPED_TRACE(s.file);
    Result<Message> m = ParseMessage(ReadFile(kTestData / s.file));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->type, s.type);
    EXPECT_EQ(m->status_code, s.code);
    EXPECT_EQ(m->signature.has_value(), s.has_signature);
    if (s.has_signature) {
      Bytes all(256);
      for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<uint8_t>(i);
      EXPECT_EQ(*m->signature, all);
    }
  }
  Result<Message> fault = ParseMessage(ReadFile(kTestData / "fault_soap12_user_cancel.xml"));
  ASSERT_TRUE(fault.ok());
  EXPECT_EQ(fault->status_message, "USER_CANCEL");
  EXPECT_EQ(fault->detail, "User cancelled the request");
  Result<Message> req = ParseMessage(ReadFile(kTestData / "sig_req_synch.xml"));
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->display_text, "Ký tờ trình số 12/TTr-UBND & phụ lục");
}

TEST(MssSoap, RefusesBadMessages) {
  for (const char* file : {"bad_not_soap.xml", "bad_truncated.xml", "bad_signature_base64.xml",
                           "bad_wrong_namespace.xml"}) {
    SCOPED_TRACE(file);
    EXPECT_EQ(ParseMessage(ReadFile(kTestData / file)).status().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(ParseMessage("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseMessage(std::string("\0\0\0", 3)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseMessage("<a:Envelope xmlns:a=\"urn:x\"/>").status().code(),
            Code::kInvalidArgument);
}

TEST(MssSoap, RefusesHugeInputBeforeParsing) {
  std::string huge = ReadFile(kTestData / "sig_resp_synch_signature.xml");
  huge.insert(huge.find("<soapenv:Body>"), std::string(kMaxMessageLen, ' '));
  const auto start = steady_clock::now();
  EXPECT_EQ(ParseMessage(huge).status().code(), Code::kInvalidArgument);
  EXPECT_LT(steady_clock::now() - start, milliseconds(100));
}

TEST(MssSoap, RefusesXxeAndEntityExpansion) {
  for (const char* file : {"hostile_xxe_external_entity.xml", "hostile_xxe_parameter_entity.xml",
                           "hostile_billion_laughs.xml", "hostile_doctype_external_dtd.xml",
                           "hostile_undeclared_entity.xml"}) {
    SCOPED_TRACE(file);
    const auto start = steady_clock::now();
    Result<Message> m = ParseMessage(ReadFile(kTestData / file));
    EXPECT_EQ(m.status().code(), Code::kInvalidArgument);
    EXPECT_LT(steady_clock::now() - start, milliseconds(500));
  }
}

TEST(MssSoap, RefusesDeepNesting) {
  std::string deep = "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body>";
  for (int i = 0; i < 5000; ++i) deep += "<a>";
  for (int i = 0; i < 5000; ++i) deep += "</a>";
  deep += "</e:Body></e:Envelope>";
  EXPECT_EQ(ParseMessage(deep).status().code(), Code::kInvalidArgument);
}

TEST(MssSoap, Base64RoundTripsAndRefusesJunk) {
  for (std::size_t n = 0; n < 70; ++n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + 11);
    Result<Bytes> back = Base64Decode(Base64Encode(b));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, b);
  }
  EXPECT_EQ(*Base64Decode(" AQID\n BA== "), (Bytes{1, 2, 3, 4}));
  EXPECT_FALSE(Base64Decode("AQI").ok());
  EXPECT_FALSE(Base64Decode("AQ=D").ok());
  EXPECT_FALSE(Base64Decode("A*==").ok());
}

// ---- status codes, ECDSA form, options ------------------------------------------------------

TEST(MssSigner, StatusCodesMapToActionableCodes) {
  EXPECT_EQ(StatusForMssCode(401, "849").code(), Code::kPermissionDenied);
  EXPECT_EQ(StatusForMssCode(402, "849").code(), Code::kFailedPrecondition);
  EXPECT_EQ(StatusForMssCode(403, "849").code(), Code::kFailedPrecondition);
  EXPECT_EQ(StatusForMssCode(208, "849").code(), kTimeoutCode);
  EXPECT_EQ(StatusForMssCode(104, "849").code(), Code::kUnauthenticated);
  for (int code : {105, 404, 422}) EXPECT_EQ(StatusForMssCode(code, "849").code(), Code::kNotFound);
  for (int code : {101, 102, 103, 106, 107, 108, 109}) {
    EXPECT_EQ(StatusForMssCode(code, "849").code(), Code::kInvalidArgument) << code;
  }
  for (int code : {209, 406, 780, 900, 777, 12345}) {
    EXPECT_EQ(StatusForMssCode(code, "849").code(), Code::kUnavailable) << code;
  }
  // Messages name the ETSI code, so the officer and the MSSP's help desk speak of the same
  // thing.
  EXPECT_NE(StatusForMssCode(401, "849").message().find("(MSS 401 USER_CANCEL)"),
            std::string::npos);
  EXPECT_NE(StatusForMssCode(105, "84912").message().find("84912"), std::string::npos);
}

TEST(MssSigner, NormalizesEcdsaRawToDer) {
  Result<std::unique_ptr<pkix::KeySigner>> key = pkix::KeySigner::Generate("ec-p256");
  ASSERT_TRUE(key.ok());
  const Bytes tbs = {1, 2, 3};
  Result<Bytes> der = (*key)->Sign(tbs);
  ASSERT_TRUE(der.ok());
  Result<Bytes> same = NormalizeEcdsaSignature(*der, 32);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *der);
  // r||s, as PKCS#11 and many SIM applets return it.
  const unsigned char* p = der->data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(sig, nullptr);
  Bytes raw(64);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 32, 32);
  ECDSA_SIG_free(sig);
  Result<Bytes> from_raw = NormalizeEcdsaSignature(raw, 32);
  ASSERT_TRUE(from_raw.ok());
  EXPECT_EQ(*from_raw, *der);
  EXPECT_FALSE(NormalizeEcdsaSignature(Bytes(63, 1), 32).ok());
}

ossl::UniquePtr<EVP_PKEY> PublicKeyOf(const pkix::Signer& s) {
  const Bytes spki = ossl::ToDer(i2d_PUBKEY, s.public_key());
  const unsigned char* p = spki.data();
  return ossl::UniquePtr<EVP_PKEY>(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
}

TEST(MssSigner, RejectsBadOptionsAndKeys) {
  auto ec = pkix::KeySigner::Generate("ec-p256");
  ASSERT_TRUE(ec.ok());
  auto make = [&](auto edit) {
    MssOptions o;
    o.url = "http://127.0.0.1:9/mss";
    o.msisdn = "84912345678";
    edit(o);
    return NewMssSigner(std::move(o), PublicKeyOf(**ec)).status().code();
  };
  EXPECT_EQ(make([](MssOptions&) {}), Code::kOk);
  EXPECT_EQ(make([](MssOptions& o) { o.url = "https://mssp.example.vn/mss"; }),
            Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.url = "ftp://x"; }), Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.url = "http://host:99999/"; }), Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.msisdn = "0912 345 678"; }), Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.timeout = milliseconds(10); }), Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.poll_interval = milliseconds(1); }), Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.display_text = "a\x01"; }), Code::kInvalidArgument);
  EXPECT_EQ(make([](MssOptions& o) { o.digest_info = true; }), Code::kInvalidArgument);  // EC
  auto p384 = pkix::KeySigner::Generate("ec-p384");
  ASSERT_TRUE(p384.ok());
  MssOptions o;
  o.url = "http://127.0.0.1:9/mss";
  o.msisdn = "84912345678";
  EXPECT_EQ(NewMssSigner(std::move(o), PublicKeyOf(**p384)).status().code(),
            Code::kInvalidArgument);
}

TEST(MssHttp, ParsesUrls) {
  Result<HttpUrl> u = ParseHttpUrl("http://[::1]:8443/soap/services/MSS_SignaturePort");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->target, "/soap/services/MSS_SignaturePort");
  u = ParseHttpUrl("http://mssp.example.vn");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(ParseHttpUrl("http://:80/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://user@host/").ok());
}

// ---- against the MSSP simulator (subprocess) ------------------------------------------------

// The SIMs the simulator holds, by what their subscriber does.
constexpr char kRsaSim[] = "84900000001";
constexpr char kEcSim[] = "84900000002";
constexpr char kRefuseSim[] = "84900000003";
constexpr char kBlockedSim[] = "84900000004";
constexpr char kSilentSim[] = "84900000005";
constexpr char kWrongKeySim[] = "84900000006";
constexpr char kUnknownSim[] = "84900000099";

pid_t Spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int RunSimulator(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> all = {kSimulator.string()};
  all.insert(all.end(), args.begin(), args.end());
  const pid_t pid = Spawn(all, log);
  if (pid < 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ossl::UniquePtr<EVP_PKEY> ReadPublicKey(const fs::path& pem) {
  const std::string text = ReadFile(pem);
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  return ossl::UniquePtr<EVP_PKEY>(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

// SimulatorProcess runs `kyso-mssp-simulator serve` on port 0 and stops it with SIGTERM.
class SimulatorProcess final {
 public:
  SimulatorProcess(const fs::path& state, const fs::path& dir, std::vector<std::string> extra) {
    const fs::path port_file = dir / ("port-" + std::to_string(counter_++));
    std::vector<std::string> args = {kSimulator.string(), "serve",           "--state",
                                     state.string(),      "--listen",        "127.0.0.1:0",
                                     "--port-file",       port_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = Spawn(args, dir / "simulator.log");
    for (int i = 0; i < 300 && pid_ > 0 && !fs::exists(port_file); ++i) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    if (fs::exists(port_file)) port_ = std::stoi(ReadFile(port_file));
  }
  ~SimulatorProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  SimulatorProcess(const SimulatorProcess&) = delete;
  SimulatorProcess& operator=(const SimulatorProcess&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/soap/mss"; }

 private:
  static inline std::atomic<int> counter_{0};
  pid_t pid_ = -1;
  int port_ = 0;
};

class SimPkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kSoftHsm) || !fs::exists(kSimulator)) return;
    dir_ = new TempDir("kyso-mss-test");
    const fs::path state = state_dir();
    const fs::path log = dir_->path() / "setup.log";
    ASSERT_EQ(RunSimulator({"init", "--state", state.string()}, log), 0) << ReadFile(log);
    for (const char* msisdn :
         {kRsaSim, kEcSim, kRefuseSim, kBlockedSim, kSilentSim, kWrongKeySim}) {
      const std::string key = msisdn == std::string_view(kRsaSim) ? "rsa-2048" : "ec-p256";
      ASSERT_EQ(RunSimulator({"provision", "--state", state.string(), "--msisdn", msisdn, "--key",
                              key, "--out", (dir_->path() / msisdn).string()},
                             log),
                0)
          << ReadFile(log);
    }
    fast_ = new SimulatorProcess(
        state, dir_->path(),
        {"--delay-ms", "150", "--behavior-for", std::string(kRefuseSim) + "=refuse",
         "--behavior-for", std::string(kBlockedSim) + "=pin-blocked", "--behavior-for",
         std::string(kSilentSim) + "=timeout", "--behavior-for",
         std::string(kWrongKeySim) + "=wrong-key"});
  }
  static void TearDownTestSuite() {
    delete fast_;
    fast_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!fs::exists(kSoftHsm)) GTEST_SKIP() << "SoftHSM2 is not installed";
    ASSERT_TRUE(fs::exists(kSimulator)) << kSimulator << " is not built";
    ASSERT_NE(fast_, nullptr);
    ASSERT_NE(fast_->port(), 0) << ReadFile(dir_->path() / "simulator.log");
  }

  static fs::path state_dir() { return dir_->path() / "state"; }

  static MssOptions Options(const std::string& url, std::string_view msisdn) {
    MssOptions o;
    o.url = url;
    o.msisdn = std::string(msisdn);
    o.display_text = "Ký Tờ trình số 12/TTr-SKHCN của Sở Khoa học và Công nghệ Đồng Nai";
    o.timeout = milliseconds(10000);
    o.poll_interval = milliseconds(100);
    return o;
  }

  // SignerFor makes a signer for `msisdn` whose certificate key is the SIM's own key, or
  // the key of `cert_msisdn`'s SIM when given (a certificate that does not match the SIM).
  static std::unique_ptr<pkix::Signer> SignerFor(MssOptions o, std::string_view cert_msisdn = "") {
    const std::string who(cert_msisdn.empty() ? std::string_view(o.msisdn) : cert_msisdn);
    auto signer = NewMssSigner(std::move(o), ReadPublicKey(dir_->path() / who));
    EXPECT_TRUE(signer.ok()) << signer.status().ToString();
    return signer.ok() ? std::move(signer).value() : nullptr;
  }

  static Status SignOnce(pkix::Signer& signer) {
    const std::string text = "TBSCertificate or SignedAttributes";
    Result<Bytes> sig = signer.Sign(AsBytes(text));
    if (!sig.ok()) return sig.status();
    return pkix::VerifySignature(signer.public_key(), signer.algorithm(), AsBytes(text), *sig);
  }

  static inline TempDir* dir_ = nullptr;
  static inline SimulatorProcess* fast_ = nullptr;
};

TEST_F(SimPkiTest, MssSynchSignsWithRsaSim) {
  auto signer = SignerFor(Options(fast_->url(), kRsaSim));
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->algorithm(), pkix::SignatureAlgorithm::kRsaPkcs1Sha256);
  Status s = SignOnce(*signer);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SimPkiTest, MssSynchSignsWithEcSimAsDer) {
  auto signer = SignerFor(Options(fast_->url(), kEcSim));
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->algorithm(), pkix::SignatureAlgorithm::kEcdsaSha256);
  Result<Bytes> sig = signer->Sign(Bytes{1, 2, 3});
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  ASSERT_FALSE(sig->empty());
  EXPECT_EQ((*sig)[0], 0x30);  // DER Ecdsa-Sig-Value, as X.509 and CMS carry it
  EXPECT_TRUE(
      pkix::VerifySignature(signer->public_key(), signer->algorithm(), Bytes{1, 2, 3}, *sig).ok());
}

TEST_F(SimPkiTest, MssAsyncPollsUntilSigned) {
  for (const char* msisdn : {kEcSim, kRsaSim}) {
    MssOptions o = Options(fast_->url(), msisdn);
    o.mode = MessagingMode::kAsynchClientServer;
    auto signer = SignerFor(std::move(o));
    ASSERT_NE(signer, nullptr);
    Status s = SignOnce(*signer);
    EXPECT_TRUE(s.ok()) << msisdn << ": " << s.ToString();
  }
}

TEST_F(SimPkiTest, MssSendsDigestInfoWhenAsked) {
  MssOptions o = Options(fast_->url(), kRsaSim);
  o.digest_info = true;
  auto signer = SignerFor(std::move(o));
  ASSERT_NE(signer, nullptr);
  Status s = SignOnce(*signer);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SimPkiTest, MssRefusalIsClearError) {
  for (MessagingMode mode : {MessagingMode::kSynch, MessagingMode::kAsynchClientServer}) {
    MssOptions o = Options(fast_->url(), kRefuseSim);
    o.mode = mode;
    auto signer = SignerFor(std::move(o));
    ASSERT_NE(signer, nullptr);
    Status s = SignOnce(*signer);
    EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
    EXPECT_NE(s.message().find("USER_CANCEL"), std::string::npos) << s.message();
  }
}

TEST_F(SimPkiTest, MssPinBlockedIsFailedPrecondition) {
  for (MessagingMode mode : {MessagingMode::kSynch, MessagingMode::kAsynchClientServer}) {
    MssOptions o = Options(fast_->url(), kBlockedSim);
    o.mode = mode;
    auto signer = SignerFor(std::move(o));
    ASSERT_NE(signer, nullptr);
    Status s = SignOnce(*signer);
    EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
    EXPECT_NE(s.message().find("PIN_BLOCKED"), std::string::npos) << s.message();
  }
}

TEST_F(SimPkiTest, MssSilentPhoneTimesOutInBoundedTime) {
  for (MessagingMode mode : {MessagingMode::kSynch, MessagingMode::kAsynchClientServer}) {
    MssOptions o = Options(fast_->url(), kSilentSim);
    o.mode = mode;
    o.timeout = milliseconds(1000);
    o.poll_interval = milliseconds(200);
    auto signer = SignerFor(std::move(o));
    ASSERT_NE(signer, nullptr);
    const auto start = steady_clock::now();
    Status s = SignOnce(*signer);
    EXPECT_EQ(s.code(), kTimeoutCode) << s.ToString();
    EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
  }
}

TEST_F(SimPkiTest, MssSlowPhoneBeyondTimeoutIsDeadline) {
  SimulatorProcess slow(state_dir(), dir_->path(), {"--delay-ms", "5000"});
  ASSERT_NE(slow.port(), 0);
  for (MessagingMode mode : {MessagingMode::kSynch, MessagingMode::kAsynchClientServer}) {
    MssOptions o = Options(slow.url(), kEcSim);
    o.mode = mode;
    o.timeout = milliseconds(1000);
    auto signer = SignerFor(std::move(o));
    ASSERT_NE(signer, nullptr);
    const auto start = steady_clock::now();
    Status s = SignOnce(*signer);
    EXPECT_EQ(s.code(), kTimeoutCode) << s.ToString();
    EXPECT_LT(steady_clock::now() - start, milliseconds(2500));
  }
}

TEST_F(SimPkiTest, MssWrongKeySignatureIsNeverReturned) {
  auto signer = SignerFor(Options(fast_->url(), kWrongKeySim));
  ASSERT_NE(signer, nullptr);
  Result<Bytes> sig = signer->Sign(Bytes{9, 9, 9});
  EXPECT_EQ(sig.status().code(), Code::kInternal) << sig.status().ToString();
  // The same from the other side: a certificate whose key is not the SIM's.
  auto mismatched = SignerFor(Options(fast_->url(), kEcSim), kRefuseSim);
  ASSERT_NE(mismatched, nullptr);
  EXPECT_EQ(mismatched->Sign(Bytes{9}).status().code(), Code::kInternal);
}

TEST_F(SimPkiTest, MssUnknownMsisdnIsNotFound) {
  MssOptions o = Options(fast_->url(), kUnknownSim);
  auto signer = NewMssSigner(std::move(o), ReadPublicKey(dir_->path() / kEcSim));
  ASSERT_TRUE(signer.ok());
  Status s = SignOnce(**signer);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("UNKNOWN_CLIENT"), std::string::npos);
}

TEST_F(SimPkiTest, MssSignsFromManyThreads) {
  auto signer = SignerFor(Options(fast_->url(), kEcSim));
  ASSERT_NE(signer, nullptr);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2; ++i) {
        if (SignOnce(*signer).ok()) ++good;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 16);
}

// ---- a misbehaving MSSP (in-process) ---------------------------------------------------------

uint16_t UnusedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes: connecting is refused
}

std::unique_ptr<pkix::Signer> EcSignerAt(const std::string& url, milliseconds timeout,
                                         ossl::UniquePtr<EVP_PKEY> key) {
  MssOptions o;
  o.url = url;
  o.msisdn = "84912345678";
  o.timeout = timeout;
  o.poll_interval = milliseconds(100);
  auto signer = NewMssSigner(std::move(o), std::move(key));
  return signer.ok() ? std::move(signer).value() : nullptr;
}

ossl::UniquePtr<EVP_PKEY> FreshEcKey() {
  auto k = pkix::KeySigner::Generate("ec-p256");
  return k.ok() ? PublicKeyOf(**k) : nullptr;
}

TEST(MssSigner, SimPkiMsspDownIsUnavailableNamingUrl) {
  const std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/mss";
  auto signer = EcSignerAt(url, milliseconds(3000), FreshEcKey());
  ASSERT_NE(signer, nullptr);
  const auto start = steady_clock::now();
  Result<Bytes> sig = signer->Sign(Bytes{1});
  EXPECT_EQ(sig.status().code(), Code::kUnavailable);
  EXPECT_NE(sig.status().message().find(url), std::string::npos) << sig.status().message();
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
}

// FakeMssp answers every POST with what `answer` makes of the parsed request (and its
// raw text).
class FakeMssp final {
 public:
  using Answer = std::function<http::Response(const Message&, const std::string& raw)>;
  explicit FakeMssp(Answer answer)
      : server_(Options(), [answer = std::move(answer)](const http::Request& r) {
          Result<Message> m = ParseMessage(r.body);
          if (!m.ok()) return http::Response{400, "text/plain", "bad request", nullptr, ""};
          return answer(*m, r.body);
        }) {
    port_ = server_.Start().value();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  static http::ServerOptions Options() {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    return o;
  }
  http::Server server_;
  uint16_t port_ = 0;
};

TEST(MssSigner, SimPkiApPasswordIsSentButNeverEchoed) {
  std::atomic<bool> sent{false};
  FakeMssp mssp([&](const Message&, const std::string& raw) {
    sent = raw.find("AP_PWD=\"s3cret&amp;pwd\"") != std::string::npos;
    return http::Response{500, "text/xml", BuildFault(104, "wrong AP_PWD"), nullptr, ""};
  });
  MssOptions o;
  o.url = mssp.url();
  o.msisdn = "84912345678";
  o.ap_password = SecretString("s3cret&pwd");
  auto signer = NewMssSigner(std::move(o), FreshEcKey());
  ASSERT_TRUE(signer.ok());
  Result<Bytes> sig = (*signer)->Sign(Bytes{1});
  EXPECT_TRUE(sent.load());
  EXPECT_EQ(sig.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(sig.status().message().find("s3cret"), std::string::npos);
}

TEST(MssSigner, SimPkiApPasswordNeverCrossesANetworkInClearText) {
  MssOptions o;
  o.url = "http://mssp.example.vn:8080/mss";
  o.msisdn = "84912345678";
  o.ap_password = SecretString("s3cret");
  auto signer = NewMssSigner(std::move(o), FreshEcKey());
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(signer.status().message().find("s3cret"), std::string::npos);
}

TEST(MssSigner, SimPkiHttpErrorIsUnavailable) {
  FakeMssp mssp([](const Message&, const std::string&) {
    return http::Response{503, "text/html", "<html>maintenance</html>", nullptr, ""};
  });
  auto signer = EcSignerAt(mssp.url(), milliseconds(3000), FreshEcKey());
  ASSERT_NE(signer, nullptr);
  Result<Bytes> sig = signer->Sign(Bytes{1});
  EXPECT_EQ(sig.status().code(), Code::kUnavailable) << sig.status().ToString();
  EXPECT_NE(sig.status().message().find("503"), std::string::npos);
}

TEST(MssSigner, SimPkiGarbageSignatureIsRejected) {
  FakeMssp mssp([](const Message& m, const std::string&) {
    ResponseParams p{m.ap_id, m.ap_trans_id, "", "fake1", m.msisdn, 500, Bytes(64, 0x42)};
    return http::Response{200, "text/xml", BuildSignatureResponse(p), nullptr, ""};
  });
  auto signer = EcSignerAt(mssp.url(), milliseconds(3000), FreshEcKey());
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->Sign(Bytes{1}).status().code(), Code::kInternal);
}

TEST(MssSigner, SimPkiOversizedAnswerIsRefused) {
  FakeMssp mssp([](const Message&, const std::string&) {
    return http::Response{200, "text/xml", std::string(kMaxMessageLen + 10, 'x'), nullptr, ""};
  });
  auto signer = EcSignerAt(mssp.url(), milliseconds(3000), FreshEcKey());
  ASSERT_NE(signer, nullptr);
  Result<Bytes> sig = signer->Sign(Bytes{1});
  EXPECT_EQ(sig.status().code(), Code::kUnavailable) << sig.status().ToString();
}

TEST(MssSigner, SimPkiSilentServerHitsDeadline) {
  std::mutex mu;
  std::vector<http::Reply> held;  // replies never sent; cleared while the server still exists
  http::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = 1;
  http::Server server(so, [&](http::Request, http::Reply reply) {
    std::lock_guard lock(mu);
    held.push_back(std::move(reply));  // never answers
  });
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok());
  auto signer = EcSignerAt("http://127.0.0.1:" + std::to_string(*port) + "/", milliseconds(1000),
                           FreshEcKey());
  ASSERT_NE(signer, nullptr);
  const auto start = steady_clock::now();
  EXPECT_EQ(signer->Sign(Bytes{1}).status().code(), kTimeoutCode);
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
  server.Stop(milliseconds(0));
  std::lock_guard lock(mu);
  held.clear();  // their connections belong to the server's io_context
}

}  // namespace
}  // namespace kyso::mss
