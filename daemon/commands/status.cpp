// `status`: the whole picture a technician or a remote diagnosis needs (carehubctl status). The snapshot
// (daemon/snapshot.hpp) gives what every view shares; added here: the devices with what the sources know
// live, the newest alerts, and what in the configuration or the environment a technician should fix.
#include <grp.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "core/time_json.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

Result<nlohmann::json> devices_status(const Context& ctx, const nlohmann::json& sources) {
  // What the sources know live (BLE: connection state, battery), keyed by Bluetooth address.
  std::map<std::string, nlohmann::json> live;
  for (const auto& [name, st] : sources.items()) {
    if (!st.is_object() || !st.contains("devices") || !st["devices"].is_object()) continue;
    for (const auto& [address, d] : st["devices"].items()) live[address] = d;
  }
  std::lock_guard lock(ctx.reader_mu);
  auto devices = ctx.reader.devices();
  if (!devices) return devices.error();
  // Which patient each user slot of a multi-user device measures (issue 14): a technician checks a
  // two-person household here. References only, never values.
  auto bindings = ctx.reader.bindings();
  if (!bindings) return bindings.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : *devices) {
    nlohmann::json users = nlohmann::json::array();
    for (const auto& b : *bindings) {
      if (b.device == d.id) users.push_back({{"user", b.user}, {"patient", b.patient}, {"since", format_rfc3339(b.since)}});
    }
    ReadingQuery q;
    q.device = d.id;
    q.by_time = true;  // the readings_device_time index: no scan of a wearable's million rows
    q.newest_first = true;
    q.limit = 1;
    auto newest = ctx.reader.readings(q);
    if (!newest) return newest.error();
    // When and what, never the values: `status --json` is sent off the hub for remote diagnosis.
    nlohmann::json last = nullptr;
    // A device that names user slots is a multi-user one: with no slot bound, nobody has told the hub
    // whose memory is whose (issue 14). Said on the device's line, where the technician looks.
    const bool unbound_users = !newest->empty() && newest->front().reading.user && users.empty();
    if (!newest->empty()) {
      const auto& r = newest->front().reading;
      last = {{"time", format_rfc3339(r.time)}, {"kind", to_string(r.kind)}, {"sync", to_string(newest->front().state)}};
    }
    nlohmann::json row = {{"id", d.id},
                          {"name", d.name},
                          {"model", d.model},
                          {"category", d.category},
                          {"address", d.address},
                          {"last_seen", optional_time_json(d.last_seen)},
                          {"last_reading", last},
                          {"battery", nullptr},
                          {"state", nullptr},
                          {"patient", d.patient.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.patient)},
                          {"users", std::move(users)}};
    if (unbound_users) {
      row["warning"] = "it names user slots (a multi-user device) but no slot is bound to a patient: bind the patient's "
                       "with carehubctl devices assign " + d.id + " --user N --patient Patient/...";
    }
    if (auto it = live.find(d.address); !d.address.empty() && it != live.end()) {
      const auto& l = it->second;
      if (l.contains("battery")) row["battery"] = l["battery"];
      if (l.contains("state")) row["state"] = l["state"];
      if (l.contains("last_seen") && !l["last_seen"].is_null()) row["last_seen"] = l["last_seen"];
      if (l.contains("last_error") && l["last_error"] != "") row["last_error"] = l["last_error"];
    }
    out.push_back(std::move(row));
  }
  return out;
}

Result<nlohmann::json> newest_alerts(const Context& ctx) {
  std::lock_guard lock(ctx.reader_mu);
  AlertQuery q;
  q.limit = 10;  // a glance, newest first; `carehubctl alerts` lists them all
  auto open_alerts = ctx.reader.alerts(q);
  if (!open_alerts) return open_alerts.error();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : *open_alerts) {
    list.push_back({{"id", a.id},
                    {"rule", a.rule},
                    {"event", a.event},
                    {"severity", to_string(a.severity)},
                    {"state", to_string(a.state)},
                    {"raised", format_rfc3339(a.raised)},
                    {"requires_ack", a.requires_ack}});
  }
  return list;
}

nlohmann::json config_warnings(const Config& config) {
  nlohmann::json w = nlohmann::json::array();
  if (config.upload.base_url.empty()) w.push_back("/fhir/base_url is empty: readings stay in the buffer, nothing is uploaded");
  if (!config.http.verify_tls) w.push_back("/fhir/tls_verify is false: the FHIR server is not authenticated");
  if (config.upload.base_url.starts_with("http://")) w.push_back("/fhir/base_url is plain http://: readings cross the network unencrypted");
  if (config.rules_file.empty()) w.push_back("/rules/file is not set: no decision-support alerts are raised");
  if (config.log_level == LogLevel::debug) w.push_back("/log/level is debug: reading values go to the journal; set info after diagnosing");
  // getgrnam_r: control connections run status concurrently, and getgrnam's buffer is shared.
  group grp{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  if (!config.control_group.empty() &&
      (::getgrnam_r(config.control_group.c_str(), &grp, buf.data(), buf.size(), &found) != 0 || found == nullptr)) {
    w.push_back("/control/group \"" + config.control_group + "\" does not exist: only root can use carehubctl");
  }
  if (config.sources.empty()) w.push_back("/sources is empty: only manual readings (carehubctl measure add) are taken");
  if (!config.metrics.textfile.empty()) {
    const auto dir = std::filesystem::path(config.metrics.textfile).parent_path();
    if (::access(dir.c_str(), W_OK) != 0) w.push_back("/metrics/textfile: cannot write to " + dir.string());
  }
  return w;
}

Result<nlohmann::json> status(const Context& ctx, const nlohmann::json&, const PeerCred&) {
  auto snapshot = ctx.gather();
  if (!snapshot) return snapshot.error();
  auto j = status_json(*snapshot);
  j["sources"] = ctx.sources();
  auto devices = devices_status(ctx, j["sources"]);
  if (!devices) return devices.error();
  j["devices"] = std::move(*devices);
  auto alerts = newest_alerts(ctx);
  if (!alerts) return alerts.error();
  j["alerts"]["list"] = std::move(*alerts);
  j["warnings"] = config_warnings(*snapshot->config);
  // Which kinds may leave the hub, per patient (issue 18): a clinician missing data asks here first.
  auto consent = consent_summary(ctx);
  if (!consent) return consent.error();
  j["consent"] = std::move(*consent);
  return j;
}

constexpr Command kCommands[] = {
    {"status", status},
};

}  // namespace

std::span<const Command> status_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
