#include "core/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
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

TEST(Logger, HandsLevelComponentAndMessageToTheSink) {
  Capture cap;
  Logger log(LogLevel::debug, cap.sink());
  log.error("store", "disk full");
  log.warning("sync", "retrying");
  log.notice("ble", "paired");
  log.info("daemon", "ready");
  log.debug("pipeline", "batch of 3");
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::error, "store", "disk full"},
                                          {LogLevel::warning, "sync", "retrying"},
                                          {LogLevel::notice, "ble", "paired"},
                                          {LogLevel::info, "daemon", "ready"},
                                          {LogLevel::debug, "pipeline", "batch of 3"}}));
}

TEST(Logger, DropsMessagesBelowItsLevel) {
  Capture cap;
  Logger log(LogLevel::warning, cap.sink());
  log.debug("c", "d");
  log.info("c", "i");
  log.notice("c", "n");
  log.warning("c", "w");
  log.error("c", "e");
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "c", "w"}, {LogLevel::error, "c", "e"}}));
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
  log.warning("c", "hidden too");
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::debug, "c", "shown"}}));
}

TEST(LoggerRateLimited, LogsTheFirstMessageForAKey) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "ble", "ble:AA:malformed", "malformed packet", kLong);
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "ble", "malformed packet"}}));
}

TEST(LoggerRateLimited, SuppressesRepeatsWithinTheIntervalAndReportsHowManyLater) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "ble", "k", "malformed packet", kLong);
  log.rate_limited(LogLevel::warning, "ble", "k", "malformed packet", kLong);
  log.rate_limited(LogLevel::warning, "ble", "k", "malformed packet", kLong);
  ASSERT_EQ(cap.lines.size(), 1u);
  // An interval of zero has always passed: the next message goes out with the count of the suppressed.
  log.rate_limited(LogLevel::warning, "ble", "k", "malformed packet", kNoWait);
  ASSERT_EQ(cap.lines.size(), 2u);
  EXPECT_EQ(cap.lines[1].message, "malformed packet (2 similar suppressed)");
  // The count starts again after being reported.
  log.rate_limited(LogLevel::warning, "ble", "k", "malformed packet", kNoWait);
  ASSERT_EQ(cap.lines.size(), 3u);
  EXPECT_EQ(cap.lines[2].message, "malformed packet");
}

TEST(LoggerRateLimited, LimitsEachKeyOnItsOwn) {
  Capture cap;
  Logger log(LogLevel::info, cap.sink());
  log.rate_limited(LogLevel::warning, "ble", "device-a", "a", kLong);
  log.rate_limited(LogLevel::warning, "ble", "device-b", "b", kLong);
  log.rate_limited(LogLevel::warning, "ble", "device-a", "a", kLong);
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "ble", "a"}, {LogLevel::warning, "ble", "b"}}));
}

TEST(LoggerRateLimited, NeitherLogsNorCountsMessagesBelowTheLevel) {
  Capture cap;
  Logger log(LogLevel::warning, cap.sink());
  log.rate_limited(LogLevel::debug, "ble", "k", "noise", kLong);
  log.rate_limited(LogLevel::debug, "ble", "k", "noise", kLong);
  EXPECT_TRUE(cap.lines.empty());
  log.rate_limited(LogLevel::warning, "ble", "k", "real", kLong);
  EXPECT_EQ(cap.lines, (std::vector<Line>{{LogLevel::warning, "ble", "real"}}));
}

}  // namespace
}  // namespace carehub
