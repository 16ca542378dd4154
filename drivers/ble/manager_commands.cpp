// The Manager's technician commands: scan, pair, assign, forget, and what `devices list` and `status`
// show, and the registry they change. Split from manager.cpp; same class, same single driver thread.
#include "drivers/ble/manager.hpp"

#include "core/time_json.hpp"
#include "drivers/ble/address.hpp"

namespace carehub::ble {
namespace {

constexpr std::string_view kLog = "ble";

// The health services a technician looks for in a scan.
std::string_view service_name(std::uint16_t uuid) {
  switch (uuid) {
    case 0x1808: return "glucose";
    case 0x1809: return "health-thermometer";
    case 0x180D: return "heart-rate";
    case 0x180F: return "battery";
    case 0x1810: return "blood-pressure";
    case 0x181D: return "weight-scale";
    case 0x1822: return "pulse-oximeter";
    default: return {};
  }
}

}  // namespace

Result<void> Manager::scan_begin() {
  if (!adapter_present_) return make_error(Errc::unavailable, "cannot scan: " + adapter_state_);
  ensure_discovery();
  if (!discovering_) return make_error(Errc::unavailable, "cannot scan: " + adapter_state_);
  return {};
}

nlohmann::json Manager::scan_results() const {
  nlohmann::json out = nlohmann::json::array();
  const auto prefix = adapter_path() + "/";
  for (const auto& [path, ifaces] : objects_) {
    if (path.rfind(prefix, 0) != 0) continue;
    auto dev = ifaces.find(std::string(kDeviceInterface));
    if (dev == ifaces.end()) continue;
    const auto& p = dev->second;
    const auto address = normalise_address(get_string(p, "Address").value_or(""));
    nlohmann::json services = nlohmann::json::array();
    for (const auto& u : get_strings(p, "UUIDs")) {
      if (auto u16 = sig_uuid16(u); u16 && !service_name(*u16).empty()) services.push_back(service_name(*u16));
    }
    auto name = get_string(p, "Name");
    if (!name) name = get_string(p, "Alias");
    out.push_back({{"address", address},
                   {"name", name.value_or("")},
                   {"rssi", get_int(p, "RSSI") ? nlohmann::json(*get_int(p, "RSSI")) : nlohmann::json(nullptr)},
                   {"services", services},
                   {"paired", get_bool(p, "Paired").value_or(false)},
                   {"registered", devices_.count(address) != 0}});
  }
  return out;
}

void Manager::pair(const std::string& address, const std::string& category, std::optional<std::uint32_t> passkey,
                   PairDone done) {
  if (!adapter_present_) return done(make_error(Errc::unavailable, "cannot pair: " + adapter_state_));
  const auto path = path_of_address(address);
  if (!path) {
    return done(make_error(Errc::not_found, address + " is not in range: put it in pairing mode and run `carehubctl "
                                                      "devices scan` until it is listed"));
  }
  if (pairing_.count(*path)) return done(make_error(Errc::unavailable, "a pairing with " + address + " is already running"));
  agent_.expect(*path, passkey);
  pairing_[*path] = std::move(done);
  const auto p = *path;
  if (get_bool(objects_[p][std::string(kDeviceInterface)], "Paired").value_or(false)) {
    finish_pair(p, address, category, {});  // bonded before (re-registering after forget or a new kit)
    return;
  }
  context_.log.notice(kLog, "device-pairing", {{"address", address}, {"category", category}});
  bluez_.pair(p, [this, p, address, category](Result<void> r) { finish_pair(p, address, category, std::move(r)); });
}

void Manager::finish_pair(const std::string& path, const std::string& address, const std::string& category,
                          Result<void> paired) {
  auto it = pairing_.find(path);
  if (it == pairing_.end()) return;  // interrupted (bluetoothd went away) and already answered
  auto done = std::move(it->second);
  pairing_.erase(it);
  agent_.done(path);
  if (!paired && !is_already_done(paired.error())) {
    return done(make_error(is_in_progress(paired.error()) ? Errc::unavailable : Errc::io,
                           "pairing " + address + " failed: " + paired.error().message));
  }
  // Trusted: BlueZ then lets the device reconnect by itself, with no agent in the loop.
  if (auto r = bluez_.set_trusted(path, true); !r) {
    return done(make_error(Errc::io, "pairing " + address + ": could not trust it: " + r.error().message));
  }
  const auto& props = objects_[path][std::string(kDeviceInterface)];
  auto name = get_string(props, "Name");
  if (!name) name = get_string(props, "Alias");
  auto existing = devices_.find(address);
  DeviceSession d = existing != devices_.end() ? existing->second : DeviceSession{};
  d.device.id = device_id(address);
  d.device.address = address;
  d.device.name = name.value_or("");
  const auto& opts = config_.options_for(address);
  d.device.model = !opts.model.empty() ? opts.model : d.device.name;
  d.device.category = category;
  if (d.device.patient.empty()) d.device.patient = context_.patient;  // a re-pair keeps an assignment
  d.device.last_seen = context_.clock.now();
  d.path = path;
  if (d.state == SessionState::absent) d.state = SessionState::idle;
  auto stored = persist(d.device);
  auto& mine = devices_[address] = std::move(d);
  context_.log.notice(kLog, "device-paired",
                      {{"address", address}, {"device", mine.device.id}, {"category", category}, {"model", mine.device.model}});
  context_.log.debug(kLog, "device-patient", {{"device", mine.device.id}, {"patient", mine.device.patient}});  // a patient id: debug only
  done(Registered{mine.device, stored});
  evaluate(mine);
}

Result<Registered> Manager::assign(const std::string& address, const std::string& patient) {
  auto it = devices_.find(address);
  if (it == devices_.end()) return make_error(Errc::not_found, address + " is not a registered BLE device");
  it->second.device.patient = patient;
  context_.log.notice(kLog, "device-reassigned", {{"address", address}});
  context_.log.debug(kLog, "device-patient", {{"address", address}, {"patient", patient}});  // a patient id: debug only
  return Registered{it->second.device, persist(it->second.device)};
}

Result<Manager::Forgotten> Manager::forget(const std::string& address) {
  auto it = devices_.find(address);
  std::optional<std::string> path = it != devices_.end() && !it->second.path.empty() ? it->second.path
                                                                                       : path_of_address(address);
  if (it == devices_.end() && !path) return make_error(Errc::not_found, address + " is neither registered nor known to BlueZ");
  Device device;
  device.id = device_id(address);
  device.address = address;
  if (it != devices_.end()) {
    device = it->second.device;
    devices_.erase(it);
  }
  if (path && adapter_present_) {
    // RemoveDevice disconnects and deletes the bond: the device must be paired again to be used.
    if (auto r = bluez_.remove_device(adapter_path(), *path); !r) {
      context_.log.warning(kLog, "device-remove-failed", {{"address", address}, {"error", r.error().message}});
    }
  }
  context_.log.notice(kLog, "device-forgotten", {{"address", address}});
  return Forgotten{device, context_.sink.remove_device(device.id).share()};
}

Result<Device> Manager::find(const std::string& address) const {
  auto it = devices_.find(address);
  if (it == devices_.end()) return make_error(Errc::not_found, address + " is not a registered BLE device");
  return it->second.device;
}

nlohmann::json Manager::list() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [address, d] : devices_) {
    out.push_back({{"address", address},
                   {"id", d.device.id},
                   {"name", d.device.name},
                   {"model", d.device.model},
                   {"category", d.device.category},
                   {"manufacturer", d.device.manufacturer},
                   {"serial", d.device.serial},
                   {"system_id", d.device.system_id},
                   {"firmware", d.device.firmware_revision},
                   {"patient", d.device.patient},
                   {"state", to_string(d.state)},
                   {"last_seen", optional_time_json(d.last_seen)},
                   {"last_reading", optional_time_json(d.last_reading)},
                   {"newest_record", optional_time_json(d.device.newest_record)},
                   {"newest_sequence", d.device.newest_sequence ? nlohmann::json(*d.device.newest_sequence) : nullptr},
                   {"readings", d.readings},
                   {"resent_dropped", d.resent},
                   {"set_aside", d.set_aside},
                   {"clock", d.clock},
                   {"clock_wrong", d.clock_wrong},
                   {"sequence_restarts", d.sequence_restarts},
                   {"malformed", d.malformed},
                   {"unusable", d.unusable},
                   {"sessions", d.sessions},
                   {"battery", d.battery ? nlohmann::json(*d.battery) : nullptr},
                   {"rssi", d.rssi ? nlohmann::json(*d.rssi) : nullptr},
                   {"last_error", d.last_error}});
  }
  return out;
}

nlohmann::json Manager::status() const {
  nlohmann::json devices = nlohmann::json::object();
  for (auto& row : list()) {
    const auto address = row["address"].get<std::string>();
    row.erase("address");
    devices[address] = std::move(row);
  }
  return {{"bluetoothd", bluez_present_},
          {"adapter",
           {{"name", config_.adapter},
            {"present", adapter_present_},
            {"powered", powered_},
            {"discovering", discovering_},
            {"state", adapter_state_}}},
          {"agent", agent_registered_},
          {"devices", devices}};
}

}  // namespace carehub::ble
