#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

void print_status(const nlohmann::json& s) {
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
  if (y.contains("last_error") && y["last_error"] != "") std::printf("           last error: %s\n", text(y["last_error"]).c_str());
  if (!s.contains("sources")) return;
  for (const auto& [name, source] : s["sources"].items()) {
    std::printf("source     %-10s %s\n", name.c_str(), source.dump().c_str());
  }
}

}  // namespace

Runner add_status_commands(CLI::App& app, Context& ctx) {
  auto* status = app.add_subcommand("status", "hub, buffer, sync and sources at a glance");
  auto json_out = std::make_shared<bool>(false);
  status->add_flag("--json", *json_out, "machine-readable output");
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
