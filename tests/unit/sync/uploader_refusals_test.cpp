// The uploader when the server refuses, fails or answers badly: dead letters for what only one entry
// deserved, everything pending (with backoff and Retry-After) for the rest, and bounded parsing of
// whatever comes back. Same fixture as uploader_test.cpp.
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

TEST_F(UploaderTest, DeadLettersOnlyTheEntryTheServerRefusedKeepingItsOutcome) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  const auto bad = identifier(uids[1]);
  server->on_entry([bad](const json& e) -> std::optional<EntryReply> {
    if (identifier_of(e) == bad) return EntryReply{"400 Bad Request", "", kOutcome};
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_EQ(stored(uids[2]).state, SyncState::synced);
  const auto dead = stored(uids[1]);
  EXPECT_EQ(dead.state, SyncState::dead);
  EXPECT_EQ(dead.server_id, "");
  EXPECT_EQ(json::parse(dead.dead_reason), kOutcome);
  EXPECT_EQ(counters.snapshot().at("sync_dead"), 1u);
  EXPECT_EQ(uploader->status().consecutive_failures, 0) << "a refused entry is not the server failing";
  EXPECT_EQ(observation_bundles(server->state()).size(), 1u) << "a dead-lettered reading is not sent again";
}

TEST_F(UploaderTest, ReDrivesDeadLetteredReadingsOnceRequeued) {
  const auto uids = ingest({heart_rate(70, 0)});
  auto refuse = std::make_shared<std::atomic<bool>>(true);
  server->on_entry([refuse](const json& e) -> std::optional<EntryReply> {
    if (*refuse && resource_type(e) == "Observation") return EntryReply{"422 Unprocessable Entity", "", kOutcome};
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  ASSERT_EQ(stored(uids[0]).state, SyncState::dead);
  *refuse = false;  // the server (or the mapping) was fixed
  auto requeued = pipeline->apply([](StoreWriter& w) -> Result<void> {
    auto n = w.requeue_dead();
    if (!n) return n.error();
    return {};
  });
  ASSERT_EQ(requeued.wait_for(kPatience), std::future_status::ready);
  ASSERT_TRUE(requeued.get().has_value());
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
}

TEST_F(UploaderTest, LeavesEverythingPendingAndHonoursRetryAfterOnA503) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  server->hold_after(2);  // the hub Device and the refused bundle; anything later waits for the end
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) return HttpResponse{503, "busy", {{"retry-after", "120"}}};
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  const auto st = uploader->status();
  EXPECT_EQ(st.consecutive_failures, 1);
  EXPECT_EQ(st.next_attempt, kNow + 120s) << "Retry-After beats the (shorter) backoff";
  EXPECT_THAT(st.last_error, HasSubstr("503"));
  EXPECT_EQ(st.last_success, std::nullopt);
  for (const auto& uid : uids) {
    const auto s = stored(uid);
    EXPECT_EQ(s.state, SyncState::pending);
    EXPECT_EQ(s.attempts, 0) << "a refused request says nothing about its entries";
  }
  EXPECT_EQ(counters.snapshot().at("sync_failures"), 1u);
}

// Issue 12: Retry-After became seconds, then milliseconds, without a bound: 9223372036854775807 s
// overflowed (undefined behaviour; in practice a negative wait, so the backoff was ignored).
TEST_F(UploaderTest, ClampsAHugeRetryAfterToAnHour) {
  ingest({heart_rate(70, 0)});
  server->hold_after(2);
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) return HttpResponse{503, "busy", {{"retry-after", "9223372036854775807"}}};
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_EQ(uploader->status().next_attempt, kNow + 1h);
}

