// libkyso-p11lock.so: a PKCS#11 pass-through over SoftHSM2 that adds the wrong-PIN counter real
// tokens have. TEST ONLY: production code must never load it (see README.md).
//
// SoftHSM2 2.6 accepts any number of wrong PINs. A USB token counts consecutive wrong PINs and,
// at its limit, refuses even the right one with CKR_PIN_LOCKED until the security officer sets a
// new user PIN with C_InitPIN (PKCS#11 v2.40 5.6). This module keeps that counter in a small
// file per token, keyed by the token's serial number, so a lock outlives the process that caused
// it, exactly as on hardware.
//
// Everything not overridden here is the target's own function pointer, so signing, key
// generation and object handling are SoftHSM2's, untouched.

#include <dlfcn.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

namespace {

constexpr const char* kDefaultTarget = "/usr/lib/softhsm/libsofthsm2.so";
constexpr CK_ULONG kDefaultMaxTries = 3;
constexpr CK_ULONG kMaxMaxTries = 1000;
constexpr CK_FLAGS kUserPinFlags =
    CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;
constexpr CK_FLAGS kSoPinFlags = CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_LOCKED;

// Consecutive wrong PINs of one token.
struct Counters {
  CK_ULONG user = 0;
  CK_ULONG so = 0;
};

enum class Pin { kUser, kSo };

// g_mu guards every global below and is held across each counted call into the target (read
// counter, call, write counter), so two threads cannot both spend the last try. The target
// never calls back into this module, so holding it across a target call cannot deadlock.
std::mutex g_mu;
void* g_handle = nullptr;                 // dlopen of the target; never closed
CK_FUNCTION_LIST_PTR g_target = nullptr;  // the target's own list
CK_FUNCTION_LIST g_list{};                // what we hand out: the target's, with overrides
std::string g_state_dir;                  // set by C_Initialize
CK_ULONG g_max_tries = kDefaultMaxTries;  // set by C_Initialize

void Complain(const std::string& msg) { std::fprintf(stderr, "kyso-p11lock: %s\n", msg.c_str()); }

std::string Errno() { return std::strerror(errno); }

// ---- configuration ----

// DirOf gives the folder holding `path`: "a/b.conf" → "a", "b.conf" → ".", "/b.conf" → "/".
std::string DirOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// LoadConfig reads the environment into g_state_dir and g_max_tries. REQUIRES: g_mu held.
CK_RV LoadConfig() {
  const char* dir = std::getenv("KYSO_P11LOCK_STATE_DIR");
  const char* conf = std::getenv("SOFTHSM2_CONF");
  if (dir != nullptr && *dir != '\0') {
    g_state_dir = dir;
  } else if (conf != nullptr && *conf != '\0') {
    g_state_dir = DirOf(conf);
  } else {
    Complain("neither KYSO_P11LOCK_STATE_DIR nor SOFTHSM2_CONF is set; refusing to start");
    return CKR_GENERAL_ERROR;
  }
  struct stat st {};
  if (stat(g_state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    Complain("state folder " + g_state_dir + " is not a folder");
    return CKR_GENERAL_ERROR;
  }
  g_max_tries = kDefaultMaxTries;
  if (const char* tries = std::getenv("KYSO_P11LOCK_MAX_TRIES"); tries != nullptr) {
    char* end = nullptr;
    errno = 0;
    const unsigned long n = std::strtoul(tries, &end, 10);
    if (errno != 0 || end == tries || *end != '\0' || n < 1 || n > kMaxMaxTries) {
      Complain("KYSO_P11LOCK_MAX_TRIES must be an integer in [1, 1000]");
      return CKR_GENERAL_ERROR;
    }
    g_max_tries = n;
  }
  return CKR_OK;
}

// ---- per-token state files ----

// SerialOf gives the token's serial number without its blank padding, with any byte that is not
// [A-Za-z0-9._-] written as %XX so it is safe in a file name. Empty for an uninitialised token.
std::string SerialOf(const CK_TOKEN_INFO& info) {
  std::string_view raw(reinterpret_cast<const char*>(info.serialNumber), sizeof info.serialNumber);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\0')) {
    raw.remove_suffix(1);
  }
  std::string out;
  for (const char c : raw) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || u == '.' ||
        u == '_' || u == '-') {
      out.push_back(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", u);
      out += hex;
    }
  }
  return out;
}

std::string StatePath(const std::string& serial) {
  return g_state_dir + "/p11lock-" + serial + ".state";
}

