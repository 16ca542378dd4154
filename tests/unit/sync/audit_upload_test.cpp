// The uploader's audit step (sync/audit_upload.cpp): rows the server lacks go as PUT AuditEvent/<uid>, once
// (a lost answer resends the same PUT, which replaces the same resource), an entry the server refuses is
// kept and marked refused, and readings go on whatever happens to the audit batch.
#include "sync/audit_upload.hpp"

#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

class AuditUploadTest : public UploaderTest {
 protected:
  std::string record(const std::string& action) {
    AuditEvent e;
    e.uid = audit::new_uid();
    e.time = kNow;
    e.action = action;
    e.actor = {"unix", "uid 1000 (tom)"};
    e.entities = {{"DetectedIssue", "alert-1"}};
    auto r = pipeline->apply([e](StoreWriter& w) -> Result<void> {
                       auto in = w.insert_audit(e);
                       if (!in) return in.error();
                       return {};
                     }).get();
    EXPECT_TRUE(r.has_value());
    return e.uid;
  }
  AuditEvent row(const std::string& uid) {
    auto reader = StoreReader::open(store_options);
    for (const auto& e : (*reader)->audit_events({.limit = 1000}).value()) {
      if (e.uid == uid) return e;
    }
    ADD_FAILURE() << "no audit row " << uid;
    return {};
  }
  // Woken by each commit of the pipeline (the uploader records its outcomes through it) and each log line.
  bool wait_row_state(const std::string& uid, int state) {
    return wait_event([&] { return row(uid).sync_state == state; });
  }
};

TEST_F(AuditUploadTest, EachRowIsOneAuditEventPutByItsUid) {
  const auto a = record("alerts.ack");
  const auto b = record("devices.pair");
  start_uploader();
  ASSERT_TRUE(wait_row_state(a, 1));
  ASSERT_TRUE(wait_row_state(b, 1));
  const auto s = server->state();
  ASSERT_TRUE(s.resources.contains("AuditEvent/" + a));
  EXPECT_EQ(s.resources.at("AuditEvent/" + a)["subtype"][0]["code"], "alerts.ack");
  EXPECT_EQ(s.resources.at("AuditEvent/" + b)["action"], "C");
  EXPECT_EQ(std::count(s.updates.begin(), s.updates.end(), "AuditEvent/" + a), 1) << "sent once";
}

TEST_F(AuditUploadTest, ALostAnswerResendsTheSamePutAndTheServerHoldsOneEvent) {
  const auto a = record("readings.assign");
  server->lose_answers([lost = std::make_shared<int>(0)](const json& bundle) {
    const bool audit = bundle.dump().find("\"AuditEvent\"") != std::string::npos;
    return audit && (*lost)++ == 0;
  });
  start_uploader();
  ASSERT_TRUE(wait_failure_logged()) << "the answer was lost: a failed pass, backing off on the clock";
  uploader->sync_now();
  ASSERT_TRUE(wait_row_state(a, 1));
  const auto s = server->state();
  EXPECT_EQ(std::count(s.updates.begin(), s.updates.end(), "AuditEvent/" + a), 2) << "the same PUT, twice";
  std::size_t events = 0;
  for (const auto& [id, r] : s.resources) events += id.starts_with("AuditEvent/") ? 1 : 0;
  EXPECT_EQ(events, 1u);
}

TEST_F(AuditUploadTest, ARefusedEntryIsKeptMarkedRefusedAndReadingsGoOn) {
  const auto a = record("alerts.close");
  server->on_entry([](const json& e) -> std::optional<EntryReply> {
    if (resource_type(e) == "AuditEvent") return EntryReply{"422 Unprocessable Entity", "", kOutcome};
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(wait_row_state(a, 2));
  EXPECT_FALSE(row(a).sync_error.empty());
  const auto uids = ingest({carehub::test::blood_pressure(120, 80, kMeasured, {.device = "cuff-1"})});
  ASSERT_EQ(uids.size(), 1u);
  uploader->sync_now();
  EXPECT_TRUE(server->wait_until([](const FakeFhirServer::State& s) {
    for (const auto& [id, r] : s.resources) {
      if (id.starts_with("Observation/")) return true;
    }
    return false;
  }, kPatience));
}

}  // namespace
}  // namespace carehub::sync
