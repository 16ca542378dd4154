// The uploader's request shaping (issue 15): readings that trickle in share a request (the upload window,
// on the injected clock), alert revisions ride in the same request as pending readings instead of
// requests of their own, only an alert's newest revision is sent, and an alert never waits for the window.
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

class UploaderWindowTest : public UploaderAlertTest {
 protected:
  static UploaderOptions windowed(std::chrono::milliseconds window) {
    auto o = options();
    o.upload_window = window;
    return o;
  }
  std::size_t commits() {
    std::lock_guard lock(events_mu);
    return op_commits;
  }
  bool holding() { return uploader->status().window_closes.has_value(); }
  // The uploader is holding readings in its window (status says so; it logs as it opens one).
  bool wait_holding() {
    return wait_event([&] { return uploader->status().window_closes.has_value(); });
  }
  static std::size_t issues_in(const json& bundle) {
    std::size_t n = 0;
    for (const auto& e : bundle["entry"]) n += resource_type(e) == "DetectedIssue" ? 1 : 0;
    return n;
  }
};

// Regression (issue 15): every wake sent what was pending at once, so readings arriving 10 ms apart went
// one request each (2.4 s of CPU per 1,000 readings at 100/s, the server working as hard).
TEST_F(UploaderWindowTest, ReadingsTricklingInShareRequests) {
  start_uploader(windowed(100ms));
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  for (int i = 0; i < 100; ++i) {
    const auto before = commits();
    ingest({heart_rate(60 + i % 40, i)});
    uploader->wake(1);
    // Sent (its outcome committed) or held in the window: either way the uploader has seen it.
    ASSERT_TRUE(wait_event([&] { return op_commits > before || holding(); })) << "reading " << i;
    clock.advance(10ms);
  }
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().pending, 0);
  // 1 s of readings on the injected clock, a 100 ms window: about one request per window.
  EXPECT_LE(observation_bundles(server->state()).size(), 12u);
}

TEST_F(UploaderWindowTest, TheWindowClosesOnTheInjectedClock) {
  start_uploader(windowed(100ms));
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto uids = ingest({heart_rate(70, 0)});
  uploader->wake(1);
  ASSERT_TRUE(wait_holding());
  EXPECT_TRUE(observation_bundles(server->state()).empty()) << "sent before the window closed";
  EXPECT_EQ(stored(uids[0]).state, SyncState::pending);
  clock.advance(100ms);
  ASSERT_TRUE(server->wait_until([](const auto& s) { return observation_bundles(s).size() == 1; }, kPatience));
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_FALSE(holding());
}

TEST_F(UploaderWindowTest, ABundlesWorthOfReadingsGoesWithoutWaitingForTheWindow) {
  auto o = windowed(std::chrono::hours(1));
  o.bundle_size = 10;
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  std::vector<Reading> rs;
  for (int i = 0; i < 10; ++i) rs.push_back(heart_rate(60 + i, i));
  ingest(rs);
  uploader->wake(10);
  // The clock never moves: only a full bundle can have let it go.
  ASSERT_TRUE(server->wait_until([](const auto& s) { return observation_bundles(s).size() == 1; }, kPatience));
  EXPECT_EQ(observation_bundles(server->state())[0]["entry"].size(), 10u);
}

// An alert is never held back: an acknowledgement (or a new alert) while readings wait in the window
// goes at once, and takes the waiting readings with it.
TEST_F(UploaderWindowTest, AnAlertIsNeverHeldBackByTheWindowAndTakesTheWaitingReadingsAlong) {
  const auto evidence = ingest({heart_rate(190, 0)});
  start_uploader(windowed(std::chrono::hours(1)));
  ASSERT_TRUE(uploader->wait_idle(kPatience));  // the evidence is on the server
  const auto waiting = ingest({heart_rate(70, 5)});
  uploader->wake(1);
  ASSERT_TRUE(wait_holding());
  put_alert(red_alert(evidence));
  uploader->alerts_changed();
  const auto issue_sent = [](const FakeFhirServer::State& s) {
    for (const auto& b : s.bundles) {
      if (has_resource(b, "DetectedIssue")) return true;
    }
    return false;
  };
  ASSERT_TRUE(server->wait_until(issue_sent, kPatience));
  const auto st = server->state();
  const auto& last = st.bundles.back();
  EXPECT_EQ(issues_in(last), 1u);
  EXPECT_TRUE(has_identifier(last, identifier(waiting[0]))) << "the waiting reading went in a request of its own";
}

