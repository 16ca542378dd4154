// The audit trail of the control commands (issue 18): each action that changes clinical state leaves a row
// with who (the socket's peer, or the carehub-web login its uid vouches for), what, when and the outcome;
// a refused or failed one too, and never a "success" row for a change that did not happen. A change made
// through the pipeline is recorded in its own transaction (audit::attach), one made elsewhere (the BLE
// source's pairing) just after. Reached through the command table with a real pipeline and store; the BLE
// source is a recording stand-in, as in devices_commands_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/audit.hpp"
#include "daemon/commands/table.hpp"
#include "store/sqlite.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kDevice = "ble-aa-bb-cc-dd-ee-03";
constexpr const char* kAddress = "AA:BB:CC:DD:EE:03";
const TimePoint kNow = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

class AuditCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.file("buffer.db");
    writer_ = StoreWriter::open(o).value();
    reader_ = StoreReader::open(o).value();
    pipeline_ = std::make_unique<Pipeline>(*writer_, clock_, log_, counters_, PipelineOptions{});
    pipeline_->start();
    commands::Context context{*pipeline_, *reader_, reader_mu_, log_, counters_, clock_};
    context.forward = [this](const std::string& cmd, const nlohmann::json& args) { return source(cmd, args); };
    context.acknowledge = [this](const std::string& id, const std::string& by) { return acknowledge(id, by); };
    context.config = [] {
      auto c = std::make_shared<Config>();  // runs without a file: config.reload is refused
      return std::shared_ptr<const Config>(c);
    };
    context.web_uid = web_uid_;
    commands_ = std::make_unique<commands::Table>(std::move(context));
  }
  void TearDown() override {
    commands_.reset();
    if (pipeline_) pipeline_->stop();
  }

  // The BLE source: pairs (registering the device through the pipeline, on its own thread as the driver
  // does) and forgets; `source_fails` makes it answer an error.
  Result<nlohmann::json> source(const std::string& cmd, const nlohmann::json&) {
    if (source_fails) return make_error(Errc::timeout, "the BLE driver did not answer within 30 s");
    if (cmd == "devices.pair") {
      Device d;
      d.id = kDevice;
      d.address = kAddress;
      d.category = "blood-pressure";
      auto stored = std::async(std::launch::async, [&] { return pipeline_->upsert_device(d).get(); }).get();
      if (!stored) return stored.error();
      return nlohmann::json{{"device", {{"id", d.id}, {"address", d.address}}}};
    }
    if (cmd == "devices.forget") return nlohmann::json{{"forgotten", kAddress}};
    return make_error(Errc::invalid_argument, "not a source command here");
  }

  // What Daemon::acknowledge_alert does, without the rules engine: the acknowledgement through the pipeline.
  Result<Alert> acknowledge(const std::string& id, const std::string& by) {
    auto r = pipeline_
                 ->apply_alerts([this, id, by](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
                   auto a = w.find_alert(id);
                   if (!a) return a.error();
                   if (!*a) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
                   (*a)->state = AlertState::acknowledged;
                   (*a)->acknowledged = clock_.now();
                   (*a)->acknowledged_by = by;
                   if (auto put = w.put_alert(**a); !put) return put.error();
                   return std::vector<AlertEvent>{};
                 })
                 .get();
    if (!r) return r.error();
    std::lock_guard lock(reader_mu_);
    return reader_->find_alert(id).value().value();
  }

  void seed_alert(const std::string& id) {
    Alert a;
    a.id = id;
    a.rule = "hf5";
    a.patient = "Patient/anna";
    a.event = "weight-gain";
    a.severity = Severity::red;
    a.state = AlertState::open;
    a.raised = kNow;
    a.text = "weight up 2 kg in 2 days";
    a.requires_ack = true;
    ASSERT_TRUE(pipeline_->apply([a](StoreWriter& w) { return w.put_alert(a); }).get());
  }

  std::string seed_unassigned() {
    Reading r = test::blood_pressure(150, 95, kNow - std::chrono::hours(1), {.device = kDevice, .source = "ble"});
    r.user = 2;
    const auto uid = reading_uid(r);
    EXPECT_TRUE(pipeline_->apply([r, uid](StoreWriter& w) -> Result<void> {
                  auto in = w.insert_reading(r, uid, {}, "user slot 2 is not bound");
                  if (!in) return in.error();
                  return {};
                }).get());
    return uid;
  }

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args, PeerCred peer) {
    return commands_->dispatch({nullptr, cmd, args}, peer);
  }
  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args) { return call(cmd, args, peer_); }

  std::vector<AuditEvent> rows(const std::string& action = {}) {
    std::lock_guard lock(reader_mu_);
    return reader_->audit_events({.action = action}).value();
  }

  test::TempDir dir_;
  Logger log_{LogLevel::error};
  Counters counters_;
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<StoreReader> reader_;
  std::mutex reader_mu_;
  ManualClock clock_{kNow};
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<commands::Table> commands_;
  PeerCred peer_{::getpid(), ::getuid(), ::getgid()};
  uid_t web_uid_ = ::getuid() + 1;  // the web service is someone else unless a test says so
  bool source_fails = false;
  const std::string me_ = who(peer_, "");
};

