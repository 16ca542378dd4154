#pragma once
// The mqtt source's configuration: `/sources/mqtt` in carehubd.json. Parsing validates everything and
// reads no file (the password is named by its path and read at start).
#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/kind.hpp"
#include "core/result.hpp"
#include "drivers/mqtt/message.hpp"
#include "drivers/openhab/mapping.hpp"

namespace carehub::mqtt {

enum class Format {
  number,         // "21.5": one value of `kind`, in `unit` (default: the kind's canonical unit)
  openhab_state,  // openHAB's event bus: openhab/out/<Item>/state carries the bare state text
  reading_json,   // the reading JSON of design.md, one object per message
};

struct Subscription {
  std::string topic;  // may hold + and # wildcards
  int qos = 1;
  Format format = Format::reading_json;
  std::optional<Kind> kind;      // number
  std::string unit;              // number: the unit of the payload (empty: the kind's canonical unit)
  std::string device;            // number: the device id (empty: "mqtt-" + the message's topic)
  openhab::ItemMapping items;    // openhab_state: which items, as which kind
  // reading_json: whether a message may name the patient ("patient"). Off: such a message is refused, so a
  // publisher on the broker cannot file readings under another patient; the device registry attributes.
  bool allow_patient = false;
  std::string where;             // the JSON path, for messages
};

struct SourceConfig {
  ConnectionSettings connection;
  std::string password_file;  // read at start into connection.password
  std::string status_topic;   // retained {"state":"online"|"offline",…}; empty: "carehub/<hub id>/status"
  std::size_t max_payload_bytes = 64 * 1024;
  std::size_t max_inflight = 20;  // messages on their way to the store at once (session.hpp)
  std::vector<Subscription> subscriptions;
};

// `hub_id` gives the defaults of client_id ("carehub-<hub id>") and the status topic. Every problem is
// reported at once, one per line, each naming its JSON path.
[[nodiscard]] carehub::Result<SourceConfig> parse_source_config(const nlohmann::json& section, const std::string& path,
                                                                const std::string& hub_id);

}  // namespace carehub::mqtt
