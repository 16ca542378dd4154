// Rule files: defaults, per-patient rules, and errors that name the file and the JSON path.
#include "rules/rule_set.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/temp_dir.hpp"

namespace carehub::rules {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string error_of(const std::string& json) {
  auto r = parse_rules(json, "/etc/carehub/rules.json");
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? std::string{} : r.error().message;
}

TEST(RuleFile, ARuleTakesThePilotDefaultsUnlessItSetsItsOwn) {
  auto r = parse_rules(R"({"defaults": {"confirm_window": "3min", "escalate_after": "never"},
      "rules": [{"id": "a", "type": "confirm-by-repeat", "kind": "blood-pressure", "bands": {"systolic": {"extreme_high": 200}}},
                {"id": "b", "type": "confirm-by-repeat", "kind": "blood-pressure", "repeat_deadline": "15min",
                 "bands": {"systolic": {"extreme_high": 190}}}]})",
                       "r.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->rules[0].timing.confirm_window, 3min);
  EXPECT_EQ(r->rules[0].timing.repeat_deadline, 10min);
  EXPECT_FALSE(r->rules[0].timing.escalate_after.has_value());
  EXPECT_EQ(r->rules[1].timing.repeat_deadline, 15min);
  EXPECT_EQ(r->rules[0].outcome(Band::extreme_high), Outcome::confirm);
  EXPECT_EQ(r->rules[0].outcome(Band::high), Outcome::none);
}

TEST(RuleFile, ErrorsNameTheFileTheJsonPathWhatWasExpectedAndWhatWasFound) {
  const auto e = error_of(R"({"rules": [{"id": "x", "type": "bands", "kind": "blood-pressure", "colour": 1,
      "bands": {"sistolic": {"extreme_high": 200}}, "repeat_deadline": "ten minutes"}]})");
  EXPECT_THAT(e, HasSubstr("/etc/carehub/rules.json: /rules/0/colour: unknown key"));
  EXPECT_THAT(e, HasSubstr("/rules/0/bands/sistolic: blood-pressure has no component \"sistolic\" (it has: systolic"));
  EXPECT_THAT(e, HasSubstr("/rules/0/repeat_deadline: expected a positive duration like \"10min\""));
}

TEST(RuleFile, LimitsOutOfOrderAreRefused) {
  EXPECT_THAT(error_of(R"({"rules": [{"id": "x", "type": "bands", "kind": "blood-pressure",
      "bands": {"systolic": {"optimal_high": 140, "extreme_high": 130}}}]})"),
              HasSubstr("/rules/0/bands/systolic/extreme_high: must be above optimal_high (140), found 130"));
}

TEST(RuleFile, AConfirmationWindowLongerThanTheDeadlineIsRefused) {
  EXPECT_THAT(error_of(R"({"rules": [{"id": "x", "type": "confirm-by-repeat", "kind": "blood-pressure",
      "confirm_window": "11min", "bands": {"systolic": {"extreme_high": 200}}}]})"),
              HasSubstr("/rules/0/confirm_window: must not be longer than repeat_deadline (10min)"));
}

TEST(RuleFile, KeysOfAnotherRuleTypeAndUnknownTypesAreRefused) {
  const auto e = error_of(R"({"rules": [{"id": "x", "type": "inactivity", "kind": "spo2", "change": 2},
      {"id": "y", "type": "threshold"}, {"id": "z", "type": "trend", "kind": "body-weight", "change": 0, "within": "3d"}]})");
  EXPECT_THAT(e, HasSubstr("/rules/0/change: does not apply to a rule of type \"inactivity\""));
  EXPECT_THAT(e, HasSubstr("/rules/1/type: expected one of: bands, confirm-by-repeat, inactivity, trend"));
  EXPECT_THAT(e, HasSubstr("/rules/2/change: must not be 0"));
}

TEST(RuleFile, AnIdUsedTwiceInTheSameScopeIsRefusedButAPatientMayOverrideIt) {
  EXPECT_THAT(error_of(R"({"rules": [{"id": "x", "type": "inactivity", "kind": "spo2"},
      {"id": "x", "type": "inactivity", "kind": "glucose"}]})"),
              HasSubstr("/rules/1/id: \"x\" is used twice (pilot-wide)"));
  auto ok = parse_rules(R"({"rules": [{"id": "x", "type": "inactivity", "kind": "spo2"},
      {"id": "x", "type": "inactivity", "kind": "glucose", "patient": "Patient/p"}]})", "r.json");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  ASSERT_EQ(ok->for_patient("Patient/p").size(), 1u);
  EXPECT_EQ(ok->for_patient("Patient/p")[0]->kind, Kind::glucose);
  EXPECT_EQ(ok->for_patient("Patient/q")[0]->kind, Kind::spo2);
}

