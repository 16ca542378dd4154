#pragma once
// An in-process FHIR server behind sync::HttpClient for the uploader's tests. By default it answers batch
// Bundles as a conditional-creating server does (201 with a new id, 200 with the existing one when
// ifNoneExist matches); hooks script whole responses, transport errors and per-entry refusals. It records
// every request, and can hold requests past a count until released or cancelled, so a test can stop an
// uploader's retries from running on without sleeping.
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <zlib.h>

#include "sync/http_client.hpp"

namespace carehub::sync::test {

using nlohmann::json;

// The body as sent, un-gzipped when the request says Content-Encoding: gzip.
inline std::string request_body(const HttpRequest& request) {
  bool gzipped = false;
  for (const auto& [k, v] : request.headers) gzipped = gzipped || (k == "Content-Encoding" && v == "gzip");
  if (!gzipped) return request.body;
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return {};
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(request.body.data()));
  z.avail_in = static_cast<uInt>(request.body.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

inline bool has_header(const HttpRequest& request, const std::string& name, const std::string& value) {
  for (const auto& [k, v] : request.headers) {
    if (k == name && v == value) return true;
  }
  return false;
}

struct EntryReply {
  std::string status;     // "201 Created"
  std::string location;   // empty: none
  json outcome = nullptr;  // null: none
};

inline std::string resource_type(const json& entry) {
  return entry.contains("resource") ? entry["resource"].value("resourceType", "") : "";
}

// The first identifier's value of an entry's resource ("urn:uuid:…" for Observations).
inline std::string identifier_of(const json& entry) {
  if (!entry.contains("resource") || !entry["resource"].contains("identifier")) return "";
  return entry["resource"]["identifier"][0].value("value", "");
}

inline bool has_resource(const json& bundle, const std::string& type) {
  for (const auto& e : bundle.value("entry", json::array())) {
    if (resource_type(e) == type) return true;
  }
  return false;
}

inline bool has_identifier(const json& bundle, const std::string& identifier) {
  for (const auto& e : bundle.value("entry", json::array())) {
    if (identifier_of(e) == identifier) return true;
  }
  return false;
}

class FakeFhirServer {
 public:
  // Answers a request as a whole (a response of any status, or a transport error), or nullopt to let
  // the entries be answered one by one.
  using RequestHook = std::function<std::optional<Result<HttpResponse>>(const json& bundle)>;
  // Like RequestHook, with the request itself (headers: credentials, content coding).
  using RawHook = std::function<std::optional<Result<HttpResponse>>(const HttpRequest& request, const json& bundle)>;
  // Answers one entry, or nullopt for the default conditional-create behaviour.
  using EntryHook = std::function<std::optional<EntryReply>(const json& entry)>;

  struct State {
    std::size_t count = 0;         // requests received, held ones included
    std::size_t held = 0;          // requests that were held
    std::vector<HttpRequest> requests;
    std::vector<json> bundles;     // request bodies, parsed
    std::map<std::string, std::string> by_condition;   // ifNoneExist -> "Type/id"
    std::map<std::string, std::string> by_identifier;  // any identifier value -> "Type/id"
    std::multiset<std::string> answered_2xx;           // identifiers of entries answered 2xx
    std::set<std::string> locations;                   // every location handed out
    std::vector<std::string> updates;                  // URLs of PUT entries, in order
    std::map<std::string, json> resources;             // "Type/id" -> what the server holds now
    std::vector<std::string> reads;                    // URLs of GET requests (patient look-ups), in order
    std::size_t lost_answers = 0;                      // requests processed whose answer was dropped
  };

  void on_request(RequestHook hook) {
    std::lock_guard lock(mu_);
    request_hook_ = std::move(hook);
  }
  void on_raw_request(RawHook hook) {
    std::lock_guard lock(mu_);
    raw_hook_ = std::move(hook);
  }
  void on_entry(EntryHook hook) {
    std::lock_guard lock(mu_);
    entry_hook_ = std::move(hook);
  }
  // Requests for which `pred` holds are processed in full, then answered with a transport error: the
  // answer is lost on the way back (a connection reset after the server committed).
  void lose_answers(std::function<bool(const json& bundle)> pred) {
    std::lock_guard lock(mu_);
    lose_ = std::move(pred);
  }
  // GET Patient/<id> answers 404 for these ("Patient/<id>"); every other Patient exists.
  void set_patient_missing(const std::string& patient, bool missing) {
    std::lock_guard lock(mu_);
    if (missing) missing_patients_.insert(patient);
    else missing_patients_.erase(patient);
  }
  // Requests after the first `n` wait until release() or cancel().
  void hold_after(std::size_t n) {
    std::lock_guard lock(mu_);
    hold_after_ = n;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  void cancel() {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

  State state() const {
    std::lock_guard lock(mu_);
    return state_;
  }
  // Waits until `pred` holds for the recorded state; false on timeout.
  bool wait_until(const std::function<bool(const State&)>& pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(state_); });
  }

  Result<HttpResponse> handle(const HttpRequest& request) {
    std::unique_lock lock(mu_);
    if (cancelled_) return make_error(Errc::unavailable, "request cancelled");
    if (request.method == "GET") {
      // Look-ups are not bundles: kept apart, so counts and holds of the tests stay about uploads.
      state_.reads.push_back(request.url);
      cv_.notify_all();
      const auto at = request.url.find("/Patient/");
      if (at == std::string::npos) return HttpResponse{404, "{}", {}};
      const auto patient = request.url.substr(at + 1);
      if (missing_patients_.contains(patient)) {
        return HttpResponse{404, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]})", {}};
      }
      return HttpResponse{200, json{{"resourceType", "Patient"}, {"id", patient.substr(8)}}.dump(), {}};
    }
    ++state_.count;
    const auto bundle = json::parse(request_body(request), nullptr, false);
    if (state_.requests.size() < kKeep) {
      state_.requests.push_back(request);
      state_.bundles.push_back(bundle);
    }
    if (state_.count > hold_after_ && !released_) {
      ++state_.held;
      cv_.notify_all();
      cv_.wait(lock, [&] { return cancelled_ || released_; });
      if (cancelled_) return make_error(Errc::unavailable, "request cancelled");
    }
    if (raw_hook_) {
      if (auto r = raw_hook_(request, bundle)) {
        cv_.notify_all();
        return *r;
      }
    }
    auto response = answer(bundle);
    if (lose_ && lose_(bundle)) {
      ++state_.lost_answers;
      cv_.notify_all();
      return make_error(Errc::unavailable, "connection reset by peer (the answer was lost)");
    }
    cv_.notify_all();
    return response;
  }

