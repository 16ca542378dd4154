#pragma once
// The end-to-end benchmark's readings, one definition for both sides: the MQTT payload carehubd receives
// (reading JSON) and the Reading the direct bulk client maps itself, so both send the same resources.
// Reading i of a run: every 50th (i % 50 == 25) an extreme blood pressure (systolic ≥ 200: the bench's
// bands rule makes it a red alert at once), the others alternately a heart rate and a normal blood pressure.
// The extreme's systolic carries its sequence number in its decimals (200 + k/10000), which the alert's text
// repeats ("systolic 200.0123"): the display tells which reading an alert answers without computing uids.
#include <cstdint>
#include <optional>
#include <string>

#include "core/reading.hpp"

namespace carehub::bench {

inline constexpr int kAlertEvery = 50;
inline constexpr const char* kHubId = "hub-test";  // DaemonProcess's hub id and patient
inline constexpr const char* kPatient = "Patient/test-patient";
inline constexpr const char* kReadingsTopic = "bench/readings";
inline constexpr const char* kAlertPrefix = "carehub/hub-test/alerts";

// The bench's rule file: systolic ≥ 180 is a red alert the patient must acknowledge.
std::string rules_json();

struct Workload {
  std::int64_t base_ms = 0;  // reading i is measured at base_ms + i (unique per reading)
  std::int64_t count = 0;

  static bool extreme(std::int64_t i) { return i % kAlertEvery == kAlertEvery / 2; }
  static std::int64_t extreme_seq(std::int64_t i) { return i / kAlertEvery; }
  std::int64_t alerts() const;  // extremes among [0, count)

  Reading reading(std::int64_t i) const;  // as carehubd's MQTT source makes it (patient from the hub)
  std::string payload(std::int64_t i) const;  // the reading JSON published
};

// The sequence number in an alert's text ("... systolic 200.0123 ..."), if any.
std::optional<std::int64_t> seq_from_alert_text(const std::string& text);

}  // namespace carehub::bench
