#pragma once
// Pure mapping of a decision-support alert to a FHIR R4 DetectedIssue (see docs/fhir-mapping.md for why
// DetectedIssue rather than Flag or Communication). No I/O.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/alert.hpp"

namespace carehub::fhir {

inline constexpr std::string_view kAlertSystem = "urn:carehub:alert";  // identifier system: the alert's id
inline constexpr std::string_view kAlertRuleSystem = "urn:carehub:fhir:CodeSystem:alert-rule";
inline constexpr std::string_view kAlertActionSystem = "urn:carehub:fhir:CodeSystem:alert-action";
// Searchable facets of an alert, as further codings of DetectedIssue.code (see alert_mapping.cpp).
inline constexpr std::string_view kAlertCategorySystem = "urn:carehub:fhir:CodeSystem:alert-category";
inline constexpr std::string_view kAlertSeveritySystem = "urn:carehub:fhir:CodeSystem:alert-severity";  // info/amber/red
inline constexpr std::string_view kAlertStateSystem = "urn:carehub:fhir:CodeSystem:alert-state";  // open/acknowledged/closed, escalated, retrospective

struct AlertReferences {
  std::string hub;                        // "Device/<id>": the author
  std::vector<std::string> observations;  // "Observation/<id>" of the evidence the server holds
};

// The whole resource for the alert's current state: every revision is sent whole, as the alert is
// acknowledged, escalated or closed.
nlohmann::json detected_issue(const Alert& alert, const AlertReferences& refs);
// "identifier=urn:carehub:alert|<id>" (escaped): the conditional create's query, and equally the search of
// a conditional update (PUT DetectedIssue?identifier=…), which replaces whatever revision the server holds.
std::string detected_issue_if_none_exist(const std::string& alert_id);

}  // namespace carehub::fhir
