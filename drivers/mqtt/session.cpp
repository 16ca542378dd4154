#include "drivers/mqtt/session.hpp"

#include <poll.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "drivers/mqtt/ready_watcher.hpp"
#include "drivers/mqtt/transport.hpp"

namespace carehub::mqtt {
namespace {

using std::chrono::milliseconds;
using Mono = std::chrono::steady_clock::time_point;

// The longest a read waits before the loop looks at the Clock again. Deadlines are measured on the
// injected Clock, which a test may move without waking anyone; this bounds how late that is noticed.
constexpr milliseconds kTick{200};

milliseconds until(Mono deadline, Mono now) {
  if (deadline <= now) return milliseconds(0);
  return std::min(kTick, std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1));
}

std::string describe(packet::Type t) { return std::string(packet::to_string(t)); }

// Waits up to `timeout` for `fd` to become readable (the Wakeup), reading nothing from the socket. False on
// a timeout (or EINTR: the caller looks again either way).
bool wait_readable(int fd, milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0 && (p.revents & POLLIN) != 0;
}

}  // namespace

Delivery Delivery::now(carehub::Result<void> outcome) {
  auto shared = std::make_shared<carehub::Result<void>>(std::move(outcome));
  return Delivery{[](milliseconds) { return true; }, [shared] { return *shared; }};
}

struct Subscriber::Impl {
  // One network connection; the session (subscriptions, unacknowledged messages) outlives it at the broker.
  struct Conn {
    std::unique_ptr<Stream> stream;
    packet::Decoder decoder;
    Mono last_sent{};
    bool connacked = false;
    bool subscribed = false;
    std::optional<Mono> ping_deadline{};  // a PINGREQ is out; the broker must answer before this
    std::uint16_t suback_id = 0;
    Mono suback_deadline{};
    std::set<std::uint16_t> outgoing{};  // our QoS 1 publishes not yet acknowledged
    // Messages handed to the owner (or known durable) and not yet acknowledged, in receive order.
    struct Pending {
      std::shared_ptr<Outstanding> outstanding;
      std::uint16_t packet_id = 0;
      int qos = 0;
      std::string topic;
      bool resent = false;  // a QoS 2 message already made durable: only its PUBREC is due again
    };
    std::deque<Pending> inflight{};
    // A PUBLISH read while max_inflight were outstanding: handed over once the oldest is settled. Nothing
    // more is read meanwhile.
    std::optional<packet::Publish> held{};
  };

  SubscriberSettings settings;
  Endpoint endpoint;
  const Clock& clock;
  Logger& log;
  std::string component;
  std::unique_ptr<Wakeup> wake;
  MessageHandler handler;
  ConnectedHandler connected_handler;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::optional<Message> farewell;
  ConnectionStatus status{"stopped", {}, {}, 0};
  std::thread thread;
  std::atomic<std::uint64_t> acked{0};

  // Session state on our side, kept across connections (thread-only).
  std::set<std::uint16_t> awaiting_pubrel;  // QoS 2 messages made durable and PUBREC'd
  std::uint16_t last_id = 0;
  int sink_failures = 0;  // consecutive Deliveries that failed: they lengthen the backoff
  std::mt19937_64 rng{std::random_device{}()};
  std::array<char, 16 * 1024> buf{};
  ReadyWatcher watcher;  // after `wake`, which it fires

  Impl(SubscriberSettings s, Endpoint e, const Clock& c, Logger& l, std::string comp, std::unique_ptr<Wakeup> w)
      : settings(std::move(s)),
        endpoint(std::move(e)),
        clock(c),
        log(l),
        component(std::move(comp)),
        wake(std::move(w)),
        watcher(*wake) {}

  bool is_stopping() const {
    std::lock_guard lock(mu);
    return stopping;
  }

  std::uint16_t next_id() {
    if (++last_id == 0) last_id = 1;
    return last_id;
  }

  Mono now() const { return clock.monotonic(); }
  milliseconds keepalive() const { return settings.connection.keepalive; }

  Result<void> send(Conn& c, const packet::Packet& p) {
    auto bytes = packet::encode(p);
    if (!bytes) return make_error(Errc::internal, "cannot encode: " + bytes.error().message);
    if (auto r = c.stream->write(*bytes, settings.connection.operation_timeout); !r) {
      return make_error(r.error().code, "sending " + describe(packet::type_of(p)) + ": " + r.error().message);
    }
    c.last_sent = now();
    return {};
  }

