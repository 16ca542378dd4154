#pragma once
// Alerts for the patient's home display over MQTT: durable first, then published (the pipeline calls
// publish() after the commit). Topics, under a prefix (default carehub/<hub id>/alerts):
//   <prefix>/<alert id>  retained: the alert as JSON (its latest state); cleared (empty retained) on close
//   <prefix>/open        retained: the patient-facing open alerts, newest first, as a JSON array
//   <prefix>/ack         the display publishes an alert id here (QoS 1) to acknowledge it (mqtt_acks.hpp)
// Two connections: this one publishes (Paho, client id <client_id>-pub, no session to keep); the
// acknowledgements arrive on carehub's own subscriber under <client_id>, a persistent session.
// Alerts a category filter silenced (notify=false) are recorded and synced but never shown here.
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/counters.hpp"
#include "core/result.hpp"
#include "daemon/mqtt_acks.hpp"
#include "drivers/mqtt/connection.hpp"
#include "rules/publisher.hpp"

namespace carehub::daemon {

struct MqttAlertsConfig {
  mqtt::ConnectionSettings connection;
  std::string password_file;  // read at start; never logged
  std::string prefix;
};

// `/alerts/mqtt` of carehubd.json; every problem named by its JSON path, one per line.
Result<MqttAlertsConfig> parse_mqtt_alerts(const nlohmann::json& section, const std::string& path,
                                           const std::string& hub_id);

class MqttAlertPublisher final : public rules::AlertPublisher {
 public:
  // The acknowledgement path shared with `carehubctl alerts ack`: durable before it returns.
  using Acknowledge = MqttAckReceiver::Acknowledge;

  static Result<std::unique_ptr<MqttAlertPublisher>> create(MqttAlertsConfig config, const std::vector<Alert>& open,
                                                            Acknowledge acknowledge, const Clock& clock, Logger& log,
                                                            Counters& counters);
  ~MqttAlertPublisher() override;

  void start();
  void stop();
  // On the pipeline's writer thread: only queues (publishing waits for the broker on our own thread, and
  // the JSON is built there too, so the writer's cost does not grow with the number of open alerts).
  void publish(const AlertEvent& event) override;
  nlohmann::json status() const;

 private:
  MqttAlertPublisher(MqttAlertsConfig config, Logger& log, Counters& counters);
  void run();
  Result<void> on_connected(mqtt::Connection& c);
  void show(const Alert& a);  // updates the retained view; caller holds mu_
  std::vector<mqtt::Message> snapshot_locked() const;
  mqtt::Message open_list_locked() const;

  const MqttAlertsConfig config_;
  Logger& log_;
  Counters& counters_;
  std::unique_ptr<mqtt::Connection> connection_;
  std::unique_ptr<MqttAckReceiver> acks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Open, notified alerts by id: what the display should show. Each one's JSON is built once, when first
  // sent after a change, and reused for the open list (which every alert event republishes whole).
  struct Shown {
    Alert alert;
    mutable std::string json;  // empty until built; caller holds mu_
    const std::string& text() const;
  };
  std::map<std::string, Shown> shown_;
  std::set<std::string> cleared_;       // closed since the last full snapshot: their topics get emptied
  // What the broker has not been told yet, oldest first: one entry per alert topic (a later change of the
  // same alert replaces the queued one: the topic is retained, only its last value counts), and the open
  // list, built when it is sent. Bounded by the number of alerts changed since the last send.
  std::deque<std::string> outbox_;  // alert ids, each at most once
  std::set<std::string> queued_;     // the ids in outbox_
  bool open_dirty_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace carehub::daemon
