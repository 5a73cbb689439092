#pragma once

// Internal to kyso/token: the thin C++ layer over a PKCS#11 module. Nothing outside this folder
// includes it (token_test.cc does, to inspect objects the way an auditor would).

#include <p11-kit/pkcs11.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kyso/base/bytes.h"
#include "kyso/base/secret.h"
#include "kyso/base/status.h"

namespace kyso::token::internal {

// RvName gives the CKR_ name of `rv` ("CKR_PIN_INCORRECT"), or "CKR_0x..." for codes it does
// not know.
std::string RvName(CK_RV rv);

// RvStatus is the one place a CK_RV becomes a Status: CKR_OK is OK, anything else a code chosen
// by what the caller can do about it, with `what` and the CKR_ name in the message.
Status RvStatus(CK_RV rv, std::string_view what);

// kLabelLen is the size of CK_TOKEN_INFO.label: blank padded, not NUL terminated.
inline constexpr std::size_t kLabelLen = 32;

// PaddedLabel blank-pads `label` to 32 bytes; empty or longer labels are kInvalidArgument.
Result<std::array<CK_UTF8CHAR, kLabelLen>> PaddedLabel(std::string_view label);

// TrimmedField gives a fixed-size CK_TOKEN_INFO text field without its blank (or NUL)
// padding; TrimmedLabel, the token's label.
std::string_view TrimmedField(const CK_UTF8CHAR* field, std::size_t len);
inline std::string_view TrimmedLabel(const CK_TOKEN_INFO& info) {
  return TrimmedField(info.label, sizeof(info.label));
}

// Module is one loaded and initialized PKCS#11 library. Modules are shared process-wide, one
// per path, so every Token over the same library shares one C_Initialize.
//
// A Module is never finalized or unloaded: C_Finalize would break any other holder of the
// library in the process, and at exit the module's own static teardown may already have run.
class Module final {
 public:
  // Load returns the process's Module for `path`, loading and initializing it (with
  // CKF_OS_LOCKING_OK) the first time.
  static Result<std::shared_ptr<Module>> Load(const std::string& path);

  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const CK_FUNCTION_LIST* fn() const { return fn_; }
  const std::string& path() const { return path_; }

  // Slots lists the slots (all of them, or only those with a token present).
  Result<std::vector<CK_SLOT_ID>> Slots(bool token_present) const;

  // FindTokenByLabel returns the slot whose initialized token is labelled `label`: kNotFound
  // if there is none, kFailedPrecondition if several tokens share the label.
  Result<CK_SLOT_ID> FindTokenByLabel(std::string_view label) const;

  // LoginUser logs the user in to `slot` through `session` once for the process.
  //
  // PKCS#11 keeps one login state per token per application, and a module answers a second
  // C_Login with CKR_USER_ALREADY_LOGGED_IN without looking at the PIN. So the first successful
  // login records a keyed digest of the PIN, and later logins are accepted only when their PIN
  // matches it. A token logged in by something else in the process is refused.
  Status LoginUser(CK_SESSION_HANDLE session, CK_SLOT_ID slot, const SecretString& pin);

 private:
  using PinDigest = std::array<uint8_t, 32>;
  Module(std::string path, CK_FUNCTION_LIST* fn);
  PinDigest DigestPin(const SecretString& pin) const;

  const std::string path_;
  CK_FUNCTION_LIST* const fn_;
  std::array<uint8_t, 32> pin_key_{};  // random per process; keys the PIN digests

  std::mutex login_mu_;
  std::map<CK_SLOT_ID, PinDigest> user_pins_;  // guarded by login_mu_
};

// Session is one open PKCS#11 session. It is move-only; the destructor closes it and never
// throws.
//
// The destructor does not C_Logout: the login state belongs to the token, not the session, so
// logging out here would log out every other session of the process on that token. PKCS#11
// v2.40 5.6 (C_CloseSession): when the last session is closed, "the login state of the token
// for the application returns to public sessions".
class Session final {
 public:
  // Open opens a serial read/write session on `slot`.
  static Result<Session> Open(const Module& module, CK_SLOT_ID slot);

  Session(Session&& other) noexcept
      : fn_(other.fn_), handle_(std::exchange(other.handle_, CK_INVALID_HANDLE)) {}
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() { Close(); }

  CK_SESSION_HANDLE handle() const { return handle_; }

  // LoginSo logs the security officer in; LogoutSo logs it out again.
  Status LoginSo(const SecretString& so_pin);
  Status Logout();

 private:
  Session(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE handle) : fn_(fn), handle_(handle) {}
  void Close() noexcept;

  const CK_FUNCTION_LIST* fn_;
  CK_SESSION_HANDLE handle_;
};

// PinPtr gives a PIN to C_Login, C_InitToken or C_InitPIN, which take it non-const.
inline CK_UTF8CHAR* PinPtr(const SecretString& pin) {
  return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.reveal().data()));
}

// Attr builds one CK_ATTRIBUTE over a value that outlives the call using it.
template <typename T>
CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, T& value) {
  return CK_ATTRIBUTE{type, &value, sizeof(T)};
}
inline CK_ATTRIBUTE AttrBytes(CK_ATTRIBUTE_TYPE type, ByteSpan bytes) {
  return CK_ATTRIBUTE{type, const_cast<uint8_t*>(bytes.data()), bytes.size()};
}

// FindObjects returns the handles of the objects matching `attrs`, at most `max` of them.
Result<std::vector<CK_OBJECT_HANDLE>> FindObjects(const CK_FUNCTION_LIST* fn,
                                                  CK_SESSION_HANDLE session,
                                                  std::span<CK_ATTRIBUTE> attrs,
                                                  std::size_t max = 16);

// FindKeyByLabel finds the one object of `object_class` labelled `label`: kNotFound if there
// is none, kFailedPrecondition if the label is ambiguous.
Result<CK_OBJECT_HANDLE> FindKeyByLabel(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                        CK_OBJECT_CLASS object_class, std::string_view label);

// GetBytesAttribute reads a variable-length attribute; GetUlongAttribute and GetBoolAttribute
// read fixed-size ones.
Result<Bytes> GetBytesAttribute(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
Result<CK_ULONG> GetUlongAttribute(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                   CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
Result<bool> GetBoolAttribute(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                              CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

// ScopeExit runs a cleanup when it goes out of scope (absl::Cleanup).
template <typename F>
class ScopeExit final {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() { f_(); }

 private:
  F f_;
};

}  // namespace kyso::token::internal
