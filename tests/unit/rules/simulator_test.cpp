// `rules simulate`: the same engine and store on a virtual clock, one JSON line per event.
#include "rules/simulator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace carehub::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kRules = R"({"defaults": {"escalate_after": "never"},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}},
            {"id": "no-bp", "type": "inactivity", "kind": "blood-pressure", "after": "10d"}]})";

struct Output {
  std::vector<nlohmann::ordered_json> lines;
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l["time"].get<std::string>() + " " + l["event"].get<std::string>() + "/" + l["severity"].get<std::string>());
    return out;
  }
};

Result<Output> run_rules(const Result<RuleSet>& rules, const std::string& input, SimulateOptions options = {}) {
  if (!rules) return rules.error();
  std::istringstream in(input);
  Output out;
  Logger log(LogLevel::error);
  auto r = simulate(*rules, in, options, [&](const nlohmann::ordered_json& j) { out.lines.push_back(j); }, log);
  if (!r) return r.error();
  return out;
}

Result<Output> run(const std::string& input, SimulateOptions options = {}) {
  return run_rules(parse_rules(kRules, "r.json"), input, options);
}

// The rule file the hub ships (config/rules/hf5.json), so these tests prove what patients get.
Result<Output> run_shipped(const std::string& input) {
  return run_rules(load_rules(std::string(CAREHUB_SOURCE_DIR) + "/config/rules/hf5.json"), input);
}

std::string bp(const char* time, int systolic, int diastolic) {
  return nlohmann::json{{"kind", "blood-pressure"}, {"time", time}, {"device", "cuff-1"},
                        {"values", {{"systolic", systolic}, {"diastolic", diastolic}}}}
             .dump() + "\n";
}

TEST(Simulate, ReplaysTheHF5ScenarioAndAnAcknowledgementOnAVirtualClock) {
  auto out = run(
      R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":200,"diastolic":130}}
{"kind":"blood-pressure","time":"2026-11-21T10:04:00Z","device":"cuff-2","values":{"systolic":201,"diastolic":129}}
{"time":"2026-11-21T10:30:00Z","action":"ack","alert":"last"}
)");
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:04:00Z alert/red",
                                          "2026-11-21T10:14:00Z reminder/red", "2026-11-21T10:24:00Z reminder/red",
                                          "2026-11-21T10:30:00Z acknowledged/red"));
  const auto& red = out->lines[1];
  EXPECT_EQ(red.begin().key(), "time") << "keys in the documented order";
  EXPECT_EQ(red["rule"], "HF5");
  EXPECT_EQ(red["notify"], true);
  EXPECT_EQ(red["readings"].size(), 2u);
}

TEST(Simulate, UntilRunsTheClockOnToFireDeadlinesAndInactivity) {
  SimulateOptions o;
  o.until = parse_rfc3339("2026-12-01T10:00:00Z");
  auto out = run(R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":120,"diastolic":80}})", o);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_THAT(out->summary(), ElementsAre("2026-12-01T10:00:00Z inactivity/info"));
}

TEST(Simulate, ANoRepeatDeadlineFiresAtItsOwnTimeBeforeTheNextLine) {
  auto out = run(
      R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","values":{"systolic":210,"diastolic":100}}
{"kind":"blood-pressure","time":"2026-11-21T12:00:00Z","values":{"systolic":120,"diastolic":80}}
)");
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:10:00Z alert/amber"));
}

TEST(Simulate, TwoPatientsInOneInputAreKeptApart) {
  auto out = run(
      R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","patient":"Patient/a","values":{"systolic":200,"diastolic":90}}
{"kind":"blood-pressure","time":"2026-11-21T10:01:00Z","patient":"Patient/b","values":{"systolic":200,"diastolic":90}}
{"kind":"blood-pressure","time":"2026-11-21T10:02:00Z","patient":"Patient/a","values":{"systolic":120,"diastolic":80}}
)");
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_EQ(out->lines.size(), 3u);
  EXPECT_EQ(out->lines[2]["event"], "resolved");
  EXPECT_EQ(out->lines[2]["patient"], "Patient/a");
}

