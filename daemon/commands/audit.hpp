#pragma once
// The audit hook of the command table (issue 18): which commands change clinical state, who asked (the
// socket's peer, or the carehub-web login it vouches for), and the row each leaves (store/audit.hpp).
//
// Table::dispatch runs an audited command inside an audit::Scope, so the rows of the changes it makes
// through the pipeline are written in their own transactions. Afterwards, a command that failed or was
// refused gets a row with that outcome, and one that succeeded without a row (its change happened outside
// the buffer: the BLE source's own pairing, a configuration reload) gets its success row then.
//
// carehub-web names its logged-in user in the reserved argument "web_user"; it is taken off the arguments
// before the handler sees them, and believed only from the web service's uid (Context::web_uid; by
// default the carehub-web account's, or carehubd's own): from anyone else the command is refused, and
// that refusal is recorded too.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/commands/table.hpp"
#include "store/audit.hpp"

namespace carehub::daemon::commands {

inline constexpr std::string_view kWebUserArg = "web_user";

// True for the commands that change clinical state: devices.pair/assign/forget/unbind, alerts.ack/close,
// readings.assign/discard, sync.retry-dead, config.reload, and consent.set.
bool audited(std::string_view cmd);

// Takes carehub-web's "web_user" off `args`: the login it names (empty when none), or the refusal when the
// peer is not the web service. Table::dispatch does this for every command, audited or not.
Result<std::string> take_web_user(const Context& ctx, nlohmann::json& args, const PeerCred& peer);

// Runs `run` (the handler, with the arguments it should see) as `request` from `peer`, recorded.
Result<nlohmann::json> run_audited(const Context& ctx, const Request& request, const PeerCred& peer,
                                   const std::function<Result<nlohmann::json>(const nlohmann::json& args)>& run);

// Records an action that no command carried (a SIGHUP reload, a start-up decision) on its own, durable
// when it returns. `e.time` is stamped from `clock` when unset.
Result<void> record_audit(Pipeline& pipeline, const Clock& clock, AuditEvent e);

// refused for a request that was wrong or not allowed (bad arguments, nothing by that id), else failed.
AuditOutcome outcome_of(const Error& e);

}  // namespace carehub::daemon::commands
