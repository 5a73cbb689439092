#include "kyso/token/pkcs11.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

namespace kyso::token::internal {

std::string RvName(CK_RV rv) {
  switch (rv) {
#define KYSO_CKR(name) \
  case name:           \
    return #name;
    KYSO_CKR(CKR_OK)
    KYSO_CKR(CKR_CANCEL)
    KYSO_CKR(CKR_HOST_MEMORY)
    KYSO_CKR(CKR_SLOT_ID_INVALID)
    KYSO_CKR(CKR_GENERAL_ERROR)
    KYSO_CKR(CKR_FUNCTION_FAILED)
    KYSO_CKR(CKR_ARGUMENTS_BAD)
    KYSO_CKR(CKR_NEED_TO_CREATE_THREADS)
    KYSO_CKR(CKR_CANT_LOCK)
    KYSO_CKR(CKR_ATTRIBUTE_READ_ONLY)
    KYSO_CKR(CKR_ATTRIBUTE_SENSITIVE)
    KYSO_CKR(CKR_ATTRIBUTE_TYPE_INVALID)
    KYSO_CKR(CKR_ATTRIBUTE_VALUE_INVALID)
    KYSO_CKR(CKR_DATA_INVALID)
    KYSO_CKR(CKR_DATA_LEN_RANGE)
    KYSO_CKR(CKR_DEVICE_ERROR)
    KYSO_CKR(CKR_DEVICE_MEMORY)
    KYSO_CKR(CKR_DEVICE_REMOVED)
    KYSO_CKR(CKR_ENCRYPTED_DATA_INVALID)
    KYSO_CKR(CKR_ENCRYPTED_DATA_LEN_RANGE)
    KYSO_CKR(CKR_FUNCTION_CANCELED)
    KYSO_CKR(CKR_FUNCTION_NOT_PARALLEL)
    KYSO_CKR(CKR_FUNCTION_NOT_SUPPORTED)
    KYSO_CKR(CKR_KEY_HANDLE_INVALID)
    KYSO_CKR(CKR_KEY_SIZE_RANGE)
    KYSO_CKR(CKR_KEY_TYPE_INCONSISTENT)
    KYSO_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED)
    KYSO_CKR(CKR_KEY_NOT_WRAPPABLE)
    KYSO_CKR(CKR_KEY_UNEXTRACTABLE)
    KYSO_CKR(CKR_MECHANISM_INVALID)
    KYSO_CKR(CKR_MECHANISM_PARAM_INVALID)
    KYSO_CKR(CKR_OBJECT_HANDLE_INVALID)
    KYSO_CKR(CKR_OPERATION_ACTIVE)
    KYSO_CKR(CKR_OPERATION_NOT_INITIALIZED)
    KYSO_CKR(CKR_PIN_INCORRECT)
    KYSO_CKR(CKR_PIN_INVALID)
    KYSO_CKR(CKR_PIN_LEN_RANGE)
    KYSO_CKR(CKR_PIN_EXPIRED)
    KYSO_CKR(CKR_PIN_LOCKED)
    KYSO_CKR(CKR_SESSION_CLOSED)
    KYSO_CKR(CKR_SESSION_COUNT)
    KYSO_CKR(CKR_SESSION_HANDLE_INVALID)
    KYSO_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED)
    KYSO_CKR(CKR_SESSION_READ_ONLY)
    KYSO_CKR(CKR_SESSION_EXISTS)
    KYSO_CKR(CKR_SESSION_READ_ONLY_EXISTS)
    KYSO_CKR(CKR_SESSION_READ_WRITE_SO_EXISTS)
    KYSO_CKR(CKR_SIGNATURE_INVALID)
    KYSO_CKR(CKR_SIGNATURE_LEN_RANGE)
    KYSO_CKR(CKR_TEMPLATE_INCOMPLETE)
    KYSO_CKR(CKR_TEMPLATE_INCONSISTENT)
    KYSO_CKR(CKR_TOKEN_NOT_PRESENT)
    KYSO_CKR(CKR_TOKEN_NOT_RECOGNIZED)
    KYSO_CKR(CKR_TOKEN_WRITE_PROTECTED)
    KYSO_CKR(CKR_USER_ALREADY_LOGGED_IN)
    KYSO_CKR(CKR_USER_NOT_LOGGED_IN)
    KYSO_CKR(CKR_USER_PIN_NOT_INITIALIZED)
    KYSO_CKR(CKR_USER_TYPE_INVALID)
    KYSO_CKR(CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
    KYSO_CKR(CKR_USER_TOO_MANY_TYPES)
    KYSO_CKR(CKR_DOMAIN_PARAMS_INVALID)
    KYSO_CKR(CKR_CURVE_NOT_SUPPORTED)
    KYSO_CKR(CKR_BUFFER_TOO_SMALL)
    KYSO_CKR(CKR_RANDOM_SEED_NOT_SUPPORTED)
    KYSO_CKR(CKR_RANDOM_NO_RNG)
    KYSO_CKR(CKR_CRYPTOKI_NOT_INITIALIZED)
    KYSO_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    KYSO_CKR(CKR_MUTEX_BAD)
    KYSO_CKR(CKR_MUTEX_NOT_LOCKED)
#undef KYSO_CKR
    default: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "CKR_0x%08lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

namespace {

Code CodeForRv(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_USER_NOT_LOGGED_IN:
      return Code::kUnauthenticated;
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
    case CKR_USER_PIN_NOT_INITIALIZED:
    case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_TOKEN_WRITE_PROTECTED:
    case CKR_SESSION_READ_ONLY:
    case CKR_SESSION_EXISTS:
    case CKR_MECHANISM_INVALID:
    case CKR_FUNCTION_NOT_SUPPORTED:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_UNEXTRACTABLE:
    case CKR_CURVE_NOT_SUPPORTED:
    case CKR_KEY_SIZE_RANGE:
      return Code::kFailedPrecondition;
    case CKR_ATTRIBUTE_SENSITIVE:
      return Code::kPermissionDenied;
    case CKR_SLOT_ID_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
      return Code::kNotFound;
    case CKR_ARGUMENTS_BAD:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_DATA_INVALID:
    case CKR_DATA_LEN_RANGE:
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
    case CKR_SIGNATURE_INVALID:
    case CKR_SIGNATURE_LEN_RANGE:
    case CKR_ATTRIBUTE_VALUE_INVALID:
    case CKR_ATTRIBUTE_TYPE_INVALID:
    case CKR_TEMPLATE_INCOMPLETE:
    case CKR_TEMPLATE_INCONSISTENT:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_DOMAIN_PARAMS_INVALID:
      return Code::kInvalidArgument;
    case CKR_HOST_MEMORY:
    case CKR_DEVICE_MEMORY:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_COUNT:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_FUNCTION_CANCELED:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

// Registry holds every loaded Module by path for the life of the process (see Module).
std::map<std::string, std::shared_ptr<Module>>& Registry() {
  static std::map<std::string, std::shared_ptr<Module>> modules;
  return modules;
}

}  // namespace

Status RvStatus(CK_RV rv, std::string_view what) {
  if (rv == CKR_OK) {
    return OkStatus();
  }
  return Status(CodeForRv(rv), std::string(what) + ": " + RvName(rv));
}

Result<std::array<CK_UTF8CHAR, kLabelLen>> PaddedLabel(std::string_view label) {
  if (label.empty() || label.size() > kLabelLen) {
    return InvalidArgumentError("token label must be 1 to 32 bytes");
  }
  std::array<CK_UTF8CHAR, kLabelLen> out;
  out.fill(' ');
  std::copy(label.begin(), label.end(), out.begin());
  return out;
}

std::string_view TrimmedField(const CK_UTF8CHAR* field, std::size_t len) {
  std::string_view v(reinterpret_cast<const char*>(field), len);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) {
    v.remove_suffix(1);
  }
  return v;
}

Module::Module(std::string path, CK_FUNCTION_LIST* fn) : path_(std::move(path)), fn_(fn) {}

Result<std::shared_ptr<Module>> Module::Load(const std::string& path) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto& registry = Registry();
  if (auto it = registry.find(path); it != registry.end()) {
    return it->second;
  }
  // The handle is deliberately never dlclose()d: see the class comment.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return NotFoundError("cannot load PKCS#11 module " + path + ": " +
                         (err != nullptr ? err : "unknown error"));
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    dlclose(handle);
    return InvalidArgumentError(path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_FUNCTION_LIST* fn = nullptr;
  CK_RV rv = get_function_list(&fn);
  if (rv != CKR_OK || fn == nullptr) {
    dlclose(handle);
    return rv != CKR_OK ? RvStatus(rv, "C_GetFunctionList " + path)
                        : InternalError("C_GetFunctionList returned no function list");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    dlclose(handle);
    return RvStatus(rv, "C_Initialize " + path);
  }
  std::shared_ptr<Module> module(new Module(path, fn));
  if (RAND_bytes(module->pin_key_.data(), static_cast<int>(module->pin_key_.size())) != 1) {
    return InternalError("RAND_bytes failed");
  }
  registry.emplace(path, module);
  return module;
}

Result<std::vector<CK_SLOT_ID>> Module::Slots(bool token_present) const {
  const CK_BBOOL present = token_present ? CK_TRUE : CK_FALSE;
  // The count may change between the two calls (SoftHSM2 adds a free slot after C_InitToken),
  // hence the loop on CKR_BUFFER_TOO_SMALL.
  for (int attempt = 0; attempt < 4; ++attempt) {
    CK_ULONG count = 0;
    KYSO_RETURN_IF_ERROR(RvStatus(fn_->C_GetSlotList(present, nullptr, &count), "C_GetSlotList"));
    std::vector<CK_SLOT_ID> slots(count);
    const CK_RV rv = fn_->C_GetSlotList(present, slots.data(), &count);
    if (rv == CKR_BUFFER_TOO_SMALL) {
      continue;
    }
    KYSO_RETURN_IF_ERROR(RvStatus(rv, "C_GetSlotList"));
    slots.resize(count);
    return slots;
  }
  return UnavailableError("C_GetSlotList: slot list keeps changing");
}

Result<CK_SLOT_ID> Module::FindTokenByLabel(std::string_view label) const {
  KYSO_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, Slots(/*token_present=*/true));
  std::vector<CK_SLOT_ID> matches;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    const CK_RV rv = fn_->C_GetTokenInfo(slot, &info);
    if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SLOT_ID_INVALID) {
      continue;  // removed since the slot list was taken
    }
    KYSO_RETURN_IF_ERROR(RvStatus(rv, "C_GetTokenInfo"));
    if ((info.flags & CKF_TOKEN_INITIALIZED) != 0 && TrimmedLabel(info) == label) {
      matches.push_back(slot);
    }
  }
  if (matches.empty()) {
    return NotFoundError("no token labelled \"" + std::string(label) + "\" in " + path_);
  }
  if (matches.size() > 1) {
    return FailedPreconditionError("several tokens are labelled \"" + std::string(label) + "\"");
  }
  return matches.front();
}

