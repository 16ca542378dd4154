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
