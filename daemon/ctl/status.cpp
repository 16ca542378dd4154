#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

std::string bytes_text(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  const double b = v.get<double>();
  char buf[32];
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null;
  return j.is_object() && j.contains(key) ? j[key] : null;
}

// One line per connection a technician checks: BLE adapter, openHAB, MQTT sources, alerts to the display.
void print_source(const std::string& name, const nlohmann::json& s) {
  if (name == "ble") {
    const auto& a = field(s, "adapter");
    std::printf("source     %-10s bluetoothd %s, adapter %s %s%s\n", name.c_str(),
                field(s, "bluetoothd") == true ? "up" : "DOWN", text(field(a, "name")).c_str(),
                field(a, "powered") == true ? "powered" : "NOT POWERED",
                field(a, "state").is_string() && field(a, "state") != "" ? (" (" + text(field(a, "state")) + ")").c_str() : "");
    return;
  }
  const auto& state = field(s, "state");
  const auto& since = field(s, "connected_since");
  std::printf("source     %-10s %s%s%s, last reading %s\n", name.c_str(), text(state).c_str(),
              since.is_string() ? (" since " + text(since)).c_str() : "",
              field(s, "url").is_string()      ? (" " + text(field(s, "url"))).c_str()
              : field(s, "broker").is_string() ? (" " + text(field(s, "broker"))).c_str()
                                                : "",
              text(field(s, "last_reading")).c_str());
  if (field(s, "last_error").is_string() && field(s, "last_error") != "") {
    std::printf("           last error: %s\n", text(field(s, "last_error")).c_str());
  }
}

// Which kinds may leave the hub (issue 18): only what differs from "everything goes", so a clinician's
// "why do I not see her blood pressure?" is answered on the page a technician reads first.
void print_consent(const nlohmann::json& c) {
  if (!c.is_object()) return;  // an older carehubd
  bool any = false;
  auto line = [&](const std::string& who, const nlohmann::json& denied, const nlohmann::json& withheld) {
    if (!denied.is_array() || denied.empty()) return;
    std::string kinds;
    for (const auto& k : denied) kinds += (kinds.empty() ? "" : ", ") + text(k);
    std::printf("%s %s: not uploaded: %s%s\n", any ? "          " : "consent   ", who.c_str(), kinds.c_str(),
                withheld.is_number() && withheld.get<double>() > 0 ? (" (" + text(withheld) + " withheld)").c_str() : "");
    any = true;
  };
  line("default", field(c, "default_denied"), nullptr);
  if (field(c, "patients").is_array()) {
    for (const auto& p : c["patients"]) line(text(field(p, "patient")), field(p, "denied"), field(p, "withheld"));
  }
  if (!any) std::printf("consent    every kind may leave the hub for every patient\n");
  if (field(c, "withheld").is_number() && field(c, "withheld").get<double>() > 0) {
    std::printf("           %s withheld: kept and judged by the rules, never uploaded: carehubctl consent show\n",
                text(field(c, "withheld")).c_str());
  }
}