  // The next packet: one already buffered, or whatever arrives within `wait`; nothing when none came.
  Result<std::optional<packet::Packet>> receive(Conn& c, milliseconds wait) {
    auto p = c.decoder.next();
    if (p && !*p) {
      auto n = c.stream->read(buf.data(), buf.size(), wait);
      if (!n) return n.error();
      if (*n == 0) return std::optional<packet::Packet>{};
      c.decoder.feed(std::string_view(buf.data(), *n));
      p = c.decoder.next();
    }
    if (!p) return make_error(Errc::invalid_argument, "malformed data from the broker: " + p.error().message);
    return p;
  }

  Result<void> publish(Conn& c, const Message& m) {
    packet::Publish p;
    p.topic = m.topic;
    p.payload = m.payload;
    p.qos = m.qos > 0 ? 1 : 0;  // we publish at most QoS 1: a status needs no exactly-once
    p.retain = m.retained;
    if (p.qos == 1) {
      p.packet_id = next_id();
      c.outgoing.insert(p.packet_id);
    }
    return send(c, p);
  }

  Result<void> connect(Conn& c) {
    const auto& s = settings.connection;
    packet::Connect pc;
    pc.client_id = s.client_id;
    pc.clean_session = s.clean_session;
    pc.keepalive_s = static_cast<std::uint16_t>(std::min<long long>(s.keepalive.count(), 65535));
    if (s.will) pc.will = packet::Will{s.will->topic, s.will->payload, std::min(s.will->qos, 2), s.will->retained};
    if (!s.username.empty()) pc.username = s.username;
    if (!s.password.empty()) pc.password = s.password;
    if (auto r = send(c, pc); !r) return r;
    const auto deadline = now() + s.connect_timeout;
    for (;;) {
      if (is_stopping()) return {};
      auto p = receive(c, until(deadline, now()));
      if (!p) return p.error();
      if (*p) {
        const auto* ack = std::get_if<packet::Connack>(&**p);
        if (!ack) return make_error(Errc::unavailable, "expected CONNACK, the broker sent " + describe(packet::type_of(**p)));
        if (ack->code != packet::ConnackCode::accepted) {
          return make_error(Errc::unavailable, "the broker refused the connection: " +
                                                   std::string(packet::to_string(ack->code)));
        }
        c.connacked = true;
        // Without a session at the broker, the QoS 2 identifiers we remember mean nothing any more.
        if (!ack->session_present) awaiting_pubrel.clear();
        log.info(component, "connected",
                 {{"broker", s.broker}, {"client_id", s.client_id}, {"session_present", ack->session_present}});
        return {};
      }
      if (now() >= deadline) {
        return make_error(Errc::timeout, "no CONNACK within " + std::to_string(s.connect_timeout.count()) + " ms");
      }
    }
  }

  Result<void> subscribed(Conn& c, const packet::Suback& ack) {
    if (ack.packet_id != c.suback_id) {
      return make_error(Errc::invalid_argument, "SUBACK for packet " + std::to_string(ack.packet_id) + ", expected " +
                                                    std::to_string(c.suback_id));
    }
    if (ack.codes.size() != settings.topics.size()) {
      return make_error(Errc::invalid_argument, "SUBACK with " + std::to_string(ack.codes.size()) + " return codes for " +
                                                    std::to_string(settings.topics.size()) + " topic filters");
    }
    for (std::size_t i = 0; i < ack.codes.size(); ++i) {
      const auto& t = settings.topics[i];
      if (ack.codes[i] == packet::kSubackFailure) {
        return make_error(Errc::unavailable, "the broker refused the subscription to \"" + t.filter + "\"");
      }
      if (ack.codes[i] < t.qos) {
        // A lower QoS than asked: the filter's messages may be lost in an outage.
        log.rate_limited(LogLevel::warning, component, component + ":granted:" + t.filter, "qos-downgraded",
                         {{"filter", t.filter}, {"granted_qos", ack.codes[i]}, {"requested_qos", t.qos}},
                         std::chrono::hours(1));
      }
    }
    c.subscribed = true;
    c.suback_id = 0;
    std::lock_guard lock(mu);
    status.state = "connected";
    status.connected_since = clock.now();
    ++status.connects;
    status.last_error.clear();
    return {};
  }

