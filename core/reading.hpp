#pragma once
// A Reading is one measurement as carehub holds it: attributed to a device and a patient, in canonical
// units, with both the device's own timestamp and the time the hub received it.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/kind.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace carehub {

// The device id of readings typed in by hand (carehubctl measure add).
inline constexpr std::string_view kManualDevice = "manual";
// A multi-user device's "unknown user" (User ID 0xFF in the Blood Pressure and Weight Measurement
// characteristics): the device itself does not know whose reading it is. Never bindable; such a reading is
// always stored unassigned (core/attribution.hpp).
inline constexpr int kUnknownUser = 255;

struct Reading {
  Kind kind = Kind::heart_rate;
  std::string device{kManualDevice};  // stable device id (registry key), never a transient handle
  std::string patient;                // FHIR reference "Patient/…"; empty until attributed by the pipeline
  TimePoint time{};                   // effective time: the device's time when usable, else received
  std::optional<TimePoint> device_time;
  TimePoint received{};
  std::string source;                 // "manual", "ble", "mqtt", "openhab", "sim"
  std::map<std::string, double> values;  // component name -> value in the component's canonical unit
  // The device's user slot for multi-user devices (the User ID of BP/weight measurements, a UDS user
  // index); empty for a device that has no users. Attribution binds (device, user) to a patient.
  std::optional<int> user{};

  bool operator==(const Reading&) const = default;
};

struct Problem {
  std::string field;  // "values/systolic", "time"
  std::string message;
};

// Checks components (known, required present, finite, within plausible range) and time sanity (not before
// 2000). A reading failing these is rejected: it is not a measurement at all.
std::vector<Problem> problems(const Reading& r);
// The same as one error: "blood-pressure: systolic = 900 mm[Hg] is outside the plausible range 20..350".
Result<void> validate(const Reading& r);

// How far a reading's effective time may run ahead of its receipt (/pipeline/max_future_s). A device clock a
// few minutes fast is ordinary; one set years ahead, or a typed year, is not (design.md invariant 8).
inline constexpr Millis kDefaultMaxFuture = std::chrono::minutes(5);

// Why a well-formed reading's effective time cannot be believed: it is later than `received` plus
// `tolerance`. Such a reading is stored quarantined (never judged by the rules, never uploaded), not
// rejected: its values were measured, only its time is wrong. `received` is the reading's receive time,
// or the pipeline's clock for a producer that did not stamp one. Empty when the time is plausible.
std::optional<std::string> implausible_future(const Reading& r, TimePoint received, Millis tolerance);

// Fleet identity (design.md invariant 9): a BLE device's id ("ble-" and its address as six lower-case hex
// pairs) names one physical device wherever it is relayed; any other id ("manual", "openhab-<Item>",
// "mqtt-<topic>", a JSON publisher's name) is only unique within its hub, so it is qualified by the hub's id
// ("hub-0001/manual"). /hub/id cannot hold '/', so the qualified form is unambiguous. An empty hub id leaves
// every id as it is. sync/fhir_mapping uses the same rule for the Device identifier.
bool hardware_device_id(std::string_view device_id);
std::string fleet_device_id(std::string_view device_id, std::string_view hub_id);

// The de-duplication identity (PHD style): a name-based UUID over patient, the device's fleet identity
// (fleet_device_id with `hub_id`), kind, effective time and values. The same measurement gets the same id on
// every retry, restart and re-pairing; the same values typed or streamed on two hubs of one fleet get two.
// A BLE device's readings keep one id whichever hub relays them (the PHD IG's conditional-create identifier
// dedups one measurement uploaded through two gateways); hub_id "" gives the ids of before. An unassigned
// reading (empty patient) also names its user slot: two users measuring alike in the same second on one
// device are two readings. Assigning it gives it the id it would have had under its patient.
std::string reading_uid(const Reading& r, std::string_view hub_id = {});
// An RFC 9562 version 8 UUID from the SHA-256 of `key`: the identity of anything derived from readings.
std::string name_uuid(std::string_view key);

}  // namespace carehub
