#include "drivers/mqtt/connection.hpp"

#include <mqtt/async_client.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "core/thread_name.hpp"

namespace carehub::mqtt {
namespace {

// Paho reports failures as exceptions; this is the one place they become carehub errors.
template <class F>
carehub::Result<void> guarded(std::string_view what, F&& f) {
  try {
    f();
    return {};
  } catch (const ::mqtt::exception& e) {
    return carehub::make_error(Errc::unavailable, std::string(what) + ": " + e.what());
  } catch (const std::exception& e) {
    return carehub::make_error(Errc::unavailable, std::string(what) + ": " + e.what());
  }
}

}  // namespace

std::string paho_uri(const std::string& broker) {
  if (broker.starts_with("mqtts://")) return "ssl://" + broker.substr(8);
  if (broker.starts_with("mqtt://")) return "tcp://" + broker.substr(7);
  return broker;
}

struct Connection::Impl {
  ConnectionSettings settings;
  const Clock& clock;
  Logger& log;
  std::string component;
  std::unique_ptr<::mqtt::async_client> client;
  MessageHandler message_handler;
  ConnectedHandler connected_handler;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool lost = false;  // the connection dropped since the last connect
  std::thread thread;
  ConnectionStatus status{"stopped", {}, {}, 0};
  std::mt19937_64 rng{std::random_device{}()};

  Impl(ConnectionSettings s, const Clock& c, Logger& l, std::string comp)
      : settings(std::move(s)), clock(c), log(l), component(std::move(comp)) {}

  ::mqtt::connect_options options() const {
    ::mqtt::connect_options_builder b;
    b.clean_session(settings.clean_session)
        .keep_alive_interval(settings.keepalive)
        .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(settings.connect_timeout) +
                         std::chrono::seconds(1))
        .automatic_reconnect(false);  // we reconnect ourselves, with our backoff on our clock
    if (!settings.username.empty()) b.user_name(settings.username);
    if (!settings.password.empty()) b.password(settings.password);
    if (settings.will) {
      b.will(::mqtt::message(settings.will->topic, settings.will->payload, settings.will->qos, settings.will->retained));
    }
    if (settings.tls) {
      ::mqtt::ssl_options_builder ssl;
      ssl.enable_server_cert_auth(settings.verify_tls).verify(settings.verify_tls);
      if (!settings.ca_file.empty()) ssl.trust_store(settings.ca_file);
      b.ssl(ssl.finalize());
    }
    return b.finalize();
  }

  void set_state(std::string state) {
    std::lock_guard lock(mu);
    status.state = std::move(state);
  }

  carehub::Result<void> connect_once() {
    auto r = guarded("connect to " + settings.broker, [&] {
      auto tok = client->connect(options());
      if (!tok->wait_for(settings.connect_timeout)) throw ::mqtt::exception(-1, "timed out");
    });
    if (!r) return r;
    if (connected_handler) {
      if (auto h = connected_handler(*outer); !h) {
        (void)guarded("disconnect", [&] { client->disconnect()->wait_for(settings.operation_timeout); });
        return h;
      }
    }
    return {};
  }

  void run() {
    int failures = 0;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (;;) {
      {
        std::unique_lock lock(mu);
        if (stopping) return;
        lost = false;
      }
      auto connected = connect_once();
      if (connected) {
        failures = 0;
        {
          std::unique_lock lock(mu);
          status.state = "connected";
          status.connected_since = clock.now();
          ++status.connects;
          status.last_error.clear();
        }
        log.info(component, "connected", {{"broker", settings.broker}, {"client_id", settings.client_id}});
        std::unique_lock lock(mu);
        // Paho tells us through the connection-lost handler; nothing to time here.
        cv.wait(lock, [&] { return stopping || lost; });
        if (stopping) return;
        status.state = "reconnecting";
        status.connected_since.reset();
        continue;  // the error was recorded by the handler; reconnect at once, then back off
      }
      ++failures;
      const auto delay = backoff_delay(settings.backoff, failures, unit(rng));
      {
        std::lock_guard lock(mu);
        status.state = "reconnecting";
        status.last_error = connected.error().message;
      }
      log.rate_limited(LogLevel::warning, component, component + ":connect", "connect-failed",
                       {{"broker", settings.broker}, {"error", connected.error().message}, {"retry_in_ms", delay.count()}},
                       std::chrono::seconds(30));
      std::unique_lock lock(mu);
      clock.wait_until(lock, cv, clock.monotonic() + delay, [&] { return stopping; });
    }
  }

