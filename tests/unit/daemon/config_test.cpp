#include "daemon/config.hpp"
#include "daemon/restart_only.hpp"

#include <gtest/gtest.h>

namespace carehub::daemon {
namespace {

constexpr const char* kMinimal = R"({
  // comments are allowed: technicians annotate their kits
  "hub": {"id": "hub-1", "patient": "Patient/42"},
  "store": {"path": "/var/lib/carehub/buffer.db"}
})";

TEST(Config, AMinimalConfigGetsDocumentedDefaults) {
  auto c = parse_config(kMinimal, "kit.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->hub_id, "hub-1");
  EXPECT_EQ(c->patient, "Patient/42");
  EXPECT_EQ(c->store.synchronous, Synchronous::full);
  EXPECT_EQ(c->store.max_bytes, 256 << 20);
  EXPECT_EQ(c->store.retention_days, 30);
  EXPECT_EQ(c->control_socket, "/run/carehub/control.sock");
  EXPECT_EQ(c->control_group, "carehub");
  EXPECT_TRUE(c->upload.base_url.empty());
  EXPECT_TRUE(c->http.verify_tls);
  EXPECT_EQ(c->pipeline.default_patient, "Patient/42");
  EXPECT_EQ(c->upload.hub_id, "hub-1");
}

TEST(Config, EveryKeyIsRead) {
  auto c = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db","synchronous":"normal"},
    "control":{"socket":"/tmp/s.sock","group":"techs"},
    "fhir":{"base_url":"https://fhir.example/R4/","bundle_size":50,"upload_window_ms":50,"retry_base_ms":200,"retry_cap_ms":9000,
            "connect_timeout_ms":1500,"request_timeout_ms":2500,"ca_file":"/etc/ca.pem","tls_verify":false,
            "bearer_token_file":"/run/credentials/token"},
    "pipeline":{"queue_capacity":10,"max_batch":5},"log":{"level":"debug"}})",
                        "x.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->store.synchronous, Synchronous::normal);
  EXPECT_EQ(c->control_group, "techs");
  EXPECT_EQ(c->upload.base_url, "https://fhir.example/R4");  // trailing slash dropped
  EXPECT_EQ(c->upload.bundle_size, 50u);
  EXPECT_EQ(c->upload.upload_window, std::chrono::milliseconds(50));
  EXPECT_EQ(c->upload.backoff.base, std::chrono::milliseconds(200));
  EXPECT_EQ(c->upload.backoff.cap, std::chrono::milliseconds(9000));
  EXPECT_EQ(c->http.connect_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c->http.request_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c->http.ca_file, "/etc/ca.pem");
  EXPECT_FALSE(c->http.verify_tls);
  EXPECT_EQ(c->bearer_token_file, "/run/credentials/token");
  EXPECT_EQ(c->pipeline.queue_capacity, 10u);
  EXPECT_EQ(c->pipeline.max_batch, 5u);
  EXPECT_EQ(c->log_level, LogLevel::debug);
}

TEST(Config, BoundsHowFarADeviceClockMayRunAheadBeforeItsReadingsAreQuarantined) {
  auto d = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"}})", "x.json");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->pipeline.max_future, std::chrono::minutes(5));
  auto c = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},
    "pipeline":{"max_future_s":60}})", "x.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->pipeline.max_future, std::chrono::seconds(60));
  EXPECT_EQ(restart_only_changes(*c, *d), std::vector<std::string>{"/pipeline/max_future_s"});
  auto bad = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},
    "pipeline":{"max_future_s":-1}})", "x.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/pipeline/max_future_s"), std::string::npos) << bad.error().message;
}

TEST(Config, TheCommitWindowIsFortyMillisecondsUnlessSetAndIsBounded) {
  auto d = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"}})", "x.json");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->pipeline.commit_window, std::chrono::milliseconds(40));
  EXPECT_EQ(d->pipeline.commit_gap, std::chrono::milliseconds(15));
  auto off = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},
    "pipeline":{"commit_window_ms":0}})", "x.json");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->pipeline.commit_window, std::chrono::milliseconds(0));
  EXPECT_EQ(restart_only_changes(*off, *d), std::vector<std::string>{"/pipeline/commit_window_ms"});
  auto bad = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},
    "pipeline":{"commit_window_ms":5000}})", "x.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/pipeline/commit_window_ms: expected a whole number from 0 to 1000, found 5000"),
            std::string::npos)
      << bad.error().message;
}

