// Proves attribution through the real pipeline (store/pipeline.cpp, store/pipeline_registry.cpp): a
// two-person household's monitor, a second-hand device, a device moved to another patient, and the
// technician's assign/discard, with the rules hook seeing exactly the readings it may judge.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>

#include "store/pipeline.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

const TimePoint kPaired = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z
constexpr auto kPatience = 10s;                          // only ever reached when a test is failing

Reading bp(TimePoint t, std::optional<int> user, double systolic = 120, std::string source = "ble") {
  Reading r;
  r.kind = Kind::blood_pressure;
  r.device = "ble-cuff";
  r.time = t;
  r.received = t;
  r.source = std::move(source);
  r.values = {{"systolic", systolic}, {"diastolic", 80}};
  r.user = user;
  return r;
}

// Records what the rules would be given; judge_assigned may be told to fail.
class RecordingHook final : public BatchHook {
 public:
  Result<std::vector<AlertEvent>> in_transaction(RuleStore&, const std::vector<StoredReading>& inserted,
                                                 TimePoint) override {
    std::lock_guard lock(mu);
    for (const auto& r : inserted) judged.push_back(r);
    return std::vector<AlertEvent>{};
  }
  Result<std::vector<AlertEvent>> tick(RuleStore&, TimePoint) override { return std::vector<AlertEvent>{}; }
  Result<std::vector<AlertEvent>> judge_assigned(RuleStore&, const std::vector<StoredReading>& assigned,
                                                 TimePoint now) override {
    std::lock_guard lock(mu);
    if (fail_late) return make_error(Errc::internal, "rule exploded");
    for (const auto& r : assigned) late.push_back(r);
    late_now = now;
    Alert a;
    a.id = "al-late";
    a.patient = assigned.front().reading.patient;
    return std::vector<AlertEvent>{{"alert", now, a}};
  }
  std::mutex mu;
  std::vector<StoredReading> judged, late;
  std::optional<TimePoint> late_now;
  bool fail_late = false;
};

class PipelineAttributionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    writer = StoreWriter::open(options).value();
    start();
  }
  void TearDown() override { stop(); }
  void start() {
    PipelineOptions o;
    o.default_patient = "Patient/kit";
    o.heartbeat = 1h;  // ticks only when a test asks
    pipeline = std::make_unique<Pipeline>(*writer, clock, log, counters, o);
    pipeline->set_batch_hook(hook);
    pipeline->on_commit([this](const CommitSummary& s) {
      {
        std::lock_guard lock(mu);
        summaries.push_back(s);
      }
      announced.notify_all();
    });
    pipeline->start();
  }
  void stop() {
    if (pipeline) pipeline->stop();
    pipeline.reset();
  }
  template <typename T>
  T wait(std::future<Result<T>> f) {
    EXPECT_EQ(f.wait_for(kPatience), std::future_status::ready);
    auto r = f.get();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if constexpr (!std::is_void_v<T>) return r.has_value() ? *r : T{};
  }
  void register_cuff(const std::string& patient) {
    Device d;
    d.id = "ble-cuff";
    d.address = "AA:BB:CC:DD:EE:FF";
    d.patient = patient;
    wait(pipeline->upsert_device(d));
  }
  IngestResult ingest(std::vector<Reading> rs) { return wait(pipeline->ingest(std::move(rs))); }
  std::vector<StoredReading> in(SyncState s) {
    ReadingQuery q;
    q.state = s;
    return StoreReader::open(options).value()->readings(q).value();
  }
  // Listeners hear of a commit just after its producers were answered: wait for the one a test is after.
  std::optional<CommitSummary> announcement(const std::function<bool(const CommitSummary&)>& wanted) {
    std::unique_lock lock(mu);
    std::optional<CommitSummary> found;
    announced.wait_for(lock, kPatience, [&] {
      for (const auto& s : summaries) {
        if (wanted(s)) found = s;
      }
      return found.has_value();
    });
    return found;
  }
  std::size_t judged() {
    std::lock_guard lock(hook.mu);
    return hook.judged.size();
  }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  Logger log{LogLevel::debug, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  ManualClock clock{kPaired};
  RecordingHook hook;
  std::mutex mu;
  std::condition_variable announced;
  std::vector<CommitSummary> summaries;
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(PipelineAttributionTest, ASecondHandMonitorsMemoryWaitsUnassignedAndOnlyNewReadingsAreThePatients) {
  register_cuff("Patient/p");
  std::vector<Reading> memory;
  for (int i = 30; i >= 1; --i) memory.push_back(bp(kPaired - 24h * i, std::nullopt, 200));  // the last owner's
  memory.push_back(bp(kPaired + 1min, std::nullopt, 125));                                   // measured after pairing
  const auto result = ingest(memory);
  EXPECT_EQ(result.status.size(), 31u);
  for (std::size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(result.status[i], IngestStatus::stored);
    EXPECT_THAT(result.errors[i], StartsWith("unassigned: measured before the device was paired"));
  }
  EXPECT_EQ(result.errors[30], "");
  EXPECT_EQ(in(SyncState::unassigned).size(), 30u);
  const auto pending = in(SyncState::pending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].reading.patient, "Patient/p");
  EXPECT_EQ(judged(), 1u) << "the rules saw only the patient's own reading";
  EXPECT_EQ(counters.get("readings_unassigned"), 30u);
  const auto s = announcement([](const CommitSummary& c) { return c.unassigned > 0; });
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->unassigned, 30u);
  EXPECT_EQ(s->stored, 31u);
}