// Regression (issue 15): an alert revision went in a request of its own, besides the readings' bundles.
TEST_F(UploaderWindowTest, AnAlertRevisionGoesInTheSameRequestAsPendingReadings) {
  const auto evidence = ingest({heart_rate(190, 0)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto requests_before = server->state().bundles.size();
  std::vector<Reading> rs;
  for (int i = 0; i < 5; ++i) rs.push_back(heart_rate(70 + i, 10 + i));
  const auto pending = ingest(rs);
  put_alert(red_alert(evidence));
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto st = server->state();
  ASSERT_EQ(st.bundles.size(), requests_before + 1) << "the alert and the readings went in separate requests";
  const auto& b = st.bundles.back();
  EXPECT_EQ(issues_in(b), 1u);
  for (const auto& uid : pending) EXPECT_TRUE(has_identifier(b, identifier(uid)));
  EXPECT_EQ(alert_sync().pending, 0);
  EXPECT_EQ(counts().pending, 0);
  // The issue cites the evidence the server already held.
  for (const auto& e : b["entry"]) {
    if (resource_type(e) == "DetectedIssue") {
      EXPECT_THAT(e["resource"].dump(), HasSubstr(stored(evidence[0]).server_id));
    }
  }
}

// Raised and acknowledged before the uploader saw it: the store holds the newest revision only, and
// that one PUT is all the server needs (a conditional update replaces whatever it holds).
TEST_F(UploaderWindowTest, AnAcknowledgedAlertNotYetSentGoesAsOnePut) {
  const auto evidence = ingest({heart_rate(190, 0)});
  auto alert = red_alert(evidence);
  put_alert(alert);
  alert.state = AlertState::acknowledged;
  alert.acknowledged = kNow + std::chrono::minutes(1);
  put_alert(alert);
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto issues = issue_entries();
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0]["request"]["method"], "PUT");
  EXPECT_EQ(issues[0]["resource"]["mitigation"][0]["action"]["coding"][0]["code"], "acknowledged");
  EXPECT_EQ(alert_sync().pending, 0);
}

// Regression (issue 15): an alert jumped the queue in requests of its own (its evidence alone, then the
// DetectedIssue alone), splitting the backlog's bundles. Now its evidence leads the first bundle and the
// DetectedIssue leads the next, both filled with the backlog.
TEST_F(UploaderWindowTest, AnAlertGoesAheadOfTheBacklogWithoutRequestsOfItsOwn) {
  std::vector<Reading> backlog;
  for (int i = 0; i < 250; ++i) backlog.push_back(heart_rate(60 + i % 40, i));
  ingest(backlog);
  const auto evidence = ingest({heart_rate(190, 300)});
  put_alert(red_alert(evidence));
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto obs = observation_bundles(server->state());
  ASSERT_EQ(obs.size(), 3u) << "251 readings and an alert in bundles of 100 make three requests";
  EXPECT_TRUE(has_identifier(obs[0], identifier(evidence[0]))) << "the evidence leads";
  EXPECT_EQ(issues_in(obs[0]), 0u) << "the issue cannot cite what the server does not hold yet";
  EXPECT_EQ(issues_in(obs[1]), 1u) << "the issue goes in the request right after its evidence";
  EXPECT_EQ(obs[0]["entry"].size(), 100u);
  EXPECT_EQ(obs[1]["entry"].size(), 100u);
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(alert_sync().pending, 0);
}

// A request carrying an alert and readings refused as a whole: the entries are isolated, the readings
// go through, and the alert is never dead-lettered on a guess (it stays pending and is retried).
TEST_F(UploaderWindowTest, ARequestWithAnAlertRefusedAsAWholeGivesUpNeitherTheAlertNorTheReadings) {
  const auto evidence = ingest({heart_rate(190, 0)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto others = ingest({heart_rate(70, 10), heart_rate(71, 11)});
  auto refuse_issues = std::make_shared<std::atomic<bool>>(true);  // the hook may outlive this scope
  server->on_request([refuse_issues](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (*refuse_issues && has_resource(bundle, "DetectedIssue")) return HttpResponse{400, kOutcome.dump(), {}};
    return std::nullopt;
  });
  put_alert(red_alert(evidence));
  uploader->alerts_changed();
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_EQ(alert_sync().dead, 0);
  EXPECT_EQ(alert_sync().pending, 1);
  for (const auto& uid : others) EXPECT_EQ(stored(uid).state, SyncState::synced);
  *refuse_issues = false;
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(alert_sync().pending, 0);
  EXPECT_EQ(counts().dead, 0);
}

}  // namespace
}  // namespace carehub::sync
