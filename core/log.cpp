#include "core/log.hpp"

#include <array>
#include <charconv>
#include <cmath>
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

LogField::LogField(LogKey k, double v) : key(k.view()) {
  if (!std::isfinite(v)) {
    value = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    return;
  }
  // Shortest text that reads back as the same double: stable across platforms and locales.
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  value.assign(buf.data(), ec == std::errc{} ? end : buf.data());
}

std::string bounded_log_value(std::string_view value, std::size_t max_bytes) {
  if (value.size() <= max_bytes) return std::string(value);
  std::size_t cut = max_bytes;
  // Back up to the first byte of a character: UTF-8 continuation bytes are 10xxxxxx.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  std::string out(value.substr(0, cut));
  out += "[truncated, " + std::to_string(value.size()) + " bytes]";
  return out;
}

std::string format_log_value(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '\\' || c == '=') {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(value);
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          std::array<char, 5> hex{};
          std::snprintf(hex.data(), hex.size(), "\\x%02x", u);
          out += hex.data();
        } else {
          out += c;  // UTF-8 bytes above 0x7f pass through: journald keeps them
        }
    }
  }
  out += '"';
  return out;
}

namespace {

std::string render(LogEvent event, LogFields fields, std::uint64_t suppressed, bool shared = false) {
  std::string line = "event=";
  line += event.view();
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    line += format_log_value(f.value);
  }
  if (shared) line += " rate_limit=shared";
  if (suppressed > 0) line += " suppressed=" + std::to_string(suppressed);
  return line;
}

}  // namespace

void for_each_line(std::string_view text, const std::function<void(std::string_view)>& f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    if (!line.empty()) f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::string format_log_event(LogEvent event, LogFields fields) { return render(event, fields, 0); }

Logger::Logger(LogLevel level, Sink sink) : level_(level), sink_(std::move(sink)) {
  if (!sink_) {
    sink_ = [](LogLevel l, std::string_view component, std::string_view line) {
      // One fprintf per line: stderr is unbuffered, and one write keeps lines from interleaving.
      std::fprintf(stderr, "<%d>%.*s: %.*s\n", static_cast<int>(l), static_cast<int>(component.size()),
                   component.data(), static_cast<int>(line.size()), line.data());
    };
  }
}

void Logger::event(LogLevel level, std::string_view component, LogEvent e, LogFields fields) {
  if (!enabled(level)) return;
  sink_(level, component, render(e, fields, 0));
}

void Logger::rate_limited(LogLevel level, std::string_view component, const std::string& key, LogEvent e,
                          LogFields fields, std::chrono::steady_clock::duration interval) {
  if (!enabled(level)) return;
  std::uint64_t suppressed = 0;
  bool shared = false;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    Limit* limit = nullptr;
    if (auto it = limits_.find(key); it != limits_.end()) {
      limit = &it->second;
    } else {
      if (limits_.size() >= kMaxRateLimitKeys) forget_quiet_keys(now);
      if (limits_.size() < kMaxRateLimitKeys) {
        limit = &limits_[key];
      } else {
        limit = &shared_;
        shared = true;
      }
    }
    if (limit->last != std::chrono::steady_clock::time_point{} && now - limit->last < interval) {
      ++limit->suppressed;
      return;
    }
    suppressed = limit->suppressed;
    *limit = Limit{now, interval, 0};
  }
  sink_(level, component, render(e, fields, suppressed, shared));
}

void Logger::forget_quiet_keys(std::chrono::steady_clock::time_point now) {
  // A sweep walks the whole table: under a flood of new keys, once a second is enough.
  if (now < next_sweep_) return;
  next_sweep_ = now + std::chrono::seconds(1);
  // A key whose interval has passed and that held nothing back would log its next event at once anyway:
  // forgetting it changes no line.
  std::erase_if(limits_, [now](const auto& entry) {
    const Limit& l = entry.second;
    return l.suppressed == 0 && now - l.last >= l.interval;
  });
}

std::size_t Logger::rate_limit_keys() const {
  std::lock_guard lock(mu_);
  return limits_.size();
}

}  // namespace carehub
