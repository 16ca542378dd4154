#pragma once
// The "ble" source: BlueZ health devices. One driver thread owns the D-Bus connection and the Manager
// (all logic); the daemon's threads reach it only through posted jobs (technician commands) and a
// published status snapshot, so no lock is ever held across a D-Bus call.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/source.hpp"

namespace carehub::ble {

// The SourceFactory for `/sources/ble` (listed in daemon/sources.cpp). Validates, does no I/O.
[[nodiscard]] Result<std::unique_ptr<Source>> make_ble_source(const nlohmann::json& config, const std::string& path,
                                                              const SourceContext& context);

}  // namespace carehub::ble
