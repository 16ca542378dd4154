#pragma once
// Alerts and alert events as JSON: the control socket (carehubctl alerts, alerts watch), the simulator's
// output and, later, the MQTT payloads all use these two shapes.
#include <nlohmann/json.hpp>

#include "core/alert.hpp"

namespace carehub::rules {

// Every field of the alert; times RFC 3339, absent optional times as null.
nlohmann::json alert_to_json(const Alert& a);

// One line per event, the `rules simulate` format:
// {"time":…,"rule":…,"event":…,"severity":…,"notify":…,"readings":[…],"alert":<id>,"patient":…,"state":…,"text":…}
nlohmann::json event_to_json(const AlertEvent& e);
// The same with its keys in the documented order, for people reading `rules simulate` output.
nlohmann::ordered_json event_line(const AlertEvent& e);

}  // namespace carehub::rules
