#include "core/reading_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace carehub {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const TimePoint kReceived = from_epoch_ms(1763719260000);  // 2025-11-21T10:01:00Z

Result<Reading> parse(const std::string& line) { return parse_reading_json(line, kReceived); }

// The error message of a line that must be refused.
std::string error_of(const std::string& line) {
  auto r = parse(line);
  if (r.has_value()) return "<accepted>";
  EXPECT_EQ(r.error().code, Errc::invalid_argument) << line;
  return r.error().message;
}

TEST(ParseReadingJson, ReadsTheDesignExampleLine) {
  auto r = parse(
      R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","device":"ble-aa-bb","values":{"systolic":200,"diastolic":130}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->kind, Kind::blood_pressure);
  EXPECT_EQ(r->time, parse_rfc3339("2026-11-21T10:00:00Z"));
  EXPECT_EQ(r->device, "ble-aa-bb");
  EXPECT_EQ(r->received, kReceived);
  EXPECT_EQ(r->values, (std::map<std::string, double>{{"systolic", 200}, {"diastolic", 130}}));
  EXPECT_EQ(r->patient, "");
  EXPECT_EQ(r->device_time, std::nullopt);
  EXPECT_EQ(r->source, "");
}

TEST(ParseReadingJson, DefaultsTheDeviceToManual) {
  auto r = parse(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":72}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->device, "manual");
}

TEST(ParseReadingJson, ReadsPatientSourceAndDeviceTime) {
  auto r = parse(
      R"({"kind":"spo2","time":"2026-11-21T10:00:00Z","device_time":"2026-11-21T09:58:00.500+00:00",)"
      R"("patient":"Patient/p7","source":"mqtt","values":{"value":97,"pulse":64}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->patient, "Patient/p7");
  EXPECT_EQ(r->source, "mqtt");
  EXPECT_EQ(r->device_time, parse_rfc3339("2026-11-21T09:58:00.500Z"));
  EXPECT_EQ(r->values.at("pulse"), 64);
}

TEST(ParseReadingJson, ConvertsKilopascalToMillimetresOfMercury) {
  auto r = parse(
      R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":16,"diastolic":80},"units":{"systolic":"kPa"}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_NEAR(r->values.at("systolic"), 120.009852135, 1e-9);
  EXPECT_EQ(r->values.at("diastolic"), 80) << "a value without a unit is already canonical";
}

TEST(ParseReadingJson, ConvertsFahrenheitAndPounds) {
  auto t = parse(R"({"kind":"body-temperature","time":"2026-11-21T10:00:00Z","values":{"value":100.4},"units":{"value":"°F"}})");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(t->values.at("value"), 38.0);
  auto w = parse(R"({"kind":"body-weight","time":"2026-11-21T10:00:00Z","values":{"value":150},"units":{"value":"lb"}})");
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_NEAR(w->values.at("value"), 68.0388555, 1e-9);
}

TEST(ParseReadingJson, ValidatesTheConvertedValueNotTheGivenOne) {
  // 40 kPa is 300 mm[Hg]: plausible; 40 mm[Hg] would also be, but 50 kPa = 375 mm[Hg] is not.
  EXPECT_TRUE(parse(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":40,"diastolic":10},"units":{"systolic":"kPa","diastolic":"kPa"}})")
                  .has_value());
  EXPECT_FALSE(parse(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":50,"diastolic":10},"units":{"systolic":"kPa","diastolic":"kPa"}})")
                   .has_value());
}

TEST(ParseReadingJson, RefusesTextThatIsNotJson) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate",)"), "reading is not valid JSON (at byte 22)");
  EXPECT_EQ(error_of(""), "reading is not valid JSON (at byte 1)");
}

// Issue 12: MQTT publishers and `measure add` clients are peers; their JSON goes through the one safe parse.
TEST(ParseReadingJson, RefusesNumbersBeyondADoubleAndDeepNesting) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":1e999}})"),
            "reading: a number beyond the range of a double");
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":)" + std::string(100'000, '[') +
                     std::string(100'000, ']') + "}}"),
            "reading: nesting deeper than 64");
}

TEST(ParseReadingJson, RefusesADocumentThatIsNotAnObject) {
  EXPECT_EQ(error_of("[1,2]"), "/: expected an object, found an array");
  EXPECT_EQ(error_of("42"), "/: expected an object, found number 42");
}

TEST(ParseReadingJson, NamesAMissingKind) {
  EXPECT_EQ(error_of(R"({"time":"2026-11-21T10:00:00Z","values":{"value":72}})"), "/kind: required, but missing");
}

TEST(ParseReadingJson, NamesAnUnknownKindAndListsTheKnownOnes) {
  EXPECT_THAT(error_of(R"({"kind":"pulse-wave","time":"2026-11-21T10:00:00Z","values":{"value":72}})"),
              AllOf(StartsWith("/kind: unknown kind \"pulse-wave\""), HasSubstr("blood-pressure, heart-rate"),
                    HasSubstr("motion")));
}

TEST(ParseReadingJson, NamesAKindOfTheWrongType) {
  EXPECT_EQ(error_of(R"({"kind":5,"time":"2026-11-21T10:00:00Z","values":{"value":72}})"),
            "/kind: expected a string, found number 5");
}

TEST(ParseReadingJson, NamesAMissingTime) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","values":{"value":72}})"), "/time: required, but missing");
}

TEST(ParseReadingJson, NamesATimeWithoutAZone) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00","values":{"value":72}})"),
            "/time: expected an RFC 3339 time with zone (2026-11-21T10:00:00Z), found \"2026-11-21T10:00:00\"");
}