// Issue 12: a batch-response whose outcome is nested 100,000 deep (200 KB) segfaulted in dump(), and
// again after every restart while the reading was resent. Now it is refused at the parse, counted, and
// the reading stays pending for a saner answer.
TEST_F(UploaderTest, RefusesADeeplyNestedResponseWithoutCrashingAndCountsIt) {
  const auto uids = ingest({heart_rate(70, 0)});
  server->hold_after(2);
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (!has_resource(b, "Observation")) return std::nullopt;
    std::string outcome;
    for (int i = 0; i < 100'000; ++i) outcome += R"({"a":)";
    outcome += "1" + std::string(100'000, '}');
    return HttpResponse{200,
                        R"({"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400","outcome":)" +
                            outcome + "}}]}",
                        {}};
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_THAT(uploader->status().last_error, HasSubstr("nesting deeper than 64"));
  EXPECT_EQ(stored(uids[0]).state, SyncState::pending);
  EXPECT_EQ(counters.snapshot().at("sync_bad_responses"), 1u);
}

TEST_F(UploaderTest, RefusesANumberBeyondADoubleInTheResponse) {
  const auto uids = ingest({heart_rate(70, 0)});
  server->hold_after(2);
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (!has_resource(b, "Observation")) return std::nullopt;
    return HttpResponse{200, R"({"resourceType":"Bundle","type":"batch-response","total":1e999,"entry":[]})", {}};
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_THAT(uploader->status().last_error, HasSubstr("a number beyond the range of a double"));
  EXPECT_EQ(stored(uids[0]).state, SyncState::pending);
  EXPECT_EQ(counters.snapshot().at("sync_bad_responses"), 1u);
}

TEST_F(UploaderTest, LeavesEverythingPendingAndReportsTheErrorOnATransportFailure) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  server->hold_after(2);
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) {
      return make_error(Errc::unavailable, "Failed to connect to fhir.example.org port 443: Connection refused");
    }
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  const auto st = uploader->status();
  EXPECT_THAT(st.last_error, HasSubstr("Connection refused"));
  EXPECT_GE(st.consecutive_failures, 1);
  ASSERT_TRUE(st.next_attempt.has_value());
  EXPECT_GE(*st.next_attempt, kNow);
  EXPECT_LE(*st.next_attempt, kNow + 10ms) << "the first backoff is at most the base";
  EXPECT_EQ(counts().pending, 2);
  EXPECT_EQ(counts().synced, 0);
}

TEST_F(UploaderTest, RecoversWhenTheServerComesBack) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  auto down = std::make_shared<std::atomic<bool>>(true);
  server->on_request([down](const json&) -> std::optional<Result<HttpResponse>> {
    if (*down) return make_error(Errc::timeout, "Operation timed out after 60000 milliseconds");
    return std::nullopt;
  });
  server->hold_after(1);
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  *down = false;
  server->release();
  uploader->sync_now();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().synced, 2);
  const auto st = uploader->status();
  EXPECT_EQ(st.consecutive_failures, 0);
  EXPECT_EQ(st.last_error, "");
  EXPECT_EQ(st.next_attempt, std::nullopt);
}

TEST_F(UploaderTest, SendsEntriesOneByOneAfterAWholeBundle400SoOnlyTheCulpritIsDeadLettered) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  const auto bad = identifier(uids[1]);
  server->on_request([bad](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_identifier(b, bad)) return HttpResponse{400, kOutcome.dump(), {}};
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_EQ(stored(uids[2]).state, SyncState::synced);
  const auto dead = stored(uids[1]);
  EXPECT_EQ(dead.state, SyncState::dead);
  EXPECT_EQ(json::parse(dead.dead_reason), kOutcome);
  std::vector<std::size_t> sizes;
  for (const auto& b : observation_bundles(server->state())) sizes.push_back(b["entry"].size());
  // The bundle went gzipped, was refused, and went once more plain (the refusal could have been of the
  // coding); refused plain too, it is about an entry: then one reading per request.
  EXPECT_THAT(sizes, ElementsAre(3u, 3u, 1u, 1u, 1u));
  EXPECT_FALSE(test::has_header(server->state().requests[2], "Content-Encoding", "gzip"));
  EXPECT_TRUE(uploader->status().gzip) << "refused plain as well: the coding was not the problem";
  EXPECT_EQ(uploader->status().consecutive_failures, 0);
}

struct MalformedAnswer {
  std::string name;
  std::string body;
};

void PrintTo(const MalformedAnswer& a, std::ostream* os) { *os << a.name; }

class UploaderMalformedAnswerTest : public UploaderTest, public ::testing::WithParamInterface<MalformedAnswer> {};

