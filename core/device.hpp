#pragma once
// A registered device: the registry binds a stable device id to a patient, so every reading is
// attributed to the device that took it and the patient who wears it (the pilot lost both).
#include <cstdint>
#include <optional>
#include <string>

#include "core/time.hpp"

namespace carehub {

struct Device {
  std::string id;        // stable: "ble-aa-bb-cc-dd-ee-ff", "openhab-<item>", "manual"
  std::string address;   // Bluetooth MAC "AA:BB:CC:DD:EE:FF" when it has one
  std::string name;      // advertised or given name
  std::string model;
  std::string serial;
  std::string category;  // "blood-pressure", "thermometer", ...
  std::string patient;   // FHIR reference; empty = the hub's patient
  std::optional<TimePoint> last_seen;
  // The newest record already stored from this device, by its own clock and by its record sequence
  // number: devices resend their memory on reconnect, and anything not newer is dropped (BLE driver).
  std::optional<TimePoint> newest_record{};
  std::optional<std::int64_t> newest_sequence{};
  // Device Information Service (0x180A) and Battery (0x180F), read at pairing/connection when the device
  // exposes them: the PHD IG's PhdDevice is built from these. Empty: not exposed or not read yet.
  std::string manufacturer{};       // 0x2A29
  std::string firmware_revision{};  // 0x2A26
  std::string hardware_revision{};  // 0x2A27
  std::string software_revision{};  // 0x2A28
  std::string system_id{};          // 0x2A23, EUI-64 as 16 upper-case hex digits
  std::optional<int> battery_percent{};  // 0x2A19

  bool operator==(const Device&) const = default;
};

}  // namespace carehub
