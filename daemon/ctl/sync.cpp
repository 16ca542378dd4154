#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

void print_readings(const nlohmann::json& rows);  // measure.cpp

Runner add_sync_commands(CLI::App& app, Context& ctx) {
  auto* sync = app.add_subcommand("sync", "FHIR upload")->require_subcommand(1);
  auto* now = sync->add_subcommand("now", "upload now, skipping any backoff wait");
  auto wait_s = std::make_shared<double>(0);
  now->add_option("--wait", *wait_s, "wait up to this many seconds until nothing is pending");
  auto* status = sync->add_subcommand("status", "upload state");
  auto json_out = std::make_shared<bool>(false);
  status->add_flag("--json", *json_out, "machine-readable output");
  auto* dead = sync->add_subcommand("dead", "readings and alerts the server refused, with its reason");
  dead->add_flag("--json", *json_out, "one JSON object per line");
  auto limit = std::make_shared<std::int64_t>(100);
  dead->add_option("--limit", *limit, "how many")->capture_default_str();
  auto* retry_dead = sync->add_subcommand("retry-dead", "queue refused readings and alerts again (after a fix)");

  return [=, &ctx]() -> int {
    if (!*sync) return -1;
    if (*now) {
      auto r = ctx.call("sync.now", {{"wait_s", *wait_s}});
      if (!r) return fail(r.error());
      std::cout << (*wait_s > 0 ? "sync: nothing pending\n" : "sync: started\n");
      return 0;
    }
    if (*status) {
      auto r = ctx.call("sync.status");
      if (!r) return fail(r.error());
      if (*json_out) {
        std::cout << r->dump(2) << "\n";
      } else {
        for (const auto& [k, v] : r->items()) std::printf("%-22s %s\n", k.c_str(), text(v).c_str());
      }
      return 0;
    }
    if (*dead) {
      auto r = ctx.call("sync.dead", {{"limit", *limit}});
      if (!r) return fail(r.error());
      const auto alerts = r->value("dead_alerts", nlohmann::json::array());
      if (*json_out) {
        for (const auto& row : (*r)["readings"]) std::cout << row.dump() << "\n";
        for (const auto& row : alerts) std::cout << nlohmann::json{{"alert", row}}.dump() << "\n";
      } else {
        print_readings((*r)["readings"]);
        for (const auto& a : alerts) {
          std::cout << "alert " << text(a["id"]) << " (" << text(a["rule"]) << ", raised " << text(a["raised"])
                    << "): " << text(a["reason"]) << "\n";
        }
      }
      return 0;
    }
    if (!*retry_dead) return -1;
    auto r = ctx.call("sync.retry-dead");
    if (!r) return fail(r.error());
    std::cout << "requeued " << (*r)["requeued"].dump() << " reading(s) and alert(s)\n";
    return 0;
  };
}

}  // namespace carehub::ctl
