#pragma once
// The mqtt source's configuration: `/sources/mqtt` in carehubd.json. Parsing validates everything and
// reads no file (the password is named by its path and read at start).
#include <array>
#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/kind.hpp"
#include "core/result.hpp"
#include "drivers/mqtt/message.hpp"
#include "drivers/openhab/mapping.hpp"
#include "drivers/option_table.hpp"

namespace carehub::mqtt {

// Every option of `/sources/mqtt`, once: the parser accepts these keys and no other; the README documents
// each (tests/conventions/drivers_test.cpp checks it). An openhab-state subscription's `items` are
// openhab::parse_mapping's (drivers/openhab/mapping.hpp).
inline constexpr std::array kOptions{
    ConfigOption{"/broker", OptionType::string, "required", "tcp://, mqtt:// (plain), ssl://, mqtts:// (TLS) host:port"},
    ConfigOption{"/client_id", OptionType::string, "carehub-<hub id>", "stable: the broker keeps the session under it"},
    ConfigOption{"/username", OptionType::string, "none", "the broker account"},
    ConfigOption{"/password_file", OptionType::string, "none", "the password's file, read at start; needs username"},
    ConfigOption{"/tls_verify", OptionType::boolean, "true", "the broker's chain and host name are checked"},
    ConfigOption{"/ca_file", OptionType::string, "system store", "the CA (PEM) that signed the broker's certificate"},
    ConfigOption{"/clean_session", OptionType::boolean, "false", "keep false: the broker keeps what it queued"},
    ConfigOption{"/persist_dir", OptionType::removed, "-", "refused with its reason: nothing is acknowledged early"},
    ConfigOption{"/keepalive_s", OptionType::integer, "30", "5..3600: PINGREQ after this long without sending"},
    ConfigOption{"/connect_timeout_ms", OptionType::integer, "10000", "TCP/TLS and CONNACK"},
    ConfigOption{"/retry_base_ms", OptionType::integer, "500", "reconnect backoff, full jitter"},
    ConfigOption{"/retry_cap_ms", OptionType::integer, "30000", "the backoff's ceiling"},
    ConfigOption{"/max_inflight", OptionType::integer, "20", "1..1000: messages on their way to the store at once"},
    ConfigOption{"/status_topic", OptionType::string, "carehub/<hub id>/status", "the hub's retained status"},
    ConfigOption{"/subscriptions", OptionType::array, "required", "at least one"},
    ConfigOption{"/subscriptions/*/topic", OptionType::string, "required", "a topic filter, + and # allowed"},
    ConfigOption{"/subscriptions/*/qos", OptionType::integer, "1", "0, 1 or 2; 1 or 2 for anything clinical"},
    ConfigOption{"/subscriptions/*/format", OptionType::string, "required", "number, openhab-state or reading-json"},
    ConfigOption{"/subscriptions/*/kind", OptionType::string, "required for number", "number: the kind"},
    ConfigOption{"/subscriptions/*/unit", OptionType::string, "the kind's unit", "number: the payload's unit"},
    ConfigOption{"/subscriptions/*/device", OptionType::string, "mqtt-<topic>", "number: the device id"},
    ConfigOption{"/subscriptions/*/items", OptionType::array, "required for openhab-state", "the item mapping"},
    ConfigOption{"/subscriptions/*/allow_patient", OptionType::boolean, "false",
                 "reading-json: whether a message may name its patient"},
};

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