// ReadCounters loads the counters of `serial`; a missing file means no wrong tries. A file we
// cannot parse is an error: a test module that silently forgot a lock would hide bugs.
CK_RV ReadCounters(const std::string& serial, Counters* out) {
  *out = Counters{};
  const std::string path = StatePath(serial);
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) {
    if (errno == ENOENT) {
      return CKR_OK;
    }
    Complain("cannot read " + path + ": " + Errno());
    return CKR_GENERAL_ERROR;
  }
  unsigned long user = 0;
  unsigned long so = 0;
  const int n = std::fscanf(f, "user %lu so %lu", &user, &so);
  std::fclose(f);
  if (n != 2) {
    Complain(path + " is corrupt; expected \"user N\\nso M\\n\"");
    return CKR_GENERAL_ERROR;
  }
  out->user = user;
  out->so = so;
  return CKR_OK;
}

// WriteCounters replaces the file of `serial` atomically: write a temp file, fsync, rename.
CK_RV WriteCounters(const std::string& serial, const Counters& c) {
  const std::string path = StatePath(serial);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const std::string text = "user " + std::to_string(c.user) + "\nso " + std::to_string(c.so) + "\n";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    Complain("cannot write " + tmp + ": " + Errno());
    return CKR_GENERAL_ERROR;
  }
  const bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  const bool closed = close(fd) == 0;
  if (!ok || !closed || rename(tmp.c_str(), path.c_str()) != 0) {
    Complain("cannot write " + path + ": " + Errno());
    unlink(tmp.c_str());
    return CKR_GENERAL_ERROR;
  }
  return CKR_OK;
}

// CrossProcessLock serialises counted calls between processes sharing one state folder (g_mu
// only covers the threads of one process). Released on destruction.
class CrossProcessLock final {
 public:
  CrossProcessLock() {
    const std::string path = g_state_dir + "/p11lock.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 || flock(fd_, LOCK_EX) != 0) {
      Complain("cannot lock " + path + ": " + Errno());
      if (fd_ >= 0) {
        close(fd_);
      }
      fd_ = -1;
    }
  }
  ~CrossProcessLock() {
    if (fd_ >= 0) {
      close(fd_);  // releases the flock
    }
  }
  CrossProcessLock(const CrossProcessLock&) = delete;
  CrossProcessLock& operator=(const CrossProcessLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// ---- mapping sessions and slots to tokens ----

// SerialOfSlot reads the serial of the token in `slot` through the target.
CK_RV SerialOfSlot(CK_SLOT_ID slot, std::string* serial) {
  CK_TOKEN_INFO info{};
  const CK_RV rv = g_target->C_GetTokenInfo(slot, &info);
  *serial = rv == CKR_OK ? SerialOf(info) : std::string();
  return rv;
}

// SessionToken finds the serial of the token behind `session`, and the session's state. Looked
// up on every call, never cached: SoftHSM2 renumbers slots once a token is initialised.
CK_RV SessionToken(CK_SESSION_HANDLE session, std::string* serial, CK_STATE* state) {
  CK_SESSION_INFO info{};
  const CK_RV rv = g_target->C_GetSessionInfo(session, &info);
  if (rv != CKR_OK) {
    return rv;
  }
  if (state != nullptr) {
    *state = info.state;
  }
  return SerialOfSlot(info.slotID, serial);
}

// ---- the counting itself ----

CK_ULONG& CounterOf(Counters& c, Pin pin) { return pin == Pin::kUser ? c.user : c.so; }

// CountedCall runs `call` (a PIN check in the target) unless `pin` of `serial` is locked, and
// keeps the counter as hardware does: a wrong PIN counts, and the try that reaches the limit
// answers CKR_PIN_LOCKED; a right PIN resets it. Any other answer leaves the counter alone.
// `undo` runs if the call succeeded but the reset could not be recorded. REQUIRES: g_mu held.
template <typename Call, typename Undo>
CK_RV CountedCall(const std::string& serial, Pin pin, Call call, Undo undo) {
  if (serial.empty()) {
    return call();  // uninitialised token: the target refuses the PIN on its own
  }
  const CrossProcessLock lock;
  if (!lock.held()) {
    return CKR_GENERAL_ERROR;
  }
  Counters c;
  if (const CK_RV rv = ReadCounters(serial, &c); rv != CKR_OK) {
    return rv;
  }
  CK_ULONG& tries = CounterOf(c, pin);
  if (tries >= g_max_tries) {
    return CKR_PIN_LOCKED;
  }
  const CK_RV rv = call();
  if (rv == CKR_PIN_INCORRECT) {
    ++tries;
    if (const CK_RV wrv = WriteCounters(serial, c); wrv != CKR_OK) {
      return wrv;
    }
    return tries >= g_max_tries ? CKR_PIN_LOCKED : CKR_PIN_INCORRECT;
  }
  if (rv == CKR_OK && tries != 0) {
    tries = 0;
    if (const CK_RV wrv = WriteCounters(serial, c); wrv != CKR_OK) {
      undo();
      return wrv;
    }
  }
  return rv;
}

// ResetCounters sets the chosen counters of `serial` back to zero. REQUIRES: g_mu held.
CK_RV ResetCounters(const std::string& serial, bool user, bool so) {
  if (serial.empty()) {
    return CKR_OK;
  }
  const CrossProcessLock lock;
  if (!lock.held()) {
    return CKR_GENERAL_ERROR;
  }
  Counters c;
  if (const CK_RV rv = ReadCounters(serial, &c); rv != CKR_OK) {
    return rv;
  }
  if ((!user || c.user == 0) && (!so || c.so == 0)) {
    return CKR_OK;
  }
  c.user = user ? 0 : c.user;
  c.so = so ? 0 : c.so;
  return WriteCounters(serial, c);
}

// PinFlags gives the CKF_*_PIN_* flags that hold for `tries` wrong PINs out of g_max_tries.
// REQUIRES: g_mu held.
CK_FLAGS PinFlags(CK_ULONG tries, CK_FLAGS count_low, CK_FLAGS final_try, CK_FLAGS locked) {
  CK_FLAGS flags = 0;
  if (tries >= g_max_tries) {
    return locked;
  }
  if (tries > 0) {
    flags |= count_low;
  }
  if (tries == g_max_tries - 1) {
    flags |= final_try;
  }
  return flags;
}

// ---- overridden entry points ----

CK_RV LoadTarget();

CK_RV LockInitialize(CK_VOID_PTR init_args) {
  const std::lock_guard<std::mutex> guard(g_mu);
  if (const CK_RV rv = LoadTarget(); rv != CKR_OK) {
    return rv;
  }
  if (const CK_RV rv = LoadConfig(); rv != CKR_OK) {
    return rv;
  }
  return g_target->C_Initialize(init_args);
}

CK_RV LockGetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  const CK_RV rv = g_target->C_GetTokenInfo(slot, info);
  if (rv != CKR_OK || (info->flags & CKF_TOKEN_INITIALIZED) == 0) {
    return rv;
  }
  const std::string serial = SerialOf(*info);
  if (serial.empty()) {
    return rv;
  }
  const std::lock_guard<std::mutex> guard(g_mu);
  Counters c;
  if (const CK_RV crv = ReadCounters(serial, &c); crv != CKR_OK) {
    return crv;
  }
  // SoftHSM2 sets and clears CKF_USER_PIN_COUNT_LOW itself; ours replace its.
  info->flags &= ~(kUserPinFlags | kSoPinFlags);
  info->flags |=
      PinFlags(c.user, CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED);
  info->flags |= PinFlags(c.so, CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_LOCKED);
  return CKR_OK;
}