TEST_F(AuditCommands, AssigningAUserSlotIsRecordedWithItsChangeWhoWhatWhen) {
  ASSERT_TRUE(call("devices.pair", {{"address", kAddress}, {"category", "blood-pressure"}}));
  auto r = call("devices.assign", {{"device", kDevice}, {"user", 1}, {"patient", "Patient/anna"}, {"by", "Tech Tom"}});
  ASSERT_TRUE(r) << r.error().message;
  const auto got = rows("devices.assign");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].actor.kind, "unix");
  EXPECT_EQ(got[0].actor.name, "Tech Tom, " + me_);
  EXPECT_EQ(got[0].time, kNow);
  EXPECT_EQ(got[0].outcome, AuditOutcome::success);
  EXPECT_EQ(got[0].patient, "Patient/anna");
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"Device", kDevice}));
  EXPECT_THAT(got[0].detail, Not(HasSubstr("recorded after"))) << "written in the binding's own transaction";
}

// Same transaction, from the other side: when the row cannot be written, the binding is not made either.
// (A trigger stands in for whatever stops the insert: a full disk, a corrupt page.)
TEST_F(AuditCommands, ABindingWhoseRecordCannotBeWrittenIsNotMade) {
  ASSERT_TRUE(call("devices.pair", {{"address", kAddress}, {"category", "blood-pressure"}}));
  {
    auto db = sqlite::Database::open(dir_.file("buffer.db"), false).value();
    ASSERT_TRUE(db.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                        "BEGIN SELECT RAISE(ABORT, 'no room for the record'); END"));
  }
  auto r = call("devices.assign", {{"device", kDevice}, {"user", 1}, {"patient", "Patient/anna"}});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("the audit trail could not record devices.assign"));
  std::lock_guard lock(reader_mu_);
  EXPECT_TRUE(reader_->bindings().value().empty()) << "no clinical change is committed unrecorded";
  EXPECT_EQ(counters_.get("audit_write_errors").load(), 1u) << "and the failure's own row could not be written either";
}

TEST_F(AuditCommands, PairingByTheSourceIsRecordedWithTheDeviceItRegistered) {
  auto r = call("devices.pair", {{"address", kAddress}, {"category", "blood-pressure"}});
  ASSERT_TRUE(r) << r.error().message;
  const auto got = rows("devices.pair");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::success);
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"Device", kDevice}));
  EXPECT_THAT(got[0].detail, HasSubstr("recorded after")) << "the source registers on its own thread";
}

TEST_F(AuditCommands, PairingWithUsersRecordsEachBindingInItsTransaction) {
  auto r = call("devices.pair", {{"address", kAddress}, {"category", "blood-pressure"},
                                 {"users", {{{"user", 1}, {"patient", "Patient/anna"}}, {{"user", 2}, {"patient", "Patient/ben"}}}}});
  ASSERT_TRUE(r) << r.error().message;
  const auto got = rows("devices.pair");
  ASSERT_EQ(got.size(), 2u) << "one row per binding committed";
  for (const auto& e : got) {
    EXPECT_EQ(e.outcome, AuditOutcome::success);
    EXPECT_THAT(e.entities, Contains(AuditEntity{"Patient", "Patient/ben"}));
  }
}

TEST_F(AuditCommands, AFailedPairingIsRecordedAsFailedAndNothingAsSuccess) {
  source_fails = true;
  auto r = call("devices.pair", {{"address", kAddress}, {"category", "blood-pressure"}});
  ASSERT_FALSE(r);
  const auto got = rows("devices.pair");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::failed);
  EXPECT_THAT(got[0].detail, HasSubstr("did not answer within 30 s"));
}

TEST_F(AuditCommands, ForgettingADeviceIsRecorded) {
  ASSERT_TRUE(call("devices.forget", {{"address", kAddress}}));
  const auto got = rows("devices.forget");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::success);
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"Device", kAddress}));
}

TEST_F(AuditCommands, UnbindingAUserSlotIsRecorded) {
  ASSERT_TRUE(call("devices.pair", {{"address", kAddress}, {"category", "blood-pressure"}, {"users", {{{"user", 1}, {"patient", "Patient/anna"}}}}}));
  ASSERT_TRUE(call("devices.unbind", {{"device", kDevice}, {"user", 1}}));
  const auto got = rows("devices.unbind");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::success);
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"Device", kDevice}));
}

