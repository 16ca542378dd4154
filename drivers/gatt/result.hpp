#pragma once
// Errors as values for the GATT decoders: carehub's one Result (core/result.hpp, a header-only template)
// with the decoders' own error types, so the library still needs nothing else of core/ and is fuzzed
// alone; the BLE driver maps DecodeError onto carehub::Error at its edge.
#include <string>
#include <string_view>

#include "core/result.hpp"

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

// carehub::Result with a decode error unless said otherwise (ParseError for text input).
template <class T, class E = DecodeError>
using Result = carehub::Result<T, E>;

}  // namespace carehub::gatt
