// The Manager's per-device sessions: connect -> ServicesResolved -> subscribe (with the Device Information
// read, the device clock, the consent and the stored-records request), and a failed session's retry,
// paced by the jittered backoff (manager_adapter.cpp). Split from manager.cpp (BlueZ's signals, deadlines).
#include "drivers/ble/manager.hpp"

#include <algorithm>
#include <ctime>

#include "drivers/ble/device_info.hpp"
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

}  // namespace carehub::ble
