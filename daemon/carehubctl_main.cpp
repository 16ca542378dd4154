// carehubctl: the technician's command line. Talks to carehubd over the control socket, except for
// commands that need no daemon (config check). Exit codes: 0 success, 1 carehubd unreachable or failed,
// 2 bad input (the message says which and where).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "core/clock.hpp"
#include "core/reading_json.hpp"
#include "daemon/config.hpp"
#include "daemon/control_client.hpp"

namespace {

using carehub::Errc;
using carehub::Result;
using nlohmann::json;

int exit_code(const carehub::Error& e) { return e.code == Errc::invalid_argument ? 2 : 1; }

int fail(const carehub::Error& e) {
  std::cerr << "carehubctl: " << e.message << "\n";
  return exit_code(e);
}

std::string socket_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("CAREHUB_SOCKET"); env && *env) return env;
  return std::string(carehub::daemon::kDefaultSocket);
}

Result<json> call(const std::string& socket, const std::string& cmd, const json& args = json::object()) {
  auto client = carehub::daemon::ControlClient::connect(socket);
  if (!client) return client.error();
  return client->call(cmd, args);
}

std::string text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  return v.dump();
}

void print_status(const json& s) {
  std::printf("hub        %s (patient %s)\n", text(s["hub"]).c_str(), text(s["patient"]).c_str());
  std::printf("uptime     %s s, config %s\n", text(s["uptime_s"]).c_str(), text(s["config"]).c_str());
  const auto& b = s["buffer"];
  std::printf("buffer     %s pending, %s synced, %s dead, %s queued, %s bytes (%s)\n", text(b["pending"]).c_str(),
              text(b["synced"]).c_str(), text(b["dead"]).c_str(), text(b["queued"]).c_str(), text(b["bytes"]).c_str(),
              text(b["path"]).c_str());
  const auto& y = s["sync"];
  std::printf("sync       %s%s%s\n", text(y["state"]).c_str(), y["enabled"] == true ? " -> " : "",
              y["enabled"] == true ? text(y["base_url"]).c_str() : "");
  std::printf("           last success %s, last attempt %s, next attempt %s\n", text(y["last_success"]).c_str(),
              text(y["last_attempt"]).c_str(), text(y["next_attempt"]).c_str());
  if (!text(y["last_error"]).empty() && y["last_error"] != "") {
    std::printf("           last error: %s\n", text(y["last_error"]).c_str());
  }
}

void print_readings(const json& rows) {
  std::printf("%-24s %-17s %-10s %-8s %s\n", "TIME", "KIND", "DEVICE", "SYNC", "VALUES");
  for (const auto& r : rows) {
    std::string values;
    for (const auto& [k, v] : r["values"].items()) values += (values.empty() ? "" : " ") + k + "=" + v.dump();
    std::printf("%-24s %-17s %-10s %-8s %s\n", text(r["time"]).c_str(), text(r["kind"]).c_str(),
                text(r["device"]).c_str(), text(r["sync"]).c_str(), values.c_str());
    if (r.contains("dead_reason")) std::printf("    refused: %s\n", text(r["dead_reason"]).c_str());
  }
}

