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
  // Who: "patient (display)", "patient (mqtt display)", or a technician's login and their reason for
  // acknowledging on the patient's behalf. Empty for alerts acknowledged before carehub recorded it.
  std::string acknowledged_by;
  std::string text;
  std::vector<std::string> readings;  // reading uids

  std::string category;       // the rule's category ("CVD"): what a notification filter switches
  std::string audience;       // who must act: "patient", "clinician" or "both"
  bool requires_ack = false;  // a red alert stays open (with reminders) until the patient acknowledges it
  std::optional<TimePoint> deadline;  // repeat-request: the no-repeat policy applies from this time
  // repeat-request: a repeat measured up to this time still confirms or resolves the first reading (the
  // rule's confirmation window); what the patient is counted down to.
  std::optional<TimePoint> repeat_by;
  std::optional<TimePoint> closed;
  std::string resolution;  // why it closed: "confirmed", "resolved", "expired", "closed", "data resumed"
  int reminders = 0;
  std::optional<TimePoint> next_reminder;  // while unacknowledged
  std::optional<TimePoint> escalate_at;    // to the clinician when still unacknowledged by then
  bool escalated = false;
  // Raised from readings a technician assigned long after they were measured (Engine::judge_assigned):
  // recorded and sent to the clinician as history, never notified to the patient now, no reminders.
  bool retrospective = false;

  bool operator==(const Alert&) const = default;
};

// One thing that happened to an alert in a committed transaction: it was raised ("repeat-request",
// "alert", "inactivity"), reminded, escalated, resolved, acknowledged or closed. `alert` is its state
// after the change. Publishers (MQTT, control-socket watchers) receive these only after the commit.
struct AlertEvent {
  std::string event;
  TimePoint time{};
  Alert alert;

  bool operator==(const AlertEvent&) const = default;
};

std::optional<Severity> severity_from_string(std::string_view s);
std::optional<AlertState> alert_state_from_string(std::string_view s);

}  // namespace carehub
