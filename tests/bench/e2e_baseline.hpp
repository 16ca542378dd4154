#pragma once
// The direct bulk client: the floor carehubd is compared with. It maps the same readings with the same
// sync/ functions carehubd's uploader uses (fhir::observations, the hub's and sensors' Devices, the alert's
// DetectedIssue through sync::alert_entry, its creation and its acknowledged revision) and POSTs them in
// batch bundles of at most 100 entries, one after another over one keep-alive libcurl handle, at full
// speed: no buffer, no durability, no MQTT. An alert goes in the bundle after its evidence's (a batch
// cannot reference an entry of its own), its acknowledgement in the bundle after that.
#include <cstdint>
#include <set>
#include <string>

#include "tests/bench/e2e_workload.hpp"

namespace carehub::bench {

struct BaselineResult {
  bool ok = false;
  std::string error;
  std::int64_t observations = 0;
  std::int64_t alerts = 0;
  std::int64_t alert_revisions = 0;
  std::int64_t requests = 0;
  double seconds = 0;      // first bundle sent → last answered
  double cpu_seconds = 0;  // this process (the client), over the same time
};

// `alerted`: the extremes (by sequence number) that raised an alert in carehubd's run of the same
// workload, so both send the same DetectedIssues; null: every extreme.
BaselineResult run_direct_bulk_client(const std::string& base_url, const Workload& workload,
                                      const std::set<std::int64_t>* alerted);

}  // namespace carehub::bench
