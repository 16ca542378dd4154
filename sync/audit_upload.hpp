#pragma once
// How the audit trail reaches the FHIR server (issue 18): each pass of the uploader sends the rows the
// server lacks (up to kAuditPerPass, oldest first) in one batch of their own, before the readings, each as
//   PUT AuditEvent/<uid>
// (sync/audit_mapping.hpp says why an update with a client-assigned id: R4's AuditEvent has no identifier
// to make a conditional create on, and the PUT replaces the same resource with the same content when an
// answer was lost, so each row is on the server once). The exchange is the uploader's own (authorisation,
// gzip, bundle sizing, Retry-After), so a server that is down backs the whole pass off as for readings. An
// entry the server refuses is kept, marked refused (sync_state 2, shown by carehubctl audit); a request
// refused as a whole is counted and logged and the readings go on: an audit row never holds up a reading.
#include <cstddef>

#include "store/audit.hpp"
#include "sync/bundle.hpp"

namespace carehub::sync {

inline constexpr std::size_t kAuditPerPass = 50;

BundleEntry audit_entry(const AuditEvent& e, const std::string& hub_id);

}  // namespace carehub::sync
