#include "core/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace carehub {
namespace {

using namespace std::chrono_literals;

struct Line {
  LogLevel level;
  std::string component;
  std::string message;
  bool operator==(const Line&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Line& l) {
  return os << '<' << static_cast<int>(l.level) << '>' << l.component << ": " << l.message;
}

struct Capture {
  std::vector<Line> lines;
  Logger::Sink sink() {
    return [this](LogLevel l, std::string_view c, std::string_view m) {
      lines.push_back({l, std::string(c), std::string(m)});
    };
  }
};

constexpr auto kLong = std::chrono::hours(1);
constexpr auto kNoWait = std::chrono::steady_clock::duration::zero();

TEST(LogLevelFromString, ReadsEveryLevelName) {
  EXPECT_EQ(log_level_from_string("error"), LogLevel::error);
  EXPECT_EQ(log_level_from_string("warning"), LogLevel::warning);
  EXPECT_EQ(log_level_from_string("notice"), LogLevel::notice);
  EXPECT_EQ(log_level_from_string("info"), LogLevel::info);
  EXPECT_EQ(log_level_from_string("debug"), LogLevel::debug);
  EXPECT_EQ(log_level_from_string("verbose"), std::nullopt);
  EXPECT_EQ(log_level_from_string("INFO"), std::nullopt);
}

TEST(LogLevel, UsesSyslogPriorities) {
  EXPECT_EQ(static_cast<int>(LogLevel::error), 3);
  EXPECT_EQ(static_cast<int>(LogLevel::warning), 4);
  EXPECT_EQ(static_cast<int>(LogLevel::notice), 5);
  EXPECT_EQ(static_cast<int>(LogLevel::info), 6);
  EXPECT_EQ(static_cast<int>(LogLevel::debug), 7);
}

TEST(Logger, HandsLevelComponentAndTheRenderedEventToTheSink) {
  Capture cap;
  Logger log(LogLevel::debug, cap.sink());
  log.error("store", "disk-full", {{"error", "no space"}});
  log.warning("sync", "upload-failed", {{"failures", 3}, {"retry_in_ms", std::int64_t{4000}}});
  log.notice("ble", "device-paired");
  log.info("daemon", "started", {{"clean", true}});
  log.debug("pipeline", "batch", {{"readings", std::size_t{3}}, {"ratio", 0.25}});
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::error, "store", "event=disk-full error=\"no space\""},
                                          {LogLevel::warning, "sync", "event=upload-failed failures=3 retry_in_ms=4000"},
                                          {LogLevel::notice, "ble", "event=device-paired"},
                                          {LogLevel::info, "daemon", "event=started clean=true"},
                                          {LogLevel::debug, "pipeline", "event=batch readings=3 ratio=0.25"}}));
}

TEST(Logger, DropsEventsBelowItsLevel) {
  Capture cap;
  Logger log(LogLevel::warning, cap.sink());
  log.debug("c", "d");
  log.info("c", "i");
  log.notice("c", "n");
  log.warning("c", "w");
  log.error("c", "e");
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "c", "event=w"}, {LogLevel::error, "c", "event=e"}}));
  EXPECT_TRUE(log.enabled(LogLevel::error));
  EXPECT_FALSE(log.enabled(LogLevel::notice));
}

TEST(Logger, DefaultsToInfo) {
  EXPECT_TRUE(Logger().enabled(LogLevel::info));
  EXPECT_FALSE(Logger().enabled(LogLevel::debug));
}

TEST(Logger, ChangesLevelAtRuntime) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.debug("c", "hidden");
  log.set_level(LogLevel::debug);
  log.debug("c", "shown");
  log.set_level(LogLevel::error);
  log.warning("c", "hidden-too");
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::debug, "c", "event=shown"}}));
}

TEST(LogValue, LeavesAPlainTokenBare) {
  EXPECT_EQ(format_log_value("A4:C1:38:00:00:01"), "A4:C1:38:00:00:01");
  EXPECT_EQ(format_log_value("https://fhir.example/r4"), "https://fhir.example/r4");
  EXPECT_EQ(format_log_value("-12"), "-12");
}

