#pragma once
// The time of an MQTT reading that carries none (formats `number` and `openhab-state`), chosen so that a
// message the broker delivers again maps to the reading it made the first time, while two genuine readings
// of the same value stay two. The reading's identity (core/reading.hpp, reading_uid) includes its time, so
// giving a redelivery the time of its first delivery is what makes the pipeline report it as a duplicate.
//
// What MQTT 3.1.1 guarantees and what this relies on (drivers/mqtt/README.md, "Redelivery"):
// - A QoS 1/2 PUBLISH the broker sends again, because our PUBACK/PUBREC did not reach it, carries DUP=1 and
//   its original packet identifier (3.3.1-1, 4.4.0-1), and the same topic and payload. A first attempt
//   carries DUP=0: it is never a redelivery, whatever it holds.
// - A packet identifier is free for reuse only once the broker has processed our acknowledgement (2.3.1-3
//   and -4): any message under an identifier we remember, but with other content or DUP=0, replaces it.
// - On every SUBSCRIBE the broker sends the retained message of each matching topic again, with RETAIN=1
//   (3.3.1-8, 3.8.4-3): the state it last published, not a new measurement.
// Only this process remembers: a redelivery to a carehubd restarted between its commit and its PUBACK is
// stored again (at-least-once, as before).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "core/time.hpp"
#include "drivers/mqtt/message.hpp"

namespace carehub::mqtt {

class DeliveryTimes {
 public:
  // Remembers the last `capacity` deliveries (by packet identifier) and topics (for retained states): far
  // more than a broker has in flight (mosquitto's max_inflight_messages: 20), and bounded whatever topics a
  // publisher invents.
  explicit DeliveryTimes(std::size_t capacity = 4096);

  struct Choice {
    TimePoint time;
    bool repeat = false;  // a redelivery or a retained state seen before: the time of its first delivery
  };
  // The time for `message`, received at `now`; remembers it. Not thread-safe: the subscriber's one thread.
  Choice time_for(const Message& message, TimePoint now);

 private:
  struct Entry {
    std::string digest;  // of topic and payload
    TimePoint time;
    std::uint64_t serial = 0;  // which insertion this is, so an eviction spares a newer one under the key
  };
  template <class Key>
  struct Memory {
    std::unordered_map<Key, Entry> entries;
    std::deque<std::pair<Key, std::uint64_t>> order;  // oldest first, for eviction
  };
  template <class Key>
  void remember(Memory<Key>& memory, const Key& key, Entry entry);

  std::size_t capacity_;
  std::uint64_t serial_ = 0;
  Memory<std::uint16_t> by_packet_;     // QoS 1/2 deliveries by packet identifier
  Memory<std::string> by_topic_;        // the last message on each topic (key: a digest of the topic)
};

}  // namespace carehub::mqtt