  // One PUBLISH from the broker: handed to the owner now; acknowledged by settle(), in order, once durable.
  Result<void> deliver(Conn& c, packet::Publish& p) {
    Conn::Pending pending;
    pending.packet_id = p.packet_id;
    pending.qos = p.qos;
    pending.topic = p.topic;
    if (p.qos == 2 && awaiting_pubrel.contains(p.packet_id)) {
      // Already durable; our PUBREC was lost on the way. It is queued, not sent now, to keep the order.
      pending.resent = true;
      pending.outstanding = std::make_shared<Outstanding>(Delivery::now({}));
    } else {
      if (!handler) return make_error(Errc::internal, "no message handler: " + p.topic + " not acknowledged");
      Message m{std::move(p.topic), std::move(p.payload), p.qos, p.retain, p.dup, p.dropped_payload_bytes, p.packet_id};
      pending.outstanding = std::make_shared<Outstanding>(handler(m));
    }
    watcher.watch(pending.outstanding);
    c.inflight.push_back(std::move(pending));
    return {};
  }

  // Acknowledges, oldest first, every outstanding message whose Delivery is done, and stops at the first
  // one that is not: nothing younger may be acknowledged before it (MQTT 3.1.1, 4.6.0-2 and -3). A failed
  // Delivery ends the connection without acknowledging it or anything after it.
  Result<void> settle(Conn& c) {
    while (!c.inflight.empty() && c.inflight.front().outstanding->ready.load()) {
      auto done = std::move(c.inflight.front());
      c.inflight.pop_front();
      auto outcome = done.outstanding->delivery.finish();
      if (!outcome) {
        if (done.qos == 0) continue;  // nothing to acknowledge and nothing the broker could resend
        ++sink_failures;
        std::string also;
        if (!c.inflight.empty()) {
          also = " (nor the " + std::to_string(c.inflight.size()) + " received after it)";
        }
        return make_error(outcome.error().code, "the message on " + done.topic + " is not durable (" +
                                                    outcome.error().message + "): not acknowledged" + also +
                                                    "; reconnecting so that the broker redelivers it");
      }
      if (!done.resent) sink_failures = 0;
      if (done.qos == 1) {
        if (auto r = send(c, packet::Puback{done.packet_id}); !r) return r;
      } else if (done.qos == 2) {
        if (auto r = send(c, packet::Pubrec{done.packet_id}); !r) return r;
        if (done.resent) continue;
        awaiting_pubrel.insert(done.packet_id);
      }
      if (done.qos > 0) acked.fetch_add(1);
    }
    return {};
  }

  Result<void> handle(Conn& c, packet::Packet& p) {
    if (auto* pub = std::get_if<packet::Publish>(&p)) return deliver(c, *pub);
    if (const auto* ack = std::get_if<packet::Puback>(&p)) {
      c.outgoing.erase(ack->packet_id);
      return {};
    }
    if (const auto* rel = std::get_if<packet::Pubrel>(&p)) {
      awaiting_pubrel.erase(rel->packet_id);
      return send(c, packet::Pubcomp{rel->packet_id});
    }
    if (const auto* sub = std::get_if<packet::Suback>(&p)) return subscribed(c, *sub);
    if (std::holds_alternative<packet::Pingresp>(p)) {
      c.ping_deadline.reset();
      return {};
    }
    return make_error(Errc::invalid_argument, "protocol error: unexpected " + describe(packet::type_of(p)) +
                                                  " from the broker");
  }

