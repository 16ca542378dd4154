// `rules simulate`: the same engine and store on a virtual clock, one JSON line per event.
#include "rules/simulator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

Result<Output> run(const std::string& input, SimulateOptions options = {}) {
  auto rules = parse_rules(kRules, "r.json");
  EXPECT_TRUE(rules.has_value());
  std::istringstream in(input);
  Output out;
  Logger log(LogLevel::error);
  auto r = simulate(*rules, in, options, [&](const nlohmann::ordered_json& j) { out.lines.push_back(j); }, log);
  if (!r) return r.error();
  return out;
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

}  // namespace
}  // namespace carehub::rules
