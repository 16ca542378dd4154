// `config.check` validates the file carehubd was started with, read again now (what a reload would
// apply); `config.reload` does the same, then reloads the way `systemctl reload carehubd` does.
#include <signal.h>
#include <unistd.h>

#include "daemon/command_args.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

Result<nlohmann::json> check(const Context& ctx, const nlohmann::json&, const PeerCred&) {
  const auto file = ctx.config()->source;
  if (file.empty()) return make_error(Errc::unavailable, "carehubd runs without a configuration file");
  auto checked = load_config(file);
  if (!checked) return nlohmann::json{{"file", file}, {"ok", false}, {"error", checked.error().message}};
  return nlohmann::json{{"file", file}, {"ok", true}};
}

Result<nlohmann::json> reload(const Context& ctx, const nlohmann::json&, const PeerCred& peer) {
  const auto file = ctx.config()->source;
  if (file.empty()) return make_error(Errc::unavailable, "carehubd runs without a configuration file");
  auto checked = load_config(file);
  if (!checked) return make_error(Errc::invalid_argument, "not reloaded: " + checked.error().message);
  // The same path as `systemctl reload carehubd`: main() takes SIGHUP and applies the file it reads then.
  ctx.log.notice("carehubd", "reload-asked", {{"by", who(peer, "")}});
  if (::kill(::getpid(), SIGHUP) != 0) return make_error(Errc::internal, "cannot signal carehubd to reload");
  return nlohmann::json{{"file", file}, {"reloading", true}};
}

constexpr Command kCommands[] = {
    {"config.check", check},
    {"config.reload", reload},
};

}  // namespace

std::span<const Command> config_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
