// What the patient sees: only their own believed readings, the red alert, the repeat request's countdown.
#include "web/server/home_view.hpp"

#include <gtest/gtest.h>

namespace carehub::web {
namespace {

using nlohmann::json;

TimePoint at(const char* t) { return *parse_rfc3339(t); }

TEST(HomeView, TheLatestReadingIsThePatientsOwnAndBelieved) {
  const json rows = json::array({
      {{"kind", "body-weight"}, {"time", "2026-12-05T08:00:00Z"}, {"values", {{"value", 61}}}, {"sync", "unassigned"}},
      {{"kind", "body-weight"}, {"time", "2026-12-05T07:59:00Z"}, {"values", {{"value", 82}}}, {"sync", "pending"}, {"patient", "Patient/spouse"}},
      {{"kind", "body-weight"}, {"time", "2030-01-01T00:00:00Z"}, {"values", {{"value", 70}}}, {"sync", "quarantined"}, {"patient", "Patient/p1"}},
      {{"kind", "body-weight"}, {"time", "2026-12-04T08:00:00Z"}, {"values", {{"value", 74.5}}}, {"sync", "synced"}, {"patient", "Patient/p1"}, {"device", "scale"}},
  });
  auto latest = latest_reading(rows, "Patient/p1");
  ASSERT_FALSE(latest.is_null());
  EXPECT_EQ(latest["values"]["value"], 74.5);
  EXPECT_EQ(latest["time"], "2026-12-04T08:00:00Z");
  EXPECT_TRUE(latest_reading(json::array({rows[0]}), "Patient/p1").is_null());
  EXPECT_EQ(series_points(rows, "Patient/p1").size(), 1u);
}

TEST(HomeView, TheRedAlertAndTheRepeatRequestWithItsCountdown) {
  const json alerts = json::array({
      {{"id", "r1"}, {"state", "open"}, {"event", "repeat-request"}, {"patient", "Patient/p1"}, {"audience", "patient"},
       {"notify", true}, {"text", "Measure again"}, {"deadline", "2026-12-05T10:10:00Z"}, {"requires_ack", false}},
      {{"id", "a1"}, {"state", "open"}, {"event", "alert"}, {"patient", "Patient/p1"}, {"audience", "both"},
       {"notify", true}, {"text", "Seek care"}, {"requires_ack", true}, {"acknowledged", nullptr}, {"reminders", 1}},
      {{"id", "c1"}, {"state", "open"}, {"event", "alert"}, {"patient", "Patient/p1"}, {"audience", "clinician"}, {"notify", true}},
      {{"id", "f1"}, {"state", "open"}, {"event", "alert"}, {"patient", "Patient/p1"}, {"audience", "patient"}, {"notify", false}},
      {{"id", "x1"}, {"state", "closed"}, {"event", "alert"}, {"patient", "Patient/p1"}, {"requires_ack", true}},
  });
  auto v = alert_view(alerts, "Patient/p1", at("2026-12-05T10:01:30Z"));
  EXPECT_FALSE(v["ok"]);
  EXPECT_EQ(v["repeat_request"]["id"], "r1");
  EXPECT_EQ(v["repeat_request"]["seconds_left"], 510);
  EXPECT_EQ(v["red_alert"]["id"], "a1");
  EXPECT_EQ(v["red_alert"]["text"], "Seek care");
  EXPECT_EQ(v["alerts"].size(), 2u);  // not the clinician's, not a filtered one, not a closed one
  auto late = alert_view(alerts, "Patient/p1", at("2026-12-05T11:00:00Z"));
  EXPECT_EQ(late["repeat_request"]["seconds_left"], 0);  // never negative
  // The countdown ends when a repeat stops counting (repeat_by), not at the later no-repeat deadline.
  json windowed = alerts;
  windowed[0]["repeat_by"] = "2026-12-05T10:05:00Z";
  auto w = alert_view(windowed, "Patient/p1", at("2026-12-05T10:01:30Z"));
  EXPECT_EQ(w["repeat_request"]["seconds_left"], 210);
  EXPECT_EQ(w["repeat_request"]["deadline"], "2026-12-05T10:05:00Z");
  EXPECT_EQ(w["repeat_request"]["no_repeat_deadline"], "2026-12-05T10:10:00Z");
  json acked = alerts;
  acked[1]["acknowledged"] = "2026-12-05T10:02:00Z";
  acked.erase(0);
  auto calm = alert_view(acked, "Patient/p1", at("2026-12-05T10:03:00Z"));
  EXPECT_TRUE(calm["red_alert"].is_null());
  EXPECT_TRUE(calm["ok"]);
}

TEST(HomeView, DevicesWithALowBatteryOrNotSeenForThreeDaysNeedAttention) {
  const json devices = json::array({
      {{"id", "bp"}, {"name", "BP monitor"}, {"battery", 12}, {"last_seen", "2026-12-05T09:00:00Z"}},
      {{"id", "scale"}, {"name", "Scale"}, {"category", "scale"}, {"battery", 80}, {"last_seen", "2026-12-01T09:00:00Z"}},
      {{"id", "watch"}, {"name", "Watch"}, {"battery", nullptr}, {"last_seen", "2026-12-04T09:00:00Z"}},
      {{"id", "new"}, {"name", "New"}, {"last_seen", nullptr}},
  });
  auto a = devices_needing_attention(devices, at("2026-12-05T10:00:00Z"));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]["reason"], "battery-low");
  EXPECT_EQ(a[1]["id"], "scale");
  EXPECT_EQ(a[1]["reason"], "not-seen");
  EXPECT_EQ(a[1]["category"], "scale") << "the display names the device by its kind, not its id";
}

}  // namespace
}  // namespace carehub::web
