#pragma once
// An alert raised by a decision-support rule. It references the readings that caused it, so the
// clinician sees the evidence and a crash can never leave an alert without its readings.
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace carehub {

enum class Severity { info, amber, red };
enum class AlertState { open, acknowledged, closed };

std::string_view to_string(Severity s);
std::string_view to_string(AlertState s);

struct Alert {
  std::string id;  // deterministic from rule, patient and the episode's first reading
  std::string rule;
  std::string patient;
  std::string event;  // "repeat-request", "alert", "escalation", "inactivity", ...
  Severity severity = Severity::info;
  AlertState state = AlertState::open;
  bool notify = true;  // false when a category filter silences it: still recorded and synced
  TimePoint raised{};
  std::optional<TimePoint> acknowledged;
  std::string text;
  std::vector<std::string> readings;  // reading uids

  bool operator==(const Alert&) const = default;
};

}  // namespace carehub
