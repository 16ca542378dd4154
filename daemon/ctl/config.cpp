#include <iostream>

#include "daemon/config.hpp"
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

Runner add_config_commands(CLI::App& app, Context& ctx) {
  auto* config = app.add_subcommand("config", "configuration")->require_subcommand(1);
  auto* check = config->add_subcommand("check", "validate a carehubd configuration file (no daemon needed)");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "configuration file")->required();
  // The file carehubd runs with, checked by carehubd, then applied as `systemctl reload` does; recorded in
  // the audit trail with who asked (issue 18).
  auto* reload = config->add_subcommand("reload", "check carehubd's configuration file again and apply it");
  return [check, file, reload, &ctx]() -> int {
    if (*reload) {
      auto r = ctx.call("config.reload");
      if (!r) return fail(r.error());
      std::cout << text((*r)["file"]) << ": reloading\n";
      return 0;
    }
    if (!*check) return -1;
    auto c = daemon::load_config(*file);
    if (!c) return fail(c.error());
    std::cout << *file << ": OK\n";
    return 0;
  };
}

}  // namespace carehub::ctl
