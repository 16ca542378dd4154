#pragma once
// Exponential backoff with full jitter (delay drawn uniformly from [0, min(cap, base * 2^n)]): many hubs
// recovering from the same outage do not hammer a server in lockstep. Shared by the uploader and the
// drivers (openHAB, MQTT, BLE reconnects), so one formula decides every reconnect wait.
#include <chrono>
#include <functional>

namespace carehub {

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{300000};
};

// `failures` counts consecutive failures (1 for the first); `unit` is a draw from [0, 1).
std::chrono::milliseconds backoff_delay(const BackoffPolicy& p, int failures, double unit);

// Where the draws come from: injected, so a test fixes the sequence of delays.
using UnitDraw = std::function<double()>;
// Uniform draws from [0, 1), from a generator seeded by std::random_device. Each call makes an
// independent source; one source is not thread-safe (one per user, like the users' own threads).
UnitDraw random_unit_draw();

}  // namespace carehub
