#include <iostream>

#include "daemon/config.hpp"
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

Runner add_config_commands(CLI::App& app, Context&) {
  auto* config = app.add_subcommand("config", "configuration")->require_subcommand(1);
  auto* check = config->add_subcommand("check", "validate a carehubd configuration file (no daemon needed)");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "configuration file")->required();
  return [check, file]() -> int {
    if (!*check) return -1;
    auto c = daemon::load_config(*file);
    if (!c) return fail(c.error());
    std::cout << *file << ": OK\n";
    return 0;
  };
}

}  // namespace carehub::ctl
