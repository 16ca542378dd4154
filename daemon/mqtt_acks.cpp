#include "daemon/mqtt_acks.hpp"

#include "core/json_check.hpp"
#include "core/thread_name.hpp"

namespace carehub::daemon {
namespace {

// Acknowledgements made durable at once. A display sends one per press of OK; the broker sends no more
// than this many before we acknowledge some (and the subscriber reads no further meanwhile).
constexpr std::size_t kMaxInflightAcks = 16;
constexpr const char* kLog = "alerts-mqtt";

bool is_refusal(const Error& e) { return e.code == Errc::not_found || e.code == Errc::invalid_argument; }

}  // namespace

Result<std::string> ack_alert_id(std::string_view payload) {
  if (payload.size() > kMaxAckBytes) {
    return make_error(Errc::invalid_argument, "ack: " + std::to_string(payload.size()) + " bytes, more than the limit of " +
                                                  std::to_string(kMaxAckBytes));
  }
  std::string id(payload);
  const auto first = payload.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && payload[first] == '{') {
    auto j = parse_peer_json(payload, "ack", {8, kMaxAckBytes});
    if (!j) return j.error();
    const auto it = j->find("id");
    if (it == j->end() || !it->is_string()) {
      return make_error(Errc::invalid_argument, "ack: expected {\"id\": \"<alert id>\"} or the bare id");
    }
    id = it->get<std::string>();
  }
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

MqttAckReceiver::MqttAckReceiver(Acknowledge acknowledge, Logger& log, Counters& counters)
    : acknowledge_(std::move(acknowledge)), log_(log), counters_(counters) {}

Result<std::unique_ptr<MqttAckReceiver>> MqttAckReceiver::create(mqtt::ConnectionSettings connection, std::string topic,
                                                                 Acknowledge acknowledge, const Clock& clock,
                                                                 Logger& log, Counters& counters) {
  mqtt::SubscriberSettings settings;
  settings.connection = std::move(connection);
  settings.connection.will.reset();  // the publishing connection carries the hub's will
  settings.topics = {{std::move(topic), 1}};
  settings.max_payload_bytes = kMaxAckBytes;
  settings.max_inflight = kMaxInflightAcks;
  auto subscriber = mqtt::Subscriber::create(std::move(settings), clock, log, kLog);
  if (!subscriber) return subscriber.error();
  std::unique_ptr<MqttAckReceiver> r(new MqttAckReceiver(std::move(acknowledge), log, counters));
  r->subscriber_ = std::move(*subscriber);
  r->subscriber_->on_message([raw = r.get()](const mqtt::Message& m) { return raw->on_message(m); });
  return r;
}

MqttAckReceiver::~MqttAckReceiver() { stop(); }

void MqttAckReceiver::start() {
  worker_ = std::thread([this] {
    name_this_thread("alert-acks");
    run();
  });
  subscriber_->start();
}

void MqttAckReceiver::stop() {
  // First the subscriber: what is still pending stays unacknowledged at the broker.
  subscriber_->stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();  // an acknowledgement being committed finishes first
  std::lock_guard lock(mu_);
  for (auto& p : queue_) p.durable.set_value(make_error(Errc::unavailable, "carehubd is stopping"));
  queue_.clear();
}

void MqttAckReceiver::refused(const std::string& why) {
  counters_.add("alerts_mqtt_bad_acks");
  log_.rate_limited(LogLevel::warning, kLog, "bad-ack", "ack-refused", {{"error", why}});
}

mqtt::Delivery MqttAckReceiver::on_message(const mqtt::Message& m) {
  if (m.dropped_payload_bytes > 0) {
    refused("ack: " + std::to_string(m.dropped_payload_bytes) + " bytes, more than the limit of " +
            std::to_string(kMaxAckBytes));
    return mqtt::Delivery::now({});
  }
  // The display may send the bare id or {"id": "..."}.
  auto id = ack_alert_id(m.payload);
  if (!id) {
    refused(id.error().message);
    return mqtt::Delivery::now({});  // bad input, counted: nothing to store, nothing to redeliver
  }
  Pending p{std::move(*id), {}};
  auto durable = p.durable.get_future().share();
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
  return mqtt::Delivery{
      [durable](std::chrono::milliseconds d) { return durable.wait_for(d) == std::future_status::ready; },
      [durable] { return durable.get(); }};
}

void MqttAckReceiver::run() {
  for (;;) {
    Pending p;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      p = std::move(queue_.front());
      queue_.pop_front();
    }
    auto r = acknowledge_(p.id, "patient (mqtt display)");  // returns once the acknowledgement is durable
    if (r || is_refusal(r.error())) {
      if (!r) refused(r.error().message);
      p.durable.set_value({});
      continue;
    }
    // Not durable (a store failure, a stopping pipeline): not acknowledged, so the broker delivers it again.
    counters_.add("alerts_mqtt_ack_errors");
    log_.rate_limited(LogLevel::error, kLog, "ack-failed", "ack-not-stored", {{"alert", p.id}, {"error", r.error().message}});
    p.durable.set_value(r.error());
  }
}

nlohmann::json MqttAckReceiver::status() const {
  const auto s = subscriber_->status();
  std::lock_guard lock(mu_);
  return {{"state", s.state}, {"last_error", s.last_error}, {"queued", queue_.size()}};
}

}  // namespace carehub::daemon
