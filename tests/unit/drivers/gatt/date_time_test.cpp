#include "drivers/gatt/date_time.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;

TEST(ADateTime, ReadsYearLittleEndianThenMonthDayHoursMinutesSeconds) {
  const auto r = decode_date_time(bytes("E8 07 03 0F 0A 1E 2D"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->year, 2024);
  EXPECT_EQ(r->month, 3);
  EXPECT_EQ(r->day, 15);
  EXPECT_EQ(r->hours, 10);
  EXPECT_EQ(r->minutes, 30);
  EXPECT_EQ(r->seconds, 45);
  EXPECT_TRUE(r->is_valid());
  EXPECT_EQ(r->to_string(), "2024-03-15T10:30:45");
}

TEST(ADateTime, WithUnknownFieldsIsKeptButNotValid) {
  const auto r = decode_date_time(bytes("00 00 00 00 00 00 00"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->is_valid());
  EXPECT_EQ(r->to_string(), "0000-00-00T00:00:00");
}

TEST(ADateTime, IsValidOnlyWithinTheRangesTheSpecificationAllows) {
  EXPECT_TRUE((DateTime{1582, 1, 1, 0, 0, 0}.is_valid()));
  EXPECT_TRUE((DateTime{9999, 12, 31, 23, 59, 59}.is_valid()));
  EXPECT_TRUE((DateTime{2024, 2, 29, 12, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{1581, 12, 31, 0, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{10000, 1, 1, 0, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{2023, 2, 29, 0, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{2024, 13, 1, 0, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{2024, 4, 31, 0, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{2024, 1, 1, 24, 0, 0}.is_valid()));
  EXPECT_FALSE((DateTime{2024, 1, 1, 0, 60, 0}.is_valid()));
  EXPECT_FALSE((DateTime{2024, 1, 1, 0, 0, 60}.is_valid()));
}

TEST(ADateTime, ShorterThanSevenBytesIsTruncated) {
  const auto r = decode_date_time(bytes("E8 07 03 0F 0A 1E"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "date time: date time needs 7 bytes at offset 0, only 6 remain (packet is 6 bytes)");
}

TEST(ADateTime, MovesByMinutesAcrossYearEnds) {
  EXPECT_EQ(add_minutes(DateTime{2024, 12, 31, 23, 59, 30}, 1)->to_string(), "2025-01-01T00:00:30");
  EXPECT_EQ(add_minutes(DateTime{2025, 1, 1, 0, 0, 0}, -1)->to_string(), "2024-12-31T23:59:00");
  EXPECT_EQ(add_minutes(DateTime{2024, 3, 15, 10, 30, 45}, 32767)->to_string(), "2024-04-07T04:37:45");
}

TEST(ADateTime, CannotBeMovedWhenInvalidOrOutOfRange) {
  EXPECT_FALSE(add_minutes(DateTime{}, 5));
  EXPECT_FALSE(add_minutes(DateTime{1582, 1, 1, 0, 0, 0}, -1));
}

}  // namespace
}  // namespace carehub::gatt
