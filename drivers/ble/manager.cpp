// The Manager's core: start, BlueZ's signals (the object tree kept current, each routed to the adapter,
// a session or the record path), the lookups in that tree, and the deadlines tick() runs. Adapter
// recovery: manager_adapter.cpp; sessions: manager_session.cpp; records: manager_records.cpp; technician
// commands and the registry: manager_commands.cpp.
#include "drivers/ble/manager.hpp"

#include <algorithm>

#include "drivers/ble/address.hpp"

namespace carehub::ble {
namespace {

constexpr std::string_view kLog = "ble";

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

std::string_view to_string(SessionState s) {
  switch (s) {
    case SessionState::absent: return "absent";
    case SessionState::idle: return "idle";
    case SessionState::connecting: return "connecting";
    case SessionState::resolving: return "resolving";
    case SessionState::subscribed: return "subscribed";
    case SessionState::backoff: return "backoff";
  }
  return "unknown";
}

Manager::Manager(Bluez& bluez, const BleConfig& config, const SourceContext& context, UnitDraw draw)
    : bluez_(bluez),
      config_(config),
      context_(context),
      draw_(std::move(draw)),
      agent_([this](const std::string& path) { return by_path(path) != nullptr; }) {}

Result<void> Manager::start(const std::vector<Device>& registry) {
  for (const auto& dev : registry) {
    const auto address = address_of_id(dev.id);
    if (address.empty()) continue;  // another driver's device
    DeviceSession d;
    d.device = dev;
    if (d.device.address.empty()) d.device.address = address;
    devices_[address] = std::move(d);
  }
  if (auto r = bluez_.subscribe(*this); !r) return r;
  resync();
  return {};
}

std::optional<std::string> Manager::path_of_address(const std::string& address) const {
  const auto prefix = adapter_path() + "/";
  for (const auto& [path, ifaces] : objects_) {
    if (path.rfind(prefix, 0) != 0) continue;
    auto dev = ifaces.find(std::string(kDeviceInterface));
    if (dev == ifaces.end()) continue;
    if (normalise_address(get_string(dev->second, "Address").value_or("")) == address) return path;
  }
  return std::nullopt;
}

DeviceSession* Manager::by_path(const std::string& path) {
  if (path.empty()) return nullptr;
  for (auto& [address, d] : devices_) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

DeviceSession* Manager::owner_of(const std::string& object_path) {
  for (auto& [address, d] : devices_) {
    if (!d.path.empty() && object_path.size() > d.path.size() && object_path.rfind(d.path + "/", 0) == 0) return &d;
  }
  return nullptr;
}

std::optional<std::uint16_t> Manager::uuid_of(const std::string& path) const {
  auto obj = objects_.find(path);
  if (obj == objects_.end()) return std::nullopt;
  auto ch = obj->second.find(std::string(kCharacteristicInterface));
  if (ch == obj->second.end()) return std::nullopt;
  return sig_uuid16(get_string(ch->second, "UUID").value_or(""));
}

std::vector<std::string> Manager::characteristics_of(const std::string& device_path) const {
  std::vector<std::string> out;
  const auto prefix = device_path + "/";
  for (const auto& [path, ifaces] : objects_) {
    if (path.rfind(prefix, 0) == 0 && ifaces.count(std::string(kCharacteristicInterface))) out.push_back(path);
  }
  return out;
}

void Manager::on_interfaces_added(const std::string& path, const Interfaces& added) {
  for (const auto& [iface, props] : added) {
    auto& mine = objects_[path][iface];
    for (const auto& [k, v] : props) mine[k] = v;
  }
  if (path == adapter_path() && added.count(std::string(kAdapterInterface))) {
    context_.log.notice(kLog, "adapter-appeared", {{"adapter", config_.adapter}});
    adapter_failures_ = 0;
    resync();
    return;
  }
  auto dev = added.find(std::string(kDeviceInterface));
  if (dev == added.end()) return;
  const auto address = normalise_address(get_string(dev->second, "Address").value_or(""));
  auto it = devices_.find(address);
  if (it == devices_.end() || path.rfind(adapter_path() + "/", 0) != 0) return;
  auto& d = it->second;
  d.path = path;
  d.last_seen = context_.clock.now();
  if (d.state == SessionState::absent) d.state = SessionState::idle;
  evaluate(d);
}

void Manager::on_interfaces_removed(const std::string& path, const std::vector<std::string>& interfaces) {
  auto obj = objects_.find(path);
  if (obj != objects_.end()) {
    for (const auto& i : interfaces) obj->second.erase(i);
    if (obj->second.empty()) objects_.erase(obj);
  }
  const auto drop_children = [this](const std::string& parent) {
    for (auto it = objects_.begin(); it != objects_.end();) {
      it = it->first.rfind(parent + "/", 0) == 0 ? objects_.erase(it) : std::next(it);
    }
  };
  if (path == adapter_path() && contains(interfaces, kAdapterInterface)) {
    drop_children(path);
    lost("adapter " + config_.adapter + " disappeared");
    bluez_present_ = true;
    ++adapter_failures_;
    schedule_resync();
    return;
  }
  if (contains(interfaces, kDeviceInterface)) {
    drop_children(path);
    if (auto* d = by_path(path)) {
      context_.log.info(kLog, "device-unlisted", {{"address", d->device.address}});
      d->path.clear();
      d->subscribed.clear();
      d->state = SessionState::absent;
    }
  }
}

void Manager::on_properties_changed(const std::string& path, const std::string& interface, const Properties& changed) {
  auto obj = objects_.find(path);
  if (obj != objects_.end()) {
    auto& mine = obj->second[interface];
    for (const auto& [k, v] : changed) mine[k] = v;
  }
  if (interface == kAdapterInterface) {
    if (path != adapter_path()) return;
    if (auto p = get_bool(changed, "Powered")) {
      powered_ = *p;
      if (!*p) {
        discovering_ = false;
        adapter_state_ = "adapter " + config_.adapter + " powered off";
        context_.log.warning(kLog, "adapter-powered-off", {{"adapter", config_.adapter}});
        schedule_resync();
      }
    }
    if (auto disc = get_bool(changed, "Discovering")) {
      discovering_ = *disc;
      // Someone (or BlueZ after an error) stopped discovery: devices that advertise briefly would be
      // missed, so take it up again, paced by the backoff.
      if (!*disc && adapter_present_ && powered_ && !resync_at_) schedule_resync();
    }
    return;
  }
  if (interface == kCharacteristicInterface) {
    auto value = get_bytes(changed, "Value");
    if (!value) return;
    if (auto* d = owner_of(path)) on_value(*d, path, *value);
    return;
  }
  if (interface == kBatteryInterface) {
    if (auto* d = by_path(path)) {
      if (auto pct = get_int(changed, "Percentage"); pct && *pct >= 0 && *pct <= 100) {
        d->battery = *pct;
        if (d->device.battery_percent != static_cast<int>(*pct)) {
          d->device.battery_percent = static_cast<int>(*pct);
          persist(d->device);
        }
      }
    }
    return;
  }
  if (interface != kDeviceInterface) return;
  auto* d = by_path(path);
  if (!d) return;
  d->last_seen = context_.clock.now();
  if (auto rssi = get_int(changed, "RSSI")) d->rssi = *rssi;
  if (auto connected = get_bool(changed, "Connected")) {
    if (!*connected && (d->state == SessionState::resolving || d->state == SessionState::subscribed)) {
      // Health devices disconnect after sending; the next advertisement brings them back.
      context_.log.info(kLog, "device-disconnected", {{"address", d->device.address}});
      d->subscribed.clear();
      if (d->uds.in_flight()) d->uds.fail_all("the device disconnected before it answered");
      d->uds.reset_current();
      d->state = SessionState::idle;
    } else if (*connected && (d->state == SessionState::idle || d->state == SessionState::backoff ||
                              d->state == SessionState::absent)) {
      d->state = SessionState::resolving;
      d->resolve_deadline = now() + config_.resolve_timeout;
    }
  }
  if (get_bool(changed, "ServicesResolved").value_or(false) &&
      (d->state == SessionState::connecting || d->state == SessionState::resolving)) {
    subscribe(*d);
    return;
  }
  // An advertisement (RSSI, manufacturer or service data) means the device is in range right now.
  const bool advertised = changed.count("RSSI") || changed.count("ManufacturerData") || changed.count("ServiceData");
  if (advertised && (d->state == SessionState::idle || d->state == SessionState::backoff)) evaluate(*d);
}

void Manager::tick(SteadyTime t) {
  collect_ingests(false);
  if (resync_at_ && t >= *resync_at_) resync();
  for (auto& [address, d] : devices_) {
    d.uds.expire(t);
    if (d.state == SessionState::subscribed && !d.uds.in_flight() && !d.ucp_path.empty()) pump_user_data(d);
    if ((d.state == SessionState::connecting || d.state == SessionState::resolving) && t >= d.resolve_deadline) {
      fail(d, "services not resolved within " + std::to_string(config_.resolve_timeout.count()) + " ms", true);
    } else if (d.state == SessionState::backoff && t >= d.retry_at) {
      evaluate(d);
    }
  }
}

std::optional<SteadyTime> Manager::next_deadline() const {
  std::optional<SteadyTime> next = resync_at_;
  const auto consider = [&next](SteadyTime t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [address, d] : devices_) {
    if (d.state == SessionState::connecting || d.state == SessionState::resolving) consider(d.resolve_deadline);
    if (d.state == SessionState::backoff) consider(d.retry_at);
    if (auto t = d.uds.next_deadline()) consider(*t);
  }
  // Pipeline results arrive on another thread: look again shortly.
  if (!ingests_.empty() || !registry_writes_.empty()) consider(now() + std::chrono::milliseconds(20));
  return next;
}

}  // namespace carehub::ble
