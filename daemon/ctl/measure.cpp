#include <cstdio>
#include <iostream>
#include <optional>

#include "core/clock.hpp"
#include "core/json_check.hpp"
#include "daemon/control_client.hpp"
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

void print_readings(const nlohmann::json& rows) {
  std::printf("%-24s %-17s %-22s %-11s %s\n", "TIME", "KIND", "DEVICE", "SYNC", "VALUES");
  for (const auto& r : rows) {
    std::string values;
    for (const auto& [k, v] : r["values"].items()) values += (values.empty() ? "" : " ") + k + "=" + v.dump();
    std::printf("%-24s %-17s %-22s %-11s %s\n", text(r["time"]).c_str(), text(r["kind"]).c_str(),
                text(r["device"]).c_str(), text(r["sync"]).c_str(), values.c_str());
    if (r.contains("dead_reason")) std::printf("    refused: %s\n", text(r["dead_reason"]).c_str());
    // Its time is not believed: the rules never saw it and it is never uploaded (docs/operations.md).
    if (r.contains("quarantine_reason")) {
      std::printf("    QUARANTINED, not judged nor uploaded: %s\n", text(r["quarantine_reason"]).c_str());
    }
  }
}

namespace {

struct AddOptions {
  std::string kind, time, device = "manual", unit;
  std::optional<double> systolic, diastolic, mean, pulse, value;
  bool from_stdin = false;
};

// Sends readings in chunks (the protocol caps one request at 1 MiB) and prints one line per reading.
int add_readings(const Context& ctx, const std::vector<nlohmann::json>& readings, const std::vector<std::size_t>& lines,
                 bool json_out, int bad_input) {
  auto client = daemon::ControlClient::connect(ctx.socket());
  if (!client) return fail(client.error());
  int rc = bad_input;
  constexpr std::size_t kChunk = 500;
  for (std::size_t start = 0; start < readings.size(); start += kChunk) {
    nlohmann::json batch = nlohmann::json::array();
    for (std::size_t i = start; i < std::min(readings.size(), start + kChunk); ++i) batch.push_back(readings[i]);
    auto result = client->call("measure.add", {{"readings", batch}});
    if (!result) return fail(result.error());
    const auto& results = (*result)["results"];
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      const auto line = lines.empty() ? 0 : lines[start + i];
      if (json_out) {
        nlohmann::json out = r;
        if (line) out["line"] = line;
        std::cout << out.dump() << "\n";
      } else if (r["status"] == "rejected") {
        std::cerr << "carehubctl: " << (line ? "stdin line " + std::to_string(line) + ": " : "") << text(r["error"]) << "\n";
      } else if (r["status"] == "quarantined") {
        std::cerr << "carehubctl: " << (line ? "stdin line " + std::to_string(line) + ": " : "") << "kept but "
                  << text(r["error"]) << " (never judged nor uploaded; see carehubctl measurements --state quarantined)\n";
      } else if (r["status"] == "unassigned") {
        std::cerr << "carehubctl: " << (line ? "stdin line " + std::to_string(line) + ": " : "") << "kept but "
                  << text(r["error"]) << " (never judged nor uploaded until assigned; see carehubctl readings unassigned)\n";
      } else {
        std::cout << text(r["status"]) << " " << text(r["uid"]) << "\n";
      }
      // Kept but not counted (quarantined, unassigned) is not what the technician asked for: exit 2.
      if (r["status"] == "rejected" || r["status"] == "quarantined" || r["status"] == "unassigned") rc = 2;
    }
  }
  return rc;
}

int run_add(const Context& ctx, const AddOptions& o) {
  std::vector<nlohmann::json> readings;
  std::vector<std::size_t> lines;
  int bad = 0;
  if (o.from_stdin) {
    std::string line;
    for (std::size_t n = 1; std::getline(std::cin, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      // The one safe parse: a line too deep for the daemon is refused here with the same words.
      auto doc = parse_peer_json(line, "stdin line " + std::to_string(n));
      if (!doc) {
        std::cerr << "carehubctl: " << doc.error().message << "\n";
        bad = 2;
        continue;
      }
      readings.push_back(std::move(*doc));
      lines.push_back(n);
    }
    if (readings.empty()) return bad ? bad : fail({Errc::invalid_argument, "no readings on stdin"});
  } else {
    if (o.kind.empty()) return fail({Errc::invalid_argument, "--kind is required (or --json with lines on stdin)"});
    nlohmann::json r = {{"kind", o.kind}, {"device", o.device}, {"values", nlohmann::json::object()}};
    r["time"] = o.time.empty() ? format_rfc3339(SystemClock().now()) : o.time;
    if (o.systolic) r["values"]["systolic"] = *o.systolic;
    if (o.diastolic) r["values"]["diastolic"] = *o.diastolic;
    if (o.mean) r["values"]["mean"] = *o.mean;
    if (o.pulse) r["values"]["pulse"] = *o.pulse;
    if (o.value) r["values"]["value"] = *o.value;
    if (!o.unit.empty()) r["units"] = {{"value", o.unit}};
    readings.push_back(std::move(r));
  }
  return add_readings(ctx, readings, lines, o.from_stdin, bad);
}

}  // namespace

Runner add_measure_commands(CLI::App& app, Context& ctx) {
  auto* measure = app.add_subcommand("measure", "manual measurements")->require_subcommand(1);
  auto* add = measure->add_subcommand("add", "add a reading from flags, or reading lines on stdin with --json");
  auto o = std::make_shared<AddOptions>();
  add->add_option("--kind", o->kind, "blood-pressure, heart-rate, body-temperature, body-weight, spo2, glucose, ...");
  add->add_option("--time", o->time, "RFC 3339 time (default: now)");
  add->add_option("--device", o->device, "device id (default: manual)");
  add->add_option("--systolic", o->systolic, "mm[Hg]");
  add->add_option("--diastolic", o->diastolic, "mm[Hg]");
  add->add_option("--mean", o->mean, "mm[Hg]");
  add->add_option("--pulse", o->pulse, "/min");
  add->add_option("--value", o->value, "the value of a single-valued kind");
  add->add_option("--unit", o->unit, "unit of --value when not canonical (e.g. [degF], lb, mmol/L)");
  add->add_flag("--json", o->from_stdin, "read reading lines (design.md format) from stdin; print one JSON result per line");

  auto* list = app.add_subcommand("measurements", "readings in the buffer, newest first, with sync state");
  auto json_out = std::make_shared<bool>(false);
  auto limit = std::make_shared<std::int64_t>(20);
  auto state = std::make_shared<std::string>();
  list->add_flag("--json", *json_out, "one reading JSON object per line");
  list->add_option("--limit", *limit, "how many")->capture_default_str();
  list->add_option("--state", *state, "pending, synced, dead, quarantined, unassigned, discarded or withheld");

  return [=, &ctx]() -> int {
    if (*add) return run_add(ctx, *o);
    if (!*list) return -1;
    nlohmann::json args = {{"limit", *limit}};
    if (!state->empty()) args["state"] = *state;
    auto r = ctx.call("measurements", args);
    if (!r) return fail(r.error());
    if (*json_out) {
      for (const auto& row : (*r)["readings"]) std::cout << row.dump() << "\n";
    } else {
      print_readings((*r)["readings"]);
    }
    return 0;
  };
}

}  // namespace carehub::ctl
