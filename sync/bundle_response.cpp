// Reading a batch-response body without building the server's copy of every resource. A server answers
// each created entry with the resource itself (Prefer: return=representation is HAPI's and Medplum's
// default): 125 KB for 100 Observations, of which the uploader reads only response.status, .location and
// .outcome, and, when a server sends no Location, the resource's resourceType and id. Building the
// rest as a DOM was 2.7 ms per bundle on the uploader thread, and its megabyte of nodes the peak of the
// heap at the full rate (issue 15). The SAX parse below builds the same tree minus those members, so
// read_batch_response() reads exactly what it read before.
#include "core/json_check.hpp"
#include "sync/bundle.hpp"

namespace carehub::sync {
namespace {

using nlohmann::json;

// A DOM builder for nlohmann's SAX parser that drops every member of `entry[i].resource` except
// resourceType and id. No recursion: a container is a pointer on `stack_`.
class PrunedBatchResponse final : public json::json_sax_t {
 public:
  explicit PrunedBatchResponse(std::string source) : source_(std::move(source)) {}

  Result<json> result() && {
    if (error_) return *error_;
    return std::move(root_);
  }

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t& /*text*/) override { return value(json(v)); }
  bool string(string_t& v) override { return value(json(std::move(v))); }
  bool binary(binary_t& v) override { return value(json::binary(std::move(v))); }

  bool start_object(std::size_t /*size*/) override { return open(json::object()); }
  bool start_array(std::size_t /*size*/) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (skipping_ > 0) return true;
    // Inside entry[i].resource: the object 4 deep (root, entry, the entry, its resource).
    if (stack_.size() == 4 && opened_by_[1] == "entry" && opened_by_[3] == "resource" && stack_[1]->is_array() &&
        k != "resourceType" && k != "id") {
      skip_next_ = true;
      return true;
    }
    key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*token*/, const json::exception& e) override {
    // The messages of parse_peer_json (core/json_check.hpp), which never quote the peer's content.
    if (e.id == 406) {
      error_ = make_error(Errc::invalid_argument, source_ + ": a number beyond the range of a double");
    } else {
      error_ = make_error(Errc::invalid_argument,
                          source_ + " is not valid JSON (at byte " + std::to_string(position) + ")");
    }
    return false;
  }

 private:
  // Where the next value goes: the root, the end of the array on top, or the object's member `key_`.
  json* place(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    json& slot = top[key_];  // a repeated key replaces the earlier value, as json::parse does
    slot = std::move(v);
    return &slot;
  }

  bool value(json&& v) {
    if (skipping_ > 0) return true;
    if (skip_next_) {
      skip_next_ = false;
      return true;
    }
    place(std::move(v));
    return true;
  }

  bool open(json&& empty) {
    if (skipping_ > 0 || skip_next_) {
      skip_next_ = false;
      ++skipping_;
      return true;
    }
    const bool member = !stack_.empty() && stack_.back()->is_object();
    opened_by_.push_back(member ? key_ : std::string());
    stack_.push_back(place(std::move(empty)));
    return true;
  }

  bool close() {
    if (skipping_ > 0) {
      --skipping_;
      return true;
    }
    stack_.pop_back();
    opened_by_.pop_back();
    return true;
  }

  std::string source_;
  json root_;
  std::optional<Error> error_;
  std::vector<json*> stack_;            // the open containers, outermost first
  std::vector<std::string> opened_by_;  // the member name each was opened under ("" in an array or the root)
  std::string key_;                     // the member name the next value takes
  std::size_t skipping_ = 0;            // > 0: inside a dropped container, this many levels deep
  bool skip_next_ = false;              // the member name just read is dropped, so is its value
};

}  // namespace

Result<std::vector<EntryOutcome>> read_batch_response_body(std::string_view body, std::size_t entries) {
  const std::string source = "FHIR batch-response";
  // The same bound as every other peer parse (parse_peer_json): the tree built below is never deeper than
  // the text, and nothing recursive may see a deep one.
  const JsonLimits limits;
  if (json_nesting_depth(body, limits.max_depth) > limits.max_depth) {
    return make_error(Errc::invalid_argument, source + ": nesting deeper than " + std::to_string(limits.max_depth));
  }
  PrunedBatchResponse dom(source);
  try {
    (void)json::sax_parse(body, &dom, json::input_format_t::json, /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::bad_alloc&) {
    return make_error(Errc::invalid_argument, source + ": too large to hold in memory");
  }
  auto response = std::move(dom).result();
  if (!response) return response.error();
  return read_batch_response(*response, entries);
}

}  // namespace carehub::sync
