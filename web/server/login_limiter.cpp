#include "web/server/login_limiter.hpp"

#include <algorithm>

namespace carehub::web {

std::chrono::seconds LoginLimiter::locked_for(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) return std::chrono::seconds::zero();
  const auto now = clock_.monotonic();
  if (it->second.locked_until <= now) return std::chrono::seconds::zero();
  return std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now);
}

void LoginLimiter::failed(const std::string& address) {
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  if (!entries_.contains(address) && entries_.size() >= options_.max_addresses) {
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.locked_until <= now; });
    if (entries_.size() >= options_.max_addresses) {
      auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                     [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
      entries_.erase(oldest);
    }
  }
  auto& e = entries_[address];
  ++e.failures;
  e.last = now;
  if (e.failures < options_.lock_after) return;
  // 1 s at the lock_after-th failure in a row, then 2 s, 4 s ... capped (the shift is capped first).
  auto lockout = options_.first_lockout * (std::int64_t{1} << std::min(e.failures - options_.lock_after, 30));
  lockout = std::min<std::chrono::seconds>(lockout, options_.max_lockout);
  e.locked_until = now + lockout;
}

void LoginLimiter::succeeded(const std::string& address) {
  std::lock_guard lock(mu_);
  entries_.erase(address);
}

}  // namespace carehub::web
