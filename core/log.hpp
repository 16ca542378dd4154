#pragma once
// Logging for a daemon under systemd: one line per event on stderr, prefixed with the syslog priority
// ("<6>") so journald keeps levels. A Logger is an object handed to each component (no global state);
// tests capture lines through a custom sink.
//
// Every line is an event with stable fields, so operators can grep and alert on it and a parser never
// has to guess where a message ends:
//   <4>sync: event=upload-failed failures=3 retry_in_ms=4000 error="HTTP 503 from server"
// Event names and field keys are compile-time literals checked by LogName (kebab-case names,
// snake_case keys): a free-text message no longer compiles, so the format cannot drift back.
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace carehub {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

std::optional<LogLevel> log_level_from_string(std::string_view s);

// True for a field key: [a-z0-9_]+.
constexpr bool valid_log_key(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// True for an event name: [a-z0-9-]+ (kebab-case, like "reload-rejected").
constexpr bool valid_event_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A field key, checked when the program is compiled (a bad key is a compile error, not a bad line).
class LogKey {
 public:
  consteval LogKey(const char* s) : s_(s) {  // NOLINT(google-explicit-constructor): literals read best
    if (!valid_log_key(s_)) throw "log field keys are [a-z0-9_]+";
  }
  constexpr std::string_view view() const { return s_; }

 private:
  std::string_view s_;
};

// An event name, checked when the program is compiled.
class LogEvent {
 public:
  consteval LogEvent(const char* s) : s_(s) {  // NOLINT(google-explicit-constructor)
    if (!valid_event_name(s_)) throw "log event names are [a-z0-9-]+";
  }
  constexpr std::string_view view() const { return s_; }

 private:
  std::string_view s_;
};

// A field value is often chosen by a peer (an MQTT topic, an openHAB item name, a server's error text):
// beyond this many bytes it is cut, at a UTF-8 character boundary, and marked "[truncated, N bytes]".
inline constexpr std::size_t kMaxLogValueBytes = 1024;
std::string bounded_log_value(std::string_view value, std::size_t max_bytes = kMaxLogValueBytes);

// One key=value pair of an event. The value is kept as text; Logger quotes and escapes it when needed.
struct LogField {
  LogField(LogKey k, std::string_view v) : key(k.view()), value(bounded_log_value(v)) {}
  LogField(LogKey k, const std::string& v) : key(k.view()), value(bounded_log_value(v)) {}
  LogField(LogKey k, const char* v) : key(k.view()), value(bounded_log_value(v)) {}
  LogField(LogKey k, bool v) : key(k.view()), value(v ? "true" : "false") {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  LogField(LogKey k, T v) : key(k.view()), value(std::to_string(v)) {}
  LogField(LogKey k, double v);

  std::string_view key;
  std::string value;
};

using LogFields = std::initializer_list<LogField>;

// Renders one value: bare when it is a plain token, otherwise double-quoted with `"`, `\` and control
// characters escaped (\n, \r, \t, \xNN), so the value never ends the line or the field early.
std::string format_log_value(std::string_view value);

// Renders "event=NAME key=value ..." (what follows "<N>component: ").
std::string format_log_event(LogEvent event, LogFields fields);

// Calls `f` with each non-empty line of `text`: multi-line errors (a config with several problems) are
// logged as one event per line so each problem is its own journal entry.
void for_each_line(std::string_view text, const std::function<void(std::string_view)>& f);

class Logger {
 public:
  static constexpr std::size_t kMaxRateLimitKeys = 1024;


  // Receives the rendered event ("event=NAME key=value ..."), never a free-text message.
  using Sink = std::function<void(LogLevel, std::string_view component, std::string_view event_line)>;

  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});  // default sink: stderr

  void event(LogLevel level, std::string_view component, LogEvent event, LogFields fields = {});
  void error(std::string_view component, LogEvent e, LogFields f = {}) { event(LogLevel::error, component, e, f); }
  void warning(std::string_view component, LogEvent e, LogFields f = {}) { event(LogLevel::warning, component, e, f); }
  void notice(std::string_view component, LogEvent e, LogFields f = {}) { event(LogLevel::notice, component, e, f); }
  void info(std::string_view component, LogEvent e, LogFields f = {}) { event(LogLevel::info, component, e, f); }
  void debug(std::string_view component, LogEvent e, LogFields f = {}) { event(LogLevel::debug, component, e, f); }

  // Logs at most once per `interval` for a given key (e.g. "ble:AA:BB…:malformed"); the next event that
  // goes out carries `suppressed=N`, so a device spraying garbage cannot flood the journal.
  // At most kMaxRateLimitKeys keys are held: when the table is full, keys whose interval has passed with
  // nothing held back are forgotten (at most one sweep a second); if none can go, the new key shares one
  // overflow limit with every other such key, and its lines say `rate_limit=shared`. So a peer that
  // invents a new key per message costs neither memory nor journal lines.
  void rate_limited(LogLevel level, std::string_view component, const std::string& key, LogEvent event,
                    LogFields fields = {}, std::chrono::steady_clock::duration interval = std::chrono::seconds(60));

  // How many rate-limit keys are held (tests; a bounded number whatever the peers send).
  std::size_t rate_limit_keys() const;

  void set_level(LogLevel level) { level_.store(level); }
  bool enabled(LogLevel level) const { return static_cast<int>(level) <= static_cast<int>(level_.load()); }

 private:
  std::atomic<LogLevel> level_;
  Sink sink_;
  mutable std::mutex mu_;
  struct Limit {
    std::chrono::steady_clock::time_point last{};
    std::chrono::steady_clock::duration interval{};  // of the last event let through: when it may be forgotten
    std::uint64_t suppressed = 0;
  };
  void forget_quiet_keys(std::chrono::steady_clock::time_point now);  // under mu_
  std::unordered_map<std::string, Limit> limits_;
  Limit shared_;  // every key that found the table full
  std::chrono::steady_clock::time_point next_sweep_{};
};

}  // namespace carehub
