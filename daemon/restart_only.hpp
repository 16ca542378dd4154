#pragma once
// Settings that take effect only at start-up. One table, read by both halves of a reload: the check
// that reports a change to one of them (SIGHUP logs "restart-required" and carries on) and the apply
// that keeps its running value. Two hand-kept lists disagreed (/alerts/mqtt was reported but not kept,
// so the next reload no longer saw the change); a row here is both.
//
// Sources are not here: a reload restarts them instead (daemon.cpp).
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.hpp"

namespace carehub::daemon {

struct RestartOnlySetting {
  std::string_view path;  // as carehubd.json spells it: what the journal names
  std::string_view why;   // what holds the value from start-up on
  bool (*changed)(const Config& running, const Config& reloaded);
  // The running value stays in `reloaded`, with what start-up derived from it (/hub/time_sync's MDC code).
  void (*keep)(const Config& running, Config& reloaded);
};

std::span<const RestartOnlySetting> restart_only_settings();

// The paths of the rows that differ, in the table's order.
std::vector<std::string> restart_only_changes(const Config& running, const Config& reloaded);
// Every row's running value into `reloaded`, then the copies the hub's identity is carried in
// (carry_hub_identity): what a reload applies is the file with the restart-only settings as they run.
void keep_restart_only(const Config& running, Config& reloaded);

}  // namespace carehub::daemon
