#pragma once
// Readings and alerts for tests, so each test file does not grow its own copy that drifts. A fixture fills
// what a test usually does not care about; a test names what its assertions are about:
//   test::heart_rate(72, kTime, {.device = "ble-aa", .patient = "Patient/p1", .source = "ble"})
// Header-only and of core/ only, so any test target can use it without linking tests/support.
#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/alert.hpp"
#include "core/kind.hpp"
#include "core/reading.hpp"
#include "core/time.hpp"

namespace carehub::test {

// Who measured, for whom and how, besides the kind, the values and the time.
struct ReadingFrom {
  std::string device = "dev-1";
  std::string patient{};            // empty: whatever the pipeline's default patient is
  std::string source = "test";
  Millis received_after{0};         // the reading arrives this long after its time
};

inline Reading make_reading(Kind kind, std::map<std::string, double> values, TimePoint time, ReadingFrom from = {}) {
  Reading r;
  r.kind = kind;
  r.device = std::move(from.device);
  r.patient = std::move(from.patient);
  r.time = time;
  r.received = time + from.received_after;
  r.source = std::move(from.source);
  r.values = std::move(values);
  return r;
}

inline Reading heart_rate(double bpm, TimePoint time, ReadingFrom from = {}) {
  return make_reading(Kind::heart_rate, {{"value", bpm}}, time, std::move(from));
}

inline Reading blood_pressure(double systolic, double diastolic, TimePoint time, ReadingFrom from = {}) {
  return make_reading(Kind::blood_pressure, {{"systolic", systolic}, {"diastolic", diastolic}}, time, std::move(from));
}

// A red alert the patient must acknowledge: Patient/p1, rule hf5-systolic, event "alert", raised at
// `raised` on `evidence` (reading uids). Tests change what they look at (text, category, rule...).
inline Alert red_alert(std::string id, TimePoint raised, std::vector<std::string> evidence) {
  Alert a;
  a.id = std::move(id);
  a.rule = "hf5-systolic";
  a.patient = "Patient/p1";
  a.event = "alert";
  a.severity = Severity::red;
  a.raised = raised;
  a.text = "Systolic above 180 twice";
  a.readings = std::move(evidence);
  a.requires_ack = true;
  return a;
}

}  // namespace carehub::test