TEST(Config, ErrorsNameTheFileThePathWhatWasExpectedAndWhatWasFound) {
  auto c = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},"fhir":{"base_url":5}})",
                        "/etc/carehub/carehubd.json");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::invalid_argument);
  EXPECT_EQ(c.error().message, "/etc/carehub/carehubd.json: /fhir/base_url: expected a string, found number 5");
}

TEST(Config, AllErrorsAreReportedAtOnce) {
  auto c = parse_config(R"({"hub":{"id":"","patient":"Bob"},"store":{},"fhir":{"bundle_size":0,"tls_verify":"no"}})", "k.json");
  ASSERT_FALSE(c);
  const auto& m = c.error().message;
  EXPECT_NE(m.find("k.json: /hub/id: must not be empty"), std::string::npos) << m;
  EXPECT_NE(m.find("k.json: /hub/patient: expected a FHIR reference like \"Patient/123\", found \"Bob\""), std::string::npos) << m;
  EXPECT_NE(m.find("k.json: /store/path: required, but missing"), std::string::npos) << m;
  EXPECT_NE(m.find("k.json: /fhir/bundle_size: expected a whole number from 1 to 1000, found 0"), std::string::npos) << m;
  EXPECT_NE(m.find("k.json: /fhir/tls_verify: expected true or false, found string \"no\""), std::string::npos) << m;
}

TEST(Config, AnUnknownKeyIsAnErrorNotASilentDefault) {
  auto c = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db","synchronus":"full"}})", "k.json");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("/store/synchronus: unknown key (expected one of: path, synchronous, max_bytes, retention_days, key_file, encryption)"), std::string::npos)
      << c.error().message;
}

TEST(Config, TheBufferCapAndRetentionAreReadAndBoundedWithReasons) {
  auto c = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},
    "store":{"path":"b.db","max_bytes":1073741824,"retention_days":90}})", "k.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->store.max_bytes, 1073741824);
  EXPECT_EQ(c->store.retention_days, 90);
  auto off = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b","max_bytes":0,"retention_days":0}})", "k.json");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->store.max_bytes, 0);
  auto tiny = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b","max_bytes":4096}})", "k.json");
  ASSERT_FALSE(tiny);
  EXPECT_NE(tiny.error().message.find("k.json: /store/max_bytes: expected 0 (no cap) or at least 1048576 (1 MiB), found 4096"),
            std::string::npos)
      << tiny.error().message;
  auto negative = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b","retention_days":-1}})", "k.json");
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message.find("/store/retention_days"), std::string::npos) << negative.error().message;
}

// The buffer is encrypted unless a development kit says otherwise in so many words (issue 18).
TEST(Config, TheBufferIsEncryptedUnlessEncryptionIsOffAndNothingElseIsTaken) {
  auto c = parse_config(kMinimal, "k.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->store_encrypted);
  EXPECT_EQ(c->store_key_file, "buffer-key");
  auto off = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b","encryption":"off"}})", "k.json");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(off->store_encrypted);
  auto typo = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b","encryption":"false"}})", "k.json");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("k.json: /store/encryption: expected one of: on, off, found \"false\""), std::string::npos)
      << typo.error().message;
}

TEST(Config, InvalidJsonReportsLineAndColumn) {
  auto c = parse_config("{\n  \"hub\": {\"id\": \"h\",,\n}", "k.json");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.rfind("k.json:2:", 0), 0u) << c.error().message;
  EXPECT_NE(c.error().message.find("not valid JSON"), std::string::npos);
}

TEST(Config, ValuesOutOfRangeOrOfTheWrongKindAreRejected) {
  for (const char* bad : {R"("store":{"path":"b","synchronous":"off"})", R"("log":{"level":"loud"})",
                          R"("fhir":{"base_url":"ftp://x"})", R"("fhir":{"retry_base_ms":1000,"retry_cap_ms":100})",
                          R"("control":{"socket":"/a/very/long/path/that/does/not/fit/in/sun_path/because/unix/sockets/are/limited/to/108/bytes/x.sock"})"}) {
    const std::string text = std::string(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b"},)") + bad + "}";
    // A duplicate "store" key is fine for nlohmann (last wins), so each case is self-contained.
    EXPECT_FALSE(parse_config(text, "k.json")) << bad;
  }
}

