// Proves the FHIR-sync bookkeeping of alerts in store/store_alerts.cpp (schema 4): which changes make a new
// revision, and that a change made while an upload is in flight is never marked as sent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

const TimePoint kRaised = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

Alert alert(const std::string& id = "a1") { return test::red_alert(id, kRaised, {"r1"}); }

class StoreAlertSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    writer = StoreWriter::open(options).value();
    reader = StoreReader::open(options).value();
  }
  std::vector<AlertToSync> to_sync() { return reader->alerts_to_sync(100).value(); }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<StoreReader> reader;
};

TEST_F(StoreAlertSyncTest, ANewAlertIsPendingAtRevisionOne) {
  ASSERT_TRUE(writer->put_alert(alert()));
  const auto pending = to_sync();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].alert, alert());
  EXPECT_EQ(pending[0].revision, 1);
  EXPECT_TRUE(pending[0].server_id.empty());
  EXPECT_EQ(reader->alert_sync_counts().value().pending, 1);
}

TEST_F(StoreAlertSyncTest, SyncedAlertsLeaveTheQueueAndKeepTheirServerId) {
  ASSERT_TRUE(writer->put_alert(alert()));
  ASSERT_TRUE(writer->mark_alert_synced("a1", 1, "DetectedIssue/7"));
  EXPECT_TRUE(to_sync().empty());
  auto a = alert();
  a.state = AlertState::acknowledged;
  a.acknowledged = kRaised + std::chrono::minutes(3);
  ASSERT_TRUE(writer->put_alert(a));
  const auto pending = to_sync();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].revision, 2);
  EXPECT_EQ(pending[0].server_id, "DetectedIssue/7");
  EXPECT_EQ(pending[0].alert.state, AlertState::acknowledged);
}

TEST_F(StoreAlertSyncTest, AChangeDuringTheUploadKeepsTheAlertPending) {
  ASSERT_TRUE(writer->put_alert(alert()));
  const auto sent = to_sync().front();  // the uploader reads revision 1 and posts it...
  auto a = alert();
  a.state = AlertState::acknowledged;
  a.acknowledged = kRaised + std::chrono::minutes(1);
  ASSERT_TRUE(writer->put_alert(a));  // ...the patient acknowledges meanwhile...
  ASSERT_TRUE(writer->mark_alert_synced(sent.alert.id, sent.revision, "DetectedIssue/7"));  // ...revision 1 lands
  const auto pending = to_sync();
  ASSERT_EQ(pending.size(), 1u) << "the acknowledgement would never reach the clinician";
  EXPECT_EQ(pending[0].revision, 2);
  EXPECT_EQ(pending[0].server_id, "DetectedIssue/7");
}

TEST_F(StoreAlertSyncTest, RemindersDoNotMakeARevision) {
  ASSERT_TRUE(writer->put_alert(alert()));
  ASSERT_TRUE(writer->mark_alert_synced("a1", 1, "DetectedIssue/7"));
  auto a = alert();
  a.reminders = 2;
  a.next_reminder = kRaised + std::chrono::minutes(30);
  ASSERT_TRUE(writer->put_alert(a));
  EXPECT_TRUE(to_sync().empty());
  EXPECT_EQ(writer->find_alert("a1").value()->reminders, 2) << "the reminder itself is stored";
}

TEST_F(StoreAlertSyncTest, DeadLettersOnlyTheRefusedRevisionAndRequeuesIt) {
  ASSERT_TRUE(writer->put_alert(alert()));
  ASSERT_TRUE(writer->mark_alert_dead("a1", 1, "422: invalid"));
  EXPECT_TRUE(to_sync().empty());
  EXPECT_EQ(reader->alert_sync_counts().value().dead, 1);
  const auto dead = reader->dead_alerts(10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].id, "a1");
  EXPECT_EQ(dead[0].reason, "422: invalid");
  EXPECT_EQ(writer->requeue_dead().value(), 1);
  EXPECT_EQ(to_sync().size(), 1u);
  EXPECT_EQ(reader->alert_sync_counts().value().dead, 0);
}

TEST_F(StoreAlertSyncTest, ARefusalOfAnOlderRevisionDoesNotBuryANewerOne) {
  ASSERT_TRUE(writer->put_alert(alert()));
  auto a = alert();
  a.state = AlertState::closed;
  a.closed = kRaised + std::chrono::hours(1);
  ASSERT_TRUE(writer->put_alert(a));
  ASSERT_TRUE(writer->mark_alert_dead("a1", 1, "422"));
  EXPECT_EQ(to_sync().size(), 1u);
}

TEST_F(StoreAlertSyncTest, ListsAlertsToSyncOldestFirst) {
  auto late = alert("late");
  late.raised = kRaised + std::chrono::hours(2);
  ASSERT_TRUE(writer->put_alert(late));
  ASSERT_TRUE(writer->put_alert(alert("early")));
  const auto pending = to_sync();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].alert.id, "early");
  EXPECT_EQ(pending[1].alert.id, "late");
}

}  // namespace
}  // namespace carehub