Module::PinDigest Module::DigestPin(const SecretString& pin) const {
  PinDigest digest{};
  unsigned int len = 0;
  const std::string_view p = pin.reveal();
  if (HMAC(EVP_sha256(), pin_key_.data(), static_cast<int>(pin_key_.size()),
           reinterpret_cast<const unsigned char*>(p.data()), p.size(), digest.data(),
           &len) == nullptr ||
      len != digest.size()) {
    // A digest that matches nothing: the login is then refused, never wrongly accepted.
    RAND_bytes(digest.data(), static_cast<int>(digest.size()));
  }
  return digest;
}

Status Module::LoginUser(CK_SESSION_HANDLE session, CK_SLOT_ID slot, const SecretString& pin) {
  const PinDigest digest = DigestPin(pin);
  std::lock_guard<std::mutex> lock(login_mu_);
  const CK_RV rv = fn_->C_Login(session, CKU_USER, PinPtr(pin), pin.size());
  if (rv == CKR_OK) {
    user_pins_[slot] = digest;
    return OkStatus();
  }
  if (rv == CKR_PIN_LOCKED) {
    // R13.1: the holder cannot unlock it; the security officer can, after a recovery request.
    return FailedPreconditionError(
        "thiết bị bị khóa do nhập sai PIN quá số lần cho phép; cơ quan quản lý lập yêu cầu khôi "
        "phục (Mẫu 06, R13.1) (C_Login: CKR_PIN_LOCKED)");
  }
  if (rv == CKR_PIN_INCORRECT) {
    return Status(Code::kUnauthenticated, "mã PIN không đúng (C_Login: CKR_PIN_INCORRECT)");
  }
  if (rv != CKR_USER_ALREADY_LOGGED_IN) {
    return RvStatus(rv, "C_Login");
  }
  const auto it = user_pins_.find(slot);
  if (it == user_pins_.end()) {
    return FailedPreconditionError(
        "the token's user was logged in by another part of this process; cannot check the PIN");
  }
  if (CRYPTO_memcmp(it->second.data(), digest.data(), digest.size()) != 0) {
    return RvStatus(CKR_PIN_INCORRECT, "C_Login");
  }
  return OkStatus();
}