TEST_P(UploaderMalformedAnswerTest, LeavesEverythingPendingWhenA2xxAnswerIsNotAMatchingBatchResponse) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  server->hold_after(2);
  const auto body = GetParam().body;
  server->on_request([body](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) return HttpResponse{200, body, {}};
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  for (const auto& uid : uids) {
    const auto s = stored(uid);
    EXPECT_EQ(s.state, SyncState::pending);
    EXPECT_EQ(s.attempts, 0);
  }
  EXPECT_FALSE(uploader->status().last_error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Answers, UploaderMalformedAnswerTest,
    ::testing::Values(
        MalformedAnswer{"NotJson", "<html><body>Gateway says hello</body></html>"},
        MalformedAnswer{"Empty", ""},
        MalformedAnswer{"OperationOutcome", kOutcome.dump()},
        MalformedAnswer{"Searchset", R"({"resourceType":"Bundle","type":"searchset","entry":[{},{}]})"},
        MalformedAnswer{"TooFewEntries",
                        R"({"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"201 Created","location":"Observation/1"}}]})"}),
    [](const ::testing::TestParamInfo<MalformedAnswer>& p) { return p.param.name; });

// Invariant 5 says backoff reads the injectable clock. Uploader::record_failure computes the deadline
// from clock_.monotonic() but run() waits for it with cv_.wait_until() on the real steady_clock, whose
// epoch is unrelated: with a ManualClock the deadline is long past and the uploader retries at once, in
// a tight loop, ignoring Retry-After.
TEST_F(UploaderTest, DoesNotRetryBeforeTheBackoffDeadlineOnTheInjectedClock) {
  ingest({heart_rate(70, 0)});
  server->hold_after(2);
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) return HttpResponse{503, "", {{"retry-after", "120"}}};
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  // The injected clock stands still, so no retry is due. This is the one bounded look for an absence.
  const bool retried = server->wait_until([](const FakeFhirServer::State& s) { return s.count > 2; }, 500ms);
  EXPECT_FALSE(retried) << "the uploader retried while the injected clock had not reached Retry-After";
}

// A whole-request 401/403 (expired token), 404 (wrong base_url) or 3xx is not about any entry, yet
// upload_once() treats every non-retryable non-2xx answer as "the bundle was refused": it isolates the
// entries and then dead-letters each one alone. One expired token dead-letters the whole buffer.
TEST_F(UploaderTest, NeverDeadLettersReadingsWhenTheServerRefusesTheRequestItself) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  server->hold_after(5);
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) {
      return HttpResponse{401, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]})",
                          {{"www-authenticate", "Bearer error=\"invalid_token\""}}};
    }
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  // Either the uploader reports the failure (right) or it records sync outcomes (dead letters).
  ASSERT_TRUE(wait_event([&] { return logged("event=upload-failed") || op_commits > 0; }));
  EXPECT_EQ(counts().dead, 0) << "readings were dead-lettered because of an authentication failure";
  EXPECT_EQ(counts().pending, 3);
}

// Invariant 4: a bad entry never blocks the queue. When the server refuses one sensor's Device
// resource, ensure_device() fails and upload_once() gives up the whole pass, so no reading of any
// device (manual ones included) is ever uploaded again.
TEST_F(UploaderTest, KeepsUploadingOtherReadingsWhenTheServerRefusesOneDevice) {
  const auto uids = ingest({heart_rate(70, 0, "ble-bad"), heart_rate(71, 1)});
  const auto manual = identifier(uids[1]);
  server->hold_after(4);
  server->on_entry([](const json& e) -> std::optional<EntryReply> {
    if (resource_type(e) == "Device" && identifier_of(e) == "ble-bad") return EntryReply{"422 Unprocessable Entity", "", kOutcome};
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  const bool decided = server->wait_until(
      [&](const FakeFhirServer::State& s) {
        for (const auto& b : s.bundles) {
          if (has_identifier(b, manual)) return true;
        }
        return s.held > 0;
      },
      kPatience);
  ASSERT_TRUE(decided);
  bool manual_sent = false;
  for (const auto& b : server->state().bundles) manual_sent = manual_sent || has_identifier(b, manual);
  EXPECT_TRUE(manual_sent) << "the manual reading was never sent because another device's Device was refused";
}

}  // namespace
}  // namespace carehub::sync
