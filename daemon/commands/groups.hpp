#pragma once
// The command groups, one per file in daemon/commands/ and in the order "unknown command" names them.
// A new group: its file, its line here and in table.cpp's kGroups, and its source in daemon/CMakeLists.txt.
#include <span>

#include "daemon/commands/table.hpp"

namespace carehub::daemon::commands {

std::span<const Command> status_commands();    // status
std::span<const Command> measure_commands();   // measure.add, measurements
std::span<const Command> sync_commands();      // sync.*
std::span<const Command> alerts_commands();    // alerts, alerts.ack, alerts.close, alerts.watch
std::span<const Command> config_commands();    // config.check, config.reload
std::span<const Command> readings_commands();  // readings.* (unassigned readings)
std::span<const Command> auth_commands();      // auth.jwks (the public keys of private_key_jwt)
std::span<const Command> devices_commands();   // devices.* the daemon answers (user slots) or amends
std::span<const Command> consent_commands();   // consent.show, consent.set (which kinds may leave the hub)
std::span<const Command> audit_commands();     // audit.list (the audit trail, carehubctl audit)
std::span<const Command> buffer_commands();    // buffer.backup (carehubctl buffer; restore and rekey run offline)

// `status`'s "consent" object (consent.cpp): per patient the kinds denied and how many readings are withheld.
Result<nlohmann::json> consent_summary(const Context& ctx);

// `measurements`, shared with `sync.dead` (sync.cpp).
Result<nlohmann::json> measurements(const Context& ctx, const nlohmann::json& args, const PeerCred& peer);

}  // namespace carehub::daemon::commands
