// The uploader's Device resources: the hub's and each sensor's, created by conditional create in a request
// of their own before the first Observation that references them (batch entries cannot reference each
// other), once per device per uploader.
#include <functional>

#include "sync/fhir_mapping.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {

namespace {

// One conditional create of a Device, alone in a batch: its server reference, or why not. A Device the
// server refuses for itself is Errc::invalid_argument (its readings cannot be accepted until someone
// fixes it); anything else is Errc::unavailable (try again later).
Result<std::string> create_device(const std::string& what, const BundleEntry& entry,
                                  const std::function<BodyCoding::Sent(const nlohmann::json&)>& post, Counters& counters) {
  auto sent = post(batch_bundle({entry}));
  auto& resp = sent.response;
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) {
    return make_error(Errc::unavailable, "creating " + what + ": HTTP " + std::to_string(resp->status) + " " +
                                             resp->body.substr(0, 200));
  }
  auto outcomes = read_batch_response_body(resp->body, 1);
  if (!outcomes) {
    counters.add("sync_bad_responses");
    return make_error(Errc::unavailable, "creating " + what + ": " + outcomes.error().message);
  }
  const auto& o = outcomes->front();
  if (o.fate == EntryFate::dead) {
    return make_error(Errc::invalid_argument,
                      "the server refused " + what + " (status " + std::to_string(o.status) + "): " + o.reason);
  }
  if (o.fate != EntryFate::synced || o.server_id.empty()) {
    return make_error(Errc::unavailable, "creating " + what + ": entry status " + std::to_string(o.status) + " " + o.reason);
  }
  return o.server_id;
}

}  // namespace

Result<std::string> Uploader::ensure_hub() {
  if (!hub_ref_.empty()) return hub_ref_;
  const BundleEntry entry{fhir::hub_device(options_.hub_id, options_.hub_system_id, options_.hub_time_sync_mdc),
                          fhir::hub_if_none_exist(options_.hub_id)};
  auto ref = create_device("the hub's Device " + options_.hub_id, entry,
                           [this](const nlohmann::json& b) { return post_bundle(b); }, counters_);
  if (ref) hub_ref_ = *ref;
  return ref;
}

Result<std::string> Uploader::ensure_device(const std::string& device_id) {
  if (auto it = device_refs_.find(device_id); it != device_refs_.end()) return it->second;
  Device d;
  if (auto it = registry_.find(device_id); it != registry_.end()) d = it->second;
  else d.id = device_id;  // not registered (e.g. a stream mapped by configuration): its id identifies it
  const BundleEntry entry{fhir::sensor_device(d, options_.hub_id), fhir::device_if_none_exist(d, options_.hub_id)};
  auto ref = create_device("Device " + device_id, entry, [this](const nlohmann::json& b) { return post_bundle(b); },
                           counters_);
  if (ref) device_refs_[device_id] = *ref;
  return ref;
}

}  // namespace carehub::sync