Result<Session> Session::Open(const Module& module, CK_SLOT_ID slot) {
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  KYSO_RETURN_IF_ERROR(
      RvStatus(module.fn()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                          nullptr, &handle),
               "C_OpenSession"));
  return Session(module.fn(), handle);
}

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    Close();
    fn_ = other.fn_;
    handle_ = std::exchange(other.handle_, CK_INVALID_HANDLE);
  }
  return *this;
}

void Session::Close() noexcept {
  if (handle_ != CK_INVALID_HANDLE) {
    // Nothing useful can be done about a failure here; the module reclaims the session when
    // the process ends.
    (void)fn_->C_CloseSession(handle_);
    handle_ = CK_INVALID_HANDLE;
  }
}

Status Session::LoginSo(const SecretString& so_pin) {
  return RvStatus(fn_->C_Login(handle_, CKU_SO, PinPtr(so_pin), so_pin.size()), "C_Login (SO)");
}

Status Session::Logout() { return RvStatus(fn_->C_Logout(handle_), "C_Logout"); }

Result<std::vector<CK_OBJECT_HANDLE>> FindObjects(const CK_FUNCTION_LIST* fn,
                                                  CK_SESSION_HANDLE session,
                                                  std::span<CK_ATTRIBUTE> attrs, std::size_t max) {
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_FindObjectsInit(session, attrs.data(), attrs.size()), "C_FindObjectsInit"));
  ScopeExit final_search([&] { (void)fn->C_FindObjectsFinal(session); });
  std::vector<CK_OBJECT_HANDLE> found(max);
  CK_ULONG count = 0;
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_FindObjects(session, found.data(), max, &count), "C_FindObjects"));
  found.resize(count);
  return found;
}

