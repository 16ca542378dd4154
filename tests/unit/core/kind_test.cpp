#include "core/kind.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace carehub {
namespace {

TEST(KindCatalogue, ListsEveryKindOnceInEnumOrder) {
  const std::vector<std::string> expected{"blood-pressure",   "heart-rate",    "body-temperature", "body-weight",
                                          "spo2",             "glucose",       "steps",            "room-temperature",
                                          "room-humidity",    "illuminance",   "motion"};
  const auto kinds = all_kinds();
  ASSERT_EQ(kinds.size(), expected.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(kinds[i].name, expected[i]);
    EXPECT_EQ(static_cast<std::size_t>(kinds[i].kind), i) << kinds[i].name;
  }
}

TEST(KindCatalogue, InfoAnswersForTheKindAskedAbout) {
  for (const auto& k : all_kinds()) {
    EXPECT_EQ(info(k.kind).kind, k.kind);
    EXPECT_EQ(to_string(k.kind), k.name);
  }
}

TEST(KindCatalogue, RoundTripsEveryNameThroughKindFromString) {
  for (const auto& k : all_kinds()) EXPECT_EQ(kind_from_string(k.name), k.kind) << k.name;
}

TEST(KindCatalogue, DoesNotKnowMadeUpOrMisspelledNames) {
  EXPECT_EQ(kind_from_string("pulse-wave"), std::nullopt);
  EXPECT_EQ(kind_from_string("Blood-Pressure"), std::nullopt);
  EXPECT_EQ(kind_from_string("blood_pressure"), std::nullopt);
  EXPECT_EQ(kind_from_string(""), std::nullopt);
}

TEST(KindCatalogue, DescribesBloodPressureAsTheDesignTableDoes) {
  const auto& bp = info(Kind::blood_pressure);
  ASSERT_EQ(bp.components.size(), 4u);
  const auto* sys = find_component(Kind::blood_pressure, "systolic");
  const auto* dia = find_component(Kind::blood_pressure, "diastolic");
  const auto* mean = find_component(Kind::blood_pressure, "mean");
  const auto* pulse = find_component(Kind::blood_pressure, "pulse");
  ASSERT_TRUE(sys && dia && mean && pulse);
  EXPECT_TRUE(sys->required);
  EXPECT_TRUE(dia->required);
  EXPECT_FALSE(mean->required);
  EXPECT_FALSE(pulse->required);
  EXPECT_EQ(sys->unit, "mm[Hg]");
  EXPECT_EQ(dia->unit, "mm[Hg]");
  EXPECT_EQ(mean->unit, "mm[Hg]");
  EXPECT_EQ(pulse->unit, "/min");
}

TEST(KindCatalogue, GivesEachSingleValuedKindARequiredValueInItsCanonicalUnit) {
  const std::vector<std::pair<Kind, std::string>> expected{
      {Kind::heart_rate, "/min"},      {Kind::body_temperature, "Cel"}, {Kind::body_weight, "kg"},
      {Kind::spo2, "%"},               {Kind::glucose, "mg/dL"},        {Kind::steps, "{steps}"},
      {Kind::room_temperature, "Cel"}, {Kind::room_humidity, "%"},      {Kind::illuminance, "lx"},
      {Kind::motion, "{bool}"}};
  for (const auto& [kind, unit] : expected) {
    const auto* c = find_component(kind, "value");
    ASSERT_NE(c, nullptr) << to_string(kind);
    EXPECT_TRUE(c->required) << to_string(kind);
    EXPECT_EQ(c->unit, unit) << to_string(kind);
    EXPECT_EQ(info(kind).components.front().name, "value") << "the value comes first: " << to_string(kind);
  }
}

TEST(KindCatalogue, KnowsTheOptionalExtrasOfWeightAndSpo2) {
  ASSERT_NE(find_component(Kind::body_weight, "bmi"), nullptr);
  EXPECT_EQ(find_component(Kind::body_weight, "bmi")->unit, "kg/m2");
  ASSERT_NE(find_component(Kind::body_weight, "height"), nullptr);
  EXPECT_EQ(find_component(Kind::body_weight, "height")->unit, "m");
  ASSERT_NE(find_component(Kind::spo2, "pulse"), nullptr);
  EXPECT_EQ(find_component(Kind::spo2, "pulse")->unit, "/min");
  EXPECT_FALSE(find_component(Kind::spo2, "pulse")->required);
}

TEST(KindCatalogue, FindsNoComponentThatTheKindDoesNotHave) {
  EXPECT_EQ(find_component(Kind::heart_rate, "systolic"), nullptr);
  EXPECT_EQ(find_component(Kind::blood_pressure, "value"), nullptr);
  EXPECT_EQ(find_component(Kind::motion, ""), nullptr);
}

TEST(KindCatalogue, MarksOnlyHomeEnvironmentStreamsAsEnvironmental) {
  const std::set<Kind> environmental{Kind::room_temperature, Kind::room_humidity, Kind::illuminance, Kind::motion};
  for (const auto& k : all_kinds()) EXPECT_EQ(k.environmental, environmental.contains(k.kind)) << k.name;
}

TEST(KindCatalogue, GivesEveryComponentASaneRangeAndAUnitThatUnitsKnows) {
  for (const auto& k : all_kinds()) {
    std::set<std::string_view> names;
    for (const auto& c : k.components) {
      SCOPED_TRACE(std::string(k.name) + "/" + std::string(c.name));
      EXPECT_TRUE(names.insert(c.name).second) << "duplicate component";
      EXPECT_LT(c.min, c.max);
      auto identity = to_canonical(1.0, c.unit, c.unit);
      ASSERT_TRUE(identity.has_value()) << identity.error().message;
      EXPECT_EQ(*identity, 1.0);
    }
  }
}

TEST(KindCatalogue, LetsMotionBeOnlyZeroToOne) {
  const auto* c = find_component(Kind::motion, "value");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->min, 0);
  EXPECT_EQ(c->max, 1);
}

}  // namespace
}  // namespace carehub
