#pragma once
// Pure mapping of an audit-trail row (store/audit.hpp) to a FHIR R4 AuditEvent. No I/O.
//
// AuditEvent rather than Provenance: a row records an *action* and its outcome (who acknowledged, paired,
// discarded; a refusal and a failure too, which change no resource and so have nothing a Provenance could
// be the provenance of), where Provenance describes how one resource version came to be and has no outcome.
// docs/fhir-mapping.md ("AuditEvent") gives the whole argument and the codes.
//
// Each row is sent as PUT AuditEvent/<uid> (the row's uid is the resource id: a client-assigned, never
// all-digit id), so a resend after a lost answer replaces the same resource with the same content: exactly
// once on the server, whatever the retries. R4's AuditEvent has no identifier to make a conditional create on.
#include <nlohmann/json.hpp>
#include <string>

#include "store/audit.hpp"

namespace carehub::fhir {

// carehub's own codes: the control command, as AuditEvent.subtype (extensible binding: DICOM and the REST
// interactions have no code for "acknowledge an alert" or "bind a user slot").
inline constexpr std::string_view kAuditActionSystem = "urn:carehub:fhir:CodeSystem:audit-action";
// The actor's local identity (a Unix account, a carehub-web login), as AuditEvent.agent.altId's namespace.
inline constexpr std::string_view kAuditActorKindSystem = "urn:carehub:fhir:CodeSystem:audit-actor-kind";

// `hub_id` (/hub/id) names the observer (the hub, by its identifier) and qualifies hub-local device ids.
nlohmann::json audit_event(const AuditEvent& e, const std::string& hub_id);
// "AuditEvent/<uid>": where the PUT goes.
std::string audit_event_url(const AuditEvent& e);

}  // namespace carehub::fhir
