#include "drivers/mqtt/source.hpp"

#include <fstream>

#include "drivers/mqtt/decode.hpp"

namespace carehub::mqtt {
namespace {

constexpr std::string_view kLog = "mqtt";

carehub::Result<std::string> read_secret(const std::string& path) {
  std::ifstream in(path);
  if (!in) return carehub::make_error(Errc::not_found, "password_file: cannot read " + path);
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ' || secret.back() == '\t')) secret.pop_back();
  if (secret.empty()) return carehub::make_error(Errc::invalid_argument, "password_file: " + path + " is empty");
  return secret;
}

nlohmann::json optional_time(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

std::string status_payload(std::string_view state, std::string_view hub_id, TimePoint now) {
  return nlohmann::json{{"state", state}, {"hub", hub_id}, {"time", format_rfc3339(now)}}.dump();
}

carehub::Result<std::unique_ptr<Source>> make_source(const nlohmann::json& config, const std::string& path,
                                                     const SourceContext& context) {
  auto parsed = parse_source_config(config, path, context.hub_id);
  if (!parsed) return parsed.error();
  return std::unique_ptr<Source>(std::make_unique<MqttSource>(std::move(*parsed), context));
}

MqttSource::MqttSource(SourceConfig config, const SourceContext& context)
    : config_(std::move(config)), context_(context) {}

MqttSource::~MqttSource() { stop(); }

carehub::Result<void> MqttSource::start() {
  if (connection_) return {};
  auto settings = config_.connection;
  if (!config_.password_file.empty()) {
    auto password = read_secret(config_.password_file);
    if (!password) return password.error();
    settings.password = *password;
  }
  // The broker publishes this, retained, when the hub vanishes without saying goodbye (power cut, crash).
  settings.will = Message{config_.status_topic, status_payload("offline", context_.hub_id, context_.clock.now()), 1, true};
  auto made = Connection::create(std::move(settings), context_.clock, context_.log, std::string(kLog));
  if (!made) return made.error();
  connection_ = std::move(*made);
  if (connection_->settings().tls && !connection_->settings().verify_tls) {
    context_.log.warning(kLog, "TLS certificate verification is OFF (tls_verify=false): the broker " +
                                   connection_->settings().broker + " is not authenticated");
  }
  if (connection_->settings().persist_dir.empty()) {
    context_.log.notice(kLog, "no persist_dir: a message received but not yet committed is lost if carehubd crashes");
  }
  connection_->on_message([this](const Message& m) { on_message(m); });
  connection_->on_connected([this](Connection& c) { return connected(c); });
  connection_->start();
  return {};
}

void MqttSource::stop() {
  if (!connection_) return;
  // A clean goodbye: the broker does not publish the will then, so say "offline" ourselves.
  connection_->stop(Message{config_.status_topic, status_payload("offline", context_.hub_id, context_.clock.now()), 1, true});
  connection_.reset();
}

carehub::Result<void> MqttSource::connected(Connection& c) {
  // With a persistent session the broker still knows the subscriptions; subscribing again is harmless and
  // covers a broker that lost its state.
  for (const auto& s : config_.subscriptions) {
    if (auto r = c.subscribe(s.topic, s.qos); !r) return r;
  }
  return c.publish(Message{config_.status_topic, status_payload("online", context_.hub_id, context_.clock.now()), 1, true});
}

void MqttSource::bad(std::string_view counter, const std::string& key, const std::string& message) {
  context_.counters.add(counter);
  context_.log.rate_limited(LogLevel::warning, kLog, "mqtt:" + key, message);
  std::lock_guard lock(mu_);
  last_error_ = message;
}

void MqttSource::on_message(const Message& m) {
  const auto now = context_.clock.now();
  context_.counters.add("mqtt_messages");
  {
    std::lock_guard lock(mu_);
    last_message_ = now;
    ++messages_;
  }
  if (m.payload.size() > config_.max_payload_bytes) {
    bad("mqtt_oversize", "oversize:" + m.topic,
        m.topic + ": payload of " + std::to_string(m.payload.size()) + " bytes is over the limit; skipped");
    return;
  }
  const Subscription* sub = nullptr;
  for (const auto& s : config_.subscriptions) {
    if (topic_matches(s.topic, m.topic)) {
      sub = &s;
      break;
    }
  }
  if (!sub) return;  // e.g. our own status topic under a broad filter
  auto decoded = decode(*sub, m, now);
  if (!decoded) {
    bad("mqtt_bad_messages", "bad:" + sub->topic, m.topic + ": skipped: " + decoded.error().message);
    return;
  }
  if (!*decoded) {
    context_.counters.add("mqtt_skipped");  // NULL/UNDEF, or an openHAB item this subscription does not map
    return;
  }
  // Block Paho's receive thread until the reading is committed: the message is done (and removed from
  // Paho's store) only when this returns.
  auto stored = context_.sink.ingest({std::move(**decoded)}).get();
  if (!stored) {
    bad("mqtt_ingest_errors", "ingest", m.topic + ": not stored: " + stored.error().message);
    return;
  }
  if (stored->status.front() == IngestStatus::rejected) {
    bad("mqtt_rejected", "rejected:" + sub->topic, m.topic + ": refused: " + stored->errors.front());
    return;
  }
  context_.counters.add("mqtt_readings");
  std::lock_guard lock(mu_);
  ++readings_;
  last_reading_ = now;
}

nlohmann::json MqttSource::status() const {
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : context_.counters.snapshot()) {
    if (name.starts_with("mqtt_")) counters[name.substr(5)] = value;
  }
  ConnectionStatus c{"stopped", {}, {}, 0};
  if (connection_) c = connection_->status();
  std::lock_guard lock(mu_);
  return {{"state", c.state},
          {"broker", config_.connection.broker},
          {"client_id", config_.connection.client_id},
          {"status_topic", config_.status_topic},
          {"connected_since", optional_time(c.connected_since)},
          {"connects", c.connects},
          {"last_message", optional_time(last_message_)},
          {"last_reading", optional_time(last_reading_)},
          {"last_error", !c.last_error.empty() ? c.last_error : last_error_},
          {"messages", messages_},
          {"readings", readings_},
          {"counters", counters}};
}

}  // namespace carehub::mqtt
