#pragma once
// The mqtt source ("mqtt" under /sources in carehubd.json): subscribes to the configured topics through
// carehub's own MQTT 3.1.1 subscriber (session.hpp), turns each message into a reading (number, openHAB
// state or reading JSON) and hands it to the pipeline; the broker gets the PUBACK (QoS 1) or PUBREC (QoS 2)
// only once the reading is committed, or once bad input has been counted. A store error leaves the message
// unacknowledged: the subscriber reconnects and the broker redelivers it. It also publishes the hub's own
// status, retained, with a retained "offline" last will, for home displays.
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/source.hpp"
#include "drivers/mqtt/config.hpp"
#include "drivers/mqtt/delivery_times.hpp"
#include "drivers/mqtt/session.hpp"

namespace carehub::mqtt {

// The SourceFactory for daemon/sources.cpp: validates `config` (at `path`), no I/O.
carehub::Result<std::unique_ptr<Source>> make_mqtt_source(const nlohmann::json& config, const std::string& path,
                                                     const SourceContext& context);

// The retained status document: {"state":"online"|"offline","hub":…,"time":…}.
[[nodiscard]] std::string status_payload(std::string_view state, std::string_view hub_id, TimePoint now);

class MqttSource final : public Source {
 public:
  MqttSource(SourceConfig config, const SourceContext& context);
  ~MqttSource() override;

  std::string name() const override { return "mqtt"; }
  carehub::Result<void> start() override;
  void stop() override;
  nlohmann::json status() const override;

 private:
  Delivery on_message(const Message& message);  // not handle(): that is Source::handle for commands
  // Once the sink has answered: counts the outcome; an error means "not durable, do not acknowledge".
  carehub::Result<void> stored(const Message& message, const Subscription& sub,
                               carehub::Result<IngestResult> outcome, TimePoint received);
  void bad(std::string_view counter, const std::string& key, const std::string& message);

  SourceConfig config_;
  SourceContext context_;
  std::unique_ptr<Subscriber> subscriber_;
  DeliveryTimes delivery_times_;  // the subscriber's thread only (on_message)

  mutable std::mutex mu_;
  std::optional<TimePoint> last_message_;
  std::optional<TimePoint> last_reading_;
  std::string last_error_;
  std::uint64_t messages_ = 0;
  std::uint64_t readings_ = 0;
};

}  // namespace carehub::mqtt
