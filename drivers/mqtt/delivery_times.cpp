#include "drivers/mqtt/delivery_times.hpp"

#include <algorithm>

#include "core/reading.hpp"

namespace carehub::mqtt {
namespace {

// One millisecond: the resolution of a reading's time in its identity (reading_uid).
constexpr std::chrono::milliseconds kTick{1};

}  // namespace

DeliveryTimes::DeliveryTimes(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

template <class Key>
void DeliveryTimes::remember(Memory<Key>& memory, const Key& key, Entry entry) {
  entry.serial = ++serial_;
  memory.order.emplace_back(key, entry.serial);
  memory.entries.insert_or_assign(key, std::move(entry));
  // Replaced entries leave stale places in `order`: evict by place, but only what is still that entry.
  while (memory.order.size() > capacity_) {
    const auto [old_key, old_serial] = memory.order.front();
    memory.order.pop_front();
    auto it = memory.entries.find(old_key);
    if (it != memory.entries.end() && it->second.serial == old_serial) memory.entries.erase(it);
  }
}

DeliveryTimes::Choice DeliveryTimes::time_for(const Message& m, TimePoint now) {
  // A digest, not the bytes: payloads may be 64 KiB and topics as long, thousands of them.
  const std::string digest = name_uuid("mqtt-delivery\n" + m.topic + '\n' + m.payload);
  const std::string topic_key = name_uuid("mqtt-topic\n" + m.topic);
  Choice choice{now, false};
  const bool has_id = m.qos > 0 && m.packet_id != 0;
  auto by_id = has_id ? by_packet_.entries.find(m.packet_id) : by_packet_.entries.end();
  auto last = by_topic_.entries.find(topic_key);
  if (m.duplicate && by_id != by_packet_.entries.end() && by_id->second.digest == digest) {
    choice = {by_id->second.time, true};  // the broker resends what it sent us before
  } else if (m.retained && last != by_topic_.entries.end() && last->second.digest == digest) {
    choice = {last->second.time, true};  // the retained state, re-sent on subscribe: nothing new happened
  } else if (last != by_topic_.entries.end() && last->second.time >= now) {
    // A genuine new message in the same millisecond as the last on its topic (a backlog drained at once):
    // one tick later, so that two identical readings keep two identities.
    choice.time = last->second.time + kTick;
  }
  if (has_id) remember(by_packet_, m.packet_id, Entry{digest, choice.time});
  if (!choice.repeat || last == by_topic_.entries.end() || last->second.time < choice.time) {
    remember(by_topic_, topic_key, Entry{digest, choice.time});
  }
  return choice;
}

}  // namespace carehub::mqtt
