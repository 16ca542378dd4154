// The Subscriber's life (session.hpp): create (settings checked, no I/O), start and stop, and the session
// thread's loop of connections with backoff between them. What happens on one connection is
// session_conversation.cpp; the private parts are session_impl.hpp.
#include "drivers/mqtt/session.hpp"

#include "core/thread_name.hpp"
#include "drivers/mqtt/session_impl.hpp"

namespace carehub::mqtt {

Delivery Delivery::now(carehub::Result<void> outcome) {
  auto shared = std::make_shared<carehub::Result<void>>(std::move(outcome));
  return Delivery{[](std::chrono::milliseconds) { return true; }, [shared] { return *shared; }};
}

Result<void> Subscriber::Impl::session(bool& was_up) {
  log.debug(component, "connecting", {{"broker", settings.connection.broker}});
  auto stream = Stream::open(endpoint, TlsSettings{settings.connection.verify_tls, settings.connection.ca_file},
                             settings.connection.connect_timeout, *wake);
  if (!stream) return stream.error();
  Conn c{std::move(*stream), packet::Decoder(settings.max_payload_bytes)};
  c.last_sent = now();
  auto r = converse(c);
  was_up = c.subscribed;
  // Whatever is still outstanding is abandoned unacknowledged: the broker resends it to the next
  // connection. From here on the watcher fires no Wakeup, so goodbye() and the next connect wait in peace.
  acks.abandon();
  watcher.forget_all();
  (void)watcher.take_signal();
  wake->clear();
  if (is_stopping() && c.connacked) goodbye(c);
  return r;
}

void Subscriber::Impl::run() {
  int failures = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (;;) {
    if (is_stopping()) break;
    bool was_up = false;
    auto r = session(was_up);
    if (is_stopping()) break;
    if (was_up) failures = 0;
    ++failures;
    const auto delay = backoff_delay(settings.connection.backoff, std::max(failures, acks.failures()), unit(rng));
    const std::string why = r ? std::string("the connection ended") : r.error().message;
    {
      std::lock_guard lock(mu);
      status.state = "reconnecting";
      status.connected_since.reset();
      status.last_error = why;
    }
    log.rate_limited(LogLevel::warning, component, component + ":connection", "connection-lost",
                     {{"broker", settings.connection.broker}, {"error", why}, {"retry_in_ms", delay.count()}},
                     std::chrono::seconds(30));
    std::unique_lock lock(mu);
    clock.wait_until(lock, cv, clock.monotonic() + delay, [&] { return stopping; });
  }
  std::lock_guard lock(mu);
  status.state = "stopped";
  status.connected_since.reset();
}

Subscriber::Subscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Subscriber>> Subscriber::create(SubscriberSettings settings, const Clock& clock, Logger& log,
                                                       std::string log_component) {
  auto endpoint = parse_broker(settings.connection.broker);
  if (!endpoint) return endpoint.error();
  settings.connection.tls = endpoint->tls;
  if (settings.topics.empty()) return make_error(Errc::invalid_argument, "no topic to subscribe to");
  if (settings.max_inflight == 0) return make_error(Errc::invalid_argument, "max_inflight must be at least 1");
  if (settings.connection.client_id.empty() && !settings.connection.clean_session) {
    return make_error(Errc::invalid_argument, "an empty client id needs clean_session (MQTT 3.1.1, 3.1.3.1)");
  }
  // Whatever the packets cannot carry (over-long strings, bad QoS) is found now, not at the first connect.
  packet::Connect probe{settings.connection.client_id, settings.connection.clean_session, 0, std::nullopt,
                        std::nullopt, std::nullopt};
  if (const auto& w = settings.connection.will) probe.will = packet::Will{w->topic, w->payload, w->qos, w->retained};
  if (!settings.connection.username.empty()) probe.username = settings.connection.username;
  if (!settings.connection.password.empty()) probe.password = settings.connection.password;
  if (auto r = packet::encode(probe); !r) return r.error();
  if (auto r = packet::encode(packet::Subscribe{1, settings.topics}); !r) return r.error();
  auto wake = Wakeup::create();
  if (!wake) return wake.error();
  return std::unique_ptr<Subscriber>(new Subscriber(std::make_unique<Impl>(
      std::move(settings), std::move(*endpoint), clock, log, std::move(log_component), std::move(*wake))));
}

Subscriber::~Subscriber() { stop(); }

void Subscriber::on_message(MessageHandler handler) { impl_->handler = std::move(handler); }
void Subscriber::on_connected(ConnectedHandler handler) { impl_->connected_handler = std::move(handler); }

void Subscriber::start() {
  auto& d = *impl_;
  std::lock_guard lock(d.mu);
  if (d.thread.joinable()) return;
  d.stopping = false;
  d.farewell.reset();
  d.wake->clear();
  d.status.state = "connecting";
  d.thread = std::thread([&d] {
    name_this_thread(d.component + "-in");
    d.run();
  });
}

void Subscriber::stop(const std::optional<Message>& farewell) {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    d.stopping = true;
    d.farewell = farewell;
  }
  d.wake->notify();
  d.cv.notify_all();
  if (d.thread.joinable()) d.thread.join();
  std::lock_guard lock(d.mu);
  d.status.state = "stopped";
  d.status.connected_since.reset();
}

ConnectionStatus Subscriber::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status;
}

const SubscriberSettings& Subscriber::settings() const { return impl_->settings; }

std::uint64_t Subscriber::acknowledged() const { return impl_->acked.load(); }

}  // namespace carehub::mqtt
