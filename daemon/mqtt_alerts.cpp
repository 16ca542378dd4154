#include "daemon/mqtt_alerts.hpp"

#include <fstream>

#include "core/json_check.hpp"
#include "core/secret.hpp"
#include "core/thread_name.hpp"
#include "rules/alert_json.hpp"

namespace carehub::daemon {
Result<MqttAlertsConfig> parse_mqtt_alerts(const nlohmann::json& section, const std::string& path,
                                           const std::string& hub_id) {
  JsonReader in;
  in.only_keys(section, path, {"broker", "client_id", "username", "password_file", "ca_file", "tls_verify", "prefix"});
  MqttAlertsConfig c;
  c.connection.client_id = "carehub-" + hub_id + "-alerts";
  c.prefix = "carehub/" + hub_id + "/alerts";
  if (auto v = in.string(section, path, "broker", true)) {
    if (!(v->starts_with("tcp://") || v->starts_with("ssl://") || v->starts_with("mqtt://") ||
          v->starts_with("mqtts://"))) {
      in.fail(path + "/broker", "expected tcp://, ssl://, mqtt:// or mqtts://host:port, found \"" + *v + "\"");
    }
    c.connection.broker = *v;
    c.connection.tls = v->starts_with("ssl://") || v->starts_with("mqtts://");
  }
  if (auto v = in.string(section, path, "client_id", false)) c.connection.client_id = *v;
  if (auto v = in.string(section, path, "username", false)) c.connection.username = *v;
  if (auto v = in.string(section, path, "password_file", false)) c.password_file = *v;
  if (auto v = in.string(section, path, "ca_file", false)) c.connection.ca_file = *v;
  if (auto v = in.boolean(section, path, "tls_verify", false)) c.connection.verify_tls = *v;
  if (auto v = in.string(section, path, "prefix", false)) {
    if (v->empty() || v->find_first_of("+#") != std::string::npos || v->back() == '/') {
      in.fail(path + "/prefix", "expected a topic without wildcards or a trailing /, found \"" + *v + "\"");
    }
    c.prefix = *v;
  }
  // A durable session: an acknowledgement published while the hub restarts is delivered afterwards.
  c.connection.clean_session = false;
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  return c;
}

MqttAlertPublisher::MqttAlertPublisher(MqttAlertsConfig config, Logger& log, Counters& counters)
    : config_(std::move(config)), log_(log), counters_(counters) {}

Result<std::unique_ptr<MqttAlertPublisher>> MqttAlertPublisher::create(MqttAlertsConfig config,
                                                                       const std::vector<Alert>& open,
                                                                       Acknowledge acknowledge, const Clock& clock,
                                                                       Logger& log, Counters& counters) {
  auto settings = config.connection;
  if (!config.password_file.empty()) {
    // A relative name is a systemd credential ($CREDENTIALS_DIRECTORY), as for every secret.
    auto password = read_secret(config.password_file);
    if (!password) return make_error(Errc::invalid_argument, "/alerts/mqtt/password_file: " + password.error().message);
    settings.password = *password;
  }
  auto acks = MqttAckReceiver::create(settings, config.prefix + "/ack", std::move(acknowledge), clock, log, counters);
  if (!acks) return acks.error();
  // Publishing keeps no session: what the broker holds of it (the retained view) is republished whole on
  // every connect. The display must see the hub go away: the open list is replaced by an "offline" marker.
  settings.client_id += "-pub";
  settings.clean_session = true;
  settings.will = mqtt::Message{config.prefix + "/hub", R"({"state":"offline"})", 1, true, false};
  auto connection = mqtt::Connection::create(settings, clock, log, "alerts-mqtt");
  if (!connection) return connection.error();
  std::unique_ptr<MqttAlertPublisher> p(new MqttAlertPublisher(std::move(config), log, counters));
  p->connection_ = std::move(*connection);
  p->acks_ = std::move(*acks);
  for (const auto& a : open) {
    if (a.notify && a.state != AlertState::closed) p->shown_[a.id] = {a, {}};
  }
  p->connection_->on_connected([raw = p.get()](mqtt::Connection& c) { return raw->on_connected(c); });
  return p;
}

MqttAlertPublisher::~MqttAlertPublisher() { stop(); }

void MqttAlertPublisher::start() {
  worker_ = std::thread([this] {
    name_this_thread("alert-publisher");
    run();
  });
  connection_->start();
  acks_->start();
}

void MqttAlertPublisher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  acks_->stop();  // an acknowledgement being committed finishes first
  if (worker_.joinable()) worker_.join();
  connection_->stop(mqtt::Message{config_.prefix + "/hub", R"({"state":"offline"})", 1, true, false});
}