TEST(LogValue, QuotesValuesWithSpacesQuotesEqualsOrNothing) {
  EXPECT_EQ(format_log_value("HTTP 503"), "\"HTTP 503\"");
  EXPECT_EQ(format_log_value("a=b"), "\"a=b\"");
  EXPECT_EQ(format_log_value(""), "\"\"");
  EXPECT_EQ(format_log_value("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(format_log_value("C:\\dir"), "\"C:\\\\dir\"");
}

TEST(LogValue, EscapesNewlinesAndControlCharactersSoALineIsOneEvent) {
  EXPECT_EQ(format_log_value("line one\nline two"), "\"line one\\nline two\"");
  EXPECT_EQ(format_log_value("a\rb\tc"), "\"a\\rb\\tc\"");
  EXPECT_EQ(format_log_value(std::string("nul\0bell\a", 9)), "\"nul\\x00bell\\x07\"");
  EXPECT_EQ(format_log_value("del\x7f"), "\"del\\x7f\"");
  const auto escaped = format_log_value("x\ny\rz\x01");
  EXPECT_EQ(escaped.find_first_of("\n\r\x01"), std::string::npos);
}

TEST(LogValue, PassesUtf8Through) { EXPECT_EQ(format_log_value("caf\xc3\xa9"), "caf\xc3\xa9"); }

TEST(LogField, RendersNumbersAndBooleansStably) {
  EXPECT_EQ(LogField("n", 42).value, "42");
  EXPECT_EQ(LogField("n", std::uint64_t{18446744073709551615u}).value, "18446744073709551615");
  EXPECT_EQ(LogField("n", -7L).value, "-7");
  EXPECT_EQ(LogField("x", 0.1).value, "0.1");
  EXPECT_EQ(LogField("x", 120.0).value, "120");
  EXPECT_EQ(LogField("b", false).value, "false");
  EXPECT_EQ(LogField("s", "text").value, "text");
  EXPECT_EQ(LogField("s", std::string("text")).value, "text");
}

TEST(LogEventLine, RendersTheEventThenEachFieldInOrder) {
  EXPECT_EQ(format_log_event("reload-rejected", {{"file", "/etc/carehub/carehubd.json"}, {"problem", "line 1\nline 2"}}),
            "event=reload-rejected file=/etc/carehub/carehubd.json problem=\"line 1\\nline 2\"");
  EXPECT_EQ(format_log_event("stopping", {}), "event=stopping");
}

TEST(LogNames, AcceptOnlyStableIdentifiers) {
  // The same checks run at compile time on every literal handed to the Logger (LogKey, LogEvent).
  EXPECT_TRUE(valid_log_key("retry_in_ms"));
  EXPECT_TRUE(valid_log_key("x2"));
  EXPECT_FALSE(valid_log_key(""));
  EXPECT_FALSE(valid_log_key("retry-in-ms"));
  EXPECT_FALSE(valid_log_key("Error"));
  EXPECT_FALSE(valid_log_key("a b"));
  EXPECT_FALSE(valid_log_key("a=b"));
  EXPECT_TRUE(valid_event_name("reload-rejected"));
  EXPECT_TRUE(valid_event_name("disk-full"));
  EXPECT_FALSE(valid_event_name(""));
  EXPECT_FALSE(valid_event_name("reload rejected"));
  EXPECT_FALSE(valid_event_name("Reload-Rejected"));
  EXPECT_FALSE(valid_event_name("reload_rejected"));
  static_assert(valid_event_name("alert-acknowledged") && !valid_event_name("a:b"));
}

TEST(ForEachLine, HandsOverEachNonEmptyLine) {
  std::vector<std::string> lines;
  for_each_line("a: first\n\nb: second\n", [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_EQ(lines, (std::vector<std::string>{"a: first", "b: second"}));
  lines.clear();
  for_each_line("single", [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_EQ(lines, (std::vector<std::string>{"single"}));
}

TEST(LoggerRateLimited, LogsTheFirstEventForAKey) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "ble", "ble:AA:malformed", "packet-dropped", {{"kind", "truncated"}}, kLong);
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "ble", "event=packet-dropped kind=truncated"}}));
}

TEST(LoggerRateLimited, SuppressesRepeatsWithinTheIntervalAndReportsHowManyAsAField) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "ble", "k", "packet-dropped", {{"kind", "truncated"}}, kLong);
  log.rate_limited(LogLevel::warning, "ble", "k", "packet-dropped", {{"kind", "truncated"}}, kLong);
  log.rate_limited(LogLevel::warning, "ble", "k", "packet-dropped", {{"kind", "truncated"}}, kLong);
  ASSERT_EQ(cap.lines.size(), 1u);
  // An interval of zero has always passed: the next event goes out with the count of the suppressed.
  log.rate_limited(LogLevel::warning, "ble", "k", "packet-dropped", {{"kind", "truncated"}}, kNoWait);
  ASSERT_EQ(cap.lines.size(), 2u);
  EXPECT_EQ(cap.lines[1].message, "event=packet-dropped kind=truncated suppressed=2");
  // The count starts again after being reported.
  log.rate_limited(LogLevel::warning, "ble", "k", "packet-dropped", {{"kind", "truncated"}}, kNoWait);
  ASSERT_EQ(cap.lines.size(), 3u);
  EXPECT_EQ(cap.lines[2].message, "event=packet-dropped kind=truncated");
}

TEST(LoggerRateLimited, LimitsEachKeyOnItsOwn) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "ble", "device-a", "a", {}, kLong);
  log.rate_limited(LogLevel::warning, "ble", "device-b", "b", {}, kLong);
  log.rate_limited(LogLevel::warning, "ble", "device-a", "a", {}, kLong);
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "ble", "event=a"}, {LogLevel::warning, "ble", "event=b"}}));
}

