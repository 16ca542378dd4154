#pragma once
// The vocabulary both MQTT clients share: a message, the settings of one broker connection, and its health.
// The subscriber of the mqtt source (session.hpp, our own MQTT 3.1.1 client) and the Paho connection the
// alert publisher uses (connection.hpp) take the same settings, so a broker is configured one way.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/backoff.hpp"
#include "core/time.hpp"

namespace carehub::mqtt {

struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
  bool duplicate = false;  // the broker resent it (an earlier delivery was not acknowledged)
  // Over the subscriber's size limit: the payload was skipped unread (and `payload` is empty).
  std::size_t dropped_payload_bytes = 0;
  // QoS 1/2: the broker's packet identifier, which a redelivery keeps (MQTT 3.1.1, 4.4.0-1); 0 for QoS 0.
  std::uint16_t packet_id = 0;
};

struct ConnectionSettings {
  std::string broker;     // tcp://host:1883, ssl://host:8883 (mqtt:// and mqtts:// are accepted too)
  std::string client_id;  // stable: the broker keeps the session under it
  std::string username;
  std::string password;   // the secret itself (read from its file by the owner); never logged
  bool tls = false;       // implied by ssl:// or mqtts://
  bool verify_tls = true;
  std::string ca_file;
  bool clean_session = false;
  std::chrono::seconds keepalive{30};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds operation_timeout{10000};  // subscribe, publish, disconnect
  BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::milliseconds(30000)};
  std::optional<Message> will;  // published by the broker when the connection dies without a goodbye
};

struct ConnectionStatus {
  std::string state;  // "stopped", "connecting", "connected", "reconnecting"
  std::string last_error;
  std::optional<TimePoint> connected_since;
  std::uint64_t connects = 0;
};

}  // namespace carehub::mqtt
