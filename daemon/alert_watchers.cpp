#include "daemon/alert_watchers.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace carehub::daemon {

AlertWatchers::Subscription::Subscription(AlertWatchers& owner, std::size_t capacity, UniqueFd wake)
    : owner_(owner), capacity_(capacity), wake_(std::move(wake)) {}

AlertWatchers::Subscription::~Subscription() { owner_.remove(this); }

void AlertWatchers::Subscription::push(const AlertEvent& e) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= capacity_) {
      queue_.pop_front();
      ++lost_;
    }
    queue_.push_back(e);
  }
  const std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

std::vector<AlertEvent> AlertWatchers::Subscription::take(std::size_t& lost) {
  std::uint64_t drained = 0;
  (void)!::read(wake_.get(), &drained, sizeof drained);  // non-blocking: resets the wake-up
  std::lock_guard lock(mu_);
  std::vector<AlertEvent> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  lost = lost_;
  lost_ = 0;
  return out;
}

std::unique_ptr<AlertWatchers::Subscription> AlertWatchers::subscribe(std::size_t capacity) {
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return nullptr;
  std::unique_ptr<Subscription> s(new Subscription(*this, capacity, std::move(wake)));
  std::lock_guard lock(mu_);
  subscribers_.push_back(s.get());
  return s;
}

void AlertWatchers::publish(const AlertEvent& event) {
  std::lock_guard lock(mu_);
  for (auto* s : subscribers_) s->push(event);
}

std::size_t AlertWatchers::count() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

void AlertWatchers::remove(Subscription* s) {
  std::lock_guard lock(mu_);
  subscribers_.remove(s);
}

}  // namespace carehub::daemon
