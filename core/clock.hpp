#pragma once
// Every piece of time logic (rule windows, backoff, inactivity, receive stamps) reads a Clock, so tests
// drive time exactly with ManualClock instead of sleeping.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "core/time.hpp"

namespace carehub {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: stamps readings, drives rule windows measured on reading times.
  virtual TimePoint now() const = 0;
  // Monotonic time: measures intervals (backoff, timeouts) immune to the hub's clock being set.
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
  // Waits on `cv` (with `lock` held, as condition_variable::wait_until) until `pred()` holds or this
  // clock's monotonic time reaches `deadline`. Returns pred(). Timed waits go through here so that a
  // backoff or a rule deadline follows the injected clock, not the wall.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          std::chrono::steady_clock::time_point deadline, const std::function<bool()>& pred) const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  std::chrono::steady_clock::time_point deadline, const std::function<bool()>& pred) const override;
};

// A clock that moves only when told. Thread-safe: tests advance it while daemon threads read it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  TimePoint now() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
  // Re-checks `pred` and the manual deadline every few real milliseconds: a wake-up missed between a
  // check and the wait costs a few milliseconds, never a wrong answer. Tests only.
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  std::chrono::steady_clock::time_point deadline, const std::function<bool()>& pred) const override;
  void set(TimePoint t);
  void advance(Millis d);

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  std::chrono::steady_clock::time_point mono_{};
};

}  // namespace carehub
