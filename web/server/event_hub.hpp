#pragma once
// Fan-out of live events to the browsers' SSE streams, and the technician's "recent events" list.
// publish() never blocks its caller (the daemon bridge): each subscriber has a bounded queue and a
// subscriber that falls behind loses the oldest events and is told (a "resync" event: re-read the page).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace carehub::web {

struct Event {
  std::string name;   // SSE event field: reading, alert, daemon, resync
  nlohmann::json data;
  bool patient = true;  // false: technician-only (logins, actions); never sent to a display
};

class EventHub {
 public:
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // Waits up to `timeout` for events; empty on timeout or once the hub is closed.
    std::vector<Event> wait(std::chrono::milliseconds timeout);
    bool closed() const;

   private:
    friend class EventHub;
    Subscription(EventHub& hub, bool technician) : hub_(hub), technician_(technician) {}
    EventHub& hub_;
    const bool technician_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Event> queue_;
    bool lost_ = false;
    bool closed_ = false;
  };

  explicit EventHub(const Clock& clock, std::size_t queue_capacity = 256, std::size_t recent_capacity = 200,
                    std::size_t max_subscribers = 32)
      : clock_(clock), capacity_(queue_capacity), recent_capacity_(recent_capacity), max_subscribers_(max_subscribers) {}
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // nullptr when `max_subscribers` streams are open already (the caller answers 503).
  std::unique_ptr<Subscription> subscribe(bool technician);
  void publish(Event e);
  // Newest last; each with the time it was published.
  nlohmann::json recent() const;
  std::size_t subscribers() const;
  // Wakes every subscriber for good (shutdown).
  void close();

 private:
  void remove(Subscription* s);
  const Clock& clock_;
  const std::size_t capacity_, recent_capacity_, max_subscribers_;
  mutable std::mutex mu_;
  std::list<Subscription*> subs_;
  std::deque<nlohmann::json> recent_;
  bool closed_ = false;
};

// One SSE frame: "event: <name>\ndata: <json>\n\n" (the JSON is one line: dump() escapes newlines).
std::string sse_frame(const Event& e);

}  // namespace carehub::web