TEST_F(AuditCommands, TheTechniciansAcknowledgementIsOnThePatientsBehalfThePatientsOwnIsNot) {
  seed_alert("al-1");
  seed_alert("al-2");
  ASSERT_TRUE(call("alerts.ack", {{"id", "al-1"}, {"by", "Tech Tom"}, {"reason", "patient called, is fine"}}));
  ASSERT_TRUE(call("alerts.ack", {{"id", "al-2"}, {"by", "patient (display)"}}));
  const auto got = rows("alerts.ack");  // newest first
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[1].entities, Contains(AuditEntity{"DetectedIssue", "al-1"}));
  EXPECT_EQ(got[1].on_behalf_of, "Patient/anna");
  EXPECT_EQ(got[1].patient, "Patient/anna");
  EXPECT_EQ(got[1].outcome, AuditOutcome::success);
  EXPECT_THAT(got[1].detail, Not(HasSubstr("called"))) << "the reason's words stay with the alert, not the trail";
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"DetectedIssue", "al-2"}));
  EXPECT_EQ(got[0].on_behalf_of, "");
  EXPECT_EQ(got[0].actor.name, "patient (display), " + me_);
}

TEST_F(AuditCommands, AcknowledgingAnUnknownAlertIsRecordedAsRefused) {
  ASSERT_FALSE(call("alerts.ack", {{"id", "no-such"}}));
  const auto got = rows("alerts.ack");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::refused);
  EXPECT_THAT(got[0].detail, HasSubstr("no alert with id \"no-such\""));
}

TEST_F(AuditCommands, AssigningUnassignedReadingsIsRecordedAndAFailedAssignmentLeavesNoSuccessRow) {
  const auto uid = seed_unassigned();
  auto bad = call("readings.assign", {{"uids", {uid, "no-such-uid"}}, {"patient", "Patient/anna"}});
  ASSERT_FALSE(bad);
  auto ok = call("readings.assign", {{"uids", {uid}}, {"patient", "Patient/anna"}});
  ASSERT_TRUE(ok) << ok.error().message;
  const auto got = rows("readings.assign");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].outcome, AuditOutcome::refused) << "the all-or-nothing assignment that changed nothing";
  EXPECT_THAT(got[1].entities, Contains(AuditEntity{"Observation", "no-such-uid"}));
  EXPECT_EQ(got[0].outcome, AuditOutcome::success);
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"Observation", uid}));
  EXPECT_EQ(got[0].patient, "Patient/anna");
}

TEST_F(AuditCommands, DiscardingAnUnassignedReadingIsRecorded) {
  const auto uid = seed_unassigned();
  ASSERT_TRUE(call("readings.discard", {{"uids", {uid}}, {"reason", "the neighbour's"}}));
  const auto got = rows("readings.discard");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::success);
  EXPECT_THAT(got[0].entities, Contains(AuditEntity{"Observation", uid}));
}

TEST_F(AuditCommands, AReloadRefusedForWantOfAFileIsRecorded) {
  auto r = call("config.reload", nlohmann::json::object());
  ASSERT_FALSE(r);
  const auto got = rows("config.reload");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::failed);
  EXPECT_THAT(got[0].detail, HasSubstr("without a configuration file"));
}

TEST_F(AuditCommands, TheWebLoginIsWhoWhenTheWebServiceSaysSo) {
  const PeerCred web{::getpid(), web_uid_, ::getgid()};
  ASSERT_TRUE(call("devices.forget", {{"address", kAddress}, {"web_user", "anna.tech"}}, web));
  const auto got = rows("devices.forget");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].actor.kind, "web");
  EXPECT_THAT(got[0].actor.name, HasSubstr("web anna.tech via uid " + std::to_string(web_uid_)));
}

TEST_F(AuditCommands, AWebLoginClaimedByAnyoneElseIsRefusedOnTheRecord) {
  auto r = call("devices.forget", {{"address", kAddress}, {"web_user", "anna.tech"}});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("accepted only from the carehub-web service"));
  const auto got = rows("devices.forget");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].outcome, AuditOutcome::refused);
  EXPECT_EQ(got[0].actor.kind, "web");
}

TEST_F(AuditCommands, TheWebLoginIsTakenOffEveryCommandsArguments) {
  const PeerCred web{::getpid(), web_uid_, ::getgid()};
  auto r = call("audit.list", {{"web_user", "anna.tech"}}, web);
  ASSERT_TRUE(r) << r.error().message;  // audit.list takes no "web_user": the table took it off
  auto forged = call("audit.list", {{"web_user", "anna.tech"}});
  ASSERT_FALSE(forged);
  EXPECT_THAT(forged.error().message, HasSubstr("accepted only from the carehub-web service"));
}

TEST_F(AuditCommands, ReadingTheTrailIsNotAuditedAndFilters) {
  ASSERT_TRUE(call("devices.forget", {{"address", kAddress}}));
  ASSERT_FALSE(call("alerts.ack", {{"id", "nope"}}));
  auto all = call("audit.list", nlohmann::json::object());
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ((*all)["events"].size(), 2u);
  EXPECT_EQ((*all)["events"][0]["action"], "alerts.ack");
  EXPECT_EQ((*all)["events"][0]["outcome"], "refused");
  EXPECT_EQ((*all)["events"][0]["time"], "2026-11-21T10:00:00Z");
  auto devices = call("audit.list", {{"action", "devices."}});
  ASSERT_TRUE(devices);
  ASSERT_EQ((*devices)["events"].size(), 1u);
  auto bad = call("audit.list", {{"since", "yesterday"}});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("/args/since"));
}

}  // namespace
}  // namespace carehub::daemon
