#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kyso {

// Code follows absl::StatusCode for the codes kyso uses.
enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kOutOfRange,
  kUnavailable,
  kDeadlineExceeded,  // waited as long as allowed (a phone that never answered)
  kInternal,
};

std::string_view CodeName(Code code);

// Status is the result of an operation that returns no value: kOk, or a code and a message.
// Messages of codes other than kInternal are written to be shown to the user as they are.
class [[nodiscard]] Status final {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // ToString gives "CODE: message" for logs.
  std::string ToString() const;

  // WithContext prefixes the message with `context: `; used only on the error path.
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) {
  return {Code::kPermissionDenied, std::move(m)};
}
inline Status UnauthenticatedError(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status OutOfRangeError(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status InternalError(std::string m) { return {Code::kInternal, std::move(m)}; }

// Result<T> holds a T or a non-OK Status (absl::StatusOr look-alike; C++20 has no
// std::expected).
template <typename T>
class [[nodiscard]] Result final {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
    if (status_.ok()) {
      status_ = InternalError("Result constructed from OK status without value");
    }
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
inline Status AddContext(Status s) { return s; }
inline Status AddContext(Status s, std::string_view context) { return s.WithContext(context); }
}  // namespace internal

}  // namespace kyso

#define KYSO_CONCAT_INNER_(a, b) a##b
#define KYSO_CONCAT_(a, b) KYSO_CONCAT_INNER_(a, b)

// KYSO_RETURN_IF_ERROR(expr[, "context"]) returns the Status of `expr` if it is not OK.
#define KYSO_RETURN_IF_ERROR(expr, ...)                                   \
  do {                                                                    \
    ::kyso::Status kyso_status_ = ::kyso::internal::AsStatus(expr);       \
    if (!kyso_status_.ok()) {                                             \
      return ::kyso::internal::AddContext(std::move(kyso_status_) __VA_OPT__(, ) __VA_ARGS__); \
    }                                                                     \
  } while (false)

// KYSO_ASSIGN_OR_RETURN(decl, expr[, "context"]) declares `decl` from a Result's value or
// returns its Status.
#define KYSO_ASSIGN_OR_RETURN(decl, expr, ...)                                         \
  KYSO_ASSIGN_OR_RETURN_IMPL_(KYSO_CONCAT_(kyso_result_, __LINE__), decl, expr __VA_OPT__(, ) \
                                  __VA_ARGS__)
#define KYSO_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr, ...)                      \
  auto tmp = (expr);                                                           \
  if (!tmp.ok()) {                                                             \
    return ::kyso::internal::AddContext(tmp.status() __VA_OPT__(, ) __VA_ARGS__); \
  }                                                                            \
  decl = std::move(tmp).value()

// KYSO_CHECK aborts on a broken invariant. Never use it on data from outside the process.
#define KYSO_CHECK(cond)                                              \
  do {                                                                \
    if (!(cond)) ::kyso::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)

namespace kyso::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
