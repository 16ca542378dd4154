#include "web/server/event_hub.hpp"

#include "core/time.hpp"

namespace carehub::web {

EventHub::Subscription::~Subscription() { hub_.remove(this); }

std::vector<Event> EventHub::Subscription::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || lost_ || closed_; });
  std::vector<Event> out;
  if (lost_) {
    out.push_back({"resync", {{"reason", "events were dropped: read the page again"}}, true});
    lost_ = false;
  }
  for (auto& e : queue_) out.push_back(std::move(e));
  queue_.clear();
  return out;
}

bool EventHub::Subscription::closed() const {
  auto& self = const_cast<Subscription&>(*this);
  std::lock_guard lock(self.mu_);
  return closed_;
}

EventHub::~EventHub() { close(); }

std::unique_ptr<EventHub::Subscription> EventHub::subscribe(bool technician) {
  std::lock_guard lock(mu_);
  if (closed_ || subs_.size() >= max_subscribers_) return nullptr;
  std::unique_ptr<Subscription> s(new Subscription(*this, technician));
  subs_.push_back(s.get());
  return s;
}

void EventHub::publish(Event e) {
  std::lock_guard lock(mu_);
  recent_.push_back({{"time", format_rfc3339(clock_.now())},
                     {"type", e.name},
                     {"data", e.data}});
  while (recent_.size() > recent_capacity_) recent_.pop_front();
  for (auto* s : subs_) {
    if (!e.patient && !s->technician_) continue;
    {
      std::lock_guard sl(s->mu_);
      if (s->queue_.size() >= capacity_) {
        s->queue_.pop_front();
        s->lost_ = true;
      }
      s->queue_.push_back(e);
    }
    s->cv_.notify_one();
  }
}

nlohmann::json EventHub::recent() const {
  std::lock_guard lock(mu_);
  return nlohmann::json(recent_);
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

void EventHub::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto* s : subs_) {
    {
      std::lock_guard sl(s->mu_);
      s->closed_ = true;
    }
    s->cv_.notify_one();
  }
}

void EventHub::remove(Subscription* s) {
  std::lock_guard lock(mu_);
  subs_.remove(s);
}

std::string sse_frame(const Event& e) {
  return "event: " + e.name + "\ndata: " + e.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

}  // namespace carehub::web
