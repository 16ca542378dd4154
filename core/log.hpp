#pragma once
// Logging for a daemon under systemd: one line per event on stderr, prefixed with the syslog priority
// ("<6>") so journald keeps levels. A Logger is an object handed to each component (no global state);
// tests capture lines through a custom sink.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace carehub {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

std::optional<LogLevel> log_level_from_string(std::string_view s);

class Logger {
 public:
  using Sink = std::function<void(LogLevel, std::string_view component, std::string_view message)>;

  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});  // default sink: stderr

  void log(LogLevel level, std::string_view component, std::string_view message);
  void error(std::string_view component, std::string_view m) { log(LogLevel::error, component, m); }
  void warning(std::string_view component, std::string_view m) { log(LogLevel::warning, component, m); }
  void notice(std::string_view component, std::string_view m) { log(LogLevel::notice, component, m); }
  void info(std::string_view component, std::string_view m) { log(LogLevel::info, component, m); }
  void debug(std::string_view component, std::string_view m) { log(LogLevel::debug, component, m); }

  // Logs at most once per `interval` for a given key (e.g. "ble:AA:BB…:malformed"), reporting how many
  // were suppressed, so a device spraying garbage cannot flood the journal.
  void rate_limited(LogLevel level, std::string_view component, const std::string& key, std::string_view message,
                    std::chrono::steady_clock::duration interval = std::chrono::seconds(60));

  void set_level(LogLevel level) { level_.store(level); }
  bool enabled(LogLevel level) const { return static_cast<int>(level) <= static_cast<int>(level_.load()); }

 private:
  std::atomic<LogLevel> level_;
  Sink sink_;
  std::mutex mu_;
  struct Limit {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  std::unordered_map<std::string, Limit> limits_;
};

}  // namespace carehub
