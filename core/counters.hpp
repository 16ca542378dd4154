#pragma once
// Named monotonically increasing counters (bad packets, duplicates, commits...). Owned by the daemon and
// handed to components; read by `carehubctl status` and the metrics export.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace carehub {

class Counters {
 public:
  // Returns a stable reference; hot paths keep it instead of looking up by name each time.
  std::atomic<std::uint64_t>& get(std::string_view name);
  void add(std::string_view name, std::uint64_t n = 1) { get(name).fetch_add(n, std::memory_order_relaxed); }
  std::map<std::string, std::uint64_t> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::atomic<std::uint64_t>>, std::less<>> counters_;
};

}  // namespace carehub