Result<CK_OBJECT_HANDLE> FindKeyByLabel(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                        CK_OBJECT_CLASS object_class, std::string_view label) {
  CK_ATTRIBUTE attrs[] = {
      Attr(CKA_CLASS, object_class),
      AttrBytes(CKA_LABEL, AsBytes(label)),
  };
  KYSO_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found,
                        FindObjects(fn, session, attrs, /*max=*/2));
  if (found.empty()) {
    return NotFoundError("no key labelled \"" + std::string(label) + "\" on the token");
  }
  if (found.size() > 1) {
    return FailedPreconditionError("several keys of one class are labelled \"" +
                                   std::string(label) + "\"");
  }
  return found.front();
}

Result<Bytes> GetBytesAttribute(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_GetAttributeValue(session, object, &attr, 1), "C_GetAttributeValue"));
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return FailedPreconditionError("attribute is unavailable");
  }
  Bytes value(attr.ulValueLen);
  attr.pValue = value.data();
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_GetAttributeValue(session, object, &attr, 1), "C_GetAttributeValue"));
  value.resize(attr.ulValueLen);
  return value;
}

Result<CK_ULONG> GetUlongAttribute(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                   CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ULONG value = 0;
  CK_ATTRIBUTE attr = Attr(type, value);
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_GetAttributeValue(session, object, &attr, 1), "C_GetAttributeValue"));
  return value;
}

Result<bool> GetBoolAttribute(const CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                              CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_BBOOL value = CK_FALSE;
  CK_ATTRIBUTE attr = Attr(type, value);
  KYSO_RETURN_IF_ERROR(
      RvStatus(fn->C_GetAttributeValue(session, object, &attr, 1), "C_GetAttributeValue"));
  return value == CK_TRUE;
}

}  // namespace kyso::token::internal
