#pragma once
// Decision-support rules as clinicians configure them: one JSON file per pilot (rules for every patient
// on the hub) with defaults, and per-patient rules that replace a pilot rule of the same id for that
// patient. Validated on load; every error names the file and the JSON path. docs/rules.md is the
// clinician's guide to this format.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"
#include "core/kind.hpp"
#include "core/reading.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace carehub::rules {

enum class RuleType { bands, inactivity, trend };

// Where a reading falls for one component, from the rule's limits.
enum class Band { extreme_low, low, optimal, high, extreme_high };
std::string_view to_string(Band b);

// What a band does: nothing, an immediate alert of a severity, or the confirm-by-repeat episode (HF5).
enum class Outcome { none, info, amber, red, confirm };
std::string_view to_string(Outcome o);

struct ComponentBands {
  std::string component;  // "systolic"
  std::optional<double> extreme_low, optimal_low, optimal_high, extreme_high;
  // A repeat within `threshold` of an extreme limit still counts as extreme: a reading of 198 after 200
  // is not a resolution when the threshold is 5 (it only stops flapping around the limit).
  double threshold = 0;
};

// The band of one value under one component's limits (extreme limits included in the extreme band).
Band band_of(const ComponentBands& b, double v);
// How far from optimal a band is: 0 optimal, 1 low/high, 2 extreme.
int band_rank(Band b);

struct Timing {
  Millis repeat_deadline{std::chrono::minutes(10)};  // no repeat by then: the no-repeat policy
  Millis confirm_window{std::chrono::minutes(5)};    // a repeat counts only this soon after the first reading
  Outcome on_no_repeat = Outcome::amber;             // none, info, amber (to the clinician) or red
  Millis reminder_every{std::chrono::minutes(10)};   // unacknowledged red alert: remind this often
  std::optional<Millis> escalate_after{std::chrono::minutes(30)};  // ...and escalate to the clinician
  Millis inactive_after{std::chrono::hours(24 * 10)};
};

struct Rule {
  std::string id;
  RuleType type = RuleType::bands;
  std::string category;               // "CVD": what a notification filter switches
  std::optional<std::string> patient;  // only this patient (overrides a pilot rule of the same id)
  std::string text;                   // what the patient is told; a default per event when empty
  std::optional<Kind> kind;           // inactivity may watch a device instead
  std::optional<std::string> device;  // inactivity: one device's silence
  // bands
  std::vector<ComponentBands> bands;
  std::map<Band, Outcome> outcomes;
  // trend: `component` changing by `change` (signed: +2 = a rise of 2) within `within`
  std::string component = "value";
  double change = 0;
  Millis within{std::chrono::hours(72)};
  Severity severity = Severity::info;  // inactivity and trend alerts
  Timing timing;
  std::string path;  // "/rules/0", for messages

  Outcome outcome(Band b) const;
};

struct RuleSet {
  std::string source;  // the file, for messages and status
  std::vector<Rule> rules;
  std::map<std::string, bool> notify;  // per category; absent = notify
  Timing defaults;

  // The rules that apply to `patient`: pilot rules, each replaced by a patient rule of the same id.
  std::vector<const Rule*> for_patient(const std::string& patient) const;
  const Rule* find(const std::string& id, const std::string& patient) const;
  bool notifies(const std::string& category) const;
};

// Where each component of `r` falls under the bands rules for its patient and kind: the worst band per
// component over those rules, optimal ones left out. The uploader flags the Observation with it
// (interpretation H/HH/L/LL), so a dashboard shows the judgement the rules made without knowing them.
std::map<std::string, Band> component_bands(const RuleSet& rules, const Reading& r);

// Errors: one line per problem, each "FILE: /json/path: what was expected, found what".
Result<RuleSet> parse_rules(std::string_view text, const std::string& source);
Result<RuleSet> load_rules(const std::string& path);

// "10min", "5 min", "30s", "3d", "12h", "500ms".
std::optional<Millis> parse_duration(std::string_view text);
std::string format_duration(Millis d);

}  // namespace carehub::rules
