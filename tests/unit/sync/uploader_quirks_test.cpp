// The uploader against servers that behave like real ones rather than like the team's peer (issue 13):
// a server or proxy that cannot read gzip request bodies, one that refuses every request as a whole, one
// that enforces referential integrity on a Patient it lacks, readings that become several Observations,
// and an alert whose create was answered but the answer lost before it was acknowledged.
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

const json kHapi1094 = json::parse(
    R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing",)"
    R"("diagnostics":"HAPI-1094: Resource Patient/p1 not found, specified in path: Observation.subject"}]})");
// What Tomcat or nginx say to a body they cannot read: not FHIR, not 415.
const char* kNotJson = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"structure",)"
                       R"("diagnostics":"Failed to parse request body as JSON resource"}]})";

Reading reading(Kind kind, std::map<std::string, double> values, int minute, std::string device = "manual") {
  Reading r = heart_rate(0, minute, std::move(device));
  r.kind = kind;
  r.values = std::move(values);
  return r;
}

// Blood pressure, weight and SpO2: every bundle of a few of them is over 1 KiB, so it goes gzipped.
std::vector<Reading> spot_readings(int n) {
  std::vector<Reading> rs;
  for (int i = 0; i < n; ++i) {
    rs.push_back(reading(Kind::blood_pressure, {{"systolic", 120.0 + i}, {"diastolic", 80}, {"mean", 93}, {"pulse", 70}}, 3 * i));
    rs.push_back(reading(Kind::body_weight, {{"value", 80.0 + i}, {"bmi", 26}, {"height", 1.75}}, 3 * i + 1));
    rs.push_back(reading(Kind::spo2, {{"value", 97}, {"pulse", 70.0 + i}}, 3 * i + 2));
  }
  return rs;
}

class UploaderQuirksTest : public UploaderAlertTest {
 protected:
  std::uint64_t counter(const char* name) { return counters.get(name).load(); }
};

// Regression (issue 13): a 400 to a gzip body was taken for a refusal of the entries: the uploader
// isolated them one by one, each still gzipped, and dead-lettered every one.
TEST_F(UploaderQuirksTest, AServerThatCannotReadGzipGetsEveryReadingPlainAndNoneIsDeadLettered) {
  const auto uids = ingest(spot_readings(4));
  std::atomic<int> refused{0};
  server->on_raw_request([&](const HttpRequest& req, const json&) -> std::optional<Result<HttpResponse>> {
    if (test::has_header(req, "Content-Encoding", "gzip")) {
      ++refused;
      return Result<HttpResponse>(HttpResponse{400, kNotJson, {}});
    }
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().dead, 0);
  EXPECT_EQ(counts().pending, 0);
  for (const auto& uid : uids) EXPECT_EQ(stored(uid).state, SyncState::synced);
  EXPECT_EQ(refused, 1) << "one refused gzip body, retried plain, switches gzip off for the server";
  const auto st = uploader->status();
  EXPECT_FALSE(st.gzip);
  EXPECT_THAT(st.gzip_refused, HasSubstr("HTTP 400"));
  EXPECT_EQ(counter("sync_gzip_refused"), 1u);
  EXPECT_EQ(st.consecutive_failures, 0) << "the plain retry is not a failure";
}

TEST_F(UploaderQuirksTest, KeepsGzipWhenThePlainRetryIsRefusedToo) {
  std::vector<Reading> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(heart_rate(60 + i, i));
  ingest(rs);
  std::atomic<bool> refuse{true};
  server->on_request([&](const json& b) -> std::optional<Result<HttpResponse>> {
    if (refuse && has_resource(b, "Observation")) return Result<HttpResponse>(HttpResponse{422, kOutcome.dump(), {}});
    return std::nullopt;
  });
  start_uploader();
  uploader->wake();
  // The bundle and each reading alone are refused, plain as well: the content, not the coding.
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_TRUE(uploader->status().gzip);
  EXPECT_EQ(counter("sync_gzip_refused"), 0u);
  refuse = false;
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().pending, 0);
}