CK_RV LockLogin(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_UTF8CHAR_PTR pin,
                CK_ULONG pin_len) {
  if (user_type != CKU_USER && user_type != CKU_CONTEXT_SPECIFIC && user_type != CKU_SO) {
    return g_target->C_Login(session, user_type, pin, pin_len);
  }
  const std::lock_guard<std::mutex> guard(g_mu);
  std::string serial;
  if (const CK_RV rv = SessionToken(session, &serial, nullptr); rv != CKR_OK) {
    return rv;
  }
  return CountedCall(
      serial, user_type == CKU_SO ? Pin::kSo : Pin::kUser,
      [&] { return g_target->C_Login(session, user_type, pin, pin_len); },
      [&] {
        if (user_type != CKU_CONTEXT_SPECIFIC) {
          g_target->C_Logout(session);
        }
      });
}

// CrashAt ends the process at once, as a kill -9 or a pulled-out token would, when the
// environment names `function` in KYSO_P11LOCK_CRASH_AT: tests use it to interrupt kyso at a
// chosen step of an enrolment and check that nothing is lost.
void CrashAt(std::string_view function) {
  const char* at = std::getenv("KYSO_P11LOCK_CRASH_AT");
  if (at != nullptr && function == at) {
    Complain("crashing at " + std::string(function) + " (KYSO_P11LOCK_CRASH_AT)");
    std::_Exit(137);
  }
}

CK_RV LockGenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism,
                          CK_ATTRIBUTE_PTR pub, CK_ULONG pub_count, CK_ATTRIBUTE_PTR priv,
                          CK_ULONG priv_count, CK_OBJECT_HANDLE_PTR pub_key,
                          CK_OBJECT_HANDLE_PTR priv_key) {
  CrashAt("C_GenerateKeyPair");
  return g_target->C_GenerateKeyPair(session, mechanism, pub, pub_count, priv, priv_count, pub_key,
                                     priv_key);
}

