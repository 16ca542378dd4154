#pragma once
// One MQTT connection for carehub, over Paho MQTT C++: connect with a last will, reconnect with backoff
// (full jitter, on the injected Clock) and call back after every connect so the owner resubscribes and
// republishes its retained status. Used by the mqtt source and, later, by the alert publisher. A Paho
// exception never leaves connection.cpp: callers see carehub::Result.
//
// Acknowledgement: Paho C sends the PUBACK of a QoS 1 message when it reads the PUBLISH, before any
// application callback (MQTTProtocol_handlePublishes), and offers no manual acknowledgement. What carehub
// can and does guarantee on top:
//   - the message handler runs on Paho's receive thread and may block until the reading is committed; the
//     thread reads no further packet meanwhile, so at most one message is acknowledged and not yet durable;
//   - with `persist_dir`, Paho writes every received message to its file store before the handler runs and
//     removes it when the handler returns; after a crash the same client id restores and redelivers it.
//   - clean_session=false with a stable client id: the broker keeps the subscription and queues QoS 1
//     messages while the hub is away, and resends whatever it never got a PUBACK for.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/backoff.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/result.hpp"

namespace carehub::mqtt {

struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
  bool duplicate = false;  // the broker resent it (an earlier delivery was not acknowledged)
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
  std::string persist_dir;  // Paho's file store for in-flight messages; empty: memory only
  std::chrono::seconds keepalive{30};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds operation_timeout{10000};  // subscribe, publish, disconnect
  BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::milliseconds(30000)};
  std::optional<Message> will;  // published by the broker when the connection dies without a goodbye
};

// "mqtts://h:1" -> "ssl://h:1", "mqtt://h:1" -> "tcp://h:1"; other schemes unchanged.
[[nodiscard]] std::string paho_uri(const std::string& broker);

struct ConnectionStatus {
  std::string state;  // "stopped", "connecting", "connected", "reconnecting"
  std::string last_error;
  std::optional<TimePoint> connected_since;
  std::uint64_t connects = 0;
};

class Connection {
 public:
  using MessageHandler = std::function<void(const Message&)>;
  // After each successful connect, on the connection's own thread: subscribe and publish here. An error
  // drops the connection and retries it after the backoff.
  using ConnectedHandler = std::function<carehub::Result<void>(Connection&)>;

  // Validates the settings (the broker URI) and creates the client; no network I/O.
  [[nodiscard]] static carehub::Result<std::unique_ptr<Connection>> create(ConnectionSettings settings,
                                                                          const Clock& clock, Logger& log,
                                                                          std::string log_component);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Set both before start(). The message handler runs on Paho's receive thread; see the top of the file.
  void on_message(MessageHandler handler);
  void on_connected(ConnectedHandler handler);

  // Starts the connect/reconnect thread. A broker that is down is not an error: it is retried.
  void start();
  // Publishes `farewell` (if connected) and disconnects cleanly (no will), then joins the thread.
  void stop(const std::optional<Message>& farewell = std::nullopt);

  // Both wait for the broker's answer (operation_timeout). Fail when not connected.
  [[nodiscard]] carehub::Result<void> subscribe(const std::string& topic, int qos);
  [[nodiscard]] carehub::Result<void> publish(const Message& message);

  [[nodiscard]] bool connected() const;
  [[nodiscard]] ConnectionStatus status() const;
  [[nodiscard]] const ConnectionSettings& settings() const;

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub::mqtt
