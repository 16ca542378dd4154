#pragma once
// MQTT payloads to readings, without a broker: one function per subscription format, so unit tests feed
// the exact payloads devices and openHAB's MQTT bridge send.
#include <optional>
#include <string>
#include <string_view>

#include "core/reading.hpp"
#include "drivers/mqtt/config.hpp"
#include "drivers/mqtt/message.hpp"

namespace carehub::mqtt {

// A reading, nothing (an openHAB NULL/UNDEF state, an item the subscription does not map), or an error.
// A reading is validated (plausible range) before it is returned; one that names a patient is refused
// unless the subscription allows it (`allow_patient`: otherwise any publisher could file readings under
// another patient). `received` is the reading's time when the payload carries none.
// The error names the field and what was wrong, never a value: the source logs it at warning level and
// shows it in status, where patient data must not appear (docs/technician-guide.md). The full explanation,
// which may quote the payload, goes to `*detail` when given: for debug level only.
[[nodiscard]] carehub::Result<std::optional<Reading>> to_reading(const Subscription& sub, const Message& message,
                                                                 TimePoint received, std::string* detail = nullptr);

// "openhab/out/Kitchen_Temp/state" -> "Kitchen_Temp" (the level before the last); empty when none.
[[nodiscard]] std::string_view openhab_item(std::string_view topic);

// Whether `topic` matches the subscription filter (+ and # wildcards).
[[nodiscard]] bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace carehub::mqtt
