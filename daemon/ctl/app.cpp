// carehubctl's command line, built once for the binary and for the tests that run a command line
// against a recorded transport (Context::transport). The groups are listed explicitly (style.md: no
// registration by static initialisers).
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

int run(int argc, const char* const* argv, Context& ctx) {
  CLI::App app{"carehubctl - inspect and operate a carehub home hub"};
  app.require_subcommand(1);
  app.add_option("--socket", ctx.socket_flag, "control socket (default $CAREHUB_SOCKET or /run/carehub/control.sock)");

  const Runner groups[] = {
      add_status_commands(app, ctx),
      add_measure_commands(app, ctx),
      add_sync_commands(app, ctx),
      add_config_commands(app, ctx),
      add_alerts_commands(app, ctx),
      add_rules_commands(app, ctx),
      add_devices_commands(app, ctx),
      add_readings_commands(app, ctx),
      add_consent_commands(app, ctx),
      add_audit_commands(app, ctx),
      add_decode_commands(app, ctx),
      add_web_commands(app, ctx),
      add_auth_commands(app, ctx),
      add_buffer_commands(app, ctx),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help: 0. A bad argument: CLI11's message, and exit 2 like every other bad input (CLI11's own
    // codes, 105 for an out-of-range value, would mean nothing to a technician's script).
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (const auto& group : groups) {
    if (const int rc = group(); rc >= 0) return rc;  // -1: not this group's subcommand
  }
  return 0;
}

}  // namespace carehub::ctl
