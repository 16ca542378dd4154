#pragma once
// carehub's own MQTT 3.1.1 subscriber, written because no packaged client lets the application decide
// when a QoS 1 message is acknowledged (see connection.hpp). It keeps one session with the broker:
//   - connect (plain or TLS, user name and password, the last will, clean_session=false by default with a
//     stable client id), subscribe to every topic on every connect, publish the owner's retained status;
//   - hand each PUBLISH to the owner at once, in receive order, and acknowledge it (PUBACK for QoS 1,
//     PUBREC for QoS 2) only when its Delivery says the message is durable. Up to max_inflight Deliveries
//     are outstanding together, so the store's group commit can take many messages in one transaction;
//     acknowledgements still go out strictly in receive order (MQTT 3.1.1, 4.6.0-2 and -3): one whose
//     Delivery is done waits for the older ones. A Delivery that fails is not acknowledged, nor is any
//     message received after it: the connection is dropped so the broker redelivers them (with DUP set)
//     on the next connect;
//   - keepalive: PINGREQ when nothing was sent for keepalive_s, and a connection whose broker does not
//     answer within keepalive_s is declared dead; the socket is read while Deliveries are outstanding,
//     so this holds during a slow commit too;
//   - reconnect with exponential backoff and full jitter (core/backoff.hpp) on the injected Clock.
// With max_inflight Deliveries outstanding, the next PUBLISH read is held back (not handed over) and the
// socket is left unread until the oldest Delivery is done: memory stays bounded and the broker, whose own
// in-flight window is full, waits. max_inflight = 1 is the one-message-at-a-time behaviour.
// One session thread per Subscriber, plus one that only waits for Deliveries to become ready and wakes
// the session thread (a Delivery offers a blocking wait, not a callback); stop() ends every wait at once
// (transport.hpp's Wakeup).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "drivers/mqtt/message.hpp"
#include "drivers/mqtt/packet.hpp"

namespace carehub::mqtt {

// The owner's answer to one message, possibly not known yet (the reading is on its way to the store).
struct Delivery {
  // Waits up to the given time; true once finish() will not block. Called on the subscriber's watcher
  // thread; finish() is then called once, on the session thread, after ready() returned true.
  std::function<bool(std::chrono::milliseconds)> ready;
  // Success: the message is done with (stored, a duplicate, or bad input that was counted): acknowledge it.
  // An error: it is NOT durable (store failure, shutdown): do not acknowledge, let the broker redeliver.
  std::function<carehub::Result<void>()> finish;

  // A decision taken at once (bad input counted, a message nobody maps...).
  [[nodiscard]] static Delivery now(carehub::Result<void> outcome);
};

struct SubscriberSettings {
  ConnectionSettings connection;
  std::vector<packet::TopicRequest> topics;  // subscribed after every connect
  std::size_t max_payload_bytes = 64 * 1024;  // larger payloads are skipped unread (Message::dropped_payload_bytes)
  // Deliveries outstanding at once (at least 1). The broker's own window (mosquitto's max_inflight_messages,
  // 20 by default) caps how many unacknowledged QoS 1/2 messages it sends; a larger value here gains nothing.
  std::size_t max_inflight = 20;
};

class Subscriber {
 public:
  using MessageHandler = std::function<Delivery(const Message&)>;
  // After each connect (subscribed): messages to publish, e.g. the hub's retained "online" status. QoS 0 or 1.
  using ConnectedHandler = std::function<std::vector<Message>()>;

  // Validates the settings (broker URL, topics); no network I/O.
  [[nodiscard]] static carehub::Result<std::unique_ptr<Subscriber>> create(SubscriberSettings settings,
                                                                          const Clock& clock, Logger& log,
                                                                          std::string log_component);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Set before start(). The handler runs on the subscriber's thread, once per PUBLISH in receive order,
  // while up to max_inflight earlier Deliveries may still be pending; it must not wait for them.
  void on_message(MessageHandler handler);
  void on_connected(ConnectedHandler handler);

  // Starts the session thread. A broker that is down is not an error: it is retried with backoff.
  void start();
  // Publishes `farewell` (when connected; QoS 1, waiting for its PUBACK up to operation_timeout) and
  // disconnects cleanly (the broker drops the will), then joins. Messages whose Deliveries are still
  // pending (and any received after them) are abandoned unacknowledged: the broker keeps them for the next
  // session.
  void stop(const std::optional<Message>& farewell = std::nullopt);

  [[nodiscard]] ConnectionStatus status() const;
  [[nodiscard]] const SubscriberSettings& settings() const;
  // Messages acknowledged to the broker (PUBACK or PUBREC sent) since creation.
  [[nodiscard]] std::uint64_t acknowledged() const;

 private:
  struct Impl;
  explicit Subscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub::mqtt
