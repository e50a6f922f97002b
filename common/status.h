#pragma once

// Status and Result<T>: how every fallible function in Tessera reports failure. We throw none of
// our own exceptions; wrappers around throwing libraries turn exceptions into a Status.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tessera {

enum class Code : uint8_t {
  kOk,
  kNotFound,            // a named thing (collection, point, alias) does not exist
  kAlreadyExists,       // creating something that exists
  kInvalidArgument,     // malformed input: bad JSON shape or type (HTTP 400)
  kValidationFailed,    // well-formed input that breaks a documented constraint (HTTP 422)
  kFailedPrecondition,  // the request is valid but the state forbids it
  kResourceExhausted,   // too big, disk or queue full
  kUnavailable,         // transient: the caller may retry
  kCorruption,          // bytes on disk are not what we wrote
  kIoError,             // the OS said no
  kInternal,            // a bug
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status ValidationFailed(std::string m) { return {Code::kValidationFailed, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Returns a copy with `prefix` put before the message ("wal: " + "fsync failed").
  Status WithPrefix(std::string_view prefix) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A T, or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  // By value from a temporary, so `for (auto& x : *MakeResult())` does not dangle.
  T value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T operator*() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tessera

#define TESSERA_CONCAT_INNER_(a, b) a##b
#define TESSERA_CONCAT_(a, b) TESSERA_CONCAT_INNER_(a, b)

#define TESSERA_RETURN_IF_ERROR(expr)           \
  do {                                          \
    ::tessera::Status tessera_status_ = (expr); \
    if (!tessera_status_.ok()) {                \
      return tessera_status_;                   \
    }                                           \
  } while (false)

#define TESSERA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return tmp.status();                               \
  }                                                    \
  lhs = std::move(tmp).value()

#define TESSERA_ASSIGN_OR_RETURN(lhs, expr) \
  TESSERA_ASSIGN_OR_RETURN_IMPL_(TESSERA_CONCAT_(tessera_result_, __LINE__), lhs, expr)