TEST(ParseReadingJson, NamesABadDeviceTime) {
  EXPECT_THAT(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device_time":"yesterday","values":{"value":72}})"),
              StartsWith("/device_time: expected an RFC 3339 time with zone"));
}

TEST(ParseReadingJson, NamesAnEmptyDevice) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device":"","values":{"value":72}})"),
            "/device: must not be empty");
}

TEST(ParseReadingJson, NamesMissingEmptyOrMistypedValues) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z"})"), "/values: required, but missing");
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":[72]})"),
            "/values: expected an object, found an array");
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{}})"),
            "/values: expected at least one value");
}

TEST(ParseReadingJson, NamesAValueThatIsNotANumber) {
  EXPECT_EQ(error_of(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":"120","diastolic":80}})"),
            "/values/systolic: expected a number, found string \"120\"");
  EXPECT_EQ(error_of(R"({"kind":"motion","time":"2026-11-21T10:00:00Z","values":{"value":true}})"),
            "/values/value: expected a number, found boolean true");
}

TEST(ParseReadingJson, EscapesAValueNameInItsPath) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"a/b":null}})"),
            "/values/a~1b: expected a number, found null");
}

TEST(ParseReadingJson, NamesAnUnknownUnit) {
  EXPECT_EQ(error_of(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":16,"diastolic":80},"units":{"systolic":"bar"}})"),
            "/units/systolic: unknown unit \"bar\"");
}

TEST(ParseReadingJson, NamesAUnitThatMeasuresSomethingElse) {
  EXPECT_EQ(error_of(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":16,"diastolic":80},"units":{"systolic":"kg"}})"),
            "/units/systolic: unit \"kg\" cannot be converted to \"mm[Hg]\"");
}

TEST(ParseReadingJson, NamesAUnitThatIsNotAString) {
  EXPECT_EQ(error_of(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":16,"diastolic":80},"units":{"systolic":7}})"),
            "/units/systolic: expected a unit string, found number 7");
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":72},"units":"bpm"})"),
            "/units: expected an object, found string \"bpm\"");
}

TEST(ParseReadingJson, NamesAUnitForAValueThatIsNotThere) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":72},"units":{"pulse":"bpm"}})"),
            "/units/pulse: names a value that is not in /values");
}

TEST(ParseReadingJson, RefusesUnknownKeysListingTheKnownOnes) {
  EXPECT_EQ(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":72},"colour":"red"})"),
            "/colour: unknown key (expected one of: kind, time, device, patient, values, units, device_time, source)");
}

TEST(ParseReadingJson, ReportsEveryErrorInTheLineAtOnce) {
  const auto message = error_of(R"({"kind":"pulse-wave","values":{"value":"x"},"colour":1})");
  EXPECT_THAT(message, HasSubstr("/colour: unknown key"));
  EXPECT_THAT(message, HasSubstr("/kind: unknown kind"));
  EXPECT_THAT(message, HasSubstr("/time: required, but missing"));
  EXPECT_THAT(message, HasSubstr("/values/value: expected a number"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 3) << "one error per line:\n" << message;
}

// reading_json.hpp promises "Errors name the JSON path"; the checks validate() makes after parsing are
// about a member of /values (or /time) too, and a technician typing a line needs to know which.
TEST(ParseReadingJson, NamesThePathOfAValueOutsideItsPlausibleRange) {
  EXPECT_THAT(error_of(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":400,"diastolic":80}})"),
              StartsWith("/values/systolic: "));
}

TEST(ParseReadingJson, NamesThePathOfAMissingRequiredValue) {
  EXPECT_THAT(error_of(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":120}})"),
              StartsWith("/values/diastolic: "));
}

TEST(ParseReadingJson, NamesThePathOfAValueTheKindDoesNotHave) {
  EXPECT_THAT(error_of(R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":72,"systolic":120}})"),
              StartsWith("/values/systolic: "));
}

TEST(ParseReadingJson, NamesThePathOfATimeBefore2000) {
  EXPECT_THAT(error_of(R"({"kind":"heart-rate","time":"1970-01-01T00:00:00Z","values":{"value":72}})"),
              StartsWith("/time: "));
}

TEST(ReadingFromJson, RefusesANonObjectDocument) {
  auto r = reading_from_json(nlohmann::json::array(), kReceived);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "/: expected an object, found an array");
}

TEST(ReadingToJson, WritesCanonicalUnitsAndNoUnitsMember) {
  Reading r;
  r.kind = Kind::blood_pressure;
  r.device = "ble-aa";
  r.time = *parse_rfc3339("2026-11-21T10:00:00.250Z");
  r.values = {{"systolic", 120.5}, {"diastolic", 80}};
  const auto j = reading_to_json(r);
  EXPECT_EQ(j, nlohmann::json::parse(
                   R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00.250Z","device":"ble-aa","values":{"systolic":120.5,"diastolic":80.0}})"));
}

TEST(ReadingToJson, RoundTripsEveryFieldThroughReadingFromJson) {
  Reading r;
  r.kind = Kind::spo2;
  r.device = "ble-11-22";
  r.patient = "Patient/p9";
  r.time = *parse_rfc3339("2026-11-21T10:00:00.001Z");
  r.device_time = *parse_rfc3339("2026-11-21T09:59:59.999Z");
  r.received = kReceived;
  r.source = "ble";
  r.values = {{"value", 96.5}, {"pulse", 64.1 + 0.2}};
  auto back = reading_from_json(reading_to_json(r), kReceived);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, r);
  auto back_from_text = parse_reading_json(reading_to_json(r).dump(), kReceived);
  ASSERT_TRUE(back_from_text.has_value()) << back_from_text.error().message;
  EXPECT_EQ(*back_from_text, r);
}

}  // namespace
}  // namespace carehub