TEST_F(PipelineAttributionTest, ATwoUserMonitorGivesUserOneToThePatientAndKeepsUserTwoUnassigned) {
  register_cuff("Patient/p");
  UserBinding b;
  b.device = "ble-cuff";
  b.user = 1;
  b.patient = "Patient/p";
  b.by = "tech";
  wait(pipeline->bind_user(b));
  clock.advance(1min);
  const auto result = ingest({bp(kPaired + 1min, 1, 130), bp(kPaired + 2min, 2, 210), bp(kPaired + 3min, 1, 132)});
  EXPECT_THAT(result.errors[1], HasSubstr("user slot 2 of the device is not bound"));
  const auto pending = in(SyncState::pending);
  ASSERT_EQ(pending.size(), 2u);
  for (const auto& r : pending) EXPECT_EQ(r.reading.patient, "Patient/p");
  const auto waiting = in(SyncState::unassigned);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].reading.user, 2);
  EXPECT_EQ(waiting[0].reading.values.at("systolic"), 210);
  EXPECT_EQ(judged(), 2u) << "the spouse's 210 never reached the patient's rules";
  // The binding is stored with its time and survives a restart.
  EXPECT_THAT(StoreReader::open(options).value()->bindings().value(),
              ElementsAre(UserBinding{"ble-cuff", 1, "Patient/p", kPaired, "tech"}));
  stop();
  start();
  ingest({bp(kPaired + 10min, 1, 128), bp(kPaired + 11min, 2, 205)});
  EXPECT_EQ(in(SyncState::pending).size(), 3u);
  EXPECT_EQ(in(SyncState::unassigned).size(), 2u);
}

// Issue 14's incident: a two-user monitor paired the old way (no --user). The spouse's 210/120 on slot 2 was
// stored as the patient's, judged by his HF5 and uploaded into his record.
TEST_F(PipelineAttributionTest, AMonitorPairedWithoutUserSlotsNeverPutsASlotsReadingsOnTheDevicesPatient) {
  register_cuff("Patient/p");
  const auto result = ingest({bp(kPaired + 1min, 2, 210), bp(kPaired + 3min, 2, 208), bp(kPaired + 5min, 1, 125)});
  for (const auto& e : result.errors) EXPECT_THAT(e, HasSubstr("none of its slots is bound"));
  EXPECT_EQ(in(SyncState::unassigned).size(), 3u);
  EXPECT_THAT(in(SyncState::pending), IsEmpty());
  EXPECT_EQ(judged(), 0u);
}

TEST_F(PipelineAttributionTest, BindingASlotAgainToItsPatientKeepsItsTimeAndToAnotherStartsAnew) {
  register_cuff("Patient/p");
  wait(pipeline->bind_user({"ble-cuff", 2, "Patient/spouse", {}, "tech"}));
  clock.advance(1h);
  wait(pipeline->bind_user({"ble-cuff", 2, "Patient/spouse", {}, "tech"}));  // paired twice
  ingest({bp(kPaired + 30min, 2)});
  EXPECT_EQ(in(SyncState::pending).at(0).reading.patient, "Patient/spouse");
  wait(pipeline->bind_user({"ble-cuff", 2, "Patient/lodger", {}, "tech"}));  // the slot changes hands
  ingest({bp(kPaired + 40min, 2, 140)});  // measured before the lodger was bound: not the lodger's
  EXPECT_EQ(in(SyncState::unassigned).size(), 1u);
  EXPECT_TRUE(wait(pipeline->unbind_user("ble-cuff", 2)));
  EXPECT_FALSE(wait(pipeline->unbind_user("ble-cuff", 2)));
  auto bad = pipeline->bind_user({"ble-cuff", -1, "Patient/p", {}, ""}).get();
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST_F(PipelineAttributionTest, ADeviceMovedToAnotherPatientKeepsTheFirstPatientsReadingsOutOfTheNewRecord) {
  register_cuff("Patient/p");
  clock.advance(24h);
  register_cuff("Patient/q");  // the clinic hands the monitor on
  ingest({bp(kPaired + 12h, std::nullopt, 150), bp(kPaired + 25h, std::nullopt, 118)});
  const auto waiting = in(SyncState::unassigned);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].reading.values.at("systolic"), 150);
  ASSERT_EQ(in(SyncState::pending).size(), 1u);
  EXPECT_EQ(in(SyncState::pending)[0].reading.patient, "Patient/q");
  // Its registration time follows the move, and is what a reader sees.
  EXPECT_EQ(StoreReader::open(options).value()->devices().value().at(0).bound_since, kPaired + 24h);
  // An upsert that does not change the patient (a driver persisting its marks) keeps it.
  clock.advance(1h);
  register_cuff("Patient/q");
  EXPECT_EQ(StoreReader::open(options).value()->devices().value().at(0).bound_since, kPaired + 24h);
}

