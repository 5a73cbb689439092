#include "state.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "kyso/pkix/ossl.h"

namespace kyso::mssp_sim {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPinFileLen = 256;

fs::path ConfPath(const fs::path& dir) { return dir / "softhsm2.conf"; }
fs::path PinPath(const fs::path& dir) { return dir / "pin"; }

// WriteNewFile creates `path` with `mode`, refusing to overwrite.
Status WriteNewFile(const fs::path& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return FailedPreconditionError("cannot create " + path.string());
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return InternalError("cannot write " + path.string());
  return OkStatus();
}

Result<SecretString> RandomPin() {
  uint8_t raw[16];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return InternalError("no randomness for a PIN");
  std::string hex = HexEncode(raw);
  Cleanse(raw, sizeof(raw));
  SecretString pin(hex);
  Cleanse(hex.data(), hex.size());
  return pin;
}

Result<SecretString> ReadPin(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string() + "; run init first");
  std::string data(kMaxPinFileLen, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
  SecretString pin(data);
  Cleanse(data.data(), data.size());
  return pin;
}

// PointSoftHsmAt must run before the module is loaded: SoftHSM2 reads SOFTHSM2_CONF once.
void PointSoftHsmAt(const fs::path& dir) { ::setenv("SOFTHSM2_CONF", ConfPath(dir).c_str(), 1); }

}  // namespace

std::string SimKeyLabel(std::string_view msisdn) { return "sim-" + std::string(msisdn); }

bool IsMsisdn(std::string_view msisdn) {
  if (msisdn.empty() || msisdn.size() > 20) return false;
  for (char c : msisdn) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status InitState(const fs::path& dir_in, const std::string& module) {
  const fs::path dir = fs::absolute(dir_in);
  if (fs::exists(PinPath(dir)))
    return AlreadyExistsError(dir.string() + " already holds a simulator state");
  std::error_code ec;
  fs::create_directories(dir / "tokens", ec);
  if (ec) return FailedPreconditionError("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  fs::permissions(dir / "tokens", fs::perms::owner_all, ec);
  if (ec) return FailedPreconditionError("cannot restrict " + dir.string() + ": " + ec.message());
  const std::string conf =
      "# SoftHSM2 token of the kyso MSSP simulator (test keys only)\n"
      "directories.tokendir = " +
      (dir / "tokens").string() +
      "\n"
      "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
  KYSO_RETURN_IF_ERROR(WriteNewFile(ConfPath(dir), conf, 0600));
  PointSoftHsmAt(dir);
  KYSO_ASSIGN_OR_RETURN(SecretString so_pin, RandomPin());
  KYSO_ASSIGN_OR_RETURN(SecretString user_pin, RandomPin());
  KYSO_RETURN_IF_ERROR(token::Token::Initialize(module, kTokenLabel, so_pin, user_pin), "token");
  std::string line = std::string(user_pin.reveal()) + "\n";
  Status s = WriteNewFile(PinPath(dir), line, 0600);
  Cleanse(line.data(), line.size());
  return s;
}

Result<std::unique_ptr<token::Token>> OpenState(const fs::path& dir_in, const std::string& module) {
  const fs::path dir = fs::absolute(dir_in);
  if (!fs::exists(ConfPath(dir))) {
    return NotFoundError(dir.string() + " is not a simulator state; run init first");
  }
  PointSoftHsmAt(dir);
  KYSO_ASSIGN_OR_RETURN(SecretString pin, ReadPin(PinPath(dir)));
  return token::Token::Open(module, kTokenLabel, pin);
}

Result<std::string> ProvisionSim(token::Token& token, std::string_view msisdn, KeySpec spec) {
  if (!IsMsisdn(msisdn)) return InvalidArgumentError("--msisdn wants digits, e.g. 84912345678");
  KYSO_ASSIGN_OR_RETURN(auto signer, token.GenerateKeyPair(SimKeyLabel(msisdn), spec, false));
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), const_cast<EVP_PKEY*>(signer->public_key())) != 1) {
    return ossl::Error("PEM public key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace kyso::mssp_sim
