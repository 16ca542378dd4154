#pragma once
// Errors as values. Every adapter (SQLite, libcurl, sd-bus, sockets) turns its own error codes into a
// carehub::Error exactly where the call happens; nothing above an adapter sees a foreign error type.
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace carehub {

enum class Errc {
  invalid_argument,  // the caller's input is wrong (bad reading, bad config, bad request)
  not_found,
  io,                // disk, database or socket failure
  full,              // a bounded resource (queue, buffer cap, disk) has no room
  unavailable,       // a peer is down or unreachable; retry later
  timeout,
  internal,          // a broken invariant
};

std::string_view to_string(Errc code);

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

// A minimal std::expected stand-in (g++ 12 has <expected> only with C++23), and the only one in carehub:
// the stand-alone parsers (drivers/gatt, drivers/openhab) alias it with their own error type as `E`, so
// they need this header and nothing else of core/.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T value() && { return std::get<0>(std::move(v_)); }  // by value: `f().value()` must not dangle
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_;
  bool ok_ = true;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace carehub
