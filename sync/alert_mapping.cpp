#include "sync/alert_mapping.hpp"

#include "core/time.hpp"
#include "sync/fhir_mapping.hpp"

namespace carehub::fhir {
namespace {

using nlohmann::json;

std::string_view issue_severity(Severity s) {
  switch (s) {
    case Severity::red: return "high";
    case Severity::amber: return "moderate";
    case Severity::info: return "low";
  }
  return "low";
}

json action(std::string_view code, std::string_view display, TimePoint when, const std::string& text = {}) {
  json m = {{"action", {{"coding", json::array({{{"system", kAlertActionSystem}, {"code", code}, {"display", display}}})}}},
            {"date", format_rfc3339(when)}};
  if (!text.empty()) m["action"]["text"] = text;
  return m;
}

// The patient acknowledges on the display (carehub-web or an MQTT home display); anyone else acted for
// them. The action's text keeps who exactly, and a technician's reason.
std::string_view acknowledgement_display(const std::string& by) {
  if (by.empty()) return "Acknowledged";
  if (by.rfind("patient", 0) == 0) return "Acknowledged by the patient";
  return "Acknowledged on the patient's behalf";
}

json coding(std::string_view system, std::string_view code, std::string_view display) {
  return {{"system", system}, {"code", code}, {"display", display}};
}

// R4 searches DetectedIssue by code, patient, identified date, author and identifier only: no status, no
// severity. So the code carries, besides the rule, what a clinician's worklist filters on: the rule's
// category ("CVD"), the severity and the alert's current state. `code=…alert-state|open` then finds the
// open alerts on any server, with no custom SearchParameter.
json code(const Alert& a) {
  json codings = json::array({coding(kAlertRuleSystem, a.rule, a.event)});
  if (!a.category.empty()) codings.push_back(coding(kAlertCategorySystem, a.category, a.category));
  codings.push_back(coding(kAlertSeveritySystem, to_string(a.severity), to_string(a.severity)));
  codings.push_back(coding(kAlertStateSystem, to_string(a.state), to_string(a.state)));
  if (a.escalated) codings.push_back(coding(kAlertStateSystem, "escalated", "escalated"));
  // Raised later from readings assigned long after they were measured: history, not a current emergency,
  // so a worklist can leave it out (`code:not=…alert-state|retrospective`).
  if (a.retrospective) codings.push_back(coding(kAlertStateSystem, "retrospective", "retrospective"));
  return {{"coding", std::move(codings)}, {"text", a.category.empty() ? a.rule : a.category + ": " + a.rule}};
}

}  // namespace

std::string detected_issue_if_none_exist(const std::string& alert_id) {
  return identifier_query(kAlertSystem, alert_id);
}

json detected_issue(const Alert& a, const AlertReferences& refs) {
  // Raised is a finished finding ("final"); what happens to it later is recorded as mitigations, and the
  // resource becomes "amended" so a clinician's worklist can tell it changed.
  const bool changed = a.acknowledged || a.closed || a.escalated;
  json issue = {
      {"resourceType", "DetectedIssue"},
      {"identifier", json::array({{{"system", kAlertSystem}, {"value", a.id}}})},
      {"status", changed ? "amended" : "final"},
      {"code", code(a)},
      {"severity", issue_severity(a.severity)},
      {"patient", {{"reference", a.patient}}},
      {"identifiedDateTime", format_rfc3339(a.raised)},
      {"detail", a.text},
  };
  if (!refs.hub.empty()) issue["author"] = {{"reference", refs.hub}};
  if (!refs.observations.empty()) {
    json detail = json::array();
    for (const auto& o : refs.observations) detail.push_back({{"reference", o}});
    issue["evidence"] = json::array({{{"detail", detail}}});
  }
  json mitigation = json::array();
  if (a.escalated) {
    mitigation.push_back(action("escalated", "Escalated to the clinician: not acknowledged in time",
                                a.escalate_at.value_or(a.raised)));
  }
  if (a.acknowledged) {
    mitigation.push_back(action("acknowledged", acknowledgement_display(a.acknowledged_by), *a.acknowledged,
                                a.acknowledged_by));
  }
  if (a.closed) mitigation.push_back(action("closed", "Closed", *a.closed, a.resolution));
  if (!mitigation.empty()) issue["mitigation"] = std::move(mitigation);
  return issue;
}

}  // namespace carehub::fhir
