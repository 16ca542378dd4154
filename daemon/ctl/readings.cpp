// carehubctl readings: the technician's review of readings carehub could not attribute to a patient with
// certainty (an unbound user slot of a multi-user device, a device's memory from before its pairing):
// list them, assign them to a patient, or discard them. carehubd checks every argument; this file only
// builds the requests and prints the answers.
#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

struct ReadingsOptions {
  std::vector<std::string> uids;
  std::string patient, reason, by;
  int limit = 1000;
  bool json = false, discarded = false;
};

std::string values_text(const nlohmann::json& values) {
  std::string out;
  if (!values.is_object()) return "-";
  for (const auto& [name, v] : values.items()) out += (out.empty() ? "" : ", ") + name + " " + text(v);
  return out.empty() ? "-" : out;
}

int list(const Context& ctx, const ReadingsOptions& o) {
  nlohmann::json args = {{"limit", o.limit}};
  if (o.discarded) args["discarded"] = true;
  auto r = ctx.call("readings.unassigned", args);
  if (!r) return fail(r.error());
  const auto& rows = (*r)["readings"];
  if (o.json) {
    for (const auto& row : rows) std::cout << row.dump() << "\n";
    return 0;
  }
  std::printf("%-36s %-20s %-22s %-4s %-15s %s\n", "UID", "MEASURED", "DEVICE", "USER", "KIND", "VALUES");
  for (const auto& row : rows) {
    std::printf("%-36s %-20s %-22s %-4s %-15s %s\n", text(row["uid"]).c_str(), text(row["time"]).c_str(),
                text(row["device"]).c_str(), text(row["user"]).c_str(), text(row["kind"]).c_str(),
                values_text(row["values"]).c_str());
    std::printf("    why: %s\n", text(row["reason"]).c_str());
    if (o.discarded) {
      std::printf("    discarded %s by %s: %s\n", text(row["discarded"]).c_str(), text(row["discarded_by"]).c_str(),
                  text(row["discard_reason"]).c_str());
    }
  }
  const auto total = o.discarded ? (*r)["discarded"] : (*r)["unassigned"];
  std::printf("%s %s reading(s)%s\n", text(total).c_str(), o.discarded ? "discarded" : "unassigned",
              rows.size() < total.get<std::size_t>() ? (", the oldest " + std::to_string(rows.size()) + " shown").c_str() : "");
  if (!o.discarded && !rows.empty()) {
    std::printf("assign: carehubctl readings assign UID... --patient Patient/...   discard: carehubctl readings discard UID... --reason TEXT\n");
  }
  return 0;
}

}  // namespace

Runner add_readings_commands(CLI::App& app, Context& ctx) {
  auto* readings = app.add_subcommand("readings", "readings not attributed to a patient: list, assign, discard")
                       ->require_subcommand(1);
  auto o = std::make_shared<ReadingsOptions>();
  auto* unassigned = readings->add_subcommand("unassigned", "list readings waiting for a technician's decision, oldest first");
  unassigned->add_flag("--json", o->json, "one JSON object per reading");
  unassigned->add_option("--limit", o->limit, "at most this many")->capture_default_str()->check(CLI::Range(1, 10000));
  unassigned->add_flag("--discarded", o->discarded, "list the discarded ones instead, with who, when and why");
  auto* assign = readings->add_subcommand(
      "assign", "attribute readings to a patient: they are judged by that patient's rules and uploaded");
  assign->add_option("uid", o->uids, "reading uid(s), from carehubctl readings unassigned")->required();
  assign->add_option("--patient", o->patient, "FHIR reference, e.g. Patient/123")->required();
  assign->add_option("--by", o->by, "your name for the record (your login is recorded anyway)");
  auto* discard = readings->add_subcommand("discard", "keep readings as nobody's on this hub: never judged, never uploaded");
  discard->add_option("uid", o->uids, "reading uid(s), from carehubctl readings unassigned")->required();
  discard->add_option("--reason", o->reason, "why, for the record (e.g. \"previous owner's memory\")");
  discard->add_option("--by", o->by, "your name for the record (your login is recorded anyway)");

  return [=, &ctx]() -> int {
    if (!*readings) return -1;
    if (*unassigned) return list(ctx, *o);
    if (*assign) {
      nlohmann::json args = {{"uids", o->uids}, {"patient", o->patient}};
      if (!o->by.empty()) args["by"] = o->by;
      auto r = ctx.call("readings.assign", args);
      if (!r) return fail(r.error());
      std::size_t fresh = 0;
      for (const auto& a : (*r)["assigned"]) {
        if (a["already_stored"] != true) ++fresh;
        std::printf("%s -> %s%s\n", text(a["old_uid"]).c_str(), text(a["uid"]).c_str(),
                    a["already_stored"] == true ? " (already stored for this patient: kept once)" : "");
      }
      std::printf("assigned %zu reading(s) to %s (%zu new), by %s\n", (*r)["assigned"].size(), text((*r)["patient"]).c_str(),
                  fresh, text((*r)["by"]).c_str());
      return 0;
    }
    if (*discard) {
      nlohmann::json args = {{"uids", o->uids}};
      if (!o->reason.empty()) args["reason"] = o->reason;
      if (!o->by.empty()) args["by"] = o->by;
      auto r = ctx.call("readings.discard", args);
      if (!r) return fail(r.error());
      std::printf("discarded %s reading(s), by %s\n", text((*r)["discarded"]).c_str(), text((*r)["by"]).c_str());
      return 0;
    }
    return -1;
  };
}

}  // namespace carehub::ctl
