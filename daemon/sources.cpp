#include "daemon/sources.hpp"

#include <array>

#include "drivers/ble/source.hpp"
#include "drivers/mqtt/source.hpp"
#include "drivers/openhab/source.hpp"
#include "drivers/sim/source.hpp"

namespace carehub::daemon {
namespace {

// The explicit list of drivers carehubd knows. Keep it sorted by name.
constexpr std::array kSources{
    BuiltinSource{"ble", &ble::make_ble_source, "Bluetooth LE health devices through BlueZ (drivers/ble)"},
    BuiltinSource{"mqtt", &mqtt::make_mqtt_source, "MQTT topics: numbers, openHAB states, reading JSON (drivers/mqtt)"},
    BuiltinSource{"openhab", &openhab::make_openhab_source, "openHAB items over its REST event stream (drivers/openhab)"},
    BuiltinSource{"sim", &sim::make_sim_source, "configured synthetic readings on the injected clock: demos, tests (drivers/sim)"},
};

// For config checks: a sink that refuses everything, since nothing may be ingested while checking.
class RefusingSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading>) override { return refused<IngestResult>(); }
  std::future<Result<void>> upsert_device(Device) override { return refused<void>(); }
  std::future<Result<bool>> remove_device(std::string) override { return refused<bool>(); }

 private:
  template <class T>
  static std::future<Result<T>> refused() {
    std::promise<Result<T>> p;
    p.set_value(make_error(Errc::unavailable, "configuration check: nothing is stored"));
    return p.get_future();
  }
};

const BuiltinSource* find(const std::string& name) {
  for (const auto& s : kSources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string known_names() {
  std::string out;
  for (const auto& s : kSources) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out.empty() ? "none in this build" : out;
}

}  // namespace

std::span<const BuiltinSource> builtin_sources() { return kSources; }

Result<std::vector<std::unique_ptr<Source>>> make_sources(const std::map<std::string, nlohmann::json>& configs,
                                                          const SourceContext& context) {
  std::vector<std::unique_ptr<Source>> out;
  std::string errors;
  for (const auto& [name, config] : configs) {
    const auto path = "/sources/" + name;
    const auto* builtin = find(name);
    if (!builtin) {
      errors += (errors.empty() ? "" : "\n") + path + ": unknown source (known: " + known_names() + ")";
      continue;
    }
    auto source = builtin->make(config, path, context);
    if (!source) {
      errors += (errors.empty() ? "" : "\n") + source.error().message;
      continue;
    }
    out.push_back(std::move(*source));
  }
  if (!errors.empty()) return make_error(Errc::invalid_argument, errors);
  return out;
}

std::vector<std::string> check_sources(const std::map<std::string, nlohmann::json>& configs) {
  RefusingSink sink;
  SystemClock clock;
  Logger quiet(LogLevel::error, [](LogLevel, std::string_view, std::string_view) {});
  Counters counters;
  const SourceContext context{sink, clock, quiet, counters, "config-check", "Patient/config-check"};
  auto made = make_sources(configs, context);
  std::vector<std::string> out;
  if (!made) {
    std::string_view all = made.error().message;
    while (!all.empty()) {
      auto nl = all.find('\n');
      out.emplace_back(all.substr(0, nl));
      if (nl == std::string_view::npos) break;
      all.remove_prefix(nl + 1);
    }
  }
  return out;
}

}  // namespace carehub::daemon
