#include "core/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

// The drivers' parsers used to carry copies whose `value() &&` returned T&&: `const auto& v = parse().value();`
// then referred into a destroyed temporary. The one Result hands an rvalue's value out by value.
static_assert(std::is_same_v<decltype(std::declval<Result<std::string>>().value()), std::string>);
static_assert(std::is_same_v<decltype(std::declval<Result<std::string>&>().value()), std::string&>);
static_assert(std::is_same_v<decltype(std::declval<const Result<std::string>&>().value()), const std::string&>);

Result<std::string> long_text() { return std::string(100, 'x'); }  // longer than any small-string buffer

TEST(Result, AValueTakenFromATemporaryOutlivesIt) {
  const std::string& text = long_text().value();  // binds to a returned value, so its life is extended
  EXPECT_EQ(text, std::string(100, 'x'));
}

struct ParserError {
  std::string detail;
};

TEST(Result, CarriesAnErrorTypeOfItsOwn) {
  Result<int, ParserError> bad = ParserError{"truncated at byte 3"};
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().detail, "truncated at byte 3");
  Result<int, ParserError> good = 4;
  EXPECT_EQ(*good, 4);
}

TEST(Result, AValueOfTheErrorsOwnShapeIsStillAValue) {
  // Constructed by position, not by conversion: a vector of errors as the error, strings as the value.
  Result<std::vector<std::string>, std::vector<ParserError>> r = std::vector<std::string>{"a", "b"};
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 2u);
  Result<std::vector<std::string>, std::vector<ParserError>> e = std::vector<ParserError>{{"x"}};
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().front().detail, "x");
}

TEST(ResultVoid, CarriesAnErrorTypeOfItsOwn) {
  Result<void, ParserError> ok;
  EXPECT_TRUE(ok.has_value());
  Result<void, ParserError> bad = ParserError{"no"};
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().detail, "no");
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
