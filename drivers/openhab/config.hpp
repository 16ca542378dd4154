#pragma once
// The live openHAB client's configuration: the `/sources/openhab` section of carehubd.json. Parsing
// validates everything and reads no file: secrets are named by path here and read when the source starts,
// so `carehubctl config check` never touches them.
#include <array>
#include <chrono>
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/backoff.hpp"
#include "core/result.hpp"
#include "drivers/openhab/mapping.hpp"
#include "drivers/option_table.hpp"

namespace carehub::openhab {

// Every option of `/sources/openhab`, once: the parser accepts these keys and no other; the README documents
// each (tests/conventions/drivers_test.cpp checks it). The mapping's own keys (items[].name…) are
// parse_mapping's (mapping.hpp).
inline constexpr std::array kOptions{
    ConfigOption{"/url", OptionType::string, "required", "openHAB's base URL (http:// or https://)"},
    ConfigOption{"/auth", OptionType::object, "none", "how carehub authenticates to openHAB"},
    ConfigOption{"/auth/type", OptionType::string, "required", "none, bearer, basic or cloud (myopenhab.org)"},
    ConfigOption{"/auth/token_file", OptionType::string, "-", "bearer, cloud: the API token's file, read at start"},
    ConfigOption{"/auth/username", OptionType::string, "-", "basic, cloud"},
    ConfigOption{"/auth/password_file", OptionType::string, "-", "basic, cloud: the password's file, read at start"},
    ConfigOption{"/tls_verify", OptionType::boolean, "true", "false only by this explicit setting"},
    ConfigOption{"/ca_file", OptionType::string, "system store", "the CA that signed openHAB's certificate"},
    ConfigOption{"/keepalive_margin_s", OptionType::integer, "5", "dead after the server's alive interval plus this"},
    ConfigOption{"/silence_timeout_s", OptionType::integer, "120", "before the first alive, this much silence is dead"},
    ConfigOption{"/retry_base_ms", OptionType::integer, "1000", "reconnect backoff, full jitter"},
    ConfigOption{"/retry_cap_ms", OptionType::integer, "60000", "the backoff's ceiling"},
    ConfigOption{"/connect_timeout_ms", OptionType::integer, "10000", "TCP/TLS connect"},
    ConfigOption{"/request_timeout_ms", OptionType::integer, "30000", "the whole GET /rest/items"},
    ConfigOption{"/items", OptionType::array, "at least one rule", "items mapped by name (mapping.hpp)"},
    ConfigOption{"/tags", OptionType::array, "at least one rule", "items mapped by tag"},
    ConfigOption{"/groups", OptionType::array, "at least one rule", "members mapped by group"},
};

enum class AuthKind {
  none,
  bearer,  // Authorization: Bearer <API token>
  basic,   // Authorization: Basic <username:password>
  cloud,   // myopenhab.org: Basic with the cloud account, the local API token in X-OPENHAB-TOKEN
};

struct AuthConfig {
  AuthKind kind = AuthKind::none;
  std::string token_file;     // bearer, cloud
  std::string username;       // basic, cloud
  std::string password_file;  // basic, cloud
};

struct ClientConfig {
  std::string url;  // openHAB's base URL without the trailing slash: http://openhab.local:8080
  AuthConfig auth;
  bool verify_tls = true;  // off only by explicit configuration, and said loudly at start
  std::string ca_file;     // empty: the system trust store
  // openHAB 3.4+ announces `alive` every `interval` seconds; the stream is dead after interval + margin.
  std::chrono::seconds keepalive_margin{5};
  // Before the first `alive` (servers older than 3.4 never send one), this much silence means dead.
  std::chrono::seconds silence_timeout{120};
  BackoffPolicy backoff{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000)};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};  // GET /rest/items as a whole
  std::size_t max_items_bytes = 8 * 1024 * 1024;     // the /rest/items body; larger is refused
  std::size_t max_held_events = 1000;  // events that arrive before /rest/items answered
  ItemMapping mapping;
};

// Reads `section` (found at `path`, e.g. "/sources/openhab"). Every problem is reported at once, one per
// line, each naming its JSON path.
[[nodiscard]] carehub::Result<ClientConfig> parse_client_config(const nlohmann::json& section,
                                                                const std::string& path);

}  // namespace carehub::openhab
