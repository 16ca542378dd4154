#include "daemon/restart_only.hpp"

namespace carehub::daemon {
namespace {

// A Config member by its pointer-to-member path: Field<&Config::store, &StoreOptions::path>.
template <auto... Path>
struct Field {
  static auto& in(Config& c) { return (c .* ... .* Path); }
  static const auto& in(const Config& c) { return (c .* ... .* Path); }
};

// A row compared on `Compared` and keeping it together with `AlsoKept` (values derived from it at parse).
template <class Compared, class... AlsoKept>
constexpr RestartOnlySetting setting(std::string_view path, std::string_view why) {
  return {path, why, [](const Config& a, const Config& b) { return Compared::in(a) != Compared::in(b); },
          [](const Config& running, Config& reloaded) {
            Compared::in(reloaded) = Compared::in(running);
            ((AlsoKept::in(reloaded) = AlsoKept::in(running)), ...);
          }};
}

// Every key parse_mqtt_alerts reads (tls follows the broker's scheme; the password is read at start).
bool same_mqtt_alerts(const std::optional<MqttAlertsConfig>& a, const std::optional<MqttAlertsConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  const auto& x = a->connection;
  const auto& y = b->connection;
  return x.broker == y.broker && x.client_id == y.client_id && x.username == y.username && x.ca_file == y.ca_file &&
         x.verify_tls == y.verify_tls && x.tls == y.tls && a->password_file == b->password_file && a->prefix == b->prefix;
}

constexpr const char* kStoreWhy = "the buffer is opened once: the writer, the readers and the pipeline hold it";
constexpr const char* kPipelineWhy = "the writer thread and its queue are sized at start";
constexpr const char* kHubWhy =
    "the hub's identity: the pipeline's reading uids and the uploader's hub Device and patient are fixed at start";

// The order is the order restart_only_changes() reports them in.
constexpr RestartOnlySetting kSettings[] = {
    setting<Field<&Config::store, &StoreOptions::path>, Field<&Config::store, &StoreOptions::max_pages>>("/store/path",
                                                                                                        kStoreWhy),
    setting<Field<&Config::store, &StoreOptions::synchronous>>("/store/synchronous", kStoreWhy),
    setting<Field<&Config::store, &StoreOptions::max_bytes>>("/store/max_bytes", kStoreWhy),
    setting<Field<&Config::store, &StoreOptions::retention_days>>("/store/retention_days", kStoreWhy),
    setting<Field<&Config::store_key_file>>("/store/key_file", "the buffer key is read once, at start"),
    setting<Field<&Config::store_encrypted>>("/store/encryption", "the buffer key is read once, at start"),
    setting<Field<&Config::control_socket>>("/control/socket", "the control socket is bound once"),
    setting<Field<&Config::control_group>>("/control/group", "the control socket's group is set when it is bound"),
    setting<Field<&Config::pipeline, &PipelineOptions::queue_capacity>>("/pipeline/queue_capacity", kPipelineWhy),
    setting<Field<&Config::pipeline, &PipelineOptions::max_batch>>("/pipeline/max_batch", kPipelineWhy),
    setting<Field<&Config::pipeline, &PipelineOptions::commit_window>>("/pipeline/commit_window_ms", kPipelineWhy),
    setting<Field<&Config::pipeline, &PipelineOptions::max_future>>("/pipeline/max_future_s", kPipelineWhy),
    setting<Field<&Config::hub_id>>("/hub/id", kHubWhy),
    setting<Field<&Config::patient>>("/hub/patient", kHubWhy),
    setting<Field<&Config::hub_system_id>, Field<&Config::hub_system_id_derived>>("/hub/system_id", kHubWhy),
    setting<Field<&Config::hub_time_sync>, Field<&Config::hub_time_sync_mdc>>("/hub/time_sync", kHubWhy),
    {"/alerts/mqtt", "the MQTT alert publisher connects once, seeded from the store before the pipeline runs",
     [](const Config& a, const Config& b) { return !same_mqtt_alerts(a.alerts_mqtt, b.alerts_mqtt); },
     [](const Config& running, Config& reloaded) { reloaded.alerts_mqtt = running.alerts_mqtt; }},
};

}  // namespace

std::span<const RestartOnlySetting> restart_only_settings() { return kSettings; }

std::vector<std::string> restart_only_changes(const Config& running, const Config& reloaded) {
  std::vector<std::string> out;
  for (const auto& s : kSettings) {
    if (s.changed(running, reloaded)) out.emplace_back(s.path);
  }
  return out;
}

void keep_restart_only(const Config& running, Config& reloaded) {
  for (const auto& s : kSettings) s.keep(running, reloaded);
  carry_hub_identity(reloaded);
}

}  // namespace carehub::daemon
