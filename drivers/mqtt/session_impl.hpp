#pragma once
// The Subscriber's insides (private to drivers/mqtt/session.cpp, its life: create, start, stop, reconnect;
// and session_conversation.cpp, one connection's conversation with the broker). The acknowledgement
// bookkeeping is acknowledgements.hpp, the wait on Deliveries ready_watcher.hpp.
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "drivers/mqtt/acknowledgements.hpp"
#include "drivers/mqtt/ready_watcher.hpp"
#include "drivers/mqtt/session.hpp"
#include "drivers/mqtt/transport.hpp"

namespace carehub::mqtt {

struct Subscriber::Impl {
  using Mono = std::chrono::steady_clock::time_point;

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

  // Session state on our side, kept across connections (thread-only): the messages in flight (abandoned at
  // the end of each connection) and the QoS 2 ids made durable.
  Acknowledgements acks;
  std::uint16_t last_id = 0;
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
  std::chrono::milliseconds keepalive() const { return settings.connection.keepalive; }

  // session.cpp: the reconnect loop and one connection's life.
  void run();
  Result<void> session(bool& was_up);

  // session_conversation.cpp: one connection's conversation.
  Result<void> send(Conn& c, const packet::Packet& p);
  Result<void> send_bytes(Conn& c, std::string_view bytes, std::string_view what);
  Result<std::optional<packet::Packet>> receive(Conn& c, std::chrono::milliseconds wait);
  Result<void> publish(Conn& c, const Message& m);
  Result<void> connect(Conn& c);
  Result<void> subscribed(Conn& c, const packet::Suback& ack);
  Result<void> deliver(packet::Publish& p);
  Result<void> settle(Conn& c);
  Result<void> handle(Conn& c, packet::Packet& p);
  Result<void> converse(Conn& c);
  void goodbye(Conn& c);
};

}  // namespace carehub::mqtt
