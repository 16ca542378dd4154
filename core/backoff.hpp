#pragma once
// Exponential backoff with full jitter (delay drawn uniformly from [0, min(cap, base * 2^n)]): many hubs
// recovering from the same outage do not hammer a server in lockstep. Shared by the uploader and the
// stream drivers (openHAB, MQTT), so one formula decides every reconnect wait.
#include <chrono>

namespace carehub {

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{300000};
};

// `failures` counts consecutive failures (1 for the first); `unit` is a draw from [0, 1).
std::chrono::milliseconds backoff_delay(const BackoffPolicy& p, int failures, double unit);

}  // namespace carehub
