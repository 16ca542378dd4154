#include "drivers/mqtt/source.hpp"

#include "core/secret.hpp"
#include "core/time_json.hpp"
#include "drivers/mqtt/payload.hpp"

namespace carehub::mqtt {
namespace {

constexpr std::string_view kLog = "mqtt";

// A publisher chooses the topic (up to 64 KiB, a new one per message if it likes): what of it goes into a
// log line or the status is bounded, and it never keys the log rate limiter (the subscription does).
constexpr std::size_t kMaxShownTopic = 200;
std::string shown(std::string_view topic) { return bounded_log_value(topic, kMaxShownTopic); }

// The configured filter a topic arrived under; a rate-limit key we chose, not the publisher.
std::string filter_of(const std::vector<Subscription>& subscriptions, std::string_view topic) {
  for (const auto& s : subscriptions) {
    if (topic_matches(s.topic, topic)) return s.topic;
  }
  return "unsubscribed";
}

}  // namespace

std::string status_payload(std::string_view state, std::string_view hub_id, TimePoint now) {
  return nlohmann::json{{"state", state}, {"hub", hub_id}, {"time", format_rfc3339(now)}}.dump();
}

carehub::Result<std::unique_ptr<Source>> make_mqtt_source(const nlohmann::json& config, const std::string& path,
                                                     const SourceContext& context) {
  auto parsed = parse_source_config(config, path, context.hub_id);
  if (!parsed) return parsed.error();
  return std::unique_ptr<Source>(std::make_unique<MqttSource>(std::move(*parsed), context));
}

MqttSource::MqttSource(SourceConfig config, const SourceContext& context)
    : config_(std::move(config)), context_(context) {}

MqttSource::~MqttSource() { stop(); }

carehub::Result<void> MqttSource::start() {
  if (subscriber_) return {};
  SubscriberSettings settings;
  settings.connection = config_.connection;
  settings.max_payload_bytes = config_.max_payload_bytes;
  settings.max_inflight = config_.max_inflight;
  for (const auto& s : config_.subscriptions) settings.topics.push_back({s.topic, s.qos});
  if (!config_.password_file.empty()) {
    // A relative name is a systemd credential ($CREDENTIALS_DIRECTORY), as for every secret.
    auto password = carehub::read_secret(config_.password_file);
    if (!password) return carehub::make_error(password.error().code, "password_file: " + password.error().message);
    settings.connection.password = *password;
  }
  // The broker publishes this, retained, when the hub vanishes without saying goodbye (power cut, crash).
  settings.connection.will =
      Message{config_.status_topic, status_payload("offline", context_.hub_id, context_.clock.now()), 1, true};
  auto made = Subscriber::create(std::move(settings), context_.clock, context_.log, std::string(kLog));
  if (!made) return made.error();
  subscriber_ = std::move(*made);
  const auto& conn = subscriber_->settings().connection;
  if (conn.tls && !conn.verify_tls) {
    context_.log.warning(kLog, "tls-verification-off", {{"setting", "tls_verify=false"}, {"broker", conn.broker}});
  }
  if (conn.clean_session) {
    context_.log.warning(kLog, "clean-session-on",
                         {{"setting", "clean_session=true"},
                          {"risk", "QoS 1/2 messages sent while carehubd is down or reconnecting are dropped by the broker"}});
  }
  subscriber_->on_message([this](const Message& m) { return on_message(m); });
  // After every connect: "online", retained, replacing the will the broker may have published.
  subscriber_->on_connected([this] {
    return std::vector<Message>{
        Message{config_.status_topic, status_payload("online", context_.hub_id, context_.clock.now()), 1, true}};
  });
  subscriber_->start();
  return {};
}

void MqttSource::stop() {
  if (!subscriber_) return;
  // A clean goodbye: the broker does not publish the will then, so say "offline" ourselves.
  subscriber_->stop(
      Message{config_.status_topic, status_payload("offline", context_.hub_id, context_.clock.now()), 1, true});
  subscriber_.reset();
}

void MqttSource::bad(std::string_view counter, const std::string& key, const std::string& message) {
  context_.counters.add(counter);
  // The counter name is the stable reason; the message says which topic and why.
  context_.log.rate_limited(LogLevel::warning, kLog, "mqtt:" + key, "message-dropped", {{"reason", counter}, {"error", message}});
  std::lock_guard lock(mu_);
  last_error_ = message;
}

Delivery MqttSource::on_message(const Message& m) {
  const auto now = context_.clock.now();
  context_.counters.add("mqtt_messages");
  if (m.duplicate) context_.counters.add("mqtt_redelivered");  // sent before, never acknowledged
  {
    std::lock_guard lock(mu_);
    last_message_ = now;
    ++messages_;
  }
  // A message the broker delivers again (DUP after a lost acknowledgement, a retained state re-sent on
  // subscribe) gets the time of its first delivery: the same reading identity, so the pipeline reports a
  // duplicate instead of storing it twice (delivery_times.hpp). Every message, so packet ids stay current.
  const auto when = delivery_times_.time_for(m, now);
  if (when.repeat) context_.counters.add("mqtt_redeliveries_recognised");
  // Bad input is counted and then acknowledged: unacknowledged, the broker would redeliver it forever.
  const auto size = m.dropped_payload_bytes > 0 ? m.dropped_payload_bytes : m.payload.size();
  if (size > config_.max_payload_bytes) {
    bad("mqtt_oversize", "oversize:" + filter_of(config_.subscriptions, m.topic),
        shown(m.topic) + ": payload of " + std::to_string(size) + " bytes is over the limit of " +
            std::to_string(config_.max_payload_bytes) + "; skipped");
    return Delivery::now({});
  }
  const Subscription* sub = nullptr;
  for (const auto& s : config_.subscriptions) {
    if (topic_matches(s.topic, m.topic)) {
      sub = &s;
      break;
    }
  }
  if (!sub) return Delivery::now({});  // e.g. our own status topic under a broad filter
  std::string detail;  // may quote the payload: debug level only
  auto decoded = to_reading(*sub, m, when.time, &detail);
  if (!decoded) {
    context_.log.debug(kLog, "message-dropped-detail", {{"topic", shown(m.topic)}, {"error", detail}});
    bad("mqtt_bad_messages", "bad:" + sub->topic, shown(m.topic) + ": skipped: " + decoded.error().message);
    return Delivery::now({});
  }
  if (!*decoded) {
    context_.counters.add("mqtt_skipped");  // NULL/UNDEF, or an openHAB item this subscription does not map
    return Delivery::now({});
  }
  auto pending = std::make_shared<std::future<Result<IngestResult>>>(context_.sink.ingest({std::move(**decoded)}));
  return Delivery{
      [pending](std::chrono::milliseconds d) { return pending->wait_for(d) == std::future_status::ready; },
      [this, pending, sub, topic = m.topic, now]() -> Result<void> {
        Result<IngestResult> outcome = make_error(Errc::internal, "no answer");
        try {
          outcome = pending->get();
        } catch (const std::future_error& e) {  // the pipeline went away without answering
          outcome = make_error(Errc::unavailable, std::string("the pipeline did not answer: ") + e.what());
        }
        return stored(Message{topic, {}, 0, false, false}, *sub, std::move(outcome), now);
      }};
}

Result<void> MqttSource::stored(const Message& m, const Subscription& sub, Result<IngestResult> outcome,
                                TimePoint received) {
  if (!outcome) {
    bad("mqtt_ingest_errors", "ingest", shown(m.topic) + ": not stored, not acknowledged: " + outcome.error().message);
    return outcome.error();
  }
  if (outcome->status.empty() || outcome->status.front() == IngestStatus::rejected) {
    const std::string why = outcome->errors.empty() ? "no reason given" : outcome->errors.front();
    // The validation error may quote the reading's values: patient data, so only at debug level.
    bad("mqtt_rejected", "rejected:" + sub.topic, shown(m.topic) + ": refused by validation");
    context_.log.debug(kLog, "reading-rejected-detail", {{"topic", m.topic}, {"error", why}});
    return {};
  }
  context_.counters.add("mqtt_readings");
  std::lock_guard lock(mu_);
  ++readings_;
  last_reading_ = received;
  return {};
}

nlohmann::json MqttSource::status() const {
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : context_.counters.snapshot()) {
    if (name.starts_with("mqtt_")) counters[name.substr(5)] = value;
  }
  ConnectionStatus c{"stopped", {}, {}, 0};
  std::uint64_t acknowledged = 0;
  if (subscriber_) {
    c = subscriber_->status();
    acknowledged = subscriber_->acknowledged();
  }
  std::lock_guard lock(mu_);
  return {{"state", c.state},
          {"broker", config_.connection.broker},
          {"client_id", config_.connection.client_id},
          {"status_topic", config_.status_topic},
          {"connected_since", optional_time_json(c.connected_since)},
          {"connects", c.connects},
          {"last_message", optional_time_json(last_message_)},
          {"last_reading", optional_time_json(last_reading_)},
          {"last_error", !c.last_error.empty() ? c.last_error : last_error_},
          {"messages", messages_},
          {"readings", readings_},
          {"acknowledged", acknowledged},
          {"counters", counters}};
}

}  // namespace carehub::mqtt