TEST_F(PipelineAttributionTest, ManualEntryOpenHabAndMqttKeepTodaysAttributionAndANamedPatientStays) {
  register_cuff("Patient/p");
  auto typed = bp(kPaired - 48h, std::nullopt, 120, "manual");
  typed.device = "manual";
  auto named = bp(kPaired - 48h, 2, 121, "manual");
  named.patient = "Patient/visitor";
  auto room = bp(kPaired - 1h, std::nullopt, 122, "mqtt");
  const auto result = ingest({typed, named, room});
  EXPECT_THAT(result.errors, ElementsAre("", "", ""));
  const auto pending = in(SyncState::pending);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].reading.patient, "Patient/kit");
  EXPECT_EQ(pending[1].reading.patient, "Patient/visitor");
  EXPECT_EQ(pending[2].reading.patient, "Patient/p");  // an mqtt reading of a registered device: no memory to fear
}

TEST_F(PipelineAttributionTest, AssigningJudgesTheReadingsUnderTheirPatientAndAnnouncesTheEventsAfterCommit) {
  register_cuff("Patient/p");
  wait(pipeline->bind_user({"ble-cuff", 1, "Patient/p", {}, "tech"}));
  const auto stored = ingest({bp(kPaired + 1min, 2, 210), bp(kPaired + 3min, 2, 205)});
  clock.advance(2h);
  const auto out = wait(pipeline->assign_readings(stored.uids, "Patient/spouse", "tech"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].old_uid, stored.uids[0]);
  {
    std::lock_guard lock(hook.mu);
    ASSERT_EQ(hook.late.size(), 2u);
    for (const auto& r : hook.late) EXPECT_EQ(r.reading.patient, "Patient/spouse");
    EXPECT_EQ(hook.late_now, kPaired + 2h);
  }
  const auto pending = in(SyncState::pending);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].uid, out[0].uid);
  EXPECT_EQ(pending[0].resolved, kPaired + 2h);
  EXPECT_EQ(counters.get("readings_assigned"), 2u);
  const auto s = announcement([](const CommitSummary& c) { return !c.alerts.empty(); });
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->alerts.size(), 1u);
  EXPECT_EQ(s->alerts[0].alert.patient, "Patient/spouse");
}

TEST_F(PipelineAttributionTest, AnAssignmentTheRulesCannotJudgeIsUndoneWhole) {
  register_cuff("Patient/p");
  wait(pipeline->bind_user({"ble-cuff", 1, "Patient/p", {}, "tech"}));
  const auto stored = ingest({bp(kPaired + 1min, 2, 210)});
  {
    std::lock_guard lock(hook.mu);
    hook.fail_late = true;
  }
  auto r = pipeline->assign_readings(stored.uids, "Patient/spouse", "tech").get();
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("nothing was assigned"));
  EXPECT_EQ(in(SyncState::unassigned).size(), 1u);
  EXPECT_THAT(in(SyncState::pending), IsEmpty());
}

TEST_F(PipelineAttributionTest, DiscardingKeepsTheReadingVisibleAndOutOfEveryPatientsPath) {
  register_cuff("Patient/p");
  wait(pipeline->bind_user({"ble-cuff", 1, "Patient/p", {}, "tech"}));
  const auto stored = ingest({bp(kPaired + 1min, 2, 210)});
  clock.advance(1h);
  EXPECT_EQ(wait(pipeline->discard_readings(stored.uids, "tech", "a visitor")), 1);
  const auto rows = in(SyncState::discarded);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].resolved, kPaired + 1h);
  EXPECT_EQ(rows[0].discard_reason, "a visitor");
  auto missing = pipeline->discard_readings({"nope"}, "tech", "x").get();
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

}  // namespace
}  // namespace carehub
