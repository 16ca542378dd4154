#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace carehub {

std::chrono::milliseconds backoff_delay(const BackoffPolicy& p, int failures, double unit) {
  const int exponent = std::clamp(failures, 1, 41) - 1;  // 2^40 ms is past any sane cap; avoids overflow
  const double ceiling = std::min(static_cast<double>(p.cap.count()),
                                  static_cast<double>(p.base.count()) * std::ldexp(1.0, exponent));
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(ceiling * u));
}

UnitDraw random_unit_draw() {
  // Shared so the std::function stays copyable; the engine is big, and copies must not repeat draws.
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
}

}  // namespace carehub
