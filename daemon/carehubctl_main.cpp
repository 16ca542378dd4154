// carehubctl: the technician's command line. Each command group lives in ctl/<group>.cpp; this file
// lists them. Exit codes: 0 success, 1 carehubd unreachable or failed, 2 bad input.
#include "daemon/ctl/ctl.hpp"

int main(int argc, char** argv) {
  using namespace carehub::ctl;
  CLI::App app{"carehubctl - inspect and operate a carehub home hub"};
  app.require_subcommand(1);
  Context ctx;
  app.add_option("--socket", ctx.socket_flag, "control socket (default $CAREHUB_SOCKET or /run/carehub/control.sock)");

  const Runner groups[] = {
      add_status_commands(app, ctx),
      add_measure_commands(app, ctx),
      add_sync_commands(app, ctx),
      add_config_commands(app, ctx),
      add_alerts_commands(app, ctx),
      add_rules_commands(app, ctx),
      add_devices_commands(app, ctx),
      add_decode_commands(app, ctx),
  };
  CLI11_PARSE(app, argc, argv);
  for (const auto& run : groups) {
    if (const int rc = run(); rc >= 0) return rc;  // -1: not this group's subcommand
  }
  return 0;
}
