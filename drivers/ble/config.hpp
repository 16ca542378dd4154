#pragma once
// The `/sources/ble` section of carehubd.json. Parsed and validated at construction (no I/O), so a
// typo stops start-up and `carehubctl config check` names its JSON path. A sample is in README.md.
#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <utility>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.hpp"
#include "drivers/ble/bluez.hpp"
#include "drivers/ble/convert.hpp"
#include "drivers/option_table.hpp"

namespace carehub::ble {

// Every option of `/sources/ble`, once: the parser accepts these keys and no other; the README documents
// each (tests/conventions/drivers_test.cpp checks it). Every one is optional.
inline constexpr std::array kOptions{
    ConfigOption{"/adapter", OptionType::string, "\"hci0\"", "the BlueZ adapter"},
    ConfigOption{"/scan", OptionType::object, "-", "the discovery filter"},
    ConfigOption{"/scan/rssi", OptionType::integer, "none", "-127..20: weaker advertisements are ignored"},
    ConfigOption{"/scan/uuids", OptionType::array, "none", "16-bit service UUIDs a device must advertise"},
    ConfigOption{"/scan/duplicate_data", OptionType::boolean, "BlueZ's", "report repeated advertisements"},
    ConfigOption{"/reconnect", OptionType::object, "-", "backoff for connects and adapter recovery"},
    ConfigOption{"/reconnect/base_ms", OptionType::integer, "1000", "the first delay"},
    ConfigOption{"/reconnect/cap_ms", OptionType::integer, "60000", "the ceiling, not below base_ms"},
    ConfigOption{"/resolve_timeout_ms", OptionType::integer, "30000", "Connect -> ServicesResolved, else retry"},
    ConfigOption{"/device_time", OptionType::string, "\"local\"", "local or utc: how devices' zone-less time is read"},
    ConfigOption{"/devices", OptionType::object, "none", "per device, keyed by its Bluetooth address"},
    ConfigOption{"/devices/*/model", OptionType::string, "the advertised name", "the model"},
    ConfigOption{"/devices/*/current_time", OptionType::boolean, "true", "write Current Time when exposed"},
    ConfigOption{"/devices/*/racp", OptionType::boolean, "true", "ask for stored records when supported"},
    ConfigOption{"/devices/*/consent", OptionType::object, "none", "User Data Service: user index and consent code"},
    ConfigOption{"/devices/*/consent/user", OptionType::integer, "required", "0..254"},
    ConfigOption{"/devices/*/consent/code", OptionType::integer, "required", "0..9999"},
};

struct DeviceOptions {
  std::string model;          // overrides the advertised name as the model
  bool current_time = true;   // write Current Time (0x2A2B) when the device exposes it
  bool racp = true;           // ask for stored records (0x2A52) when the device supports it
  // User Data Service devices: the user index and consent code the hub consents with on each
  // connection ("consent": {"user": 1, "code": 1234}), so the records it reads are that user's. A
  // consent given with `devices users … consent` works too, until carehubd restarts.
  std::optional<std::pair<int, std::uint16_t>> consent;
};

struct BleConfig {
  std::string adapter = "hci0";
  DiscoveryFilter filter;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60000};
  std::chrono::milliseconds resolve_timeout{30000};  // Connect -> ServicesResolved
  TimeOptions time;
  std::map<std::string, DeviceOptions> devices;  // by normalised address

  const DeviceOptions& options_for(const std::string& address) const;
};

// `path` is the section's JSON path ("/sources/ble"); errors name the member's full path.
Result<BleConfig> parse_config(const nlohmann::json& section, const std::string& path);

// The categories `devices pair --category` accepts.
bool known_category(std::string_view category);
std::string known_categories();

}  // namespace carehub::ble
