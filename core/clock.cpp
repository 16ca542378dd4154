#include "core/clock.hpp"

namespace carehub {

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point SystemClock::monotonic() const { return std::chrono::steady_clock::now(); }

bool SystemClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             std::chrono::steady_clock::time_point deadline, const std::function<bool()>& pred) const {
  return cv.wait_until(lock, deadline, pred);
}

ManualClock::ManualClock(TimePoint start) : now_(start) {}

bool ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             std::chrono::steady_clock::time_point deadline, const std::function<bool()>& pred) const {
  while (!pred()) {
    if (monotonic() >= deadline) return pred();
    cv.wait_for(lock, std::chrono::milliseconds(2));
  }
  return true;
}

TimePoint ManualClock::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

std::chrono::steady_clock::time_point ManualClock::monotonic() const {
  std::lock_guard lock(mu_);
  return mono_;
}

void ManualClock::set(TimePoint t) {
  std::lock_guard lock(mu_);
  if (t > now_) mono_ += t - now_;  // monotonic time never runs backwards
  now_ = t;
}

void ManualClock::advance(Millis d) {
  std::lock_guard lock(mu_);
  now_ += d;
  if (d.count() > 0) mono_ += d;
}

}  // namespace carehub