// Regression: a proxy (or server) refusing every request as a whole with 400 made the uploader
// dead-letter the whole buffer, one reading at a time.
TEST_F(UploaderQuirksTest, ARefusalOfEveryRequestAsAWholeDeadLettersNothing) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  server->on_request([](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_resource(b, "Observation")) return Result<HttpResponse>(HttpResponse{400, kNotJson, {}});
    return std::nullopt;
  });
  auto o = options();
  o.compression = Compression::off;
  start_uploader(o);  // its first pass finds the pending readings; a wake() here could add a second pass
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_EQ(counts().dead, 0) << "readings were dead-lettered for a refusal of the request itself";
  EXPECT_EQ(counts().pending, 3);
  // At least one: the uploader may already be in its next pass (a commit or a wake can start one), and
  // every pass refused as a whole is counted; what must never happen is a dead letter.
  EXPECT_GE(counter("sync_request_refusals"), 1u);
  EXPECT_THAT(uploader->status().last_error, HasSubstr("no reading is blamed"));
}

TEST_F(UploaderQuirksTest, ReadingRefusedAloneIsDeadLetteredOnceAnotherRequestGoesThroughEvenWhenItIsTheOldest) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  const auto bad = identifier(uids[0]);
  server->on_request([bad](const json& b) -> std::optional<Result<HttpResponse>> {
    if (has_identifier(b, bad)) return HttpResponse{400, kOutcome.dump(), {}};
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::dead);
  EXPECT_EQ(json::parse(stored(uids[0]).dead_reason), kOutcome);
  EXPECT_EQ(stored(uids[1]).state, SyncState::synced);
  EXPECT_EQ(stored(uids[2]).state, SyncState::synced);
  std::vector<std::size_t> sizes;
  for (const auto& b : observation_bundles(server->state())) sizes.push_back(b["entry"].size());
  EXPECT_THAT(sizes, ElementsAre(3u, 3u, 1u, 1u, 1u));  // gzipped, then plain, then one by one
}

// The rules' judgement reaches the clinician's view: an out-of-band value is flagged on its Observation.
TEST_F(UploaderQuirksTest, FlagsAnOutOfBandValueAsTheRulesJudgedIt) {
  const auto uids = ingest({heart_rate(150, 0), heart_rate(70, 1)});
  auto o = options();
  o.bands = [](const Reading& r) {
    return r.values.at("value") > 120 ? std::map<std::string, std::string>{{"value", "extreme_high"}}
                                      : std::map<std::string, std::string>{};
  };
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  std::map<double, json> by_value;
  for (const auto& b : observation_bundles(server->state())) {
    for (const auto& e : b["entry"]) by_value[e["resource"]["valueQuantity"]["value"].get<double>()] = e["resource"];
  }
  ASSERT_EQ(by_value.size(), 2u);
  ASSERT_TRUE(by_value[150].contains("interpretation")) << by_value[150].dump();
  EXPECT_EQ(by_value[150]["interpretation"][0]["coding"][0]["code"], "HH");
  EXPECT_FALSE(by_value[70].contains("interpretation")) << by_value[70].dump();
}

// ---- A Patient the server does not have (HAPI: referential integrity) ----

class UploaderPatientTest : public UploaderQuirksTest {
 protected:
  // Like HAPI JPA: an entry whose subject does not exist is refused on its own with HAPI-1094.
  void enforce_referential_integrity() {
    server->on_entry([this](const json& e) -> std::optional<EntryReply> {
      if (!e["resource"].contains("subject") && !e["resource"].contains("patient")) return std::nullopt;
      if (!patient_missing) return std::nullopt;
      return EntryReply{"400 Bad Request", "", kHapi1094};
    });
  }
  void set_missing(bool missing) {
    patient_missing = missing;
    server->set_patient_missing("Patient/p1", missing);
  }
  std::atomic<bool> patient_missing{false};
};

