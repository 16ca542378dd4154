#pragma once
// How an alert revision goes to the server: one R4 conditional update keyed by the alert's identifier,
//   PUT DetectedIssue?identifier=urn:carehub:alert|<id>
// for every revision, the first included. It creates the DetectedIssue when the server has none and
// replaces the one it has otherwise, so:
//  - a revision whose answer was lost and is sent again, or overtaken by the next one (acknowledged),
//    always leaves the server holding the revision sent last. A conditional create would match the
//    first revision and answer 200 without changing it: the acknowledgement would be marked synced
//    while the server kept stale content;
//  - no request ever names a server id, so a server that expunged or migrated the resource never sees
//    a client-assigned create (`PUT DetectedIssue/123`, which HAPI refuses for numeric ids).
// R4 wants fullUrl on PUT entries of a batch: a urn:uuid derived from the alert id.
#include "store/store.hpp"
#include "sync/alert_mapping.hpp"
#include "sync/bundle.hpp"

namespace carehub::sync {

BundleEntry alert_entry(const AlertToSync& alert, const fhir::AlertReferences& refs);

}  // namespace carehub::sync
