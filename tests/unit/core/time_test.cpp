#include "core/time.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace carehub {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
  return time_point_cast<Millis>(sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} +
                                 milliseconds{ms});
}

TEST(ParseRfc3339, ReadsAUtcTimeWithZ) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00Z"), utc(2026, 11, 21, 10));
}

TEST(ParseRfc3339, ReadsTheUnixEpoch) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), from_epoch_ms(0));
}

TEST(ParseRfc3339, SubtractsAPositiveOffset) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T11:00:00+01:00"), utc(2026, 11, 21, 10));
}

TEST(ParseRfc3339, AddsANegativeOffsetWithMinutes) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T05:30:00-04:30"), utc(2026, 11, 21, 10));
}

TEST(ParseRfc3339, MovesAcrossMidnightAndYearEndWithTheOffset) {
  EXPECT_EQ(parse_rfc3339("2027-01-01T00:30:00+01:00"), utc(2026, 12, 31, 23, 30));
}

TEST(ParseRfc3339, TreatsPlusZeroAsUtc) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00+00:00"), parse_rfc3339("2026-11-21T10:00:00Z"));
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00-00:00"), parse_rfc3339("2026-11-21T10:00:00Z"));
}

TEST(ParseRfc3339, ReadsMillisecondFractions) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00.250Z"), utc(2026, 11, 21, 10, 0, 0, 250));
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00.5Z"), utc(2026, 11, 21, 10, 0, 0, 500));
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00.07Z"), utc(2026, 11, 21, 10, 0, 0, 70));
  EXPECT_EQ(parse_rfc3339("2026-11-21T11:00:00.250+01:00"), utc(2026, 11, 21, 10, 0, 0, 250));
}

TEST(ParseRfc3339, TruncatesDigitsPastMilliseconds) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00.123999999Z"), utc(2026, 11, 21, 10, 0, 0, 123));
}

TEST(ParseRfc3339, AcceptsLowercaseSeparatorsAndASpace) {
  const auto expected = utc(2026, 11, 21, 10);
  EXPECT_EQ(parse_rfc3339("2026-11-21t10:00:00z"), expected);
  EXPECT_EQ(parse_rfc3339("2026-11-21 10:00:00Z"), expected);
}

TEST(ParseRfc3339, AcceptsFebruary29InALeapYear) {
  EXPECT_EQ(parse_rfc3339("2024-02-29T12:00:00Z"), utc(2024, 2, 29, 12));
}

TEST(ParseRfc3339, FoldsALeapSecondIntoTheSecondBefore) {
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), utc(2016, 12, 31, 23, 59, 59));
}

TEST(ParseRfc3339, RejectsATimeWithoutAZone) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:00.250"), std::nullopt);
}

TEST(ParseRfc3339, RejectsImpossibleDates) {
  EXPECT_EQ(parse_rfc3339("2026-13-01T10:00:00Z"), std::nullopt) << "month 13";
  EXPECT_EQ(parse_rfc3339("2026-00-01T10:00:00Z"), std::nullopt) << "month 0";
  EXPECT_EQ(parse_rfc3339("2026-02-30T10:00:00Z"), std::nullopt) << "February 30";
  EXPECT_EQ(parse_rfc3339("2025-02-29T10:00:00Z"), std::nullopt) << "February 29 in a common year";
  EXPECT_EQ(parse_rfc3339("2026-04-31T10:00:00Z"), std::nullopt) << "April 31";
  EXPECT_EQ(parse_rfc3339("2026-11-00T10:00:00Z"), std::nullopt) << "day 0";
}

TEST(ParseRfc3339, RejectsImpossibleTimesOfDay) {
  EXPECT_EQ(parse_rfc3339("2026-11-21T24:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:60:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-21T10:00:61Z"), std::nullopt);
}

TEST(ParseRfc3339, RejectsMalformedOffsets) {
  for (const char* s : {"2026-11-21T10:00:00+01", "2026-11-21T10:00:00+0100", "2026-11-21T10:00:00+1:00",
                        "2026-11-21T10:00:00+24:00", "2026-11-21T10:00:00+01:60", "2026-11-21T10:00:00+01:00x",
                        "2026-11-21T10:00:00UTC", "2026-11-21T10:00:00 Z"}) {
    EXPECT_EQ(parse_rfc3339(s), std::nullopt) << s;
  }
}

TEST(ParseRfc3339, RejectsMalformedText) {
  for (const char* s : {"", "2026-11-21", "2026-11-21T10:00Z", "2026/11/21T10:00:00Z", "2026-11-21X10:00:00Z",
                        "20a6-11-21T10:00:00Z", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00ZZ",
                        "2026-1-21T10:00:00Z", " 2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z "}) {
    EXPECT_EQ(parse_rfc3339(s), std::nullopt) << '"' << s << '"';
  }
}

TEST(FormatRfc3339, WritesWholeSecondsWithoutAFraction) {
  EXPECT_EQ(format_rfc3339(utc(2026, 11, 21, 10)), "2026-11-21T10:00:00Z");
  EXPECT_EQ(format_rfc3339(from_epoch_ms(0)), "1970-01-01T00:00:00Z");
}

TEST(FormatRfc3339, WritesMillisecondsWithThreeDigits) {
  EXPECT_EQ(format_rfc3339(utc(2026, 11, 21, 10, 0, 0, 250)), "2026-11-21T10:00:00.250Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 1, 2, 3, 4, 5, 6)), "2026-01-02T03:04:05.006Z");
}

TEST(FormatRfc3339, WritesInstantsBeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339(from_epoch_ms(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(Rfc3339, RoundTripsInstantsThroughFormatAndParse) {
  const std::vector<TimePoint> instants{from_epoch_ms(0),           from_epoch_ms(-1),
                                        utc(2026, 11, 21, 10),      utc(2026, 11, 21, 10, 0, 0, 1),
                                        utc(2024, 2, 29, 23, 59, 59, 999), utc(2000, 1, 1),
                                        utc(2099, 12, 31, 23, 59, 59)};
  for (const auto t : instants) {
    const auto text = format_rfc3339(t);
    EXPECT_EQ(parse_rfc3339(text), t) << text;
  }
}

TEST(Rfc3339, RoundTripsCanonicalTextThroughParseAndFormat) {
  for (const char* s : {"2026-11-21T10:00:00Z", "2026-11-21T10:00:00.250Z", "1999-12-31T23:59:59.999Z"}) {
    const auto t = parse_rfc3339(s);
    ASSERT_TRUE(t.has_value()) << s;
    EXPECT_EQ(format_rfc3339(*t), s);
  }
}

TEST(Rfc3339, FormatsAnOffsetTimeAsTheSameInstantInUtc) {
  const auto t = parse_rfc3339("2026-11-21T11:00:00.250+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_rfc3339(*t), "2026-11-21T10:00:00.250Z");
}

TEST(EpochMillis, ConvertsBothWays) {
  EXPECT_EQ(to_epoch_ms(from_epoch_ms(1763719200123)), 1763719200123);
  EXPECT_EQ(to_epoch_ms(utc(1970, 1, 1, 0, 0, 1)), 1000);
}

}  // namespace
}  // namespace carehub
