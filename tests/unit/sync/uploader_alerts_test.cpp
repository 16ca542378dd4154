// Alerts sent as DetectedIssue resources: after the evidence they cite, revised on acknowledgement,
// dead-lettered alone when refused. Same fixture as uploader_test.cpp.
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

TEST_F(UploaderAlertTest, SendsTheEvidenceFirstThenADetectedIssueCitingIt) {
  const auto uids = ingest({heart_rate(150, 0), heart_rate(155, 1)});
  put_alert(red_alert(uids));
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));

  const auto issues = issue_entries();
  ASSERT_EQ(issues.size(), 1u);
  const auto& issue = issues[0]["resource"];
  EXPECT_EQ(issue["identifier"][0]["value"], "alert-1");
  // Every revision, the first too, is a conditional update on the alert's identifier (alert_upload.hpp).
  EXPECT_EQ(issues[0]["request"]["method"], "PUT");
  EXPECT_EQ(issues[0]["request"]["url"], "DetectedIssue?identifier=urn:carehub:alert|alert-1");
  EXPECT_THAT(issues[0].value("fullUrl", ""), ::testing::StartsWith("urn:uuid:"));
  EXPECT_FALSE(issue.contains("id")) << "a conditional update names no server id";
  ASSERT_EQ(issue["evidence"][0]["detail"].size(), 2u);
  for (const auto& uid : uids) {
    const auto ref = stored(uid).server_id;
    ASSERT_FALSE(ref.empty()) << "the evidence was not uploaded";
    EXPECT_THAT(issue["evidence"][0]["detail"].dump(), HasSubstr(ref));
  }
  // Every Observation the issue cites was created in an earlier request.
  const auto st = server->state();
  std::size_t issue_request = 0;
  for (std::size_t i = 0; i < st.bundles.size(); ++i) {
    if (has_resource(st.bundles[i], "DetectedIssue")) issue_request = i;
  }
  for (std::size_t i = issue_request; i < st.bundles.size(); ++i) EXPECT_FALSE(has_resource(st.bundles[i], "Observation"));
  EXPECT_EQ(alert_sync().pending, 0);
}

// How an alert goes ahead of the backlog without splitting it: uploader_window_test.cpp.

TEST_F(UploaderAlertTest, AcknowledgementReplacesTheIssueWithAMitigation) {
  const auto uids = ingest({heart_rate(150, 0)});
  auto alert = red_alert(uids);
  put_alert(alert);
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  ASSERT_EQ(issue_entries().size(), 1u);

  alert.state = AlertState::acknowledged;
  alert.acknowledged = kNow + std::chrono::minutes(5);
  put_alert(alert);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto issues = issue_entries();
  ASSERT_EQ(issues.size(), 2u);
  const auto& update = issues[1];
  EXPECT_EQ(update["request"]["method"], "PUT");
  EXPECT_EQ(update["request"]["url"], issues[0]["request"]["url"]);
  EXPECT_EQ(update["fullUrl"], issues[0]["fullUrl"]);
  EXPECT_EQ(update["resource"]["status"], "amended");
  EXPECT_EQ(update["resource"]["mitigation"][0]["action"]["coding"][0]["code"], "acknowledged");
  EXPECT_EQ(alert_sync().pending, 0);
  // The server replaced the one DetectedIssue it had.
  std::size_t issues_held = 0;
  for (const auto& [ref, resource] : server->state().resources) {
    if (ref.rfind("DetectedIssue/", 0) != 0) continue;
    ++issues_held;
    EXPECT_EQ(resource["status"], "amended");
  }
  EXPECT_EQ(issues_held, 1u);
}

TEST_F(UploaderAlertTest, AReminderAloneSendsNothingNew) {
  const auto uids = ingest({heart_rate(150, 0)});
  auto alert = red_alert(uids);
  put_alert(alert);
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  alert.reminders = 1;
  alert.next_reminder = kNow + std::chrono::minutes(30);
  put_alert(alert);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(issue_entries().size(), 1u);
}

TEST_F(UploaderAlertTest, ARefusedAlertIsDeadLetteredAndTheQueueGoesOn) {
  const auto uids = ingest({heart_rate(150, 0), heart_rate(70, 10)});
  put_alert(red_alert({uids[0]}));
  server->on_entry([](const json& e) -> std::optional<EntryReply> {
    if (resource_type(e) == "DetectedIssue") return EntryReply{"422 Unprocessable Entity", "", kOutcome};
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(alert_sync().dead, 1);
  EXPECT_EQ(counts().pending, 0);
  auto reader = StoreReader::open(store_options);
  const auto dead = (*reader)->dead_alerts(10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_THAT(dead[0].reason, HasSubstr("unit not allowed"));
}

}  // namespace
}  // namespace carehub::sync
