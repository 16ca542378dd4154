#include "drivers/sim/config.hpp"

#include <nlohmann/json.hpp>

#include "core/json_check.hpp"
#include "core/reading.hpp"

namespace carehub::sim {
namespace {

void read_reading(JsonReader& in, const nlohmann::json& r, const std::string& where, SimConfig& out) {
  if (!r.is_object()) {
    in.fail(where, "expected an object, found " + describe_json(r));
    return;
  }
  only_table_keys(in, r, where, kOptions, "/readings/*");
  SimReading sim;
  const auto kind_name = in.string(r, where, "kind", true);
  const auto kind = kind_name ? kind_from_string(*kind_name) : std::nullopt;
  if (kind_name && !kind) in.fail(json_path(where, "kind"), "unknown kind \"" + *kind_name + "\"");
  const auto* values = in.object(r, where, "values", true);
  bool numbers = values != nullptr;
  if (values) {
    for (const auto& [component, value] : values->items()) {
      if (!value.is_number()) {
        in.fail(json_path(json_path(where, "values"), component), "expected a number, found " + describe_json(value));
        numbers = false;
        continue;
      }
      sim.values[component] = value.get<double>();
    }
  }
  if (!kind || !numbers) return;  // one error per mistake: no "required" for a value that is there
  sim.kind = *kind;
  // The same checks the pipeline makes, now: a sample that could never be stored is a configuration error.
  Reading probe;
  probe.kind = sim.kind;
  probe.values = sim.values;
  probe.time = probe.received = from_epoch_ms(1'767'225'600'000);  // 2026-01-01: any time past 2000 will do
  for (const auto& problem : problems(probe)) {
    if (problem.field == "time") continue;
    in.fail(where + "/" + problem.field, problem.message);  // field is a path: "values/systolic"
  }
  out.readings.push_back(std::move(sim));
}

}  // namespace

Result<SimConfig> parse_sim_config(const nlohmann::json& section, const std::string& path) {
  if (!section.is_object()) {
    return make_error(Errc::invalid_argument, path + ": expected an object, found " + describe_json(section));
  }
  JsonReader in;
  SimConfig c;
  only_table_keys(in, section, path, kOptions, "");
  if (auto d = in.string(section, path, "device", false)) {
    if (d->empty()) in.fail(json_path(path, "device"), "must not be empty");
    c.device = *d;
  }
  if (auto s = in.integer(section, path, "interval_s", false, 1, 86400)) c.interval = std::chrono::seconds(*s);
  if (const auto* readings = in.array(section, path, "readings", true)) {
    if (readings->empty()) in.fail(json_path(path, "readings"), "expected at least one reading");
    for (std::size_t i = 0; i < readings->size(); ++i) {
      read_reading(in, (*readings)[i], json_path(json_path(path, "readings"), i), c);
    }
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  return c;
}

}  // namespace carehub::sim
