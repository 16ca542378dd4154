#include "core/log.hpp"

#include <cstdio>
#include <optional>

namespace carehub {

std::optional<LogLevel> log_level_from_string(std::string_view s) {
  if (s == "error") return LogLevel::error;
  if (s == "warning") return LogLevel::warning;
  if (s == "notice") return LogLevel::notice;
  if (s == "info") return LogLevel::info;
  if (s == "debug") return LogLevel::debug;
  return std::nullopt;
}

Logger::Logger(LogLevel level, Sink sink) : level_(level), sink_(std::move(sink)) {
  if (!sink_) {
    sink_ = [](LogLevel l, std::string_view component, std::string_view message) {
      // One fprintf per line: stderr is unbuffered, and one write keeps lines from interleaving.
      std::fprintf(stderr, "<%d>%.*s: %.*s\n", static_cast<int>(l), static_cast<int>(component.size()),
                   component.data(), static_cast<int>(message.size()), message.data());
    };
  }
}

void Logger::log(LogLevel level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  sink_(level, component, message);
}

void Logger::rate_limited(LogLevel level, std::string_view component, const std::string& key,
                          std::string_view message, std::chrono::steady_clock::duration interval) {
  if (!enabled(level)) return;
  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    auto& limit = limits_[key];
    const auto now = std::chrono::steady_clock::now();
    if (limit.last != std::chrono::steady_clock::time_point{} && now - limit.last < interval) {
      ++limit.suppressed;
      return;
    }
    suppressed = limit.suppressed;
    limit = Limit{now, 0};
  }
  if (suppressed == 0) {
    sink_(level, component, message);
  } else {
    sink_(level, component, std::string(message) + " (" + std::to_string(suppressed) + " similar suppressed)");
  }
}

}  // namespace carehub
