// The Manager's adapter and session side: discovery and recovery, connect -> ServicesResolved ->
// subscribe (with the Device Information read, the consent and the stored-records request), BlueZ's
// signals, deadlines. Records: manager_records.cpp; technician commands: manager_commands.cpp.
#include "drivers/ble/manager.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/json_check.hpp"
#include "drivers/ble/address.hpp"
#include "drivers/ble/convert.hpp"
#include "drivers/ble/device_info.hpp"
#include "drivers/ble/record_guard.hpp"
#include "drivers/gatt/decode.hpp"
#include "drivers/gatt/user_data.hpp"

namespace carehub::ble {
namespace {

constexpr std::uint16_t kCurrentTime = 0x2A2B;
constexpr std::string_view kLog = "ble";

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Current Time characteristic: Exact Time 256 (Day Date Time + fractions) and the adjust reason.
std::vector<std::uint8_t> current_time_value(TimePoint now, bool utc) {
  const std::time_t secs = static_cast<std::time_t>(to_epoch_ms(now) / 1000);
  std::tm tm{};
  if (utc) gmtime_r(&secs, &tm);
  else localtime_r(&secs, &tm);
  const auto year = static_cast<unsigned>(tm.tm_year + 1900);
  const auto weekday = static_cast<std::uint8_t>(tm.tm_wday == 0 ? 7 : tm.tm_wday);  // 1 Monday .. 7 Sunday
  return {static_cast<std::uint8_t>(year & 0xFF), static_cast<std::uint8_t>(year >> 8),
          static_cast<std::uint8_t>(tm.tm_mon + 1), static_cast<std::uint8_t>(tm.tm_mday),
          static_cast<std::uint8_t>(tm.tm_hour), static_cast<std::uint8_t>(tm.tm_min),
          static_cast<std::uint8_t>(tm.tm_sec), weekday,
          0x00,   // fractions256
          0x01};  // adjust reason: manual time update
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

Manager::Manager(Bluez& bluez, const BleConfig& config, const SourceContext& context)
    : bluez_(bluez),
      config_(config),
      context_(context),
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

std::chrono::milliseconds Manager::backoff(int failures) const {
  auto delay = config_.backoff_base;
  for (int i = 1; i < failures && delay < config_.backoff_cap; ++i) delay *= 2;
  return std::min(delay, config_.backoff_cap);
}

void Manager::schedule_resync() { resync_at_ = now() + backoff(std::max(adapter_failures_, 1)); }

void Manager::lost(const std::string& why) {
  if (adapter_state_ != why) context_.log.warning(kLog, "bluez-lost", {{"error", why}});
  bluez_present_ = bluez_.bluez_present();
  adapter_present_ = false;
  powered_ = false;
  discovering_ = false;
  adapter_state_ = why;
  objects_.clear();
  for (auto& [address, d] : devices_) {
    d.path.clear();
    d.subscribed.clear();
    d.state = SessionState::absent;
    if (d.uds.in_flight()) d.uds.fail_all("interrupted: " + why);  // queued ones wait for a reconnect
    d.uds.reset_current();
  }
  auto pairing = std::move(pairing_);
  pairing_.clear();
  for (auto& [path, done] : pairing) {
    agent_.done(path);
    done(make_error(Errc::unavailable, "pairing interrupted: " + why));
  }
}

void Manager::resync() {
  resync_at_.reset();
  if (!bluez_.bluez_present()) {
    agent_registered_ = false;
    lost("bluetoothd is not running (no org.bluez on the bus)");
    ++adapter_failures_;
    schedule_resync();  // NameOwnerChanged normally wakes us first; this is the safety net
    return;
  }
  bluez_present_ = true;
  auto tree = bluez_.managed_objects();
  if (!tree) {
    ++adapter_failures_;
    adapter_state_ = "cannot list BlueZ objects: " + tree.error().message;
    context_.log.warning(kLog, "bluez-objects-unlisted", {{"error", tree.error().message}});
    schedule_resync();
    return;
  }
  objects_ = std::move(*tree);
  if (!agent_registered_) {
    if (auto r = bluez_.register_agent(agent_); r) agent_registered_ = true;
    else context_.log.warning(kLog, "agent-not-registered", {{"error", r.error().message}});
  }
  auto adapter = objects_.find(adapter_path());
  if (adapter == objects_.end() || !adapter->second.count(std::string(kAdapterInterface))) {
    const auto why = "adapter " + config_.adapter + " not found";
    lost(why);
    bluez_present_ = true;
    ++adapter_failures_;
    schedule_resync();
    return;
  }
  adapter_present_ = true;
  const auto& props = adapter->second[std::string(kAdapterInterface)];
  powered_ = get_bool(props, "Powered").value_or(false);
  discovering_ = get_bool(props, "Discovering").value_or(false);
  if (!powered_) {
    // rfkill or a technician may have switched it off; ask once per resync, the Powered signal follows.
    if (auto r = bluez_.set_powered(adapter_path(), true); !r) {
      adapter_state_ = "adapter " + config_.adapter + " is powered off: " + r.error().message;
      ++adapter_failures_;
      schedule_resync();
      return;
    }
    powered_ = true;
  }
  ensure_discovery();
  for (auto& [address, d] : devices_) {
    d.path = path_of_address(address).value_or("");
    if (d.path.empty()) {
      d.state = SessionState::absent;
      continue;
    }
    if (d.state == SessionState::absent) d.state = SessionState::idle;
    evaluate(d);
  }
}

void Manager::ensure_discovery() {
  if (!adapter_present_ || !powered_ || discovering_) {
    if (adapter_present_ && powered_) adapter_state_ = "ready";
    return;
  }
  // SetDiscoveryFilter must come first: BlueZ applies the filter when a discovery session starts.
  auto filter = bluez_.set_discovery_filter(adapter_path(), config_.filter);
  auto started = filter ? bluez_.start_discovery(adapter_path()) : Result<void>(filter.error());
  if (!started) {
    ++adapter_failures_;
    adapter_state_ = is_in_progress(started.error())
                         ? "adapter busy (" + started.error().message + "), retrying discovery"
                         : "discovery failed: " + started.error().message;
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:discovery", "discovery-failed",
                              {{"adapter", config_.adapter}, {"error", adapter_state_}});
    schedule_resync();
    return;
  }
  discovering_ = true;
  adapter_failures_ = 0;
  adapter_state_ = "ready";
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

void Manager::evaluate(DeviceSession& d) {
  if (d.path.empty()) {
    d.state = SessionState::absent;
    return;
  }
  switch (d.state) {
    case SessionState::connecting:
    case SessionState::resolving:
    case SessionState::subscribed: return;
    case SessionState::backoff:
      if (now() < d.retry_at) return;
      break;
    default: break;
  }
  if (!adapter_present_ || !powered_) return;
  const auto& props = objects_[d.path][std::string(kDeviceInterface)];
  if (get_bool(props, "Connected").value_or(false)) {
    // Connected already (BlueZ reconnected a bonded device by itself): go straight to the services.
    d.state = SessionState::resolving;
    d.resolve_deadline = now() + config_.resolve_timeout;
    if (get_bool(props, "ServicesResolved").value_or(false)) subscribe(d);
    return;
  }
  start_connect(d);
}

void Manager::start_connect(DeviceSession& d) {
  d.state = SessionState::connecting;
  d.resolve_deadline = now() + config_.resolve_timeout;
  context_.log.debug(kLog, "device-connecting", {{"address", d.device.address}});
  const auto address = d.device.address;
  bluez_.connect(d.path, [this, address](Result<void> r) {
    auto it = devices_.find(address);
    if (it == devices_.end()) return;
    auto& dev = it->second;
    if (dev.state != SessionState::connecting) return;  // signals got there first, or the device went away
    if (!r && !is_already_done(r.error())) {
      fail(dev, "connect: " + r.error().message, false);
      return;
    }
    dev.state = SessionState::resolving;
    dev.resolve_deadline = now() + config_.resolve_timeout;
    if (get_bool(objects_[dev.path][std::string(kDeviceInterface)], "ServicesResolved").value_or(false)) subscribe(dev);
  });
}

void Manager::fail(DeviceSession& d, const std::string& why, bool disconnect) {
  ++d.failures;
  d.last_error = why;
  d.subscribed.clear();
  if (disconnect && !d.path.empty()) (void)bluez_.disconnect(d.path);
  d.state = d.path.empty() ? SessionState::absent : SessionState::backoff;
  const auto delay = backoff(d.failures);
  d.retry_at = now() + delay;
  context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":session", "device-session-failed",
                            {{"address", d.device.address}, {"error", why}, {"retry_in_ms", delay.count()}});
}

void Manager::subscribe(DeviceSession& d) {
  d.subscribed.clear();
  std::string racp, cts, ucp;
  bool glucose = false;
  for (const auto& c : characteristics_of(d.path)) {
    const auto uuid = uuid_of(c);
    if (!uuid) continue;
    if (*uuid == kCurrentTime) {
      cts = c;
      continue;
    }
    if (*uuid == gatt::uuid::kRecordAccessControlPoint) {
      racp = c;
      continue;
    }
    if (*uuid == gatt::uuid::kUserControlPoint) {
      ucp = c;
      continue;
    }
    if (*uuid == gatt::uuid::kDateTime || gatt::characteristic_name(*uuid).empty()) continue;
    const auto flags = get_strings(objects_[c][std::string(kCharacteristicInterface)], "Flags");
    if (!contains(flags, "notify") && !contains(flags, "indicate")) continue;
    glucose = glucose || *uuid == gatt::uuid::kGlucoseMeasurement;
    // Our PropertiesChanged match was added before anything else, so no value sent right after
    // StartNotify can slip past; the path is listed first so such a value is accepted.
    d.subscribed.push_back(c);
    if (auto r = bluez_.start_notify(c); !r && !is_in_progress(r.error()) && !is_already_done(r.error())) {
      fail(d, "StartNotify " + std::string(gatt::characteristic_name(*uuid)) + ": " + r.error().message, true);
      return;
    }
  }
  if (d.subscribed.empty()) {
    fail(d, "no health measurement characteristic with notify/indicate found", true);
    return;
  }
  const auto& opts = config_.options_for(d.device.address);
  if (!cts.empty() && opts.current_time) {
    if (auto r = bluez_.write_value(cts, current_time_value(context_.clock.now(), config_.time.device_time_utc)); !r) {
      context_.log.rate_limited(LogLevel::notice, kLog, "ble:" + d.device.address + ":cts", "device-clock-not-set",
                                {{"address", d.device.address}, {"error", r.error().message}});
    }
  }
  d.glucose = glucose;
  d.racp_path = !racp.empty() && opts.racp ? racp : std::string();
  if (!d.racp_path.empty()) {
    d.subscribed.push_back(racp);  // the device indicates its answer (number of records, response code)
    if (auto r = bluez_.start_notify(racp); !r && !is_in_progress(r.error()) && !is_already_done(r.error())) {
      d.racp_path.clear();
      context_.log.rate_limited(LogLevel::notice, kLog, "ble:" + d.device.address + ":racp", "stored-records-not-requested",
                                {{"address", d.device.address}, {"error", r.error().message}});
    }
  }
  d.ucp_path.clear();
  d.uds.reset_current();
  if (!ucp.empty()) {
    d.subscribed.push_back(ucp);  // User Control Point answers by indication
    if (auto r = bluez_.start_notify(ucp); r || is_in_progress(r.error()) || is_already_done(r.error())) {
      d.ucp_path = ucp;
    } else {
      context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":uds", "user-data-unavailable",
                                {{"address", d.device.address}, {"error", r.error().message}});
    }
  }
  // A UDS device shows the data of the user who consented last: consent first (a code that worked
  // before, or the configured one), then ask for stored records, which are then that user's.
  if (d.ucp_path.empty() && !d.uds.idle()) {
    // Requests that waited for this connection: the device turned out to have no User Data Service.
    d.uds.fail_all(d.device.address + " has no User Data Service (no user control point 0x2A9F): its users are chosen "
                                      "on the device itself");
  }
  if (opts.consent && d.uds.consents().empty()) d.uds.remember(opts.consent->first, opts.consent->second);
  if (!d.ucp_path.empty() && d.uds.idle() && !d.uds.consents().empty()) {
    const auto& [user, code] = *d.uds.consents().begin();
    const auto who = user;
    d.uds.enqueue({UdsRequest::Op::consent, user, code}, [this, address = d.device.address, who](Result<UdsAnswer> r) {
      if (!r) {
        context_.log.warning(kLog, "user-consent-failed", {{"address", address}, {"user", who}, {"error", r.error().message}});
      }
    }, now() + config_.resolve_timeout);
  }
  if (!d.ucp_path.empty() && !d.uds.idle()) {
    d.records_after_uds = true;
    pump_user_data(d);
  } else {
    request_records(d);
  }
  read_info(d);
  d.state = SessionState::subscribed;
  d.failures = 0;
  d.last_error.clear();
  ++d.sessions;
  d.last_seen = context_.clock.now();
  context_.log.info(kLog, "device-subscribed",
                    {{"address", d.device.address}, {"device", d.device.id}, {"characteristics", d.subscribed.size()}});
}

void Manager::read_info(DeviceSession& d) {
  const auto r = read_device_info(bluez_, objects_, d.path, d.device, !config_.options_for(d.device.address).model.empty());
  if (d.device.battery_percent) d.battery = *d.device.battery_percent;
  for (const auto& why : r.malformed) {
    // A device's self-description is peer input: refused, counted, never stored half.
    context_.counters.add("ble_device_info_malformed");
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":info", "device-info-malformed",
                              {{"address", d.device.address}, {"error", why}});
  }
  if (r.changed) persist(d.device);  // the registry (and so the FHIR Device) names the real instrument
}

void Manager::on_bluez_owner(bool present) {
  if (!present) {
    agent_registered_ = false;  // a restarted bluetoothd knows no agents; an adapter coming back keeps them
    lost("bluetoothd stopped (org.bluez left the bus)");
    return;
  }
  context_.log.notice(kLog, "bluez-appeared");  // finds the adapter and devices again
  adapter_failures_ = 0;
  resync();
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
