// carehubctl alerts: what the rules raised, acknowledging and closing alerts, and a live feed.
#include <cstdio>
#include <iostream>

#include "daemon/control_client.hpp"
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

void print_alerts(const nlohmann::json& rows) {
  std::printf("%-19s %-12s %-6s %-15s %-12s %-20s %-21s %s\n", "ID", "STATE", "SEV", "EVENT", "RULE", "PATIENT",
              "RAISED", "TEXT");
  for (const auto& a : rows) {
    std::string state = text(a["state"]);
    if (a["requires_ack"] == true && a["state"] == "open") state += "*";
    std::string line = text(a["text"]);
    if (a["notify"] == false) line = "[not notified] " + line;
    std::printf("%-19s %-12s %-6s %-15s %-12s %-20s %-21s %s\n", text(a["id"]).c_str(), state.c_str(),
                text(a["severity"]).c_str(), text(a["event"]).c_str(), text(a["rule"]).c_str(),
                text(a["patient"]).c_str(), text(a["raised"]).c_str(), line.c_str());
  }
  if (rows.empty()) std::printf("(no open alerts)\n");
}

}  // namespace

Runner add_alerts_commands(CLI::App& app, Context& ctx) {
  auto* alerts = app.add_subcommand("alerts", "alerts raised by the decision-support rules (* = awaiting acknowledgement)");
  auto json_out = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  alerts->add_flag("--json", *json_out, "one JSON object per line");
  alerts->add_flag("--all", *all, "include closed alerts");
  auto* ack = alerts->add_subcommand("ack", "acknowledge an alert for the patient (stops its reminders)");
  auto ack_id = std::make_shared<std::string>();
  ack->add_option("ID", *ack_id, "alert id")->required();
  auto* close = alerts->add_subcommand("close", "close an alert (dealt with)");
  auto close_id = std::make_shared<std::string>();
  close->add_option("ID", *close_id, "alert id")->required();
  auto* watch = alerts->add_subcommand(
      "watch", "print one JSON line per new or changed alert until interrupted (the first line is {\"watching\":true})");

  return [=, &ctx]() -> int {
    if (!*alerts) return -1;
    if (*ack || *close) {
      auto r = ctx.call(*ack ? "alerts.ack" : "alerts.close", {{"id", *ack ? *ack_id : *close_id}});
      if (!r) return fail(r.error());
      std::cout << text((*r)["id"]) << " " << text((*r)["state"]) << "\n";
      return 0;
    }
    if (*watch) {
      auto client = daemon::ControlClient::connect(ctx.socket());
      if (!client) return fail(client.error());
      auto first = client->call("alerts.watch");
      if (!first) return fail(first.error());
      std::cout << first->dump() << std::endl;  // flushed: a script waits for it before acting
      for (;;) {
        auto next = client->next();
        if (!next) return fail(next.error());
        std::cout << next->dump() << std::endl;
      }
    }
    auto r = ctx.call("alerts", {{"all", *all}});
    if (!r) return fail(r.error());
    if (*json_out) {
      for (const auto& a : (*r)["alerts"]) std::cout << a.dump() << "\n";
    } else {
      print_alerts((*r)["alerts"]);
    }
    return 0;
  };
}

}  // namespace carehub::ctl
