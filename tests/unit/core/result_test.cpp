#include "core/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace carehub {
namespace {

TEST(Result, HoldsAValue) {
  Result<int> r = 5;
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 5);
}

TEST(Result, HoldsAnError) {
  Result<int> r = make_error(Errc::not_found, "no such device");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_EQ(r.error().message, "no such device");
}

TEST(Result, MovesAMoveOnlyValueOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  auto p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(ResultVoid, IsOkByDefaultAndFailsWithAnError) {
  Result<void> ok;
  EXPECT_TRUE(ok.has_value());
  Result<void> bad = make_error(Errc::io, "disk");
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::io);
}

TEST(Errc, HasAStableNameForEachCode) {
  EXPECT_EQ(to_string(Errc::invalid_argument), "invalid-argument");
  EXPECT_EQ(to_string(Errc::not_found), "not-found");
  EXPECT_EQ(to_string(Errc::io), "io");
  EXPECT_EQ(to_string(Errc::full), "full");
  EXPECT_EQ(to_string(Errc::unavailable), "unavailable");
  EXPECT_EQ(to_string(Errc::timeout), "timeout");
  EXPECT_EQ(to_string(Errc::internal), "internal");
}

}  // namespace
}  // namespace carehub
