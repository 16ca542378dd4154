#include "core/attribution.hpp"

#include <array>

namespace carehub {

bool has_device_memory(std::string_view source) {
  // Listed by what they are known NOT to have, so a new kind of source is careful by default.
  static constexpr std::array<std::string_view, 4> kLive{"manual", "mqtt", "openhab", "sim"};
  for (auto s : kLive) {
    if (s == source) return false;
  }
  return true;
}

Attributed Attribution::attribute(const Reading& r) const {
  if (!r.patient.empty()) return {r.patient, {}};
  if (r.user == kUnknownUser) return {{}, "the device does not know whose reading it is (unknown user)"};
  if (auto slots = users_.find(r.device); slots != users_.end() && !slots->second.empty()) {
    if (!r.user) return {{}, "the device has bound user slots and this reading names none"};
    auto b = slots->second.find(*r.user);
    if (b == slots->second.end()) {
      return {{}, "user slot " + std::to_string(*r.user) + " of the device is not bound to a patient"};
    }
    if (r.time < b->second.since) {
      return {{}, "measured before user slot " + std::to_string(*r.user) + " was bound to its patient (" +
                      format_rfc3339(b->second.since) + ")"};
    }
    return {b->second.patient, {}};
  }
  if (r.user) {
    // A multi-user device none of whose slots is bound (paired without --user): its patient may not be
    // the one who measured (issue 14's incident: the spouse's slot 2 on the patient's record).
    return {{}, "the device names user slot " + std::to_string(*r.user) + " but none of its slots is bound (carehubctl "
                "devices assign " + r.device + " --user " + std::to_string(*r.user) + " --patient …)"};
  }
  auto d = devices_.find(r.device);
  if (d == devices_.end()) return {default_patient_, {}};
  if (d->second.since && r.time < *d->second.since && has_device_memory(r.source)) {
    return {{}, "measured before the device was paired to its patient (" + format_rfc3339(*d->second.since) +
                    "): an earlier owner's or patient's reading?"};
  }
  return {effective(d->second.patient), {}};
}

void Attribution::set_device(const Device& d) { devices_[d.id] = {d.patient, d.bound_since}; }

void Attribution::forget_device(const std::string& id) {
  devices_.erase(id);
  // The store removes a forgotten device's slot bindings with it (StoreWriter::remove_device).
  users_.erase(id);
}

std::optional<TimePoint> Attribution::bound_since_for(const Device& d, TimePoint now) const {
  auto it = devices_.find(d.id);
  if (it != devices_.end() && effective(it->second.patient) == effective(d.patient)) return it->second.since;
  return now;
}

void Attribution::set_binding(const UserBinding& b) { users_[b.device][b.user] = b; }

void Attribution::remove_binding(const std::string& device, int user) {
  auto it = users_.find(device);
  if (it == users_.end()) return;
  it->second.erase(user);
  if (it->second.empty()) users_.erase(it);
}

std::optional<UserBinding> Attribution::binding(const std::string& device, int user) const {
  auto it = users_.find(device);
  if (it == users_.end()) return std::nullopt;
  auto b = it->second.find(user);
  if (b == it->second.end()) return std::nullopt;
  return b->second;
}

}  // namespace carehub
