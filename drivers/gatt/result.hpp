#pragma once
// Errors as values for the GATT decoders. This library stands alone (no core/), so it carries its own
// small std::expected stand-in; the BLE driver maps DecodeError onto carehub::Error at its edge.
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace carehub::gatt {

enum class ErrorKind {
  truncated,    // the packet ends before a field its flags (or the format) require
  malformed,    // every byte is there but a value is not allowed where it stands
  unsupported,  // a characteristic or op code this library does not decode
};

std::string_view to_string(ErrorKind kind);

// `detail` names the characteristic, the field and the byte offset, e.g.
// "blood pressure: timestamp needs 7 bytes at offset 7, only 3 remain (packet is 10 bytes)".
struct DecodeError {
  ErrorKind kind = ErrorKind::malformed;
  std::string detail;
};

// Text input (hex strings, UUIDs) that cannot be parsed.
struct ParseError {
  std::string detail;
};

// A minimal std::expected stand-in (g++ 12 has <expected> only with C++23).
template <class T, class E = DecodeError>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
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

}  // namespace carehub::gatt
