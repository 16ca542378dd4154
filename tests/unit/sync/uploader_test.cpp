// The uploader against a real store and pipeline in a temp dir, with a scripted FHIR server behind
// HttpClient. Waits are on futures, condition variables and the uploader's own wait_idle(); the only
// timed waits are upper bounds reached when a test fails (and one bounded look for a request that must
// not come).
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

TEST_F(UploaderTest, MarksReadingsSyncedWithTheIdsTheServerGave) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  for (const auto& uid : uids) {
    const auto s = stored(uid);
    EXPECT_EQ(s.state, SyncState::synced);
    ASSERT_TRUE(state.by_identifier.contains(identifier(uid)));
    EXPECT_EQ(s.server_id, state.by_identifier.at(identifier(uid))) << "the logical id, without /_history";
    EXPECT_EQ(s.attempts, 1);
  }
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(counters.snapshot().at("sync_synced"), 3u);
}

TEST_F(UploaderTest, ReportsASuccessfulPassInItsStatus) {
  ingest({heart_rate(70, 0)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto st = uploader->status();
  EXPECT_TRUE(st.enabled);
  EXPECT_EQ(st.consecutive_failures, 0);
  EXPECT_EQ(st.last_success, kNow);
  EXPECT_EQ(st.last_attempt, kNow);
  EXPECT_EQ(st.last_error, "");
  EXPECT_EQ(st.next_attempt, std::nullopt);
  EXPECT_EQ(st.in_flight, 0u);
}

TEST_F(UploaderTest, PostsFhirJsonBatchesToTheBaseUrlWithTheBearerToken) {
  ingest({heart_rate(70, 0)});
  auto o = options();
  o.auth = std::make_shared<StaticToken>("s3cret");
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  ASSERT_FALSE(state.requests.empty());
  for (const auto& req : state.requests) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, kBaseUrl);
    EXPECT_THAT(req.headers, ::testing::Contains(std::pair<std::string, std::string>("Content-Type", "application/fhir+json")));
    EXPECT_THAT(req.headers, ::testing::Contains(std::pair<std::string, std::string>("Accept", "application/fhir+json")));
    EXPECT_THAT(req.headers, ::testing::Contains(std::pair<std::string, std::string>("Authorization", "Bearer s3cret")));
  }
  for (const auto& b : state.bundles) {
    EXPECT_EQ(b["resourceType"], "Bundle");
    EXPECT_EQ(b["type"], "batch");
  }
}

TEST_F(UploaderTest, SendsNothingWhileNothingIsPending) {
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(server->state().count, 0u) << "an idle hub must not even create its Device";
}

TEST_F(UploaderTest, StaysOffWithoutABaseUrl) {
  ingest({heart_rate(70, 0)});
  auto o = options();
  o.base_url = "";
  start_uploader(o);
  EXPECT_FALSE(uploader->status().enabled);
  EXPECT_FALSE(uploader->wait_idle(10ms));
  EXPECT_EQ(server->state().count, 0u);
  EXPECT_EQ(counts().pending, 1) << "readings stay buffered";
}

TEST_F(UploaderTest, CreatesTheHubAndSensorDevicesBeforeTheObservationsThatReferenceThem) {
  const Device cuff{"ble-aa-bb-cc-dd-ee-ff", "AA:BB:CC:DD:EE:FF", "UA-651BLE", "", "", "blood-pressure", "", std::nullopt};
  register_device(cuff);
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1, cuff.id), heart_rate(72, 2, cuff.id)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  ASSERT_EQ(state.bundles.size(), 3u);

  const auto& hub = state.bundles[0]["entry"];
  ASSERT_EQ(hub.size(), 1u);
  EXPECT_EQ(resource_type(hub[0]), "Device");
  EXPECT_EQ(hub[0]["resource"]["identifier"][0], json({{"system", "urn:carehub:hub"}, {"value", kHubId}}));
  EXPECT_EQ(hub[0]["request"]["ifNoneExist"], fhir::hub_if_none_exist(kHubId));

  const auto& sensor = state.bundles[1]["entry"];
  ASSERT_EQ(sensor.size(), 1u);
  EXPECT_EQ(resource_type(sensor[0]), "Device");
  bool bluetooth = false;  // the PHD IG's BTMAC form: the dashed address (with a type)
  for (const auto& id : sensor[0]["resource"]["identifier"]) {
    bluetooth = bluetooth || (id.value("system", "") == "http://hl7.org/fhir/sid/eui-48/bluetooth" &&
                              id.value("value", "") == "AA-BB-CC-DD-EE-FF");
  }
  EXPECT_TRUE(bluetooth) << sensor[0]["resource"]["identifier"].dump();
  EXPECT_EQ(sensor[0]["request"]["ifNoneExist"], fhir::device_if_none_exist(cuff, "hub-0001"));

  const auto hub_ref = state.by_condition.at(fhir::hub_if_none_exist(kHubId));
  const auto sensor_ref = state.by_condition.at(fhir::device_if_none_exist(cuff, "hub-0001"));
  const auto& obs = state.bundles[2]["entry"];
  ASSERT_EQ(obs.size(), 3u);
  for (const auto& e : obs) {
    EXPECT_EQ(e["resource"]["extension"][0]["valueReference"]["reference"], hub_ref);
  }
  EXPECT_FALSE(obs[0]["resource"].contains("device")) << "a manual reading has no sensor";
  EXPECT_EQ(obs[1]["resource"]["device"]["reference"], sensor_ref);
  EXPECT_EQ(obs[2]["resource"]["device"]["reference"], sensor_ref);
}

