#pragma once
// Typed access to untrusted JSON with errors that name the JSON path, what was expected and what was
// found: "/fhir/base_url: expected a string, found number 5". Used by the config loader, the reading
// format and the control protocol, so every bad input reads the same way.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace carehub {

// "number 5", "string \"abc\"", "an object", "null"... (long values are shortened).
std::string describe_json(const nlohmann::json& value);

// Parses a document a person wrote (carehubd.json, a rule file): comments allowed. Errors name the
// source and, for syntax errors, the line and column: "kit.json:3:14: not valid JSON: ...". Never throws.
Result<nlohmann::json> parse_json_document(std::string_view text, const std::string& source);

// Bounds for JSON a peer sent (openHAB, the FHIR server, the token endpoint, MQTT publishers, control
// clients). Depth is what matters most: nlohmann copies, compares and dumps recursively, so a document
// nested 100,000 deep overflows the stack long after it was parsed.
struct JsonLimits {
  std::size_t max_depth = 64;  // arrays and objects inside each other; real peers stay below 15
  std::size_t max_bytes = 0;   // 0: the caller's transport already bounds the text
};

// The one entry point for every JSON parse of peer data. Never throws. Rejects, with an error that names
// `source` and the problem and never quotes the peer's content (it may be a patient's value):
//   "<source> is not valid JSON (at byte 34)"            syntax, invalid UTF-8, trailing garbage
//   "<source>: a number beyond the range of a double"    1e999 (nlohmann would throw out_of_range 406)
//   "<source>: nesting deeper than 64"                   found by a scan before any DOM is built
//   "<source>: 2000000 bytes, more than the limit of 1048576"
// Comments are not accepted: a peer speaks JSON, not carehub's configuration dialect.
Result<nlohmann::json> parse_peer_json(std::string_view text, std::string_view source, JsonLimits limits = {});

// The deepest nesting of arrays and objects in `text`, counting brackets outside strings only; stops
// counting once past `stop_after` (so a hostile document costs one pass at most). Not a validator.
std::size_t json_nesting_depth(std::string_view text, std::size_t stop_after);

// Reads a whole file; errors name it ("/etc/carehub/carehubd.json: cannot open: No such file...").
Result<std::string> read_text_file(const std::string& path);

// A JSON Pointer-style path joined from a parent and a key or index.
std::string json_path(std::string_view parent, std::string_view key);
std::string json_path(std::string_view parent, std::size_t index);

// Collects every error found while reading one document, so a technician sees them all at once.
class JsonReader {
 public:
  std::optional<std::string> string(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                    bool required);
  std::optional<double> number(const nlohmann::json& obj, std::string_view path, std::string_view key,
                               bool required, double min, double max);
  std::optional<std::int64_t> integer(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                      bool required, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const nlohmann::json& obj, std::string_view path, std::string_view key,
                              bool required);
  // Returns the member if it is an object (or absent and not required: nullptr).
  const nlohmann::json* object(const nlohmann::json& obj, std::string_view path, std::string_view key,
                               bool required);
  const nlohmann::json* array(const nlohmann::json& obj, std::string_view path, std::string_view key,
                              bool required);
  // Fails on any key not in `known`: a typo must not silently fall back to a default.
  void only_keys(const nlohmann::json& obj, std::string_view path, std::initializer_list<std::string_view> known);
  void fail(std::string_view path, std::string message);

  bool ok() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }
  std::string joined(std::string_view prefix) const;  // one "prefix: error" per line

 private:
  const nlohmann::json* member(const nlohmann::json& obj, std::string_view path, std::string_view key,
                               bool required);
  std::vector<std::string> errors_;
};

}  // namespace carehub