TEST(LoggerRateLimited, NeitherLogsNorCountsEventsBelowTheLevel) {
  Capture cap;
  Logger log(LogLevel::warning, cap.sink());
  log.rate_limited(LogLevel::debug, "ble", "k", "noise", {}, kLong);
  log.rate_limited(LogLevel::debug, "ble", "k", "noise", {}, kLong);
  EXPECT_TRUE(cap.lines.empty());
  log.rate_limited(LogLevel::warning, "ble", "k", "real", {}, kLong);
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "ble", "event=real"}}));
}

// Issue 12, defect 9: keys come from peers (an MQTT topic, an openHAB item name), so the table of keys
// must stay bounded however many distinct ones arrive, and a flood of them must not become a flood of lines.
TEST(LoggerRateLimited, HoldsABoundedNumberOfKeysHoweverManyDistinctOnesArrive) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  for (int i = 0; i < 20000; ++i) {
    log.rate_limited(LogLevel::warning, "mqtt", "oversize:topic/" + std::to_string(i), "message-dropped", {}, kLong);
  }
  EXPECT_LE(log.rate_limit_keys(), Logger::kMaxRateLimitKeys);
}

TEST(LoggerRateLimited, KeysBeyondTheBoundShareOneLimitAndSaySo) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  for (std::size_t i = 0; i < Logger::kMaxRateLimitKeys + 5000; ++i) {
    log.rate_limited(LogLevel::warning, "mqtt", "k" + std::to_string(i), "message-dropped", {}, kLong);
  }
  // One line per key that found room, plus one for all the others together.
  ASSERT_EQ(cap.lines.size(), Logger::kMaxRateLimitKeys + 1);
  EXPECT_EQ(cap.lines.back().message, "event=message-dropped rate_limit=shared");
  // When the shared limit lets the next one through, it reports how many of the others it held back.
  log.rate_limited(LogLevel::warning, "mqtt", "another", "message-dropped", {}, kNoWait);
  ASSERT_EQ(cap.lines.size(), Logger::kMaxRateLimitKeys + 2);
  EXPECT_EQ(cap.lines.back().message, "event=message-dropped rate_limit=shared suppressed=4999");
}

TEST(LoggerRateLimited, ForgetsKeysWhoseIntervalHasPassedToMakeRoomForNewOnes) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  for (std::size_t i = 0; i < Logger::kMaxRateLimitKeys; ++i) {
    log.rate_limited(LogLevel::warning, "ble", "old" + std::to_string(i), "a", {}, kNoWait);
  }
  EXPECT_EQ(log.rate_limit_keys(), Logger::kMaxRateLimitKeys);
  // Every old key's interval has passed with nothing held back: forgetting them loses nothing.
  log.rate_limited(LogLevel::warning, "ble", "new-1", "b", {}, kLong);
  log.rate_limited(LogLevel::warning, "ble", "new-2", "c", {}, kLong);
  ASSERT_GE(cap.lines.size(), 2u);
  EXPECT_EQ(cap.lines[cap.lines.size() - 2].message, "event=b");
  EXPECT_EQ(cap.lines.back().message, "event=c");  // its own limit, not the shared one
  EXPECT_LE(log.rate_limit_keys(), 2u);
}

TEST(LogField, TruncatesAHugeValueWithAMarkerThatSaysHowLongItWas) {
  const std::string topic(60000, 't');
  const LogField f("topic", topic);
  EXPECT_LE(f.value.size(), kMaxLogValueBytes + 64);
  EXPECT_EQ(f.value.substr(0, kMaxLogValueBytes), topic.substr(0, kMaxLogValueBytes));
  EXPECT_NE(f.value.find("[truncated, 60000 bytes]"), std::string::npos) << f.value.substr(kMaxLogValueBytes);
  // A short value is untouched.
  EXPECT_EQ(LogField("topic", "home/bp").value, "home/bp");
}

TEST(LogField, NeverCutsAUtf8CharacterInTwo) {
  std::string value(kMaxLogValueBytes - 1, 'a');
  value += "\xc3\xa9";  // é straddles the limit
  value += std::string(100, 'b');
  const auto bounded = bounded_log_value(value);
  EXPECT_EQ(bounded.substr(0, kMaxLogValueBytes), std::string(kMaxLogValueBytes - 1, 'a') + "[");
}

TEST(Logger, KeepsEachLineShortWhateverItsFieldsHold) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "mqtt", "oversize", "message-dropped",
                   {{"topic", std::string(60000, 't')}, {"error", std::string(60000, 'e')}}, kLong);
  ASSERT_EQ(cap.lines.size(), 1u);
  EXPECT_LT(cap.lines[0].message.size(), 2 * kMaxLogValueBytes + 200);
}

}  // namespace
}  // namespace carehub
