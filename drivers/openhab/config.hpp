#pragma once
// The live openHAB client's configuration: the `/sources/openhab` section of carehubd.json. Parsing
// validates everything and reads no file: secrets are named by path here and read when the source starts,
// so `carehubctl config check` never touches them.
#include <chrono>
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/backoff.hpp"
#include "core/result.hpp"
#include "drivers/openhab/mapping.hpp"

namespace carehub::openhab {

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