CK_RV LockInitPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  CrashAt("C_InitPIN");
  const std::lock_guard<std::mutex> guard(g_mu);
  const CK_RV rv = g_target->C_InitPIN(session, pin, pin_len);
  if (rv != CKR_OK) {
    return rv;
  }
  // The security officer set a new user PIN: this is how a locked token is unblocked.
  std::string serial;
  if (const CK_RV srv = SessionToken(session, &serial, nullptr); srv != CKR_OK) {
    return srv;
  }
  return ResetCounters(serial, /*user=*/true, /*so=*/false);
}

CK_RV LockSetPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
                 CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len) {
  const std::lock_guard<std::mutex> guard(g_mu);
  std::string serial;
  CK_STATE state = 0;
  if (const CK_RV rv = SessionToken(session, &serial, &state); rv != CKR_OK) {
    return rv;
  }
  // In an SO session C_SetPIN changes the SO PIN; otherwise (user or public) the user PIN.
  const Pin which = state == CKS_RW_SO_FUNCTIONS ? Pin::kSo : Pin::kUser;
  return CountedCall(
      serial, which,
      [&] { return g_target->C_SetPIN(session, old_pin, old_len, new_pin, new_len); }, [] {});
}

// LockInitToken counts a wrong SO PIN given to re-initialise a token, refuses a token whose SO
// PIN is locked (such a token is dead, as on hardware), and clears both counters on success.
// SoftHSM2 keeps the slot ID of a freshly initialised token for the rest of the process (a new
// process sees it under an ID derived from its serial), so the slot is read again afterwards.
CK_RV LockInitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR so_pin, CK_ULONG so_pin_len,
                    CK_UTF8CHAR_PTR label) {
  const std::lock_guard<std::mutex> guard(g_mu);
  std::string old_serial;
  CK_TOKEN_INFO info{};
  if (g_target->C_GetTokenInfo(slot, &info) == CKR_OK &&
      (info.flags & CKF_TOKEN_INITIALIZED) != 0) {
    old_serial = SerialOf(info);
  }
  const CK_RV rv = CountedCall(
      old_serial, Pin::kSo, [&] { return g_target->C_InitToken(slot, so_pin, so_pin_len, label); },
      [] {});
  if (rv != CKR_OK) {
    return rv;
  }
  if (const CK_RV orv = ResetCounters(old_serial, true, true); orv != CKR_OK) {
    return orv;
  }
  std::string new_serial;
  if (const CK_RV srv = SerialOfSlot(slot, &new_serial); srv != CKR_OK) {
    Complain("token initialised but its slot no longer answers; counters not reset");
    return srv;
  }
  return new_serial == old_serial ? CKR_OK : ResetCounters(new_serial, true, true);
}

// LoadTarget dlopens the target module once and builds g_list. REQUIRES: g_mu held.
CK_RV LoadTarget() {
  if (g_target != nullptr) {
    return CKR_OK;
  }
  const char* env = std::getenv("KYSO_P11LOCK_TARGET");
  const std::string path = env != nullptr && *env != '\0' ? env : kDefaultTarget;
  g_handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (g_handle == nullptr) {
    Complain("cannot load target " + path + ": " + dlerror());
    return CKR_GENERAL_ERROR;
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(g_handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR target = nullptr;
  if (get_list == nullptr || get_list(&target) != CKR_OK || target == nullptr) {
    Complain("target " + path + " gives no PKCS#11 function list");
    return CKR_GENERAL_ERROR;
  }
  g_target = target;
  g_list = *target;
  g_list.C_GetFunctionList = &C_GetFunctionList;
  g_list.C_Initialize = &LockInitialize;
  g_list.C_GetTokenInfo = &LockGetTokenInfo;
  g_list.C_InitToken = &LockInitToken;
  g_list.C_InitPIN = &LockInitPIN;
  g_list.C_GenerateKeyPair = &LockGenerateKeyPair;
  g_list.C_SetPIN = &LockSetPIN;
  g_list.C_Login = &LockLogin;
  return CKR_OK;
}

}  // namespace

// C_GetFunctionList is the module's only export: the target's list with the entries above.
extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(
    CK_FUNCTION_LIST_PTR_PTR list) {
  if (list == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  const std::lock_guard<std::mutex> guard(g_mu);
  if (const CK_RV rv = LoadTarget(); rv != CKR_OK) {
    return rv;
  }
  *list = &g_list;
  return CKR_OK;
}
