#pragma once
// High-rate streams (a wearable's 1 Hz heart rate, a room sensor every few seconds) would swamp the
// clinical record reading by reading. The uploader sends them as one Observation per configured period
// with statistics instead. Spot measurements are never aggregated, and the raw readings stay in the
// buffer for local rules. Pure: windows, identities and resources, no I/O.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/store.hpp"
#include "sync/fhir_mapping.hpp"

namespace carehub::sync {

struct AggregationRule {
  Kind kind = Kind::heart_rate;
  std::chrono::seconds period{60};
  std::vector<std::string> devices;  // empty: every device; manual readings never
};

// Kinds that may be aggregated: single-valued streams. Blood pressure, temperature, weight, glucose,
// SpO2 and steps are spot measurements (or cumulative) and always go one by one.
bool aggregatable(Kind kind);

// The rule that covers this reading, or nullptr when it goes on its own.
const AggregationRule* matching_rule(const std::vector<AggregationRule>& rules, const Reading& r);

struct Window {
  TimePoint start;
  TimePoint end;  // exclusive
};
// Windows are aligned to the epoch, so every restart cuts the same ones.
Window window_of(TimePoint t, std::chrono::seconds period);
// A window is sent once it ended a whole period ago: late readings (a wearable syncing its memory) get a
// period's grace to land in it.
bool window_closed(const Window& w, std::chrono::seconds period, TimePoint now);

// The aggregate's identity: a name-based UUID over its members' uids. A retry of the same members is the
// same Observation; readings that arrive after their window was sent form a further aggregate of that
// window, never a duplicate of the first.
std::string aggregate_uid(const std::vector<StoredReading>& members);

// One Observation for `members` (same patient, device and kind, one window, at least one): the mean as
// the value, minimum and maximum as components coded only with HL7's observation-statistics (as R4's
// $stats: repeating Observation.code there breaks obs-7), the count in a note, the window as effectivePeriod. Computed by
// the hub, so never a PHD measurement: refs.device and refs.flags are ignored.
nlohmann::json aggregate_observation(const std::vector<StoredReading>& members, const Window& window,
                                     const fhir::References& refs);

}  // namespace carehub::sync
