#pragma once
// The subscriber's acknowledgement bookkeeping (private to drivers/mqtt/session*.cpp): the messages handed
// to the owner and not yet acknowledged, in receive order, and the QoS 2 messages made durable whose
// PUBREL is still due. No socket here: settle() says which acknowledgements are due, as the bytes to send,
// and the session sends them in ONE write (one commit makes a run of messages durable at once: a write per
// PUBACK was one syscall per reading, issue 15).
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/result.hpp"
#include "drivers/mqtt/ready_watcher.hpp"

namespace carehub::mqtt {

// What one settle() found: the acknowledgements due, oldest first, and the failure that stopped it.
struct Settled {
  std::string acknowledgements;  // PUBACK / PUBREC packets, in receive order, ready to be written as one
  std::uint64_t acknowledged = 0;  // QoS 1/2 messages acknowledged by those bytes (not a repeated PUBREC)
  // A Delivery that failed: it is not acknowledged, nor anything received after it. The connection must be
  // dropped (after sending `acknowledgements`, which are all older) so that the broker redelivers them.
  std::optional<carehub::Error> failure;
};

class Acknowledgements {
 public:
  // A message handed to the owner (or, `resent`, a QoS 2 message already durable whose PUBREC was lost).
  void add(std::shared_ptr<Outstanding> outstanding, std::uint16_t packet_id, int qos, std::string topic,
           bool resent = false);
  [[nodiscard]] std::size_t in_flight() const { return inflight_.size(); }

  // Takes, oldest first, every message whose Delivery is ready (Outstanding::ready), and stops at the first
  // that is not: nothing younger may be acknowledged before it (MQTT 3.1.1, 4.6.0-2 and -3).
  [[nodiscard]] Settled settle();

  // QoS 2: whether the message with this id was made durable and PUBREC'd (a redelivery needs only the
  // PUBREC again), and the broker's PUBREL that ends it.
  [[nodiscard]] bool durable_qos2(std::uint16_t packet_id) const { return awaiting_pubrel_.contains(packet_id); }
  void released(std::uint16_t packet_id) { awaiting_pubrel_.erase(packet_id); }
  // A connect without a session at the broker: the QoS 2 ids remembered mean nothing any more.
  void session_absent() { awaiting_pubrel_.clear(); }
  // The connection ended: what is in flight is abandoned unacknowledged (the broker resends it).
  void abandon() { inflight_.clear(); }
  // Consecutive Deliveries that failed, across connections: they lengthen the reconnect backoff.
  [[nodiscard]] int failures() const { return failures_; }

 private:
  struct Pending {
    std::shared_ptr<Outstanding> outstanding;
    std::uint16_t packet_id = 0;
    int qos = 0;
    std::string topic;  // for the error that names a failed message
    bool resent = false;
  };
  std::deque<Pending> inflight_;
  std::set<std::uint16_t> awaiting_pubrel_;
  int failures_ = 0;
};

}  // namespace carehub::mqtt