void MqttAlertPublisher::show(const Alert& a) {
  if (a.notify && a.state != AlertState::closed) shown_[a.id] = {a, {}};
  else shown_.erase(a.id);
  if (!shown_.contains(a.id)) cleared_.insert(a.id);
  if (queued_.insert(a.id).second) outbox_.push_back(a.id);
  open_dirty_ = true;
}

const std::string& MqttAlertPublisher::Shown::text() const {
  if (json.empty()) json = rules::alert_to_json(alert).dump();
  return json;
}

mqtt::Message MqttAlertPublisher::open_list_locked() const {
  // The compact dump of the JSON array of these alerts, newest first, from each one's cached text.
  std::string list = "[";
  for (auto it = shown_.rbegin(); it != shown_.rend(); ++it) {
    if (list.size() > 1) list += ',';
    list += it->second.text();
  }
  list += ']';
  return {config_.prefix + "/open", std::move(list), 1, true, false};
}

void MqttAlertPublisher::publish(const AlertEvent& event) {
  if (!event.alert.notify) return;  // silenced by a category filter: recorded and synced only
  {
    std::lock_guard lock(mu_);
    show(event.alert);
  }
  cv_.notify_all();
}

std::vector<mqtt::Message> MqttAlertPublisher::snapshot_locked() const {
  std::vector<mqtt::Message> out;
  for (const auto& id : cleared_) out.push_back({config_.prefix + "/" + id, "", 1, true, false});
  for (auto it = shown_.rbegin(); it != shown_.rend(); ++it) {
    out.push_back({config_.prefix + "/" + it->first, it->second.text(), 1, true, false});
  }
  out.push_back(open_list_locked());
  out.push_back({config_.prefix + "/hub", R"({"state":"online"})", 1, true, false});
  return out;
}

Result<void> MqttAlertPublisher::on_connected(mqtt::Connection& c) {
  // A broker restarted without persistence forgot the retained view: publish it whole again.
  std::vector<mqtt::Message> all;
  {
    std::lock_guard lock(mu_);
    all = snapshot_locked();
  }
  for (const auto& m : all) {
    if (auto r = c.publish(m); !r) return r;
  }
  std::lock_guard lock(mu_);
  cleared_.clear();  // the broker has dropped them now
  return {};
}

void MqttAlertPublisher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !outbox_.empty() || open_dirty_; });
    if (stopping_) return;
    // Each alert's own topic first (what the display reacts to), then the open list once for all of them.
    mqtt::Message message;
    if (!outbox_.empty()) {
      const auto id = std::move(outbox_.front());
      outbox_.pop_front();
      queued_.erase(id);
      // Its latest state: later changes of the alert replace what was there when it was queued.
      const auto shown = shown_.find(id);
      message = {config_.prefix + "/" + id, shown != shown_.end() ? shown->second.text() : "", 1, true, false};
    } else {
      message = open_list_locked();
      open_dirty_ = false;
    }
    lock.unlock();
    Result<void> sent = connection_->connected() ? connection_->publish(message)
                                                 : Result<void>(make_error(Errc::unavailable, "not connected"));
    // Not connected: the retained view is republished whole on the next connect, so this message is
    // covered by that snapshot and can go.
    counters_.add(sent ? "alerts_mqtt_published" : "alerts_mqtt_deferred");
    lock.lock();
  }
}

nlohmann::json MqttAlertPublisher::status() const {
  const auto s = connection_->status();
  std::lock_guard lock(mu_);
  return {{"broker", config_.connection.broker}, {"state", s.state}, {"last_error", s.last_error},
          {"shown", shown_.size()}, {"queued", outbox_.size() + (open_dirty_ ? 1 : 0)}, {"acks", acks_->status()}};
}

}  // namespace carehub::daemon
