#pragma once
// `carehubctl rules simulate`: replays reading lines (design.md format) through the real engine and a
// real SQLite store (a scratch file, removed afterwards) on a virtual clock, so a clinician can see what a
// rule set would do, offline, with no daemon. The clock jumps from each reading's time to the next and
// stops at every deadline, reminder and escalation on the way, so event times are exact.
//
// Input lines: a reading, or {"time":…,"action":"ack","alert":"last"|<id>} (acknowledges the newest open
// alert awaiting acknowledgement, else the newest open alert), or {"time":…,"action":"close","alert":…}.
// Blank lines and lines starting with '#' are skipped.
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/log.hpp"
#include "rules/rule_set.hpp"

namespace carehub::rules {

struct SimulateOptions {
  std::optional<TimePoint> until;                 // keep the clock running to here after the last line
  std::string patient = "Patient/simulated";      // for readings that name none
  bool all_events = false;                        // also the internal "closed" events
};

// Emits one JSON object per event (rules/alert_json.hpp event_line). Errors name the input line.
Result<void> simulate(const RuleSet& rules, std::istream& input, const SimulateOptions& options,
                      const std::function<void(const nlohmann::ordered_json&)>& emit, Logger& log);

}  // namespace carehub::rules
