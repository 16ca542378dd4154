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

// The de-duplication identity (PHD style): a name-based UUID over patient, device, kind, effective time
// and values. The same measurement gets the same id on every retry, restart and re-pairing. An unassigned
// reading (empty patient) also names its user slot: two users measuring alike in the same second on one
// device are two readings. Assigning it gives it the id it would have had under its patient.
std::string reading_uid(const Reading& r);
// An RFC 9562 version 8 UUID from the SHA-256 of `key`: the identity of anything derived from readings.
std::string name_uuid(std::string_view key);

}  // namespace carehub
