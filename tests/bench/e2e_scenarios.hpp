#pragma once
// The end-to-end benchmark's scenarios. Each starts a fresh carehubd (own store, MQTT client id) against an
// emptied FHIR peer and the shared broker, so every scenario begins from the same state.
#include <cstdint>
#include <functional>
#include <set>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/bench/e2e_peers.hpp"

namespace carehub::bench {

// One JSON line per measurement: {"name":…, "value":…, "unit":…, …extra}.
using Emit = std::function<void(const std::string& name, double value, const std::string& unit, const nlohmann::json& extra)>;

// No load: idle CPU and RSS for `idle_seconds`, then `alerts` extreme readings one at a time, each sent once
// the previous alert's acknowledgement came back. Returns false if carehubd failed.
bool run_idle(Peers& peers, int idle_seconds, int alerts, const Emit& emit);

// `count` readings at `rate` per second (0: as fast as the broker acknowledges them), then the drain.
// Emits under `name` (e.g. "e2e_1000"). Returns false if carehubd failed or the drain did not complete.
// `alerted` (if given) receives the extremes that raised an alert. `encrypted` false: a plaintext buffer.
bool run_load(Peers& peers, const std::string& name, double rate, std::int64_t count, const Emit& emit,
              std::set<std::int64_t>* alerted = nullptr, bool encrypted = true);

// The direct bulk client on the same resources as `count` readings of a load scenario: the alerts of the
// extremes in `alerted` (those carehubd raised; null: every extreme).
bool run_baseline(Peers& peers, std::int64_t count, const Emit& emit, const std::set<std::int64_t>* alerted);

double percentile(std::vector<double> v, double p);  // nearest rank; 0 for none

}  // namespace carehub::bench