TEST_F(UploaderTest, ReferencesOnlyDevicesTheServerHadAlreadyCreated) {
  register_device(Device{"ble-aa", "AA:AA:AA:AA:AA:AA", "", "", "", "", "", std::nullopt});
  ingest({heart_rate(70, 0, "ble-aa"), heart_rate(71, 1, "ble-bb"), heart_rate(72, 2, "openhab-Hall_Motion")});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  std::set<std::string> created_so_far;
  for (const auto& b : state.bundles) {
    for (const auto& e : b["entry"]) {
      if (resource_type(e) != "Observation") continue;
      const auto& o = e["resource"];
      EXPECT_TRUE(created_so_far.contains(o["extension"][0]["valueReference"]["reference"].get<std::string>()));
      if (o.contains("device")) {
        EXPECT_TRUE(created_so_far.contains(o["device"]["reference"].get<std::string>()));
      }
    }
    // Only after this request was answered do its Devices exist.
    for (const auto& e : b["entry"]) {
      if (resource_type(e) == "Device") created_so_far.insert(state.by_condition.at(e["request"]["ifNoneExist"]));
    }
  }
  EXPECT_EQ(device_entries(state, "ble-bb"), 1u) << "an unregistered device is still created, by its id";
}

TEST_F(UploaderTest, CreatesEachDeviceOnlyOnce) {
  ingest({heart_rate(70, 0, "ble-aa"), heart_rate(71, 1, "ble-aa")});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  ingest({heart_rate(72, 2, "ble-aa"), heart_rate(73, 3, "ble-bb")});
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  ingest({heart_rate(74, 4, "ble-bb")});
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  EXPECT_EQ(device_entries(state, kHubId), 1u);
  EXPECT_EQ(device_entries(state, "ble-aa"), 1u);
  EXPECT_EQ(device_entries(state, "ble-bb"), 1u);
  EXPECT_EQ(observation_bundles(state).size(), 3u);
  EXPECT_EQ(counts().synced, 5);
}

TEST_F(UploaderTest, SendsEveryObservationAsAConditionalCreateOnItsIdentifier) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1, "ble-aa")});
  auto observation_bundles_seen = std::make_shared<int>(0);  // hooks run under the server's lock
  server->on_request([observation_bundles_seen](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation") && (*observation_bundles_seen)++ == 0) return HttpResponse{503, "", {}};
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  uploader->sync_now();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  const auto bundles = observation_bundles(state);
  ASSERT_EQ(bundles.size(), 2u) << "the refused bundle and its retry";
  for (const auto& b : bundles) {
    ASSERT_EQ(b["entry"].size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& e = b["entry"][i];
      EXPECT_EQ(e["request"]["method"], "POST");
      EXPECT_EQ(e["request"]["url"], "Observation");
      EXPECT_EQ(e["resource"]["identifier"][0]["system"], "urn:ietf:rfc:3986");
      EXPECT_EQ(identifier_of(e), identifier(uids[i])) << "the same identifier on every retry";
      EXPECT_EQ(e["request"]["ifNoneExist"], fhir::observation_if_none_exist(uids[i]));
    }
  }
}

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

TEST_F(UploaderTest, SplitsPendingReadingsIntoBundlesOfTheConfiguredSizeOldestFirst) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2), heart_rate(73, 3), heart_rate(74, 4)});
  auto o = options();
  o.bundle_size = 2;
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  std::vector<std::string> order;
  std::vector<std::size_t> sizes;
  for (const auto& b : observation_bundles(server->state())) {
    sizes.push_back(b["entry"].size());
    for (const auto& e : b["entry"]) order.push_back(identifier_of(e));
  }
  EXPECT_THAT(sizes, ElementsAre(2u, 2u, 1u));
  EXPECT_THAT(order, ElementsAre(identifier(uids[0]), identifier(uids[1]), identifier(uids[2]), identifier(uids[3]),
                                 identifier(uids[4])));
  EXPECT_EQ(counts().synced, 5);
}