// Regression: every entry refused for a missing Patient was dead-lettered: the whole buffer would end dead.
TEST_F(UploaderPatientTest, AMissingPatientIsAConfigurationErrorThatKeepsEverythingPendingUntilItExists) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  put_alert(red_alert({uids[0]}));
  enforce_referential_integrity();
  set_missing(true);
  auto o = options();
  o.patient = "Patient/p1";
  start_uploader(o);
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_EQ(counts().dead, 0);
  EXPECT_EQ(counts().pending, 3);
  EXPECT_EQ(alert_sync().dead, 0);
  EXPECT_EQ(alert_sync().pending, 1);
  const auto st = uploader->status();
  EXPECT_THAT(st.config_error, HasSubstr("configuration error"));
  EXPECT_THAT(st.config_error, HasSubstr("Patient/p1"));
  EXPECT_GE(counter("sync_config_errors"), 1u);
  EXPECT_TRUE(observation_bundles(server->state()).empty()) << "nothing is sent under a Patient the server lacks";
  EXPECT_THAT(server->state().reads, ::testing::Contains(std::string(kBaseUrl) + "/Patient/p1"));

  set_missing(false);  // registered on the server
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(counts().dead, 0);
  EXPECT_EQ(alert_sync().pending, 0);
  EXPECT_EQ(uploader->status().config_error, "");
}

// Regression (browser.console): with the upload window on, the request that finally went through was the
// last pass until the next reading, and only a pass with nothing to send cleared the configuration error:
// status went on saying "configuration error" over a buffer that had all been sent.
TEST_F(UploaderPatientTest, TheRequestThatGoesThroughOnceThePatientExistsClearsTheConfigurationError) {
  ingest({heart_rate(70, 0)});
  set_missing(true);
  auto o = options();
  o.patient = "Patient/p1";
  o.upload_window = 200ms;
  start_uploader(o);
  ASSERT_TRUE(wait_failure_logged());
  ASSERT_THAT(uploader->status().config_error, HasSubstr("Patient/p1"));
  set_missing(false);
  uploader->sync_now();  // the technician, once the Patient is registered (the test's clock does not move)
  ASSERT_TRUE(wait_event([&] { return logged("event=configuration-error-cleared"); }))
      << "status still says: " << uploader->status().config_error;
  EXPECT_EQ(uploader->status().config_error, "");
  EXPECT_EQ(counts().pending, 0);
}

TEST_F(UploaderPatientTest, AnEntryRefusedForAMissingReferenceIsNeverDeadLettered) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  enforce_referential_integrity();
  patient_missing = true;  // the look-up says it exists (a race, or a server that lies): the entries say not
  start_uploader();
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_EQ(counts().dead, 0);
  EXPECT_EQ(counts().pending, 2);
  EXPECT_THAT(uploader->status().config_error, HasSubstr("HAPI-1094"));
  EXPECT_GE(counter("sync_missing_references"), 2u);
  patient_missing = false;
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().pending, 0);
  // The look-up at start, then at least one after the refusal (when is the uploader's business: it retries on
  // its short test backoff, so counting reads at any moment in between would race with it).
  EXPECT_GE(server->state().reads.size(), 2u) << "what was known to exist is looked up again";
}

TEST_F(UploaderPatientTest, LooksUpEachPatientOnce) {
  ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2)});
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  ingest({heart_rate(73, 3)});
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(server->state().reads.size(), 1u);
}

// ---- Readings that become several Observations ----

// Until the mapping makes them (derived height, BMI, pulse), a stand-in mapping: the reading's own
// Observation and two derived ones, each with its own identifier.
std::vector<fhir::ObservationEntry> three_observations(const StoredReading& s, const fhir::References& refs) {
  std::vector<fhir::ObservationEntry> out{{fhir::observation(s, refs), fhir::observation_if_none_exist(s.uid)}};
  for (const char* derived : {"height", "bmi"}) {
    auto obs = fhir::observation(s, refs);
    const auto uid = s.uid + "-" + derived;
    obs["identifier"][0]["value"] = fhir::observation_identifier(uid);
    out.push_back({obs, fhir::observation_if_none_exist(uid)});
  }
  return out;
}

class UploaderMultiEntryTest : public UploaderQuirksTest {
 protected:
  void start() {
    auto o = options();
    o.observations = three_observations;
    start_uploader(o);
  }
  // Creates of the reading's entries the server answered 2xx for, by identifier.
  std::size_t created(const std::string& uid) {
    std::size_t n = 0;
    for (const auto& [value, ref] : server->state().by_identifier) n += value.rfind(identifier(uid), 0) == 0 ? 1 : 0;
    return n;
  }
};

