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
  // When the device was registered or moved to its current patient (Pipeline::upsert_device sets it; a
  // caller's value is ignored). A reading it measured before then is stored unassigned, not attributed
  // (core/attribution.hpp): a second-hand device's memory, or the previous patient's readings. Empty for a
  // device an older carehub registered (schema < 6): nobody knows when, so all its readings attribute.
  std::optional<TimePoint> bound_since{};

  bool operator==(const Device&) const = default;
};

// A multi-user device's user slot bound to a patient (carehubctl devices pair --user N --patient …). Its
// readings measured at or after `since` are the patient's; older ones are unassigned.
struct UserBinding {
  std::string device;
  int user = 0;
  std::string patient;
  TimePoint since{};
  std::string by{};  // who bound it

  bool operator==(const UserBinding&) const = default;
};

}  // namespace carehub
