// `buffer.backup` (carehubctl buffer backup, issue 18): a consistent copy of the buffer encrypted at rest,
// made by carehubd because only carehubd holds the key (a credential in $CREDENTIALS_DIRECTORY). The copy
// goes to backups/ beside the buffer (the daemon may write nowhere else under ProtectSystem=strict); the
// operator moves it from there. Restore and key rotation run with carehubd stopped (daemon/ctl/buffer.cpp).
#include <sys/stat.h>

#include <filesystem>

#include "core/time.hpp"
#include "daemon/commands/groups.hpp"
#include "store/buffer_backup.hpp"

namespace carehub::daemon::commands {
namespace {

// A file name only: a path could point the daemon's writes anywhere it may write.
Result<std::string> backup_name(const Context& ctx, const nlohmann::json& args) {
  if (!args.contains("name")) {
    auto stamp = format_rfc3339(ctx.clock.now());  // 2026-12-05T10:08:46.123Z
    stamp = stamp.substr(0, 19);
    for (char& c : stamp) {
      if (c == ':') c = '-';
    }
    return "buffer-" + stamp + ".db";
  }
  if (!args["name"].is_string()) return make_error(Errc::invalid_argument, "buffer.backup: name: expected a string");
  const auto name = args["name"].get<std::string>();
  if (name.empty() || name.find('/') != std::string::npos || name.starts_with('.')) {
    return make_error(Errc::invalid_argument, "buffer.backup: name: expected a file name (no '/', not hidden), found \"" +
                                                  name + "\"");
  }
  return name;
}

Result<nlohmann::json> backup(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  const auto config = ctx.config();
  auto name = backup_name(ctx, args);
  if (!name) return name.error();
  const auto dir = std::filesystem::path(config->store.path).parent_path() / "backups";
  ::mkdir(dir.c_str(), 0750);  // exists already, or the backup below fails naming it
  const auto out = (dir / *name).string();
  auto size = backup_buffer(config->store, out);
  if (!size) return size.error();
  ctx.counters.add("buffer_backups");
  ctx.log.notice("store", "buffer-backup", {{"file", out}, {"bytes", *size}, {"encrypted", config->store.key.has_value()}});
  return nlohmann::json{{"file", out}, {"bytes", *size}, {"encrypted", config->store.key.has_value()}};
}

constexpr Command kCommands[] = {
    {"buffer.backup", backup},
};

}  // namespace

std::span<const Command> buffer_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
