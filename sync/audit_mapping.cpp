// AuditEvent mapping (see audit_mapping.hpp, and docs/fhir-mapping.md for the codes).
#include "sync/audit_mapping.hpp"

#include "core/time.hpp"
#include "sync/alert_mapping.hpp"
#include "sync/fhir_mapping.hpp"

namespace carehub::fhir {
namespace {

using json = nlohmann::json;

constexpr std::string_view kDicom = "http://dicom.nema.org/resources/ontology/DCM";
constexpr std::string_view kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr std::string_view kSourceType = "http://terminology.hl7.org/CodeSystem/security-source-type";
constexpr std::string_view kDeviceSystem = "urn:carehub:device";  // as sync/fhir_device.cpp names Devices

json coding(std::string_view system, std::string_view code, std::string_view display) {
  return {{"system", system}, {"code", code}, {"display", display}};
}

// AuditEvent.action (required binding): create, update, delete, execute.
std::string_view action_code(const std::string& action) {
  if (action == "devices.pair") return "C";
  if (action == "devices.forget" || action == "devices.unbind") return "D";
  if (action == "config.reload" || action == "sync.retry-dead") return "E";
  return "U";  // assign, acknowledge, close, discard, consent: a change to what is recorded
}

// AuditEvent.outcome (required binding): 0 success, 4 minor failure, 8 serious failure.
std::string_view outcome_code(AuditOutcome o) {
  switch (o) {
    case AuditOutcome::success: return "0";
    case AuditOutcome::refused: return "4";
    case AuditOutcome::failed: return "8";
  }
  return "8";
}

json entity(const AuditEntity& x, const std::string& hub_id) {
  json what;
  json role = coding(kObjectRole, "4", "Domain Resource");
  json type = coding(kEntityType, "2", "System Object");
  if (x.type == "Patient") {
    what = {{"reference", x.id}};
    role = coding(kObjectRole, "1", "Patient");
    type = coding(kEntityType, "1", "Person");
  } else if (x.type == "Observation") {
    // Logical references by the identifiers carehub gives these resources: the server may not hold them
    // (yet, or ever: an unassigned reading is never uploaded), and a logical reference is never resolved.
    what = {{"type", "Observation"}, {"identifier", {{"system", kIdentifierSystem}, {"value", observation_identifier(x.id)}}}};
  } else if (x.type == "DetectedIssue") {
    what = {{"type", "DetectedIssue"}, {"identifier", {{"system", kAlertSystem}, {"value", x.id}}}};
  } else if (x.type == "Device" && x.id.find(':') == std::string::npos) {
    what = {{"type", "Device"}, {"identifier", {{"system", kDeviceSystem}, {"value", fleet_device_id(x.id, hub_id)}}}};
  } else if (x.type == "Device") {
    what = {{"type", "Device"}, {"display", "Bluetooth device " + x.id}};
  } else {
    json e = {{"type", type}, {"name", x.type + " " + x.id}};  // the configuration file: not a FHIR resource
    return e;
  }
  return {{"what", what}, {"type", type}, {"role", role}};
}

}  // namespace

std::string audit_event_url(const AuditEvent& e) { return "AuditEvent/" + e.uid; }

json audit_event(const AuditEvent& e, const std::string& hub_id) {
  const bool system = e.action == "config.reload";
  json out = {
      {"resourceType", "AuditEvent"},
      {"id", e.uid},
      {"type", system ? coding(kDicom, "110100", "Application Activity") : coding(kDicom, "110110", "Patient Record")},
      {"subtype", json::array({coding(kAuditActionSystem, e.action, e.action)})},
      {"action", action_code(e.action)},
      {"recorded", format_rfc3339(e.time)},
      {"outcome", outcome_code(e.outcome)},
  };
  if (!e.detail.empty()) out["outcomeDesc"] = e.detail;
  json requestor = {{"requestor", true},
                    {"name", e.actor.name},
                    {"type", {{"coding", json::array({coding(kAuditActorKindSystem, e.actor.kind, e.actor.kind)})}}},
                    {"who", {{"display", e.actor.name}}}};
  json agents = json::array({requestor});
  if (!e.on_behalf_of.empty()) {
    // The patient a technician acted for: an agent who did not ask (requestor false).
    agents.push_back({{"requestor", false},
                      {"who", {{"reference", e.on_behalf_of}}},
                      {"type", {{"text", "on whose behalf the action was taken"}}}});
  }
  out["agent"] = agents;
  out["source"] = {{"site", hub_id},
                   {"observer", {{"type", "Device"}, {"identifier", {{"system", kHubSystem}, {"value", hub_id}}}, {"display", "carehub hub " + hub_id}}},
                   {"type", json::array({coding(kSourceType, "4", "Application Server")})}};
  json entities = json::array();
  for (const auto& x : e.entities) entities.push_back(entity(x, hub_id));
  if (!entities.empty()) out["entity"] = entities;
  return out;
}

}  // namespace carehub::fhir