// Sends readings in chunks (the protocol caps one request at 1 MiB) and prints one line per reading.
int add_readings(const std::string& socket, const std::vector<json>& readings, const std::vector<std::size_t>& lines,
                 bool json_out, int bad_input) {
  auto client = carehub::daemon::ControlClient::connect(socket);
  if (!client) return fail(client.error());
  int rc = bad_input;
  constexpr std::size_t kChunk = 500;
  for (std::size_t start = 0; start < readings.size(); start += kChunk) {
    json batch = json::array();
    for (std::size_t i = start; i < std::min(readings.size(), start + kChunk); ++i) batch.push_back(readings[i]);
    auto result = client->call("measure.add", {{"readings", batch}});
    if (!result) return fail(result.error());
    const auto& results = (*result)["results"];
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      const auto line = lines.empty() ? 0 : lines[start + i];
      if (json_out) {
        json out = r;
        if (line) out["line"] = line;
        std::cout << out.dump() << "\n";
      } else if (r["status"] == "rejected") {
        std::cerr << "carehubctl: " << (line ? "stdin line " + std::to_string(line) + ": " : "") << text(r["error"]) << "\n";
      } else {
        std::cout << text(r["status"]) << " " << text(r["uid"]) << "\n";
      }
      if (r["status"] == "rejected") rc = 2;
    }
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"carehubctl - inspect and operate a carehub home hub"};
  app.require_subcommand(1);
  std::string socket;
  app.add_option("--socket", socket, "control socket (default $CAREHUB_SOCKET or /run/carehub/control.sock)");

  bool json_out = false;
  auto* status = app.add_subcommand("status", "hub, buffer and sync state at a glance");
  status->add_flag("--json", json_out, "machine-readable output");

  auto* measure = app.add_subcommand("measure", "manual measurements")->require_subcommand(1);
  auto* add = measure->add_subcommand("add", "add a reading from flags, or reading lines on stdin with --json");
  std::string kind, time, device = "manual";
  std::optional<double> systolic, diastolic, mean, pulse, value;
  std::string unit;
  bool from_stdin = false;
  add->add_option("--kind", kind, "blood-pressure, heart-rate, body-temperature, body-weight, spo2, glucose, ...");
  add->add_option("--time", time, "RFC 3339 time (default: now)");
  add->add_option("--device", device, "device id (default: manual)");
  add->add_option("--systolic", systolic, "mm[Hg]");
  add->add_option("--diastolic", diastolic, "mm[Hg]");
  add->add_option("--mean", mean, "mm[Hg]");
  add->add_option("--pulse", pulse, "/min");
  add->add_option("--value", value, "the value of a single-valued kind");
  add->add_option("--unit", unit, "unit of --value when not canonical (e.g. [degF], lb, mmol/L)");
  add->add_flag("--json", from_stdin, "read reading lines (design.md format) from stdin; print one JSON result per line");

  auto* list = app.add_subcommand("measurements", "readings in the buffer, newest first, with sync state");
  std::int64_t limit = 20;
  std::string state;
  list->add_flag("--json", json_out, "one reading JSON object per line");
  list->add_option("--limit", limit, "how many")->capture_default_str();
  list->add_option("--state", state, "pending, synced or dead");

  auto* config = app.add_subcommand("config", "configuration")->require_subcommand(1);
  auto* check = config->add_subcommand("check", "validate a carehubd configuration file (no daemon needed)");
  std::string config_file;
  check->add_option("FILE", config_file, "configuration file")->required();

  auto* sync = app.add_subcommand("sync", "FHIR upload")->require_subcommand(1);
  auto* now = sync->add_subcommand("now", "upload now, skipping any backoff wait");
  double wait_s = 0;
  now->add_option("--wait", wait_s, "wait up to this many seconds until nothing is pending");
  auto* sync_status = sync->add_subcommand("status", "upload state");
  sync_status->add_flag("--json", json_out, "machine-readable output");
  auto* dead = sync->add_subcommand("dead", "readings the server refused, with its reason");
  dead->add_flag("--json", json_out, "one JSON object per line");
  auto* retry_dead = sync->add_subcommand("retry-dead", "queue refused readings again (after a fix)");

  CLI11_PARSE(app, argc, argv);
  const auto sock = socket_path(socket);

  if (*check) {
    auto c = carehub::daemon::load_config(config_file);
    if (!c) return fail(c.error());
    std::cout << config_file << ": OK\n";
    return 0;
  }
  if (*status) {
    auto s = call(sock, "status");
    if (!s) return fail(s.error());
    if (json_out) std::cout << s->dump(2) << "\n";
    else print_status(*s);
    return 0;
  }
  if (*add) {
    std::vector<json> readings;
    std::vector<std::size_t> lines;
    int bad = 0;
    if (from_stdin) {
      std::string line;
      for (std::size_t n = 1; std::getline(std::cin, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto doc = json::parse(line, nullptr, false);
        if (doc.is_discarded()) {
          std::cerr << "carehubctl: stdin line " << n << ": not valid JSON\n";
          bad = 2;
          continue;
        }
        readings.push_back(std::move(doc));
        lines.push_back(n);
      }
      if (readings.empty()) return bad ? bad : fail({Errc::invalid_argument, "no readings on stdin"});
    } else {
      if (kind.empty()) return fail({Errc::invalid_argument, "--kind is required (or --json with lines on stdin)"});
      json r = {{"kind", kind}, {"device", device}, {"values", json::object()}};
      r["time"] = time.empty() ? carehub::format_rfc3339(carehub::SystemClock().now()) : time;
      if (systolic) r["values"]["systolic"] = *systolic;
      if (diastolic) r["values"]["diastolic"] = *diastolic;
      if (mean) r["values"]["mean"] = *mean;
      if (pulse) r["values"]["pulse"] = *pulse;
      if (value) r["values"]["value"] = *value;
      if (!unit.empty()) r["units"] = {{"value", unit}};
      readings.push_back(std::move(r));
    }
    return add_readings(sock, readings, lines, from_stdin, bad);
  }
  if (*list || *dead) {
    json args = {{"limit", limit}};
    if (!state.empty()) args["state"] = state;
    auto r = call(sock, *dead ? "sync.dead" : "measurements", args);
    if (!r) return fail(r.error());
    if (json_out) {
      for (const auto& row : (*r)["readings"]) std::cout << row.dump() << "\n";
    } else {
      print_readings((*r)["readings"]);
    }
    return 0;
  }
  if (*now) {
    auto r = call(sock, "sync.now", {{"wait_s", wait_s}});
    if (!r) return fail(r.error());
    std::cout << (wait_s > 0 ? "sync: nothing pending\n" : "sync: started\n");
    return 0;
  }
  if (*sync_status) {
    auto r = call(sock, "sync.status");
    if (!r) return fail(r.error());
    if (json_out) std::cout << r->dump(2) << "\n";
    else print_status({{"buffer", json::object()}, {"sync", *r}});
    return 0;
  }
  if (*retry_dead) {
    auto r = call(sock, "sync.retry-dead");
    if (!r) return fail(r.error());
    std::cout << "requeued " << (*r)["requeued"].dump() << " reading(s)\n";
    return 0;
  }
  return 0;
}
