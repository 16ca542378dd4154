// One connection's conversation with the broker (Subscriber::Impl, session_impl.hpp): CONNECT and CONNACK,
// SUBSCRIBE, the owner's status, then reading, delivering and acknowledging until the connection ends; the
// farewell of a clean stop. The connection's life around it is session.cpp.
#include <poll.h>

#include "drivers/mqtt/session_impl.hpp"

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

Result<void> Subscriber::Impl::send(Conn& c, const packet::Packet& p) {
  auto bytes = packet::encode(p);
  if (!bytes) return make_error(Errc::internal, "cannot encode: " + bytes.error().message);
  return send_bytes(c, *bytes, describe(packet::type_of(p)));
}

Result<void> Subscriber::Impl::send_bytes(Conn& c, std::string_view bytes, std::string_view what) {
  if (auto r = c.stream->write(bytes, settings.connection.operation_timeout); !r) {
    return make_error(r.error().code, "sending " + std::string(what) + ": " + r.error().message);
  }
  c.last_sent = now();
  return {};
}

// The next packet: one already buffered, or whatever arrives within `wait`; nothing when none came.
Result<std::optional<packet::Packet>> Subscriber::Impl::receive(Conn& c, milliseconds wait) {
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

Result<void> Subscriber::Impl::publish(Conn& c, const Message& m) {
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

Result<void> Subscriber::Impl::connect(Conn& c) {
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
      if (!ack->session_present) acks.session_absent();
      log.info(component, "connected",
               {{"broker", s.broker}, {"client_id", s.client_id}, {"session_present", ack->session_present}});
      return {};
    }
    if (now() >= deadline) {
      return make_error(Errc::timeout, "no CONNACK within " + std::to_string(s.connect_timeout.count()) + " ms");
    }
  }
}

Result<void> Subscriber::Impl::subscribed(Conn& c, const packet::Suback& ack) {
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
Result<void> Subscriber::Impl::deliver(packet::Publish& p) {
  std::shared_ptr<Outstanding> outstanding;
  bool resent = false;
  if (p.qos == 2 && acks.durable_qos2(p.packet_id)) {
    // Already durable; our PUBREC was lost on the way. It is queued, not sent now, to keep the order.
    resent = true;
    outstanding = std::make_shared<Outstanding>(Delivery::now({}));
  } else {
    if (!handler) return make_error(Errc::internal, "no message handler: " + p.topic + " not acknowledged");
    Message m{std::move(p.topic), std::move(p.payload), p.qos, p.retain, p.dup, p.dropped_payload_bytes, p.packet_id};
    outstanding = std::make_shared<Outstanding>(handler(m));
    p.topic = std::move(m.topic);  // the handler had it by reference; kept for an error naming the message
  }
  watcher.watch(outstanding);
  acks.add(std::move(outstanding), p.packet_id, p.qos, std::move(p.topic), resent);
  return {};
}

// Acknowledges, oldest first, every outstanding message whose Delivery is done, in ONE write, and stops at
// the first one that is not (acknowledgements.hpp). A failed Delivery ends the connection without
// acknowledging it or anything after it; the older ones' acknowledgements go out first.
Result<void> Subscriber::Impl::settle(Conn& c) {
  auto settled = acks.settle();
  if (!settled.acknowledgements.empty()) {
    if (auto r = send_bytes(c, settled.acknowledgements, "acknowledgements"); !r) return r;
    acked.fetch_add(settled.acknowledged);
  }
  if (settled.failure) return *settled.failure;
  return {};
}

Result<void> Subscriber::Impl::handle(Conn& c, packet::Packet& p) {
  if (auto* pub = std::get_if<packet::Publish>(&p)) return deliver(*pub);
  if (const auto* ack = std::get_if<packet::Puback>(&p)) {
    c.outgoing.erase(ack->packet_id);
    return {};
  }
  if (const auto* rel = std::get_if<packet::Pubrel>(&p)) {
    acks.released(rel->packet_id);
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
Result<void> Subscriber::Impl::converse(Conn& c) {
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
    if (c.held && acks.in_flight() < settings.max_inflight) {
      auto p = std::move(*c.held);
      c.held.reset();
      // The PINGRESP may have waited unread behind the held message: the broker's time to answer
      // starts again now that we listen.
      if (c.ping_deadline) c.ping_deadline = now() + keepalive();
      if (auto r = deliver(p); !r) return r;
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
      if (auto* pub = std::get_if<packet::Publish>(&**p); pub && acks.in_flight() >= settings.max_inflight) {
        // Reading pauses until the oldest delivery is durable.
        log.debug(component, "holding-next-message", {{"inflight", acks.in_flight()}, {"limit", "max_inflight"}});
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
      // Its signal too: the top of the loop would otherwise clear the Wakeup a second time (a read syscall
      // per ready run, for nothing). A Wakeup fired after the clear above stays set for the next wait.
      (void)watcher.take_signal();
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
void Subscriber::Impl::goodbye(Conn& c) {
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

}  // namespace carehub::mqtt
