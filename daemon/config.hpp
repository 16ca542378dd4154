#pragma once
// carehubd's configuration: one JSON file (comments allowed). Every key is declared here with its
// default; an unknown key, a wrong type or an out-of-range value stops start-up with an error naming
// the file, the JSON path, what was expected and what was found.
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "core/log.hpp"
#include "daemon/config_hub.hpp"
#include "daemon/metrics_textfile.hpp"
#include "daemon/mqtt_alerts.hpp"
#include "store/pipeline.hpp"
#include "core/result.hpp"
#include "store/store.hpp"
#include "rules/rule_set.hpp"
#include "sync/uploader.hpp"

namespace carehub::daemon {

struct Config {
  std::string source;  // the file it came from, for messages

  std::string hub_id;   // /hub/id: unique across the fleet; letters, digits, '.', '_', '-'
  std::string patient;  // /hub/patient: the kit's patient, FHIR reference "Patient/<id>"
  // The PHD IG's PhgDevice (daemon/config_hub.hpp): /hub/system_id as 16 upper-case hex digits, derived from
  // /hub/id when absent (always set); /hub/time_sync as its MDCTimeSyncMethods code.
  std::string hub_system_id;
  bool hub_system_id_derived = true;
  std::string hub_time_sync = "sntpv4330";
  int hub_time_sync_mdc = 532228;

  StoreOptions store;  // /store/path, /store/synchronous, /store/max_bytes, /store/retention_days
  // /store/key_file: where the buffer key is (store/buffer_key.hpp), never the key itself. A relative name
  // is a systemd credential ($CREDENTIALS_DIRECTORY, LoadCredentialEncrypted=buffer-key in the unit).
  // Read at start by the Daemon into store.key; missing or malformed, carehubd exits 2.
  std::string store_key_file = "buffer-key";
  // /store/encryption "off": the buffer stays plaintext SQLite and no key is read: for development kits
  // and the benchmark's plaintext baseline, never a patient's hub (docs/configuration.md). Logged as a
  // warning at every start; `status` shows buffer.encrypted false. An encrypted buffer does not open so.
  bool store_encrypted = true;

  std::string control_socket = "/run/carehub/control.sock";  // /control/socket
  std::string control_group = "carehub";                      // /control/group: who may use carehubctl

  // /fhir: base_url (empty: buffer only), bundle_size, retry_base_ms, retry_cap_ms, connect_timeout_ms,
  // request_timeout_ms, ca_file, tls_verify, bearer_token_file
  // client_cert_file, client_key_file (mutual TLS), oauth2 {token_url, client_id, client_secret_file,
  // scope}, gzip (auto|on|off), aggregate [{kind, period_s, devices}]. upload.auth is made at start from
  // the secret files.
  sync::UploaderOptions upload;
  sync::CurlOptions http;
  std::string bearer_token_file;
  std::optional<sync::ClientCredentials> oauth2;  // client_secret is read from oauth2_secret_file at start
  std::string oauth2_secret_file;
  std::string oauth2_private_key_file;       // /fhir/oauth2/private_key_file: sign a JWT (private_key_jwt) instead of a secret
  std::string oauth2_next_private_key_file;  // /fhir/oauth2/next_private_key_file: published by auth.jwks before the hub signs with it
  nlohmann::json fhir_section;  // as written: a reload that changes any of it restarts the uploader

  // /pipeline/queue_capacity, /pipeline/max_batch, /pipeline/commit_window_ms, /pipeline/max_future_s. A hub
  // gathers a stream's readings for up to 40 ms per commit, closing after 15 ms of quiet
  // (PipelineOptions::commit_window; issue 15: a stream of 100 readings/s then shares its fsyncs too).
  PipelineOptions pipeline = [] {
    PipelineOptions o;
    o.commit_window = Millis{40};
    o.commit_gap = Millis{15};
    return o;
  }();

  // /sources/<name>: each driver's own section, validated by the driver itself (daemon/sources.hpp).
  std::map<std::string, nlohmann::json> sources;
  LogLevel log_level = LogLevel::info;  // /log/level

  // /metrics/textfile, /metrics/interval_s: Prometheus textfile for node_exporter (daemon/metrics_textfile.hpp).
  MetricsOptions metrics;

  // /rules/file: the decision-support rule file (relative paths are relative to this config file), loaded
  // and validated with the config so a bad rule file stops start-up and is refused on reload. Empty: no rules.
  std::string rules_file;
  // /alerts/mqtt: publish alerts for the home display and take acknowledgements (daemon/mqtt_alerts.hpp).
  std::optional<MqttAlertsConfig> alerts_mqtt;
  rules::RuleSet rules;
};

// Reads and validates; the error message holds one line per problem, each "FILE: /path: ...".
Result<Config> load_config(const std::string& path);
Result<Config> parse_config(std::string_view text, const std::string& source);

// The hub's identity into the parts that carry their own copy (the uploader's hub Device and patient, the
// pipeline's reading uids). Settings that only take effect at start-up: daemon/restart_only.hpp.
void carry_hub_identity(Config& c);

}  // namespace carehub::daemon
