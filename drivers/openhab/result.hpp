#pragma once
// Errors as values for the openHAB parsers. This library stands alone (no core/ dependency) so it can be
// fuzzed and benchmarked in isolation; the live client turns an openhab::Error into carehub's own error
// type where it calls these parsers.
#include <string>
#include <utility>
#include <variant>

namespace carehub::openhab {

// What was wrong with the input, naming the field or JSON path: "payload: expected a JSON string
// containing an object, found number 5".
struct Error {
  std::string message;

  bool operator==(const Error&) const = default;
};

// A minimal std::expected stand-in (g++ 12 ships <expected> only with C++23).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace carehub::openhab
