#pragma once
// Errors as values for the openHAB parsers: carehub's one Result (core/result.hpp, a header-only template)
// with the parsers' own error type, so they still stand alone (of core/ only carehub_json) and are fuzzed
// and benchmarked in isolation; the live client turns an openhab::Error into carehub's own error type
// where it calls these parsers.
#include <string>
#include <utility>

#include "core/result.hpp"

namespace carehub::openhab {

// What was wrong with the input, naming the field or JSON path: "payload: expected a JSON string
// containing an object, found number 5".
struct Error {
  std::string message;

  bool operator==(const Error&) const = default;
};

// carehub::Result with an openhab::Error unless said otherwise (parse_mapping collects several).
template <class T, class E = Error>
using Result = carehub::Result<T, E>;

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace carehub::openhab
