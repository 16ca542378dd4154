#pragma once
// Every piece of time logic (rule windows, backoff, inactivity, receive stamps) reads a Clock, so tests
// drive time exactly with ManualClock instead of sleeping.
#include <chrono>
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
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
};

// A clock that moves only when told. Thread-safe: tests advance it while daemon threads read it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  TimePoint now() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
  void set(TimePoint t);
  void advance(Millis d);

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  std::chrono::steady_clock::time_point mono_{};
};

}  // namespace carehub
