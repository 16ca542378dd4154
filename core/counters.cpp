#include "core/counters.hpp"

namespace carehub {

std::atomic<std::uint64_t>& Counters::get(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    it = counters_.emplace(std::string(name), std::make_unique<std::atomic<std::uint64_t>>(0)).first;
  }
  return *it->second;
}

std::map<std::string, std::uint64_t> Counters::snapshot() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, value] : counters_) out[name] = value->load(std::memory_order_relaxed);
  return out;
}

}  // namespace carehub