// Found by config_fuzz: nlohmann throws out_of_range (not parse_error) for a number beyond a double.
TEST(Config, ANumberTooLargeForADoubleIsAnErrorNotACrash) {
  auto c = parse_config(R"({"hub": 3e3333333333333333330000003339607008678161066})", "k.json");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("k.json: not valid JSON: number overflow"), std::string::npos) << c.error().message;
}

TEST(Config, AlertsOverMqttGetDefaultsFromTheHubAndErrorsByPath) {
  auto c = parse_config(R"({"hub":{"id":"h7","patient":"Patient/p"},"store":{"path":"b.db"},
                            "alerts":{"mqtt":{"broker":"tcp://127.0.0.1:1883"}}})", "k.json");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->alerts_mqtt.has_value());
  EXPECT_EQ(c->alerts_mqtt->prefix, "carehub/h7/alerts");
  EXPECT_EQ(c->alerts_mqtt->connection.client_id, "carehub-h7-alerts");
  EXPECT_FALSE(c->alerts_mqtt->connection.clean_session);  // acks sent while the hub restarts are kept
  auto bad = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},
                              "alerts":{"mqtt":{"broker":"http://x","prefix":"a/#","colour":1}}})", "k.json");
  ASSERT_FALSE(bad);
  const auto& m = bad.error().message;
  EXPECT_NE(m.find("k.json: /alerts/mqtt/broker: expected tcp://, ssl://, mqtt:// or mqtts://host:port"), std::string::npos) << m;
  EXPECT_NE(m.find("k.json: /alerts/mqtt/prefix: expected a topic without wildcards"), std::string::npos) << m;
  EXPECT_NE(m.find("k.json: /alerts/mqtt/colour: unknown key"), std::string::npos) << m;
}

TEST(Config, AMissingFileIsReportedByName) {
  auto c = load_config("/nonexistent/carehubd.json");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("/nonexistent/carehubd.json: cannot open"), std::string::npos);
}

TEST(Config, RestartOnlyChangesAreListed) {
  auto a = parse_config(kMinimal, "k.json");
  auto b = parse_config(kMinimal, "k.json");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(restart_only_changes(*a, *b).empty());
  b->store.path = "/elsewhere.db";
  b->control_socket = "/x.sock";
  b->upload.base_url = "http://x";  // applied live: not listed
  EXPECT_EQ(restart_only_changes(*a, *b), (std::vector<std::string>{"/store/path", "/control/socket"}));
}

// The hub's identity across a fleet (design.md invariant 9) and the PHD IG's PhgDevice (daemon/config_hub.hpp).
TEST(ConfigHub, WithoutASystemIdTheHubGetsOneDerivedFromItsIdLocallyAdministeredAndStable) {
  auto c = parse_config(kMinimal, "kit.json");
  ASSERT_TRUE(c) << c.error().message;
  // Computed independently: python3 -c "import hashlib; d=bytearray(hashlib.sha256(b'carehub-hub-eui64\nhub-1')
  // .digest()[:8]); d[0]=(d[0]&0xFC)|2; print(d.hex().upper())". A change here would change every hub's identity.
  EXPECT_EQ(c->hub_system_id, "0A8D8DB4524B110D");
  EXPECT_TRUE(c->hub_system_id_derived);
  EXPECT_EQ(derive_system_id("hub-demo-0001"), "BEBA6CBB3D1C55BE");
  for (const char* id : {"hub-1", "hub-2", "a", "fleet-hub-3"}) {
    const auto eui = derive_system_id(id);
    ASSERT_EQ(eui.size(), 16u);
    const int first = std::stoi(eui.substr(0, 2), nullptr, 16);
    EXPECT_EQ(first & 0x03, 0x02) << eui << ": locally administered (U/L 1), individual (I/G 0)";
  }
  EXPECT_NE(derive_system_id("hub-1"), derive_system_id("hub-2"));
  EXPECT_EQ(dashed_eui64(c->hub_system_id), "0A-8D-8D-B4-52-4B-11-0D");
  EXPECT_EQ(c->hub_time_sync, "sntpv4330");
  EXPECT_EQ(c->hub_time_sync_mdc, 532228);  // MDC_TIME_SYNC_SNTPV4330: systemd-timesyncd
  // What the rest of the daemon is given: the uploader's hub Device and the pipeline's reading uids.
  EXPECT_EQ(c->upload.hub_system_id, "0A8D8DB4524B110D");
  EXPECT_EQ(c->upload.hub_time_sync_mdc, 532228);
  EXPECT_EQ(c->upload.patient, "Patient/42");
  EXPECT_EQ(c->pipeline.hub_id, "hub-1");
}

