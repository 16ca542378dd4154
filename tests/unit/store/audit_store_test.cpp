// Proves store/store_audit.cpp: rows are stored and read back whole (who, what, when, entities, outcome),
// filtered as carehubctl audit asks, and a scope's row is written with its change or not at all
// (audit::attach, in the savepoint the pipeline runs each operation in).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/audit.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const TimePoint kTime = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

AuditEvent event(std::string action, std::string actor, TimePoint t) {
  AuditEvent e;
  e.action = std::move(action);
  e.actor = {"unix", std::move(actor)};
  e.time = t;
  return e;
}

class AuditStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    writer = StoreWriter::open(options).value();
    reader = StoreReader::open(options).value();
  }
  // What Pipeline::in_savepoint does with an operation: run it in a savepoint, keep it only if it succeeded.
  Result<std::vector<AlertEvent>> run_in_savepoint(const audit::Op& op) {
    auto tx = writer->begin();
    EXPECT_TRUE(tx.has_value());
    EXPECT_TRUE(writer->savepoint().has_value());
    auto r = op(*writer);
    EXPECT_TRUE((r ? writer->release() : writer->rollback_to_savepoint()).has_value());
    EXPECT_TRUE(tx->commit().has_value());
    return r;
  }
  std::vector<AuditEvent> all() { return reader->audit_events({}).value(); }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<StoreReader> reader;
  ManualClock clock{kTime};
};

TEST_F(AuditStoreTest, StoresWhoWhatWhenTheEntitiesAndTheOutcome) {
  auto e = event("readings.discard", "Anna Berg, uid 1000 (anna)", kTime);
  e.patient = "Patient/p1";
  e.on_behalf_of = "Patient/p1";
  e.entities = {{"Observation", "r-1"}, {"Observation", "r-2"}};
  e.outcome = AuditOutcome::refused;
  e.detail = "no unassigned reading \"r-2\"";
  auto seq = writer->insert_audit(e);
  ASSERT_TRUE(seq.has_value()) << seq.error().message;
  const auto rows = all();
  ASSERT_EQ(rows.size(), 1u);
  const auto& got = rows[0];
  EXPECT_EQ(got.seq, *seq);
  EXPECT_THAT(got.uid, ::testing::StartsWith("audit-"));
  EXPECT_EQ(got.uid.size(), 6u + 32u);
  EXPECT_EQ(got.time, kTime);
  EXPECT_EQ(got.action, "readings.discard");
  EXPECT_EQ(got.actor.kind, "unix");
  EXPECT_EQ(got.actor.name, "Anna Berg, uid 1000 (anna)");
  EXPECT_EQ(got.patient, "Patient/p1");
  EXPECT_EQ(got.on_behalf_of, "Patient/p1");
  EXPECT_THAT(got.entities, ElementsAre(AuditEntity{"Observation", "r-1"}, AuditEntity{"Observation", "r-2"}));
  EXPECT_EQ(got.outcome, AuditOutcome::refused);
  EXPECT_EQ(got.detail, "no unassigned reading \"r-2\"");
  EXPECT_EQ(got.sync_state, 0);
}

TEST_F(AuditStoreTest, RefusesARowThatNamesNoActorOrAction) {
  auto nobody = event("alerts.ack", "", kTime);
  auto r = writer->insert_audit(nobody);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("needs an action and an actor"));
  EXPECT_THAT(all(), IsEmpty());
}

TEST_F(AuditStoreTest, FiltersBySinceActorAndActionNewestFirst) {
  ASSERT_TRUE(writer->insert_audit(event("devices.pair", "uid 1000 (anna)", kTime)).has_value());
  ASSERT_TRUE(writer->insert_audit(event("devices.assign", "web bob via uid 998 (carehub-web)", kTime + 1h)).has_value());
  ASSERT_TRUE(writer->insert_audit(event("alerts.ack", "uid 1000 (anna)", kTime + 2h)).has_value());
  auto actions = [](const std::vector<AuditEvent>& rows) {
    std::vector<std::string> out;
    for (const auto& e : rows) out.push_back(e.action);
    return out;
  };
  EXPECT_THAT(actions(all()), ElementsAre("alerts.ack", "devices.assign", "devices.pair"));
  EXPECT_THAT(actions(reader->audit_events({.since = kTime + 1h}).value()), ElementsAre("alerts.ack", "devices.assign"));
  EXPECT_THAT(actions(reader->audit_events({.actor = "anna"}).value()), ElementsAre("alerts.ack", "devices.pair"));
  EXPECT_THAT(actions(reader->audit_events({.action = "devices."}).value()), ElementsAre("devices.assign", "devices.pair"));
  EXPECT_THAT(actions(reader->audit_events({.action = "devices"}).value()), IsEmpty()) << "a prefix ends in '.'";
  EXPECT_THAT(actions(reader->audit_events({.limit = 1}).value()), ElementsAre("alerts.ack"));
}

