#include "sync/bundle.hpp"

#include <charconv>

#include "core/json_check.hpp"
#include "sync/classify.hpp"

namespace carehub::sync {

namespace {
std::string string_member(const nlohmann::json& obj, const char* key);
}

nlohmann::json batch_bundle(const std::vector<BundleEntry>& entries) {
  nlohmann::json bundle = {{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", nlohmann::json::array()}};
  for (const auto& e : entries) {
    nlohmann::json request;
    if (!e.update.empty()) {
      request = {{"method", "PUT"}, {"url", e.update}};
    } else {
      request = {{"method", "POST"}, {"url", string_member(e.resource, "resourceType")}};
      if (!e.if_none_exist.empty()) request["ifNoneExist"] = e.if_none_exist;
    }
    nlohmann::json entry = {{"resource", e.resource}, {"request", request}};
    if (!e.full_url.empty()) entry["fullUrl"] = e.full_url;
    bundle["entry"].push_back(std::move(entry));
  }
  return bundle;
}

namespace {

constexpr std::string_view kMultipleMatches =
    "HTTP 412: the server already holds more than one resource with this identifier, so the conditional"
    " create cannot tell which one is meant (a duplicate made outside carehub, or by a server that once"
    " lacked the identifier index). Merge or delete the duplicates on the server, then run"
    " `carehubctl sync retry-dead`.";

// The reason stays an OperationOutcome (what `sync dead --json` readers expect), with carehub's
// explanation as its first issue and the server's own issues after it.
std::string explain_multiple_matches(const std::string& reason) {
  nlohmann::json explanation = {{"severity", "error"}, {"code", "duplicate"}, {"diagnostics", kMultipleMatches}};
  // The reason is the server's own outcome (or our text): peer JSON, through the one safe parse.
  auto parsed = parse_peer_json(reason, "outcome");
  nlohmann::json outcome = parsed ? std::move(*parsed) : nlohmann::json();
  if (outcome.is_object() && outcome.value("resourceType", "") == "OperationOutcome" && outcome.contains("issue") &&
      outcome["issue"].is_array()) {
    outcome["issue"].insert(outcome["issue"].begin(), explanation);
    return outcome.dump();
  }
  return nlohmann::json{{"resourceType", "OperationOutcome"},
                        {"issue", {explanation, {{"severity", "error"}, {"code", "processing"}, {"diagnostics", reason}}}}}
      .dump();
}

// The server's JSON is untrusted: a member of an unexpected type must read as absent, never throw.
std::string string_member(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string bounded_reason(const nlohmann::json& outcome) {
  std::string text = outcome.dump();
  if (text.size() <= kMaxReasonBytes) return text;
  const auto size = text.size();
  text.resize(kMaxReasonBytes / 2);
  // dump() escapes non-ASCII, so the cut never splits a UTF-8 character.
  return nlohmann::json{
      {"resourceType", "OperationOutcome"},
      {"issue",
       {{{"severity", "error"},
         {"code", "too-long"},
         {"diagnostics", "the server's OperationOutcome was " + std::to_string(size) + " bytes; its start: " + text}}}}}
      .dump();
}

int leading_status(const std::string& s) {
  int code = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
  if (ec != std::errc() || code < 100 || code > 599) return 0;
  return code;
}

// "Observation/123/_history/1" or an absolute URL ending in it -> "Observation/123".
std::string logical_id(const std::string& location) {
  std::string loc = location;
  if (auto h = loc.find("/_history/"); h != std::string::npos) loc.resize(h);
  auto last = loc.rfind('/');
  if (last == std::string::npos || last == 0) return loc;
  auto prev = loc.rfind('/', last - 1);
  return prev == std::string::npos ? loc : loc.substr(prev + 1);
}

}  // namespace

Result<std::vector<EntryOutcome>> read_batch_response(const nlohmann::json& response, std::size_t entries) {
  if (!response.is_object() || string_member(response, "resourceType") != "Bundle") {
    return make_error(Errc::invalid_argument, "server answered the batch with something that is not a Bundle");
  }
  const auto type = string_member(response, "type");
  if (type != "batch-response" && type != "transaction-response") {
    return make_error(Errc::invalid_argument, "server answered the batch with a Bundle of type \"" + type + "\"");
  }
  const auto it = response.find("entry");
  if (it == response.end() || !it->is_array() || it->size() != entries) {
    return make_error(Errc::invalid_argument, "batch-response has " +
                                                  std::to_string(it == response.end() || !it->is_array() ? 0 : it->size()) +
                                                  " entries for " + std::to_string(entries) + " requests");
  }
  std::vector<EntryOutcome> out;
  for (const auto& entry : *it) {
    EntryOutcome o;
    const nlohmann::json* resp = nullptr;
    if (entry.is_object()) {
      if (auto r = entry.find("response"); r != entry.end() && r->is_object()) resp = &*r;
    }
    const std::string status = resp ? string_member(*resp, "status") : std::string();
    if (status.empty()) {
      o.fate = EntryFate::retry;
      o.reason = "batch-response entry without response.status";
      out.push_back(std::move(o));
      continue;
    }
    o.status = leading_status(status);
    if (auto oc = resp->find("outcome"); oc != resp->end()) o.reason = bounded_reason(*oc);
    if (o.status >= 200 && o.status < 300) {
      o.fate = EntryFate::synced;
      if (auto location = string_member(*resp, "location"); !location.empty()) {
        o.server_id = logical_id(location);
      } else if (auto res = entry.find("resource"); res != entry.end() && res->is_object()) {
        o.server_id = string_member(*res, "resourceType") + "/" + string_member(*res, "id");
      }
    } else if (transient_status(o.status) || o.status == 0) {
      o.fate = EntryFate::retry;
      if (o.reason.empty()) o.reason = "entry status " + status;
    } else if (says_reference_missing(o.reason)) {
      o.fate = EntryFate::missing_reference;
    } else {
      o.fate = EntryFate::dead;
      if (o.reason.empty()) o.reason = "entry status " + status;
      if (o.status == 412) o.reason = explain_multiple_matches(o.reason);
    }
    out.push_back(std::move(o));
  }
  return out;
}

bool says_reference_missing(std::string_view outcome) {
  // The wording HAPI JPA has used since its first referential-integrity check; the code came with 6.0.
  return outcome.find("HAPI-1094") != std::string_view::npos ||
         outcome.find("not found, specified in path") != std::string_view::npos;
}

std::optional<long> retry_after_seconds(const std::string& header) {
  long v = 0;
  auto [ptr, ec] = std::from_chars(header.data(), header.data() + header.size(), v);
  if (ptr != header.data() + header.size() || v < 0 || header.empty() || header.front() == '-') return std::nullopt;
  // Digits too many to count mean "very long": the bound, like any other delay past it.
  if (ec == std::errc::result_out_of_range) return kMaxRetryAfter.count();
  if (ec != std::errc()) return std::nullopt;
  return std::min<long>(v, kMaxRetryAfter.count());
}

}  // namespace carehub::sync
