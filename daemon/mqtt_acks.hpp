#pragma once
// Acknowledgements from the patient's home display: it publishes an alert's id on <prefix>/ack (QoS 1).
// They arrive through carehub's own subscriber (drivers/mqtt/session.hpp), on a connection of their own:
//   - an acknowledgement is acknowledged to the broker only once it is durable (or refused: an unknown or
//     closed alert, bad input, counted), so one that a crash or a store failure kept from the buffer is
//     delivered again, as a reading would be; Paho acknowledges on receipt, before anything is stored;
//   - the publishing connection (Paho, daemon/mqtt_alerts.hpp) then never sends a PUBACK. Paho sets no
//     TCP_NODELAY, so a publish written just after a PUBACK waited for the broker's delayed ACK of it: the
//     acknowledged revision of an alert took 40 ms to publish, and every new alert queued behind it
//     (issue 15's alert p99 of 47 ms at 1,000 readings/s).
// The acknowledgement itself (Daemon::acknowledge_from_display) waits for its commit, on a thread of its
// own: never on the subscriber's thread, which keeps reading the socket meanwhile.
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "core/alert.hpp"
#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "drivers/mqtt/session.hpp"

namespace carehub::daemon {

// The alert id in an acknowledgement the display published on <prefix>/ack: the bare id, or {"id":"..."}
// (trailing newlines and spaces dropped). The display is a peer: its JSON goes through the one safe parse,
// and a payload that starts like JSON but does not parse, or is longer than kMaxAckBytes, is refused
// rather than taken for an id.
inline constexpr std::size_t kMaxAckBytes = 4096;
Result<std::string> ack_alert_id(std::string_view payload);

class MqttAckReceiver {
 public:
  // Durable before it returns; Errc::not_found or invalid_argument: refused (nothing to store).
  using Acknowledge = std::function<Result<Alert>(const std::string& id, const std::string& by)>;

  // `connection`: the broker, credentials and the persistent session's client id; `topic`: <prefix>/ack.
  static Result<std::unique_ptr<MqttAckReceiver>> create(mqtt::ConnectionSettings connection, std::string topic,
                                                         Acknowledge acknowledge, const Clock& clock, Logger& log,
                                                         Counters& counters);
  ~MqttAckReceiver();
  MqttAckReceiver(const MqttAckReceiver&) = delete;
  MqttAckReceiver& operator=(const MqttAckReceiver&) = delete;

  void start();
  // What is not durable yet stays unacknowledged at the broker, for the next session.
  void stop();
  nlohmann::json status() const;

 private:
  MqttAckReceiver(Acknowledge acknowledge, Logger& log, Counters& counters);
  mqtt::Delivery on_message(const mqtt::Message& m);
  void run();
  void refused(const std::string& why);

  Acknowledge acknowledge_;
  Logger& log_;
  Counters& counters_;
  std::unique_ptr<mqtt::Subscriber> subscriber_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Pending {
    std::string id;
    std::promise<Result<void>> durable;
  };
  // Bounded by the subscriber's max_inflight: it reads no further while that many wait here.
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace carehub::daemon
