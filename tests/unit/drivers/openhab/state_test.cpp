#include "drivers/openhab/state.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <clocale>
#include <string>

namespace carehub::openhab {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono;

State ok(Result<State> result) {
  EXPECT_TRUE(result.has_value()) << result.error().message;
  return result ? *result : State{Text{"failed", ""}};
}

std::string error_of(Result<State> result) {
  EXPECT_FALSE(result.has_value()) << describe(*result);
  return result ? std::string() : result.error().message;
}

TEST(ParsingAState, ReadsQuantitiesWithRawUtf8Units) {
  EXPECT_EQ(ok(parse_state("Quantity", "21.5 °C")), State(Quantity{21.5, "°C"}));
  EXPECT_EQ(ok(parse_state("Quantity", "70.3 °F")), State(Quantity{70.3, "°F"}));
  EXPECT_EQ(ok(parse_state("Quantity", "12 µg/m³")), State(Quantity{12, "µg/m³"}));
  EXPECT_EQ(ok(parse_state("Quantity", "64 %")), State(Quantity{64, "%"}));
  EXPECT_EQ(ok(parse_state("Quantity", "312 lx")), State(Quantity{312, "lx"}));
  EXPECT_EQ(ok(parse_state("Quantity", "294.65 K")), State(Quantity{294.65, "K"}));
  EXPECT_EQ(ok(parse_state("Quantity", "1013.2 hPa")), State(Quantity{1013.2, "hPa"}));
  EXPECT_EQ(ok(parse_state("Quantity", "284.9626891614299 °")), State(Quantity{284.9626891614299, "°"}));
}

TEST(ParsingAState, ReadsExponentsAndNegativeQuantities) {
  EXPECT_EQ(ok(parse_state("Quantity", "3.5E-4 mm")), State(Quantity{3.5e-4, "mm"}));
  EXPECT_EQ(ok(parse_state("Quantity", "1E+3 W")), State(Quantity{1000, "W"}));
  EXPECT_EQ(ok(parse_state("Quantity", "2e2 lx")), State(Quantity{200, "lx"}));
  EXPECT_EQ(ok(parse_state("Quantity", "-12.5 °C")), State(Quantity{-12.5, "°C"}));
}

TEST(ParsingAState, ReadsAQuantityWrittenWithoutTheSpace) {
  EXPECT_EQ(ok(parse_state("Quantity", "21.5°C")), State(Quantity{21.5, "°C"}));
  EXPECT_EQ(ok(parse_state("Quantity", "5E")), State(Quantity{5, "E"}));  // not an exponent: no digits follow
}

TEST(ParsingAState, ReadsADimensionlessQuantityAsADecimal) {
  // QuantityType writes a quantity whose unit is one as a bare number.
  EXPECT_EQ(ok(parse_state("Quantity", "19.9")), State(Decimal{19.9}));
}

TEST(ParsingAState, ReadsDecimals) {
  EXPECT_EQ(ok(parse_state("Decimal", "-0.125")), State(Decimal{-0.125}));
  EXPECT_EQ(ok(parse_state("Decimal", "42")), State(Decimal{42}));
  EXPECT_EQ(ok(parse_state("Decimal", "+5")), State(Decimal{5}));
  EXPECT_EQ(ok(parse_state("Decimal", "5.")), State(Decimal{5}));
  EXPECT_EQ(ok(parse_state("Decimal", ".5")), State(Decimal{0.5}));
  EXPECT_EQ(ok(parse_state("Decimal", "1.5E3")), State(Decimal{1500}));
}

TEST(ParsingAState, RejectsNanInfinityHexAndEmptyText) {
  for (const char* text : {"NaN", "nan", "Infinity", "inf", "-inf", "+Infinity", "", "-", ".", "e5", "--1"}) {
    EXPECT_FALSE(parse_state("Decimal", text).has_value()) << text;
    EXPECT_FALSE(parse_state("Quantity", text).has_value()) << text;
  }
  EXPECT_FALSE(parse_state("Decimal", "0x1p3").has_value());
  // As a quantity it is 0 of a unit called "x1p3", which no conversion knows; never 8.
  EXPECT_EQ(ok(parse_state("Quantity", "0x1p3")), State(Quantity{0, "x1p3"}));
  EXPECT_EQ(error_of(parse_state("Decimal", "NaN")), "Decimal state \"NaN\": expected a number, found \"NaN\"");
  EXPECT_EQ(error_of(parse_state("Decimal", "")), "Decimal state \"\": expected a number, found empty text");
}

TEST(ParsingAState, RejectsTrailingGarbageAndDecimalCommas) {
  EXPECT_EQ(error_of(parse_state("Decimal", "12.5x")), "Decimal state \"12.5x\": trailing characters \"x\" after the number");
  EXPECT_THAT(error_of(parse_state("Decimal", "21,5")), HasSubstr("trailing characters \",5\""));
  EXPECT_THAT(error_of(parse_state("Quantity", "21,5 °C")), HasSubstr("trailing characters \",5 °C\""));
  EXPECT_THAT(error_of(parse_state("Decimal", " 12")), HasSubstr("expected a number"));
  EXPECT_THAT(error_of(parse_state("Decimal", "12 ")), HasSubstr("trailing characters"));
  EXPECT_THAT(error_of(parse_state("Quantity", "21.5 ")), HasSubstr("trailing space"));
  EXPECT_THAT(error_of(parse_state("Quantity", "21.5 °C now")), HasSubstr("contains a space"));
  EXPECT_THAT(error_of(parse_state("Quantity", "21.5 °C\n")), HasSubstr("control character"));
  EXPECT_THAT(error_of(parse_state("Quantity", "21.5 \xff")), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of(parse_state("Quantity", "1 " + std::string(40, 'm'))), HasSubstr("too long"));
}

TEST(ParsingAState, RejectsNumbersOutOfRange) {
  EXPECT_THAT(error_of(parse_state("Decimal", "1e999")), HasSubstr("number out of range"));
  EXPECT_THAT(error_of(parse_state("Quantity", "-1e400 K")), HasSubstr("number out of range"));
}

TEST(ParsingAState, ReadsNumbersTheSameWhateverTheCLocale) {
  // A decimal-comma locale must not change how "21.5" reads (std::from_chars ignores the locale).
  const char* previous = std::setlocale(LC_NUMERIC, nullptr);
  const std::string saved = previous ? previous : "C";
  if (!std::setlocale(LC_NUMERIC, "de_DE.UTF-8") && !std::setlocale(LC_NUMERIC, "de_DE")) {
    FAIL() << "no de_DE.UTF-8 locale: scripts/install-deps.sh generates it";
  }
  EXPECT_EQ(ok(parse_state("Quantity", "21.5 °C")), State(Quantity{21.5, "°C"}));
  EXPECT_FALSE(parse_state("Decimal", "21,5").has_value());
  std::setlocale(LC_NUMERIC, saved.c_str());
}

TEST(ParsingAState, ReadsPercentsWithinZeroToHundred) {
  EXPECT_EQ(ok(parse_state("Percent", "45")), State(Percent{45}));
  EXPECT_EQ(ok(parse_state("Percent", "0")), State(Percent{0}));
  EXPECT_EQ(ok(parse_state("Percent", "100")), State(Percent{100}));
  EXPECT_EQ(ok(parse_state("Percent", "12.5")), State(Percent{12.5}));
  EXPECT_EQ(error_of(parse_state("Percent", "101")), "Percent state \"101\": outside 0..100");
  EXPECT_FALSE(parse_state("Percent", "-1").has_value());
}

TEST(ParsingAState, ReadsSwitchAndContactStates) {
  EXPECT_EQ(ok(parse_state("OnOff", "ON")), State(OnOff{true}));
  EXPECT_EQ(ok(parse_state("OnOff", "OFF")), State(OnOff{false}));
  EXPECT_EQ(ok(parse_state("OpenClosed", "OPEN")), State(OpenClosed{true}));
  EXPECT_EQ(ok(parse_state("OpenClosed", "CLOSED")), State(OpenClosed{false}));
  EXPECT_EQ(error_of(parse_state("OnOff", "on")), "OnOff state \"on\": expected ON or OFF");
  EXPECT_EQ(error_of(parse_state("OpenClosed", "OPENED")), "OpenClosed state \"OPENED\": expected OPEN or CLOSED");
}

TEST(ParsingAState, ReadsNullAndUndefAsNoValueNeverZero) {
  const State null_state = ok(parse_state("UnDef", "NULL"));
  const State undef_state = ok(parse_state("UnDef", "UNDEF"));
  EXPECT_EQ(null_state, State(NoValue{false}));
  EXPECT_EQ(undef_state, State(NoValue{true}));
  EXPECT_FALSE(std::holds_alternative<Decimal>(null_state));
  EXPECT_EQ(error_of(parse_state("UnDef", "0")), "UnDef state \"0\": expected NULL or UNDEF");
}

TEST(ParsingAState, ReadsDateTimesWithOffsets) {
  const auto expected = sys_days(2024y / November / 11) + 19h + 39min;
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11T20:39:00.000+0100")), State(DateTime{expected, minutes(60)}));
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11T20:39:00.000+01:00")), State(DateTime{expected, minutes(60)}));
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11T19:39:00Z")), State(DateTime{expected, minutes(0)}));
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11T19:39Z")), State(DateTime{expected, minutes(0)}));
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11T14:09:00.000-0530")), State(DateTime{expected, minutes(-330)}));
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11 20:39:00+01")), State(DateTime{expected, minutes(60)}));
  EXPECT_EQ(ok(parse_state("DateTime", "2024-11-11T20:39:00.123456789+0100")),
            State(DateTime{expected + microseconds(123456), minutes(60)}));
}

TEST(ParsingAState, RejectsImpossibleOrUnzonedDateTimes) {
  EXPECT_THAT(error_of(parse_state("DateTime", "2024-11-11T20:39:00")), HasSubstr("no UTC offset"));
  EXPECT_THAT(error_of(parse_state("DateTime", "2024-13-11T20:39:00Z")), HasSubstr("no such date"));
  EXPECT_THAT(error_of(parse_state("DateTime", "2023-02-29T20:39:00Z")), HasSubstr("no such date"));
  EXPECT_THAT(error_of(parse_state("DateTime", "2024-11-11T24:00:00Z")), HasSubstr("no such time"));
  EXPECT_THAT(error_of(parse_state("DateTime", "2024-11-11T20:39:00Zjunk")), HasSubstr("trailing characters"));
  EXPECT_THAT(error_of(parse_state("DateTime", "2024-11-11T20:39:00+1900")), HasSubstr("offset out of range"));
  EXPECT_THAT(error_of(parse_state("DateTime", "2024-11-11T20:39:00.+0100")), HasSubstr("expected yyyy-MM-dd"));
  EXPECT_THAT(error_of(parse_state("DateTime", "11/11/2024")), HasSubstr("expected yyyy-MM-dd"));
}

TEST(ParsingAState, KeepsStatesItDoesNotInterpretAsText) {
  EXPECT_EQ(ok(parse_state("String", "hello")), State(Text{"String", "hello"}));
  EXPECT_EQ(ok(parse_state("HSB", "120,100,50")), State(Text{"HSB", "120,100,50"}));
  EXPECT_EQ(ok(parse_state("String", "NULL")), State(Text{"String", "NULL"}));  // a string that says NULL
  EXPECT_FALSE(parse_state("", "x").has_value());
}

TEST(ParsingAnItemState, UsesTheItemType) {
  EXPECT_EQ(ok(parse_item_state("Number:Temperature", "21.5 °C")), State(Quantity{21.5, "°C"}));
  EXPECT_EQ(ok(parse_item_state("Number", "19.9")), State(Decimal{19.9}));
  EXPECT_EQ(ok(parse_item_state("Switch", "ON")), State(OnOff{true}));
  EXPECT_EQ(ok(parse_item_state("Contact", "CLOSED")), State(OpenClosed{false}));
  EXPECT_EQ(ok(parse_item_state("Dimmer", "45")), State(Percent{45}));
  EXPECT_EQ(ok(parse_item_state("Rollershutter", "100")), State(Percent{100}));
  EXPECT_EQ(ok(parse_item_state("Color", "120,100,50")), State(Text{"HSB", "120,100,50"}));
  EXPECT_EQ(ok(parse_item_state("Location", "52.5200066,13.4049540")), State(Text{"Point", "52.5200066,13.4049540"}));
  EXPECT_EQ(ok(parse_item_state("String", "hello")), State(Text{"String", "hello"}));
  EXPECT_TRUE(std::holds_alternative<DateTime>(ok(parse_item_state("DateTime", "2024-11-11T20:39:00.000+0100"))));
}

TEST(ParsingAnItemState, ReadsNullAndUndefForAnyItemType) {
  EXPECT_EQ(ok(parse_item_state("Number:Temperature", "NULL")), State(NoValue{false}));
  EXPECT_EQ(ok(parse_item_state("Switch", "UNDEF")), State(NoValue{true}));
}

TEST(ParsingAnItemState, NamesTheItemTypeInErrors) {
  EXPECT_EQ(error_of(parse_item_state("Switch", "MAYBE")), "Switch item state \"MAYBE\": expected ON or OFF");
  EXPECT_THAT(error_of(parse_item_state("Number:Temperature", "warm")),
              HasSubstr("Number:Temperature item state \"warm\": expected a number"));
}

TEST(ParsingAnUntypedState, GuessesInAFixedOrder) {
  EXPECT_EQ(ok(parse_untyped_state("NULL")), State(NoValue{false}));
  EXPECT_EQ(ok(parse_untyped_state("ON")), State(OnOff{true}));
  EXPECT_EQ(ok(parse_untyped_state("CLOSED")), State(OpenClosed{false}));
  EXPECT_EQ(ok(parse_untyped_state("21.5 °C")), State(Quantity{21.5, "°C"}));
  EXPECT_EQ(ok(parse_untyped_state("-0.125")), State(Decimal{-0.125}));
  EXPECT_TRUE(std::holds_alternative<DateTime>(ok(parse_untyped_state("2024-11-11T20:39:00.000+0100"))));
  EXPECT_EQ(ok(parse_untyped_state("hello")), State(Text{"String", "hello"}));
  EXPECT_EQ(ok(parse_untyped_state("21,5")), State(Text{"String", "21,5"}));
  EXPECT_EQ(ok(parse_untyped_state("")), State(Text{"String", ""}));
}

TEST(DescribingAState, ReadsWell) {
  EXPECT_EQ(describe(Quantity{21.5, "°C"}), "Quantity 21.5 °C");
  EXPECT_EQ(describe(NoValue{true}), "UnDef UNDEF");
  EXPECT_EQ(describe(Text{"String", "hi"}), "String \"hi\"");
  EXPECT_EQ(describe(DateTime{sys_days(2024y / November / 11) + 19h + 39min, minutes(60)}),
            "DateTime 2024-11-11T19:39:00.000000Z");
}

}  // namespace
}  // namespace carehub::openhab