  // Connected: subscribe, publish the owner's status, then read and deliver until the connection ends.
  Result<void> converse(Conn& c) {
    if (auto r = connect(c); !r || is_stopping()) return r;
    c.suback_id = next_id();
    if (auto r = send(c, packet::Subscribe{c.suback_id, settings.topics}); !r) return r;
    c.suback_deadline = now() + settings.connection.operation_timeout;
    if (connected_handler) {
      for (const auto& m : connected_handler()) {
        if (auto r = publish(c, m); !r) return r;
      }
    }
    for (;;) {
      // A Wakeup fired by the watcher is cleared before the stop flag is read: one fired by stop() (which
      // sets the flag first) is then either seen here or still set for the next wait.
      if (watcher.take_signal()) wake->clear();
      if (is_stopping()) return {};
      if (auto r = settle(c); !r) return r;
      if (c.held && c.inflight.size() < settings.max_inflight) {
        auto p = std::move(*c.held);
        c.held.reset();
        // The PINGRESP may have waited unread behind the held message: the broker's time to answer
        // starts again now that we listen.
        if (c.ping_deadline) c.ping_deadline = now() + keepalive();
        if (auto r = deliver(c, p); !r) return r;
        continue;
      }
      const auto t = now();
      if (keepalive().count() > 0 && t - c.last_sent >= keepalive() && (!c.ping_deadline || c.held)) {
        // While holding, answers are not read: keep telling the broker we are alive all the same.
        if (auto r = send(c, packet::Pingreq{}); !r) return r;
        if (!c.ping_deadline) c.ping_deadline = t + keepalive();
      }
      std::optional<Mono> next;  // the earliest deadline: the next PINGREQ, the PINGRESP, the SUBACK
      if (keepalive().count() > 0) {
        next = c.ping_deadline && !c.held ? *c.ping_deadline : c.last_sent + keepalive();
      }
      if (!c.subscribed) next = next ? std::min(*next, c.suback_deadline) : c.suback_deadline;
      const auto wait = next ? until(*next, now()) : kTick;
      if (c.held) {
        // max_inflight outstanding: read nothing until the watcher says the oldest is ready (or stop()).
        // A Wakeup seen set is cleared at once, as below.
        if (wait_readable(wake->fd(), wait)) wake->clear();
        continue;
      }
      auto p = receive(c, wait);
      if (!p) return p.error();
      if (*p) {
        if (auto* pub = std::get_if<packet::Publish>(&**p); pub && c.inflight.size() >= settings.max_inflight) {
          // Reading pauses until the oldest delivery is durable.
          log.debug(component, "holding-next-message", {{"inflight", c.inflight.size()}, {"limit", "max_inflight"}});
          c.held = std::move(*pub);
          continue;
        }
        if (auto r = handle(c, **p); !r) return r;
        continue;
      }
      // The Wakeup ended the wait (a Delivery is ready, or stop()): the socket was not looked at, so this
      // is no proof of silence. Round again: the top of the loop settles or returns.
      if (wait_readable(wake->fd(), milliseconds(0))) {
        // Cleared now, not when take_signal() says so: the watcher fires the Wakeup before it raises its
        // flag, and a watcher preempted in between (2 cores, a loaded hub) left the Wakeup set and the
        // flag down, so every poll returned at once and this thread spun until the watcher ran again:
        // 70,000 polls a second at 1,000 readings/s (issue 15's profile). Clearing is safe: the Delivery's
        // ready flag and stop()'s flag are both set before the Wakeup fires, and both are looked at again
        // at the top of the loop, after this.
        wake->clear();
        continue;
      }
      // Nothing to read, even without waiting: now a passed deadline means silence.
      if (c.ping_deadline && now() >= *c.ping_deadline) {
        return make_error(Errc::timeout, "no answer to PINGREQ within " + std::to_string(keepalive().count()) +
                                             " ms: the connection is dead");
      }
      if (!c.subscribed && now() >= c.suback_deadline) {
        return make_error(Errc::timeout, "no SUBACK within " +
                                             std::to_string(settings.connection.operation_timeout.count()) + " ms");
      }
    }
  }

  // A clean stop: the farewell (waiting for its PUBACK), then DISCONNECT, so the broker drops the will.
  void goodbye(Conn& c) {
    wake->clear();  // stop() fired it; the last exchange must be able to wait for the broker
    std::optional<Message> last;
    {
      std::lock_guard lock(mu);
      last = farewell;
    }
    if (last && publish(c, *last)) {
      const auto id = last_id;
      const auto deadline = now() + settings.connection.operation_timeout;
      while (last->qos > 0 && c.outgoing.contains(id) && now() < deadline) {
        auto p = receive(c, until(deadline, now()));
        if (!p) break;
        // A PUBLISH now is left unacknowledged on purpose: the broker resends it to the next session.
        if (*p) {
          if (const auto* ack = std::get_if<packet::Puback>(&**p)) c.outgoing.erase(ack->packet_id);
        }
      }
    }
    (void)send(c, packet::Disconnect{});
  }

  Result<void> session(bool& was_up) {
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
    watcher.forget_all();
    (void)watcher.take_signal();
    wake->clear();
    if (is_stopping() && c.connacked) goodbye(c);
    return r;
  }

  void run() {
    int failures = 0;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (;;) {
      if (is_stopping()) break;
      bool was_up = false;
      auto r = session(was_up);
      if (is_stopping()) break;
      if (was_up) failures = 0;
      ++failures;
      const auto delay = backoff_delay(settings.connection.backoff, std::max(failures, sink_failures), unit(rng));
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
};

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
  d.thread = std::thread([&d] { d.run(); });
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