TEST(RuleFile, BadJsonSaysWhere) {
  EXPECT_THAT(error_of("{\"rules\": [\n  {\"id\": }\n]}"), HasSubstr("/etc/carehub/rules.json:2:10: not valid JSON: parse error at line 2"));
}

TEST(RuleFile, CategoriesSwitchNotificationAndDefaultToOn) {
  auto r = parse_rules(R"({"categories": {"CVD": {"notify": false}}, "rules": []})", "r.json");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->notifies("CVD"));
  EXPECT_TRUE(r->notifies("HF"));
}

TEST(Durations, ParseTheUnitsCliniciansWrite) {
  EXPECT_EQ(parse_duration("10min"), Millis(10min));
  EXPECT_EQ(parse_duration("5 min"), Millis(5min));
  EXPECT_EQ(parse_duration("30s"), Millis(30s));
  EXPECT_EQ(parse_duration("3d"), Millis(72h));
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_FALSE(parse_duration("10").has_value());
  EXPECT_FALSE(parse_duration("-1min").has_value());
  EXPECT_FALSE(parse_duration("1 week").has_value());
  EXPECT_EQ(format_duration(Millis(72h)), "3d");
  EXPECT_EQ(format_duration(Millis(5min)), "5min");
}

TEST(ExampleRules, EveryFileInConfigRulesIsValid) {
  const auto dir = std::filesystem::path(CAREHUB_SOURCE_DIR) / "config" / "rules";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    auto r = load_rules(entry.path().string());
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message);
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

// The config fuzzer found that nlohmann throws out_of_range for a number beyond a double; rule files
// go through the same document parser, so they must report it too instead of crashing the daemon.
TEST(ParseRules, ANumberTooLargeForADoubleIsAnErrorNotACrash) {
  auto r = parse_rules(R"({"rules": 3e3333333333333333330000003339607008678161066})", "r.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("r.json: not valid JSON: number overflow"), std::string::npos) << r.error().message;
}


// What the uploader flags on an Observation (interpretation): the worst band per component over the rules
// of the reading's own patient and kind; optimal components are absent.
TEST(ComponentBands, TakesTheWorstBandPerComponentFromThePatientsOwnRulesOfTheKind) {
  auto rules = parse_rules(R"({"rules": [
      {"id": "hf5", "type": "confirm-by-repeat", "kind": "blood-pressure",
       "bands": {"systolic": {"extreme_low": 90, "extreme_high": 200}, "diastolic": {"extreme_high": 130}}},
      {"id": "bp-band", "type": "bands", "kind": "blood-pressure",
       "bands": {"systolic": {"optimal_high": 140}, "diastolic": {"optimal_high": 90}}},
      {"id": "bp-band", "type": "bands", "kind": "blood-pressure", "patient": "Patient/spouse",
       "bands": {"systolic": {"optimal_high": 220}}},
      {"id": "fever", "type": "bands", "kind": "body-temperature", "bands": {"value": {"optimal_high": 37.5}}}]})",
                           "r.json");
  ASSERT_TRUE(rules.has_value()) << rules.error().message;
  Reading r;
  r.kind = Kind::blood_pressure;
  r.patient = "Patient/p1";
  r.values = {{"systolic", 210}, {"diastolic", 95}, {"pulse", 70}};
  EXPECT_EQ(component_bands(*rules, r), (std::map<std::string, Band>{{"systolic", Band::extreme_high}, {"diastolic", Band::high}}));

  r.values = {{"systolic", 85}, {"diastolic", 60}};
  EXPECT_EQ(component_bands(*rules, r), (std::map<std::string, Band>{{"systolic", Band::extreme_low}}));

  r.values = {{"systolic", 150}, {"diastolic", 95}};
  r.patient = "Patient/spouse";  // her own rule replaces the pilot's bp-band: 150 is within her limit
  EXPECT_EQ(component_bands(*rules, r), (std::map<std::string, Band>{}));
}

}  // namespace
}  // namespace carehub::rules
