#pragma once
// Login rate limiting per client address: at the `lock_after`-th wrong password in a row an address is
// locked out for `first_lockout`, doubled with each further failure up to `max_lockout`. A success
// clears the address. The table is bounded: when full, entries whose lockout has passed go first, then
// the oldest, so a flood of addresses cannot grow memory (it can only forget someone's failures early).
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.hpp"

namespace carehub::web {

struct LoginLimiterOptions {
  int lock_after = 5;
  std::chrono::seconds first_lockout{1};
  std::chrono::seconds max_lockout{15 * 60};
  std::size_t max_addresses = 4096;
};

class LoginLimiter {
 public:
  LoginLimiter(const Clock& clock, LoginLimiterOptions options = {}) : clock_(clock), options_(options) {}
  // Zero when `address` may try now; otherwise how long it must wait.
  std::chrono::seconds locked_for(const std::string& address) const;
  void failed(const std::string& address);
  void succeeded(const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    std::chrono::steady_clock::time_point locked_until{};
    std::chrono::steady_clock::time_point last{};
  };
  const Clock& clock_;
  const LoginLimiterOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace carehub::web
