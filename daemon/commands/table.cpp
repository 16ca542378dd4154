#include "daemon/commands/table.hpp"

#include "daemon/commands/audit.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

using Group = std::span<const Command> (*)();
constexpr Group kGroups[] = {status_commands, measure_commands, sync_commands,     alerts_commands,
                             config_commands, readings_commands, auth_commands,     devices_commands,
                             consent_commands, audit_commands,  buffer_commands};

const Command* find(std::string_view name) {
  for (const auto group : kGroups) {
    for (const auto& c : group()) {
      if (c.name == name) return &c;
    }
  }
  return nullptr;
}

std::string listed_names() {
  std::string out;
  for (const auto group : kGroups) {
    for (const auto& c : group()) {
      if (c.listed) out.append(c.name).append(", ");
    }
  }
  return out;
}

}  // namespace

Error stopping_error() {
  return {Errc::unavailable, "carehubd is stopping: ask again once it runs (readings stay buffered)"};
}

Table::Table(Context context) : context_(std::move(context)) {}

Result<nlohmann::json> Table::dispatch(const Request& request, const PeerCred& peer) const {
  const auto* c = find(request.cmd);
  auto run = [&](const nlohmann::json& args) -> Result<nlohmann::json> {
    if (c && c->handler) return c->handler(context_, args, peer);
    return context_.forward(request.cmd, args);
  };
  if (audited(request.cmd)) return run_audited(context_, request, peer, run);
  auto args = request.args;
  if (auto web_user = take_web_user(context_, args, peer); !web_user) return web_user.error();
  return run(args);
}

std::map<std::string, ControlServer::StreamHandler> Table::streams() const {
  std::map<std::string, ControlServer::StreamHandler> out;
  for (const auto group : kGroups) {
    for (const auto& c : group()) {
      if (!c.stream) continue;
      out[std::string(c.name)] = [this, stream = c.stream](const Request& r, const PeerCred&, ControlStream& s) {
        return stream(context_, r, s);
      };
    }
  }
  return out;
}

Error Table::not_served(const std::string& cmd, Counters& counters) {
  if (cmd.starts_with("devices.")) {
    // Pairing needs the BLE source; without it the command is not "unknown", just not available here.
    return {Errc::unavailable, "\"" + cmd + "\" needs the BLE source, and none is configured (/sources)"};
  }
  counters.add("control_bad_requests");
  return {Errc::invalid_argument, "unknown command \"" + cmd + "\" (known: " + listed_names() + "and devices.* of the BLE source)"};
}

}  // namespace carehub::daemon::commands