TEST(ConfigHub, AConfiguredSystemIdIsReadInEveryUsualSpellingAndTimeSyncByName) {
  for (const char* spelling : {"FE-ED-AB-EE-DE-AD-77-C2", "fe:ed:ab:ee:de:ad:77:c2", "FEEDABEEDEAD77C2"}) {
    auto c = parse_config(std::string(R"({"hub":{"id":"h","patient":"Patient/p","time_sync":"ntpv4","system_id":")") +
                              spelling + R"("},"store":{"path":"b.db"}})", "k.json");
    ASSERT_TRUE(c) << spelling << ": " << c.error().message;
    EXPECT_EQ(c->hub_system_id, "FEEDABEEDEAD77C2") << spelling;
    EXPECT_FALSE(c->hub_system_id_derived);
    EXPECT_EQ(c->hub_time_sync_mdc, 532226);  // MDC_TIME_SYNC_NTPV4
    auto plain = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"}})", "k.json");
    ASSERT_TRUE(plain);
    EXPECT_EQ(restart_only_changes(*plain, *c), (std::vector<std::string>{"/hub/system_id", "/hub/time_sync"}));
  }
}

TEST(ConfigHub, ABadHubIdentityIsRefusedWithTheReason) {
  const auto error = [](const std::string& hub) {
    auto c = parse_config(R"({"hub":{"patient":"Patient/p",)" + hub + R"(},"store":{"path":"b.db"}})", "k.json");
    return c ? std::string("accepted") : c.error().message;
  };
  EXPECT_EQ(error(R"("id":"home/1")"),
            "k.json: /hub/id: expected 1 to 64 letters, digits, '.', '_' or '-' (it names the hub in FHIR identifiers "
            "and MQTT topics), found \"home/1\"");
  EXPECT_NE(error(R"("id":"hub 1")").find("/hub/id: expected 1 to 64"), std::string::npos);
  EXPECT_NE(error(R"("id":"hub+#")").find("/hub/id: expected 1 to 64"), std::string::npos);
  EXPECT_NE(error(R"("id":")" + std::string(65, 'h') + "\"").find("/hub/id: expected 1 to 64"), std::string::npos);
  EXPECT_EQ(error(R"("id":")" + std::string(64, 'h') + "\""), "accepted");
  EXPECT_EQ(error(R"("id":"h","system_id":"FE-ED-AB")"),
            "k.json: /hub/system_id: expected an EUI-64: 16 hex digits, bare or in pairs joined by '-' or ':' "
            "(e.g. \"FE-ED-AB-EE-DE-AD-77-C3\"), found \"FE-ED-AB\"");
  EXPECT_NE(error(R"("id":"h","system_id":"FE-ED-AB-EE:DE-AD-77-C2")").find("expected an EUI-64"), std::string::npos);
  EXPECT_NE(error(R"("id":"h","system_id":"GG-ED-AB-EE-DE-AD-77-C2")").find("expected an EUI-64"), std::string::npos);
  EXPECT_NE(error(R"("id":"h","system_id":"00-00-00-00-00-00-00-00")").find("means \"no system id\""), std::string::npos);
  EXPECT_NE(error(R"("id":"h","system_id":"01-ED-AB-EE-DE-AD-77-C2")").find("is a group (multicast) EUI-64"),
            std::string::npos);
  EXPECT_EQ(error(R"("id":"h","time_sync":"ntp")"),
            "k.json: /hub/time_sync: expected one of: none, ntpv3, ntpv4, sntpv4, sntpv4330, radio, gps, other, found \"ntp\"");
  EXPECT_NE(error(R"("id":"h","serial":"x")").find("/hub/serial: unknown key"), std::string::npos);
}

}  // namespace
}  // namespace carehub::daemon
