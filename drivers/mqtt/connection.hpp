#pragma once
// One MQTT connection over Paho MQTT C++, for PUBLISHING: connect with a last will, reconnect with backoff
// (full jitter, on the injected Clock) and call back after every connect so the owner resubscribes and
// republishes its retained state. The alert publisher (daemon/mqtt_alerts) uses it. A Paho exception never
// leaves connection.cpp: callers see carehub::Result.
//
// Not for ingesting readings. Paho C sends the PUBACK of a QoS 1 message when it reads the PUBLISH, before
// any application callback (MQTTProtocol_handlePublishes), and offers no manual acknowledgement (nor does
// libmosquitto, nor any other Debian-packaged client), so a crash between that PUBACK and the commit would
// lose the measurement. The mqtt source therefore uses carehub's own subscriber (session.hpp), which
// acknowledges only once the reading is durable. The messages this class hands to on_message (the alert
// acknowledgements from the home display) are acknowledged by Paho on receipt, as before.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/backoff.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "drivers/mqtt/message.hpp"

namespace carehub::mqtt {

// "mqtts://h:1" -> "ssl://h:1", "mqtt://h:1" -> "tcp://h:1"; other schemes unchanged.
[[nodiscard]] std::string paho_uri(const std::string& broker);

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
