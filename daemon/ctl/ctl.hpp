#pragma once
// carehubctl's command groups. Each group is one file (ctl/<group>.cpp) that adds its subcommands to
// the app and runs them; carehubctl_main.cpp lists the groups explicitly. Exit codes: 0 success,
// 1 carehubd unreachable or failed, 2 bad input (the message says which and where).
#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.hpp"

namespace carehub::ctl {

struct Context {
  using Transport = std::function<Result<nlohmann::json>(const std::string& cmd, const nlohmann::json& args)>;
  std::string socket_flag;  // --socket
  // Set by tests to see the request a command line makes (and answer it); empty: the control socket.
  Transport transport;
  std::string socket() const;  // the flag, else $CAREHUB_SOCKET, else the default path
  // One request to carehubd.
  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) const;
};

// What a group registers: run() is called when its subcommand was given; returns the exit code.
using Runner = std::function<int()>;

int fail(const Error& e);  // prints "carehubctl: <message>", returns 1 or 2
std::string text(const nlohmann::json& v);  // "-" for null or empty, strings unquoted

// The whole command line (ctl/app.cpp): parses argv, runs the chosen command, returns the exit code.
int run(int argc, const char* const* argv, Context& ctx);

// The groups (one file each).
Runner add_status_commands(CLI::App& app, Context& ctx);
Runner add_measure_commands(CLI::App& app, Context& ctx);
Runner add_config_commands(CLI::App& app, Context& ctx);
Runner add_sync_commands(CLI::App& app, Context& ctx);
Runner add_alerts_commands(CLI::App& app, Context& ctx);
Runner add_rules_commands(CLI::App& app, Context& ctx);
Runner add_devices_commands(CLI::App& app, Context& ctx);
Runner add_web_commands(CLI::App& app, Context& ctx);
Runner add_auth_commands(CLI::App& app, Context& ctx);
Runner add_buffer_commands(CLI::App& app, Context& ctx);
Runner add_decode_commands(CLI::App& app, Context& ctx);
Runner add_readings_commands(CLI::App& app, Context& ctx);
Runner add_consent_commands(CLI::App& app, Context& ctx);
Runner add_audit_commands(CLI::App& app, Context& ctx);

}  // namespace carehub::ctl