TEST_F(UploaderMultiEntryTest, SendsEveryObservationOfAReadingAndMarksItSyncedAsItsOwn) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  start();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  const auto bundles = observation_bundles(server->state());
  ASSERT_EQ(bundles.size(), 1u);
  EXPECT_EQ(bundles[0]["entry"].size(), 6u);
  for (const auto& uid : uids) {
    const auto s = stored(uid);
    EXPECT_EQ(s.state, SyncState::synced);
    EXPECT_EQ(s.server_id, server->state().by_identifier.at(identifier(uid)));
    EXPECT_EQ(created(uid), 3u);
  }
}

TEST_F(UploaderMultiEntryTest, AReadingRetriesUntilAllItsObservationsAreSyncedWithoutDuplicates) {
  const auto uids = ingest({heart_rate(70, 0)});
  std::atomic<bool> fail{true};
  const auto bmi = identifier(uids[0] + "-bmi");
  server->on_entry([&](const json& e) -> std::optional<EntryReply> {
    if (identifier_of(e) == bmi && fail.load()) return EntryReply{"503 Service Unavailable", "", nullptr};
    return std::nullopt;
  });
  start();
  ASSERT_TRUE(wait_failure_logged());
  EXPECT_EQ(stored(uids[0]).state, SyncState::pending) << "synced while one of its Observations was not";
  fail = false;  // only now: the uploader retries on its short test backoff meanwhile, every try refused
  uploader->wake();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_EQ(created(uids[0]), 3u);
  EXPECT_EQ(server->state().locations.size(), 4u) << "hub Device and three Observations, none twice";
}

TEST_F(UploaderMultiEntryTest, AReadingWithARefusedObservationIsDeadWithThatReason) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  const auto height = identifier(uids[1] + "-height");
  server->on_entry([&](const json& e) -> std::optional<EntryReply> {
    if (identifier_of(e) == height) return EntryReply{"422 Unprocessable Entity", "", kOutcome};
    return std::nullopt;
  });
  start();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_EQ(stored(uids[1]).state, SyncState::dead);
  EXPECT_EQ(json::parse(stored(uids[1]).dead_reason), kOutcome);
}

// ---- Alerts: a lost answer, then an acknowledgement ----

// Regression (issue 13, found by reading): the alert's create went through but its answer was lost;
// the patient acknowledged; the resend was a conditional create that matched the first revision (200,
// unchanged), so the acknowledgement was marked synced while the server kept the raised alert.
TEST_F(UploaderQuirksTest, AnAcknowledgementAfterALostAnswerLeavesTheServerHoldingTheAcknowledgedRevision) {
  const auto uids = ingest({heart_rate(150, 0)});
  auto alert = red_alert(uids);
  put_alert(alert);
  // Every answer about the alert is lost until the acknowledgement is stored: the uploader retries on
  // its short test backoff, and whether it managed one resend or five, it never learns of the create.
  std::atomic<bool> lose{true};
  server->lose_answers([&](const json& b) { return has_resource(b, "DetectedIssue") && lose.load(); });
  start_uploader();
  ASSERT_TRUE(wait_failure_logged());
  ASSERT_GE(server->state().lost_answers, 1u);
  EXPECT_EQ(alert_sync().pending, 1);

  alert.state = AlertState::acknowledged;
  alert.acknowledged = kNow + std::chrono::minutes(5);
  put_alert(alert);
  lose = false;
  uploader->wake();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(alert_sync().pending, 0);
  std::vector<json> held;
  for (const auto& [ref, resource] : server->state().resources) {
    if (ref.rfind("DetectedIssue/", 0) == 0) held.push_back(resource);
  }
  ASSERT_EQ(held.size(), 1u) << "one DetectedIssue per alert";
  EXPECT_EQ(held[0]["status"], "amended");
  ASSERT_TRUE(held[0].contains("mitigation")) << "the server kept the raised revision: " << held[0].dump();
  EXPECT_EQ(held[0]["mitigation"][0]["action"]["coding"][0]["code"], "acknowledged");
}

}  // namespace
}  // namespace carehub::sync