TEST_F(UploaderTest, NeverMarksAReadingSyncedWithoutA2xxEntry) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2), heart_rate(73, 3), heart_rate(74, 4)});
  const std::map<std::string, EntryReply> replies{
      {identifier(uids[1]), {"500 Internal Server Error", "", nullptr}},
      {identifier(uids[2]), {"404 Not Found", "", kOutcome}},
      {identifier(uids[3]), {"429 Too Many Requests", "", nullptr}},
      {identifier(uids[4]), {"409 Conflict", "", kOutcome}},
  };
  server->hold_after(2);
  server->on_entry([replies](const json& e) -> std::optional<EntryReply> {
    if (auto it = replies.find(identifier_of(e)); it != replies.end()) return it->second;
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged()) << "entries answered 5xx/429 make the pass a failure";
  const auto answered = server->state().answered_2xx;
  std::vector<SyncState> states;
  for (const auto& uid : uids) {
    const auto s = stored(uid);
    states.push_back(s.state);
    if (s.state == SyncState::synced) {
      EXPECT_TRUE(answered.contains(identifier(uid))) << "synced without a 2xx entry: " << uid;
    }
  }
  EXPECT_THAT(states, ElementsAre(SyncState::synced, SyncState::pending, SyncState::dead, SyncState::pending,
                                  SyncState::dead));
  EXPECT_EQ(stored(uids[1]).attempts, 1);
  EXPECT_EQ(stored(uids[3]).attempts, 1);
  EXPECT_THAT(uploader->status().last_error, HasSubstr("2 entries"));
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


// ---- Alerts (DetectedIssue) ----

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

// ---- Credentials ----

class CountingToken final : public TokenSource {
 public:
  Result<std::string> token() override { return "token-" + std::to_string(generation_); }
  Result<std::string> refresh(const std::string&) override {
    ++generation_;
    ++refreshes;
    return token();
  }
  std::atomic<int> refreshes{0};

 private:
  std::atomic<int> generation_{1};
};

TEST_F(UploaderTest, A401FetchesANewTokenOnceAndResends) {
  const auto uids = ingest({heart_rate(70, 0)});
  auto token = std::make_shared<CountingToken>();
  server->on_raw_request([](const HttpRequest& req, const json&) -> std::optional<Result<HttpResponse>> {
    if (test::has_header(req, "Authorization", "Bearer token-1")) return Result<HttpResponse>(HttpResponse{401, "expired", {}});
    return std::nullopt;
  });
  auto o = options();
  o.auth = token;
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(token->refreshes, 1);
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_EQ(counters.get("sync_token_refreshes").load(), 1u);
}

TEST_F(UploaderTest, ARefusedFreshTokenKeepsEverythingPendingAndBacksOff) {
  ingest({heart_rate(70, 0)});
  auto token = std::make_shared<CountingToken>();
  server->on_raw_request([](const HttpRequest&, const json&) -> std::optional<Result<HttpResponse>> {
    return Result<HttpResponse>(HttpResponse{401, "no", {}});
  });
  auto o = options();
  o.auth = token;
  start_uploader(o);
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  uploader->stop();
  EXPECT_GE(token->refreshes, 1);
  EXPECT_EQ(counts().pending, 1);
  EXPECT_EQ(counts().dead, 0);
  EXPECT_THAT(uploader->status().last_error, HasSubstr("HTTP 401"));
}

// ---- Compression ----

TEST_F(UploaderTest, GzipsLargeBodiesAndFallsBackToPlainOn415) {
  std::vector<Reading> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(heart_rate(60 + i, i));
  ingest(rs);
  std::atomic<int> refused{0};
  server->on_raw_request([&](const HttpRequest& req, const json&) -> std::optional<Result<HttpResponse>> {
    if (test::has_header(req, "Content-Encoding", "gzip")) {
      ++refused;
      return Result<HttpResponse>(HttpResponse{415, "gzip not supported", {}});
    }
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(refused, 1) << "one refusal must switch compression off for the rest of the run";
  EXPECT_FALSE(uploader->status().gzip);
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(counts().dead, 0);
}

TEST_F(UploaderTest, SendsGzipBodiesTheServerAccepts) {
  std::vector<Reading> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(heart_rate(60 + i, i));
  ingest(rs);
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  bool zipped = false;
  for (const auto& req : server->state().requests) {
    if (test::has_header(req, "Content-Encoding", "gzip")) {
      zipped = true;
      EXPECT_LT(req.body.size(), test::request_body(req).size());
    }
  }
  EXPECT_TRUE(zipped);
  EXPECT_EQ(counts().pending, 0);
}

// ---- Bundle size ----

TEST_F(UploaderTest, HalvesTheBundleOn413AndGrowsBackAfterGoodBundles) {
  std::vector<Reading> rs;
  for (int i = 0; i < 400; ++i) rs.push_back(heart_rate(60 + i % 50, i));
  ingest(rs);
  server->on_request([](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (bundle["entry"].size() > 25) return Result<HttpResponse>(HttpResponse{413, "too large", {}});
    return std::nullopt;
  });
  auto o = options();
  o.bundle_size = 100;
  o.compression = Compression::off;  // about size; a 413 to a gzip body is first retried plain
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(counts().dead, 0) << "a 413 is about size, not about any entry";
  std::vector<std::size_t> sizes;
  for (const auto& b : observation_bundles(server->state())) sizes.push_back(b["entry"].size());
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_EQ(sizes[0], 100u);
  EXPECT_EQ(sizes[1], 50u);
  EXPECT_EQ(sizes[2], 25u);
  // After kGrowAfter good bundles of 25 it tries 50 again (and is refused again).
  EXPECT_EQ(sizes[2 + Uploader::kGrowAfter], 50u);
}

TEST_F(UploaderTest, DeadLettersASingleEntryTooLargeEvenAlone) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  const auto big = identifier(uids[0]);
  server->on_request([&](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (has_identifier(bundle, big)) return Result<HttpResponse>(HttpResponse{413, "too large", {}});
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::dead);
  EXPECT_THAT(stored(uids[0]).dead_reason, HasSubstr("413"));
  EXPECT_EQ(stored(uids[1]).state, SyncState::synced);
}

TEST_F(UploaderTest, ShrinksTheBundleAfterATimeout) {
  std::vector<Reading> rs;
  for (int i = 0; i < 60; ++i) rs.push_back(heart_rate(60, i));
  ingest(rs);
  std::atomic<bool> timed_out{false};
  server->on_request([&](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (has_resource(bundle, "Observation") && !timed_out.exchange(true)) {
      return Result<HttpResponse>(make_error(Errc::timeout, "http: operation timed out"));
    }
    return std::nullopt;
  });
  auto o = options();
  o.bundle_size = 40;
  start_uploader(o);
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  ASSERT_TRUE(uploader->wait_idle(kPatience));  // skips the backoff wait on the manual clock
  const auto bundles = observation_bundles(server->state());
  ASSERT_GE(bundles.size(), 2u);
  EXPECT_EQ(bundles[0]["entry"].size(), 40u);
  EXPECT_EQ(bundles[1]["entry"].size(), 20u);
  EXPECT_EQ(counts().pending, 0);
}

// ---- Aggregation of high-rate streams ----

Reading wearable_hr(double bpm, int second) {
  Reading r = heart_rate(bpm, 0, "wearable-1");
  r.time = kMeasured + std::chrono::seconds(second);
  r.received = r.time;
  return r;
}

TEST_F(UploaderTest, AggregatesAConfiguredStreamPerClosedWindowAndSendsSpotReadingsAlone) {
  std::vector<Reading> rs;
  for (int s = 0; s < 150; ++s) rs.push_back(wearable_hr(60 + s % 10, s));  // 2.5 minutes at 1 Hz
  const auto stream = ingest(rs);
  const auto spot = ingest({heart_rate(72, 1)});  // manual: never aggregated
  auto o = options();
  o.aggregate = {{Kind::heart_rate, std::chrono::seconds(60), {}}};
  clock.set(kMeasured + std::chrono::seconds(150));  // windows [0,60) closed at 120 s; [60,120) at 180 s
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));

  std::vector<json> obs;
  for (const auto& b : observation_bundles(server->state())) {
    for (const auto& e : b["entry"]) obs.push_back(e["resource"]);
  }
  ASSERT_EQ(obs.size(), 2u) << "one aggregate for the closed minute, the manual reading alone";
  std::size_t aggregates = 0;
  for (const auto& ob : obs) {
    if (!ob.contains("effectivePeriod")) continue;
    ++aggregates;
    EXPECT_EQ(ob["effectivePeriod"]["start"], "2026-11-21T10:00:00Z");
    EXPECT_EQ(ob["effectivePeriod"]["end"], "2026-11-21T10:01:00Z");
    EXPECT_DOUBLE_EQ(ob["valueQuantity"]["value"].get<double>(), 64.5);
    // minimum and maximum; the count is in the note (aggregation.hpp)
    EXPECT_EQ(ob["component"].size(), 2u);
    EXPECT_THAT(ob["note"][0]["text"].get<std::string>(), HasSubstr("60"));
  }
  EXPECT_EQ(aggregates, 1u);
  EXPECT_EQ(stored(spot[0]).state, SyncState::synced);
  EXPECT_EQ(stored(stream[0]).state, SyncState::synced);
  EXPECT_EQ(stored(stream[59]).state, SyncState::synced);
  EXPECT_EQ(stored(stream[60]).state, SyncState::pending) << "its window has not closed";
  EXPECT_EQ(stored(stream[0]).server_id, stored(stream[59]).server_id);

  // The clock passes the next windows' close: the uploader wakes for it on its own, with no new reading
  // and no `sync now`.
  clock.set(kMeasured + std::chrono::seconds(300));
  auto total = [](const FakeFhirServer::State& st) {
    std::size_t n = 0;
    for (const auto& b : observation_bundles(st)) n += b["entry"].size();
    return n;
  };
  ASSERT_TRUE(server->wait_until([&](const FakeFhirServer::State& st) { return total(st) >= 4; }, kPatience));
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(total(server->state()), 4u) << "three minutes of stream, one manual reading";
  EXPECT_EQ(counts().pending, 0);
}


// ---- Quarantined readings (issue 12, defect 5) ----

const TimePoint k2062 = from_epoch_ms(2917072800000);  // 2062-06-09T10:00:00Z

std::size_t observations_sent(const FakeFhirServer::State& st) {
  std::size_t n = 0;
  for (const auto& b : observation_bundles(st)) n += b["entry"].size();
  return n;
}

TEST_F(UploaderTest, NeverUploadsAReadingQuarantinedForItsFutureTimeNorCountsItAsPending) {
  auto future = heart_rate(70, 0);
  future.time = k2062;  // received at kMeasured: a device clock decades ahead
  const auto uids = ingest({future, heart_rate(71, 1)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto state = server->state();
  EXPECT_EQ(observations_sent(state), 1u);
  EXPECT_FALSE(state.by_identifier.contains(identifier(uids[0]))) << "never uploaded as if 2062 were true";
  EXPECT_EQ(to_string(stored(uids[0]).state), "quarantined");
  EXPECT_EQ(stored(uids[0]).attempts, 0);
  EXPECT_EQ(stored(uids[1]).state, SyncState::synced);
  EXPECT_EQ(counts().pending, 0) << "it does not wait in the queue forever";
}

TEST_F(UploaderTest, AStreamReadingDatedYearsAheadNeverParksAnAggregationWindow) {
  std::vector<Reading> rs;
  for (int s = 0; s < 60; ++s) rs.push_back(wearable_hr(60, s));
  auto future = wearable_hr(61, 0);
  future.time = k2062;
  rs.push_back(future);
  const auto stream = ingest(rs);
  auto o = options();
  o.aggregate = {{Kind::heart_rate, std::chrono::seconds(60), {}}};
  clock.set(kMeasured + std::chrono::seconds(150));
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(observations_sent(server->state()), 1u) << "one aggregate of the real minute";
  EXPECT_EQ(stored(stream[0]).state, SyncState::synced);
  EXPECT_EQ(to_string(stored(stream[60]).state), "quarantined");
  EXPECT_EQ(counts().pending, 0) << "no window held open until 2062";
}

}  // namespace
}  // namespace carehub::sync
