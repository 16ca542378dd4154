#include "drivers/ble/config.hpp"

#include <array>

#include "core/json_check.hpp"
#include "drivers/ble/address.hpp"
#include "drivers/gatt/parse.hpp"

namespace carehub::ble {
namespace {

constexpr std::array<std::string_view, 6> kCategories{"blood-pressure", "glucose-meter", "heart-rate",
                                                      "pulse-oximeter", "scale",         "thermometer"};

}  // namespace

bool known_category(std::string_view category) {
  for (auto c : kCategories) {
    if (c == category) return true;
  }
  return false;
}

std::string known_categories() {
  std::string out;
  for (auto c : kCategories) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

const DeviceOptions& BleConfig::options_for(const std::string& address) const {
  static const DeviceOptions kDefaults;  // immutable: not shared mutable state
  auto it = devices.find(address);
  return it == devices.end() ? kDefaults : it->second;
}

Result<BleConfig> parse_config(const nlohmann::json& section, const std::string& path) {
  BleConfig c;
  JsonReader in;
  if (!section.is_object()) return make_error(Errc::invalid_argument, path + ": expected an object, found " + describe_json(section));
  only_table_keys(in, section, path, kOptions, "");
  if (auto a = in.string(section, path, "adapter", false)) {
    if (a->empty() || a->find('/') != std::string::npos) in.fail(json_path(path, "adapter"), "expected an adapter name such as \"hci0\", found \"" + *a + "\"");
    else c.adapter = *a;
  }
  if (const auto* scan = in.object(section, path, "scan", false)) {
    const auto sp = json_path(path, "scan");
    only_table_keys(in, *scan, sp, kOptions, "/scan");
    if (auto rssi = in.integer(*scan, sp, "rssi", false, -127, 20)) c.filter.rssi = static_cast<std::int16_t>(*rssi);
    if (auto dup = in.boolean(*scan, sp, "duplicate_data", false)) c.filter.duplicate_data = *dup;
    if (const auto* uuids = in.array(*scan, sp, "uuids", false)) {
      for (std::size_t i = 0; i < uuids->size(); ++i) {
        const auto& u = (*uuids)[i];
        auto parsed = u.is_string() ? gatt::parse_uuid(u.get<std::string>())
                                    : gatt::Result<std::uint16_t, gatt::ParseError>(gatt::ParseError{"not a string"});
        if (!parsed) {
          in.fail(json_path(json_path(sp, "uuids"), i), "expected a 16-bit service UUID such as \"1810\", found " + describe_json(u));
          continue;
        }
        c.filter.uuids.push_back(uuid128(*parsed));
      }
    }
  }
  if (const auto* rc = in.object(section, path, "reconnect", false)) {
    const auto rp = json_path(path, "reconnect");
    only_table_keys(in, *rc, rp, kOptions, "/reconnect");
    if (auto b = in.integer(*rc, rp, "base_ms", false, 10, 3600000)) c.backoff_base = std::chrono::milliseconds(*b);
    if (auto cap = in.integer(*rc, rp, "cap_ms", false, 10, 86400000)) c.backoff_cap = std::chrono::milliseconds(*cap);
    if (c.backoff_cap < c.backoff_base) in.fail(json_path(rp, "cap_ms"), "must not be below base_ms");
  }
  if (auto t = in.integer(section, path, "resolve_timeout_ms", false, 100, 600000)) c.resolve_timeout = std::chrono::milliseconds(*t);
  if (auto dt = in.string(section, path, "device_time", false)) {
    if (*dt == "utc") c.time.device_time_utc = true;
    else if (*dt != "local") in.fail(json_path(path, "device_time"), "expected \"local\" or \"utc\", found \"" + *dt + "\"");
  }
  if (const auto* devices = in.object(section, path, "devices", false)) {
    const auto dp = json_path(path, "devices");
    for (const auto& [key, opts] : devices->items()) {
      const auto p = json_path(dp, key);
      const auto address = normalise_address(key);
      if (address.empty()) {
        in.fail(p, "expected a Bluetooth address such as \"AA:BB:CC:DD:EE:FF\" as the key");
        continue;
      }
      if (!opts.is_object()) {
        in.fail(p, "expected an object, found " + describe_json(opts));
        continue;
      }
      only_table_keys(in, opts, p, kOptions, "/devices/*");
      DeviceOptions d;
      if (auto m = in.string(opts, p, "model", false)) d.model = *m;
      if (auto ct = in.boolean(opts, p, "current_time", false)) d.current_time = *ct;
      if (auto r = in.boolean(opts, p, "racp", false)) d.racp = *r;
      if (const auto* consent = in.object(opts, p, "consent", false)) {
        const auto cp = json_path(p, "consent");
        only_table_keys(in, *consent, cp, kOptions, "/devices/*/consent");
        auto user = in.integer(*consent, cp, "user", true, 0, 254);  // 255 is the unknown user
        auto code = in.integer(*consent, cp, "code", true, 0, 9999);
        if (user && code) d.consent = std::make_pair(static_cast<int>(*user), static_cast<std::uint16_t>(*code));
      }
      c.devices[address] = d;
    }
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  return c;
}

}  // namespace carehub::ble