  Connection* outer = nullptr;
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->outer = this; }

carehub::Result<std::unique_ptr<Connection>> Connection::create(ConnectionSettings settings, const Clock& clock,
                                                                 Logger& log, std::string log_component) {
  settings.broker = paho_uri(settings.broker);
  if (settings.broker.starts_with("ssl://")) settings.tls = true;
  auto impl = std::make_unique<Impl>(std::move(settings), clock, log, std::move(log_component));
  auto made = guarded("broker " + impl->settings.broker, [&] {
    // Memory persistence: what the publisher sends is republished from its own state after a restart.
    impl->client = std::make_unique<::mqtt::async_client>(impl->settings.broker, impl->settings.client_id,
                                                          static_cast<::mqtt::iclient_persistence*>(nullptr));
  });
  if (!made) return carehub::make_error(Errc::invalid_argument, made.error().message);
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Connection::~Connection() { stop(); }

void Connection::on_message(MessageHandler handler) { impl_->message_handler = std::move(handler); }
void Connection::on_connected(ConnectedHandler handler) { impl_->connected_handler = std::move(handler); }

void Connection::start() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.thread.joinable()) return;
    d.stopping = false;
    d.status.state = "connecting";
  }
  d.client->set_connection_lost_handler([&d](const std::string& cause) {
    {
      std::lock_guard lock(d.mu);
      d.lost = true;
      d.status.last_error = "connection lost" + (cause.empty() ? std::string() : ": " + cause);
    }
    d.log.rate_limited(LogLevel::warning, d.component, d.component + ":lost", "connection-lost",
                       {{"broker", d.settings.broker}, {"error", cause}}, std::chrono::seconds(30));
    d.cv.notify_all();
  });
  d.client->set_message_callback([&d](::mqtt::const_message_ptr m) {
    if (!m || !d.message_handler) return;
    Message msg{m->get_topic(), m->to_string(), m->get_qos(), m->is_retained(), m->is_duplicate()};
    try {
      d.message_handler(msg);
    } catch (const std::exception& e) {  // never let anything unwind into Paho's C thread
      d.log.error(d.component, "message-handler-failed", {{"error", e.what()}});
    }
  });
  d.thread = std::thread([&d] {
    name_this_thread(d.component + "-out");
    d.run();
  });
}

void Connection::stop(const std::optional<Message>& farewell) {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    d.stopping = true;
  }
  d.cv.notify_all();
  if (d.thread.joinable()) d.thread.join();
  if (d.client && d.client->is_connected()) {
    if (farewell) (void)publish(*farewell);
    (void)guarded("disconnect", [&] { d.client->disconnect()->wait_for(d.settings.operation_timeout); });
  }
  std::lock_guard lock(d.mu);
  d.status.state = "stopped";
  d.status.connected_since.reset();
}

carehub::Result<void> Connection::subscribe(const std::string& topic, int qos) {
  auto& d = *impl_;
  return guarded("subscribe " + topic, [&] {
    auto tok = d.client->subscribe(topic, qos);
    if (!tok->wait_for(d.settings.operation_timeout)) throw ::mqtt::exception(-1, "timed out");
    const auto response = tok->get_subscribe_response();
    const auto& granted = response.get_reason_codes();
    if (!granted.empty() && static_cast<int>(granted.front()) >= 0x80) throw ::mqtt::exception(-1, "refused by the broker");
  });
}

carehub::Result<void> Connection::publish(const Message& message) {
  auto& d = *impl_;
  return guarded("publish " + message.topic, [&] {
    auto tok = d.client->publish(message.topic, message.payload.data(), message.payload.size(), message.qos,
                                 message.retained);
    if (!tok->wait_for(d.settings.operation_timeout)) throw ::mqtt::exception(-1, "timed out");
  });
}

bool Connection::connected() const { return impl_->client && impl_->client->is_connected(); }

ConnectionStatus Connection::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status;
}

const ConnectionSettings& Connection::settings() const { return impl_->settings; }

}  // namespace carehub::mqtt
