// carehubctl audit: the audit trail (issue 18) — who changed clinical state, what, when, and how it ended.
#include <cstdio>
#include <iostream>

#include "core/time.hpp"
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

std::string entities(const nlohmann::json& list) {
  std::string out;
  for (const auto& x : list) {
    if (!out.empty()) out += ",";
    out += text(x["type"]) + "/" + text(x["id"]);
  }
  return out.empty() ? "-" : out;
}

void print_events(const nlohmann::json& rows) {
  std::printf("%-20s %-16s %-8s %-40s %s\n", "TIME", "ACTION", "OUTCOME", "WHO", "WHAT");
  for (const auto& e : rows) {
    std::string who = text(e["actor"]);
    if (!e.value("on_behalf_of", std::string{}).empty()) who += " for " + text(e["on_behalf_of"]);
    std::string what = entities(e["entities"]);
    if (!e.value("detail", std::string{}).empty()) what += " (" + text(e["detail"]) + ")";
    std::printf("%-20s %-16s %-8s %-40s %s\n", text(e["time"]).c_str(), text(e["action"]).c_str(),
                text(e["outcome"]).c_str(), who.c_str(), what.c_str());
  }
  if (rows.empty()) std::printf("(no audit events)\n");
}

}  // namespace

Runner add_audit_commands(CLI::App& app, Context& ctx) {
  auto* audit = app.add_subcommand("audit", "who changed clinical state, what, when and how it ended (newest first)");
  auto json_out = std::make_shared<bool>(false);
  auto since = std::make_shared<std::string>();
  auto actor = std::make_shared<std::string>();
  auto action = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(100);
  audit->add_flag("--json", *json_out, "one JSON object per line");
  audit->add_option("--since", *since, "only events from this time on (RFC 3339, e.g. 2026-12-05T10:00:00Z)");
  audit->add_option("--actor", *actor, "only events whose actor contains this (a login, \"uid 1000\")");
  audit->add_option("--action", *action, "only this action (alerts.ack), or a group ending in '.' (devices.)");
  audit->add_option("--limit", *limit, "at most this many events (1-10000)")->check(CLI::Range(1, 10000))->capture_default_str();

  return [=, &ctx]() -> int {
    if (!*audit) return -1;
    nlohmann::json args = {{"limit", *limit}};
    if (!since->empty()) {
      if (!parse_rfc3339(*since)) {
        return fail({Errc::invalid_argument, "--since: expected an RFC 3339 time such as 2026-12-05T10:00:00Z, found \"" +
                                                 *since + "\""});
      }
      args["since"] = *since;
    }
    if (!actor->empty()) args["actor"] = *actor;
    if (!action->empty()) args["action"] = *action;
    auto r = ctx.call("audit.list", args);
    if (!r) return fail(r.error());
    if (*json_out) {
      for (const auto& e : (*r)["events"]) std::cout << e.dump() << "\n";
    } else {
      print_events((*r)["events"]);
    }
    return 0;
  };
}

}  // namespace carehub::ctl