 private:
  static constexpr std::size_t kKeep = 1000;  // a runaway retry loop must not eat the test machine

  Result<HttpResponse> answer(const json& bundle) {
    if (request_hook_) {
      if (auto r = request_hook_(bundle)) return *r;
    }
    if (!bundle.is_object() || bundle.value("resourceType", "") != "Bundle" || bundle.value("type", "") != "batch") {
      return HttpResponse{400, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"structure"}]})", {}};
    }
    json response = {{"resourceType", "Bundle"}, {"type", "batch-response"}, {"entry", json::array()}};
    for (const auto& e : bundle["entry"]) {
      std::optional<EntryReply> reply;
      if (entry_hook_) reply = entry_hook_(e);
      if (!reply) reply = create(e);
      json r = {{"status", reply->status}};
      if (!reply->location.empty()) r["location"] = reply->location;
      if (!reply->outcome.is_null()) r["outcome"] = reply->outcome;
      if (!reply->status.empty() && reply->status[0] == '2') state_.answered_2xx.insert(identifier_of(e));
      response["entry"].push_back({{"response", r}});
    }
    return HttpResponse{200, response.dump(), {{"content-type", "application/fhir+json"}}};
  }

  EntryReply create(const json& e) {
    if (e.contains("request") && e["request"].value("method", "") == "PUT") {
      const auto url = e["request"].value("url", "");
      state_.updates.push_back(url);
      const auto q = url.find('?');
      if (q == std::string::npos) {
        state_.resources[url] = e["resource"];
        return {"200 OK", url + "/_history/2", nullptr};
      }
      // R4 conditional update: replace the one match, or create when there is none. The condition is
      // the query, so a conditional create and a conditional update on the same identifier meet.
      const auto condition = url.substr(q + 1);
      if (auto it = state_.by_condition.find(condition); it != state_.by_condition.end()) {
        state_.resources[it->second] = e["resource"];
        return {"200 OK", it->second + "/_history/2", nullptr};
      }
      return created(e, condition);
    }
    const std::string condition = e.contains("request") ? e["request"].value("ifNoneExist", "") : "";
    if (!condition.empty()) {
      if (auto it = state_.by_condition.find(condition); it != state_.by_condition.end()) {
        return {"200 OK", it->second + "/_history/1", nullptr};
      }
    }
    return created(e, condition);
  }

  EntryReply created(const json& e, const std::string& condition) {
    const auto logical = resource_type(e) + "/" + std::to_string(next_id_++);
    if (!condition.empty()) state_.by_condition[condition] = logical;
    for (const auto& id : e["resource"].value("identifier", json::array())) state_.by_identifier[id.value("value", "")] = logical;
    state_.locations.insert(logical);
    state_.resources[logical] = e["resource"];
    return {"201 Created", logical + "/_history/1", nullptr};
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_;
  RequestHook request_hook_;
  RawHook raw_hook_;
  EntryHook entry_hook_;
  std::function<bool(const json&)> lose_;
  std::set<std::string> missing_patients_;
  std::size_t hold_after_ = static_cast<std::size_t>(-1);
  bool released_ = false;
  bool cancelled_ = false;
  int next_id_ = 1;
};

// The HttpClient the uploader owns; the server state stays with the test.
class FakeHttpClient final : public HttpClient {
 public:
  explicit FakeHttpClient(std::shared_ptr<FakeFhirServer> server) : server_(std::move(server)) {}
  Result<HttpResponse> send(const HttpRequest& request) override { return server_->handle(request); }
  void cancel() override { server_->cancel(); }

 private:
  std::shared_ptr<FakeFhirServer> server_;
};

}  // namespace carehub::sync::test
