#include "rules/alert_json.hpp"

namespace carehub::rules {
namespace {

nlohmann::json time_or_null(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json alert_to_json(const Alert& a) {
  return {{"id", a.id},
          {"rule", a.rule},
          {"patient", a.patient},
          {"event", a.event},
          {"severity", to_string(a.severity)},
          {"state", to_string(a.state)},
          {"notify", a.notify},
          {"raised", format_rfc3339(a.raised)},
          {"acknowledged", time_or_null(a.acknowledged)},
          {"acknowledged_by", a.acknowledged_by},
          {"closed", time_or_null(a.closed)},
          {"resolution", a.resolution},
          {"text", a.text},
          {"readings", a.readings},
          {"category", a.category},
          {"audience", a.audience},
          {"requires_ack", a.requires_ack},
          {"deadline", time_or_null(a.deadline)},
          {"repeat_by", time_or_null(a.repeat_by)},
          {"reminders", a.reminders},
          {"next_reminder", time_or_null(a.next_reminder)},
          {"escalate_at", time_or_null(a.escalate_at)},
          {"escalated", a.escalated}};
}

nlohmann::json event_to_json(const AlertEvent& e) {
  return {{"time", format_rfc3339(e.time)},
          {"rule", e.alert.rule},
          {"event", e.event},
          {"severity", to_string(e.alert.severity)},
          {"notify", e.alert.notify},
          {"readings", e.alert.readings},
          {"alert", e.alert.id},
          {"patient", e.alert.patient},
          {"state", to_string(e.alert.state)},
          {"text", e.alert.text}};
}

nlohmann::ordered_json event_line(const AlertEvent& e) {
  nlohmann::ordered_json out;
  out["time"] = format_rfc3339(e.time);
  out["rule"] = e.alert.rule;
  out["event"] = e.event;
  out["severity"] = to_string(e.alert.severity);
  out["notify"] = e.alert.notify;
  out["readings"] = e.alert.readings;
  out["alert"] = e.alert.id;
  out["patient"] = e.alert.patient;
  out["state"] = to_string(e.alert.state);
  out["text"] = e.alert.text;
  return out;
}

}  // namespace carehub::rules
