#pragma once
// The end-to-end benchmark's MQTT clients (Paho C++ async, QoS 1): the publisher of readings, and the
// home display, which subscribes to the alert topics and acknowledges each new alert at once on
// <prefix>/ack, as daemon/mqtt_alerts.hpp describes the display.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace mqtt {
class async_client;
}

namespace carehub::bench {

using Steady = std::chrono::steady_clock;

// Publishes QoS 1 with at most `window` messages not yet acknowledged by the broker: at full speed the
// broker's PUBACKs pace it ("as fast as the broker takes").
class Publisher {
 public:
  Publisher(const std::string& broker_url, const std::string& client_id, int window);
  ~Publisher();
  void publish(const std::string& topic, const std::string& payload);
  void wait_all();  // every message published so far acknowledged by the broker

 private:
  struct Callback;
  std::unique_ptr<Callback> callback_;
  std::unique_ptr<::mqtt::async_client> client_;
  int window_;
};

class Display {
 public:
  // Subscribes to <prefix>/+ (returns once the broker granted it).
  Display(const std::string& broker_url, const std::string& client_id, const std::string& prefix);
  ~Display();

  struct Seen {
    Steady::time_point shown;                 // the open alert arrived
    std::optional<Steady::time_point> acked;  // its acknowledged revision arrived
  };
  // Waits until the alert for extreme `seq` was acknowledged (its acknowledged revision came back).
  bool wait_acknowledged(std::int64_t seq, std::chrono::milliseconds timeout);
  // Waits until every alert shown so far has come back acknowledged, or `timeout`.
  bool wait_all_acknowledged(std::chrono::milliseconds timeout);
  std::map<std::int64_t, Seen> seen();  // by extreme sequence number
  std::size_t unmatched();              // open alerts whose text named no sequence number

 private:
  struct Callback;
  void on_message(const std::string& topic, const std::string& payload, bool retained);

  std::string prefix_;
  std::unique_ptr<Callback> callback_;
  std::unique_ptr<::mqtt::async_client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::int64_t, Seen> seen_;
  std::map<std::string, std::int64_t> ids_;  // alert id -> seq
  std::size_t acked_ = 0;
  std::size_t unmatched_ = 0;
};

}  // namespace carehub::bench
