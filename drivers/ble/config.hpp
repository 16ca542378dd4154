#pragma once
// The `/sources/ble` section of carehubd.json. Parsed and validated at construction (no I/O), so a
// typo stops start-up and `carehubctl config check` names its JSON path.
//
//   "ble": {
//     "adapter": "hci0",
//     "scan": {"rssi": -90, "uuids": ["1810", "1809"]},
//     "reconnect": {"base_ms": 1000, "cap_ms": 60000},
//     "resolve_timeout_ms": 30000,
//     "device_time": "local",
//     "devices": {"A4:C1:38:00:00:01": {"model": "BP7150", "current_time": true, "racp": true,
//                                      "consent": {"user": 1, "code": 1234}}}
//   }
#include <chrono>
#include <map>
#include <optional>
#include <utility>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.hpp"
#include "drivers/ble/bluez.hpp"
#include "drivers/ble/convert.hpp"

namespace carehub::ble {

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
