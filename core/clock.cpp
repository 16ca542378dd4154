#include "core/clock.hpp"

namespace carehub {

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point SystemClock::monotonic() const { return std::chrono::steady_clock::now(); }

ManualClock::ManualClock(TimePoint start) : now_(start) {}

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