void print_status(const nlohmann::json& s) {
  std::printf("hub        %s (patient %s)\n", text(field(s, "hub")).c_str(), text(field(s, "patient")).c_str());
  std::printf("uptime     %s s, config %s\n", text(field(s, "uptime_s")).c_str(), text(field(s, "config")).c_str());
  const auto& b = field(s, "buffer");
  std::printf("buffer     %s pending, %s synced, %s dead, %s quarantined, %s queued\n", text(field(b, "pending")).c_str(),
              text(field(b, "synced")).c_str(), text(field(b, "dead")).c_str(), text(field(b, "quarantined")).c_str(),
              text(field(b, "queued")).c_str());
  if (field(b, "unassigned").is_number() && field(b, "unassigned").get<double>() > 0) {
    // A decision only a technician can take: say so on the line a technician reads first.
    std::printf("           %s unassigned: not attributed to a patient (an unbound user slot, a device's memory from "
                "before its pairing), never judged nor uploaded: carehubctl readings unassigned\n",
                text(field(b, "unassigned")).c_str());
  }
  if (field(b, "quarantined").is_number() && field(b, "quarantined").get<double>() > 0) {
    std::printf("           quarantined: dated after they were received (a device clock?), never judged nor uploaded: "
                "carehubctl measurements --state quarantined\n");
  }
  std::printf("           disk: %s database + %s log, %s free (%s)\n", bytes_text(field(b, "bytes")).c_str(),
              bytes_text(field(b, "wal_bytes")).c_str(), bytes_text(field(b, "disk_free_bytes")).c_str(),
              text(field(b, "path")).c_str());
  const bool detail = field(b, "detail").is_string() && field(b, "detail") != "";
  std::printf("           cap: %s in use of %s, state %s%s%s\n", bytes_text(field(b, "used_bytes")).c_str(),
              field(b, "max_bytes") == 0 ? "no cap" : bytes_text(field(b, "max_bytes")).c_str(),
              text(field(b, "state")).c_str(), detail ? ": " : "", detail ? text(field(b, "detail")).c_str() : "");
  print_consent(field(s, "consent"));
  const auto& y = field(s, "sync");
  std::printf("sync       %s%s%s\n", text(field(y, "state")).c_str(), field(y, "enabled") == true ? " -> " : "",
              field(y, "enabled") == true ? text(field(y, "base_url")).c_str() : "");
  std::printf("           last success %s, last attempt %s, next attempt %s, %s failure(s) in a row\n",
              text(field(y, "last_success")).c_str(), text(field(y, "last_attempt")).c_str(), text(field(y, "next_attempt")).c_str(),
              text(field(y, "consecutive_failures")).c_str());
  if (y.contains("last_error") && field(y, "last_error") != "") std::printf("           last error: %s\n", text(field(y, "last_error")).c_str());
  if (field(y, "gzip_refused").is_string() && field(y, "gzip_refused") != "") {
    std::printf("           gzip off for this server: %s\n", text(field(y, "gzip_refused")).c_str());
  }
  if (s.contains("sources")) {
    for (const auto& [name, source] : field(s, "sources").items()) print_source(name, source);
  }
  const auto& a = field(s, "alerts");
  if (a.is_object()) {
    const auto& mqtt = field(a, "mqtt");
    std::printf("alerts     %s open, %s awaiting the patient's acknowledgement; rules: %s from %s; display: %s\n",
                text(field(a, "open")).c_str(), text(field(a, "awaiting_ack")).c_str(), text(field(a, "rules")).c_str(),
                text(field(a, "rules_file")).c_str(),
                mqtt.is_object() ? text(field(mqtt, "state")).c_str() : "no MQTT");
    for (const auto& al : field(a, "list")) {
      std::printf("           %-7s %-18s %-10s %s since %s\n", text(field(al, "severity")).c_str(),
                  text(field(al, "event")).c_str(), text(field(al, "rule")).c_str(), text(field(al, "state")).c_str(),
                  text(field(al, "raised")).c_str());
    }
  }
  const auto& devices = field(s, "devices");
  if (devices.is_array()) {
    if (devices.empty()) std::printf("devices    none registered (carehubctl devices scan / pair)\n");
    for (const auto& d : devices) {
      const auto& last = field(d, "last_reading");
      std::printf("device     %-28s %-16s seen %s, last reading %s%s, battery %s%s\n", text(field(d, "id")).c_str(),
                  text(field(d, "category")).c_str(), text(field(d, "last_seen")).c_str(),
                  last.is_object() ? text(field(last, "time")).c_str() : "-",
                  last.is_object() ? (" (" + text(field(last, "kind")) + ")").c_str() : "",
                  field(d, "battery").is_number() ? (text(field(d, "battery")) + "%").c_str() : "-",
                  field(d, "state").is_string() ? (", " + text(field(d, "state"))).c_str() : "");
      // Who the device measures: its user slots when it has bindings, else its (or the hub's) patient.
      const auto& users = field(d, "users");
      if (users.is_array() && !users.empty()) {
        for (const auto& u : users) {
          std::printf("           user %s -> %s since %s\n", text(field(u, "user")).c_str(), text(field(u, "patient")).c_str(),
                      text(field(u, "since")).c_str());
        }
        std::printf("           other users: unassigned\n");
      } else if (field(d, "patient").is_string()) {
        std::printf("           measures %s\n", text(field(d, "patient")).c_str());
      }
      if (field(d, "warning").is_string()) std::printf("WARNING    %s: %s\n", text(field(d, "id")).c_str(), text(field(d, "warning")).c_str());
    }
  }
  const auto& m = field(s, "metrics");
  if (m.is_object() && field(m, "textfile") != "") {
    std::printf("metrics    %s, last written %s%s\n", text(field(m, "textfile")).c_str(), text(field(m, "last_written")).c_str(),
                field(m, "last_error") != "" ? (", error: " + text(field(m, "last_error"))).c_str() : "");
  }
  const auto& warnings = field(s, "warnings");
  if (warnings.is_array()) {
    for (const auto& w : warnings) std::printf("WARNING    %s\n", text(w).c_str());
  }
}

}  // namespace

Runner add_status_commands(CLI::App& app, Context& ctx) {
  auto* status = app.add_subcommand("status", "the whole picture: hub, buffer, sync, sources, devices, alerts, warnings");
  auto json_out = std::make_shared<bool>(false);
  status->add_flag("--json", *json_out, "machine-readable output (for remote diagnosis; holds no reading values)");
  return [status, json_out, &ctx]() -> int {
    if (!*status) return -1;
    auto s = ctx.call("status");
    if (!s) return fail(s.error());
    if (*json_out) std::cout << s->dump(2) << "\n";
    else print_status(*s);
    return 0;
  };
}

}  // namespace carehub::ctl