TEST(Simulate, ABadLineIsReportedWithItsNumber) {
  auto out = run("{\"kind\":\"blood-pressure\",\"time\":\"2026-11-21T10:00:00Z\",\"values\":{\"systolic\":900,\"diastolic\":80}}\n");
  ASSERT_FALSE(out.has_value());
  EXPECT_THAT(out.error().message, HasSubstr("input line 1: "));
  auto ack = run("{\"time\":\"2026-11-21T10:00:00Z\",\"action\":\"ack\",\"alert\":\"last\"}\n");
  ASSERT_FALSE(ack.has_value());
  EXPECT_THAT(ack.error().message, HasSubstr("input line 1: there is no open alert to ack"));
}

// HF5's low side (issue 14): the pilot's HF5 is "SBP, DBP too high, or SBP too low". Before, the shipped
// file asked for a repeat only on high values, so SBP 84 passed without a word.
TEST(SimulateShippedHF5, ALowSystolicAsksForARepeatAndAConfirmingLowRepeatRaisesARedAlert) {
  auto out = run_shipped(bp("2026-11-21T10:00:00Z", 84, 52) + bp("2026-11-21T10:03:00Z", 86, 54) +
                         R"({"time":"2026-11-21T10:08:00Z","action":"ack","alert":"last"})");
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:03:00Z alert/red",
                                          "2026-11-21T10:08:00Z acknowledged/red"));
  EXPECT_THAT(out->lines[0]["text"].get<std::string>(), HasSubstr("systolic 84"));
  EXPECT_EQ(out->lines[1]["readings"].size(), 2u) << "the red alert carries both low readings";
  EXPECT_EQ(out->lines[1]["notify"], true);
}

TEST(SimulateShippedHF5, ANonConfirmingRepeatResolvesTheLowEpisode) {
  auto out = run_shipped(bp("2026-11-21T10:00:00Z", 84, 52) + bp("2026-11-21T10:04:00Z", 104, 64));
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:04:00Z resolved/info"));
  EXPECT_EQ(out->lines[1]["state"], "closed");
}

TEST(SimulateShippedHF5, AnUnrepeatedLowReadingGoesToTheClinicianAsAmberAtItsDeadline) {
  auto out = run_shipped(bp("2026-11-21T10:00:00Z", 84, 52) + bp("2026-11-21T11:00:00Z", 118, 76));
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:10:00Z alert/amber"));
}

TEST(SimulateShippedHF5, TheLowLimitIsIncludedAndOnlySystolicHasOne) {
  // 90 is extreme (the band includes its limit), 91 is not; a diastolic of 40 alone raises nothing: the
  // pilot's HF5 has no diastolic low limit.
  auto at_limit = run_shipped(bp("2026-11-21T10:00:00Z", 90, 60));
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().message;
  ASSERT_THAT(at_limit->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info"));
  auto above = run_shipped(bp("2026-11-21T10:00:00Z", 91, 60) + bp("2026-11-21T10:20:00Z", 120, 40));
  ASSERT_TRUE(above.has_value()) << above.error().message;
  EXPECT_THAT(above->summary(), ElementsAre());
}

TEST(SimulateShippedHF5, TheShippedLowScenarioFileGivesTheDocumentedEvents) {
  // docs/rules.md shows this file's output; the file and the doc must not drift apart.
  std::ifstream f(std::string(CAREHUB_SOURCE_DIR) + "/config/rules/hf5-low-scenario.jsonl");
  std::stringstream text;
  text << f.rdbuf();
  ASSERT_FALSE(text.str().empty());
  auto out = run_shipped(text.str());
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:03:00Z alert/red",
                                          "2026-11-21T10:08:00Z acknowledged/red"));
}

TEST(SimulateShippedHF5, ALowEpisodeIsNotConfirmedByAHighRepeat) {
  // SBP 84 then SBP 205 three minutes later: two different problems (or a faulty cuff), not a confirmed
  // low. The low episode closes unconfirmed and the high reading asks for its own repeat.
  auto out = run_shipped(bp("2026-11-21T10:00:00Z", 84, 52) + bp("2026-11-21T10:03:00Z", 205, 100));
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_THAT(out->summary(), ElementsAre("2026-11-21T10:00:00Z repeat-request/info", "2026-11-21T10:03:00Z resolved/info",
                                          "2026-11-21T10:03:00Z repeat-request/info"));
  EXPECT_THAT(out->lines[2]["text"].get<std::string>(), HasSubstr("systolic 205"));
}

}  // namespace
}  // namespace carehub::rules