TEST_F(AuditStoreTest, TheUploadStateChangesButTheRecordDoesNot) {
  auto seq = writer->insert_audit(event("sync.retry-dead", "uid 0 (root)", kTime)).value();
  ASSERT_EQ(reader->audit_to_sync(10).value().size(), 1u);
  ASSERT_TRUE(writer->mark_audit_attempt(seq).has_value());
  ASSERT_TRUE(writer->mark_audit_synced(seq, "AuditEvent/x").has_value());
  EXPECT_THAT(reader->audit_to_sync(10).value(), IsEmpty());
  const auto row = all().at(0);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.sync_state, 1);
  EXPECT_EQ(row.server_id, "AuditEvent/x");
}

// The regression the scope exists for: a change and its record commit together.
TEST_F(AuditStoreTest, AScopesOperationRecordsItsRowWithTheChange) {
  auto action = event("devices.assign", "uid 1000 (anna)", {});
  action.entities = {{"Device", "ble-cuff"}};
  audit::Scope scope(action, clock);
  auto op = audit::attach([](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
    if (auto r = w.put_meta("changed", "yes"); !r) return r.error();
    return std::vector<AlertEvent>{};
  });
  ASSERT_TRUE(run_in_savepoint(op).has_value());
  EXPECT_EQ(scope.recorded(), 1u);
  const auto rows = all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, AuditOutcome::success);
  EXPECT_EQ(rows[0].time, kTime) << "stamped by the scope's clock when the change is made";
  EXPECT_THAT(rows[0].entities, ElementsAre(AuditEntity{"Device", "ble-cuff"}));
  EXPECT_EQ(reader->meta("changed").value(), "yes");
}

TEST_F(AuditStoreTest, AFailedChangeLeavesNoSuccessRow) {
  audit::Scope scope(event("readings.assign", "uid 1000 (anna)", {}), clock);
  auto op = audit::attach([](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
    if (auto r = w.put_meta("half", "done"); !r) return r.error();
    return make_error(Errc::not_found, "no unassigned reading \"r-9\"");
  });
  ASSERT_FALSE(run_in_savepoint(op).has_value());
  EXPECT_EQ(scope.recorded(), 0u);
  EXPECT_THAT(all(), IsEmpty());
  EXPECT_FALSE(reader->meta("half").value().has_value());
}

TEST_F(AuditStoreTest, AChangeThatCannotBeRecordedIsUndone) {
  audit::Scope scope(event("alerts.ack", "", {}), clock);  // no actor: the row is refused
  auto op = audit::attach([](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
    if (auto r = w.put_meta("acknowledged", "yes"); !r) return r.error();
    return std::vector<AlertEvent>{};
  });
  auto r = run_in_savepoint(op);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("the audit trail could not record alerts.ack"));
  EXPECT_FALSE(reader->meta("acknowledged").value().has_value()) << "no clinical change is committed unrecorded";
  EXPECT_THAT(all(), IsEmpty());
}

TEST_F(AuditStoreTest, AnOperationOutsideAScopeIsLeftAsItIs) {
  {
    audit::Scope ended(event("alerts.ack", "uid 1000 (anna)", {}), clock);
  }
  auto op = audit::attach([](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
    if (auto r = w.put_meta("reading", "stored"); !r) return r.error();
    return std::vector<AlertEvent>{};
  });
  ASSERT_TRUE(run_in_savepoint(op).has_value());
  EXPECT_THAT(all(), IsEmpty());
}

}  // namespace
}  // namespace carehub
