// carehubd's consent commands over the real control socket (issue 18): with no record every kind is allowed
// (built-in); a withdrawn kind's reading is stored withheld, still judged by HF5, counted in status (not as
// pending) and in the metrics; a wrong kind, an unknown patient or a malformed request is refused naming
// it, and counted. In-process daemon, ManualClock; the upload side is tests/integration/consent_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "daemon/control_client.hpp"
#include "daemon/daemon.hpp"
#include "store/store.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAnna = "Patient/anna";
constexpr const char* kBen = "Patient/ben";

class ConsentCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions store;
    store.path = dir_.file("buffer.db");
    store.key = test::test_buffer_key();
    store_ = store;
    {
      auto w = StoreWriter::open(store);
      ASSERT_TRUE(w) << w.error().message;
      Device d;  // Ben's own scale: a second patient this hub knows
      d.id = "scale-ben";
      d.category = "body-weight";
      d.patient = kBen;
      ASSERT_TRUE((*w)->upsert_device(d));
    }
    const nlohmann::json config = {
        {"hub", {{"id", "hub-consent-1"}, {"patient", kAnna}}},
        {"store", {{"path", store.path}, {"key_file", test::write_buffer_key(dir_)}}},
        {"control", {{"socket", dir_.file("ctl.sock")}, {"group", ""}}},
        {"rules", {{"file", (test::source_dir() / "config/rules/hf5.json").string()}}},
        {"metrics", {{"textfile", dir_.file("carehub.prom")}, {"interval_s", 30}}},
    };
    auto c = parse_config(config.dump(), dir_.file("carehubd.json"));
    ASSERT_TRUE(c) << c.error().message;
    auto d = Daemon::start(std::move(*c), log_, clock_);
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
  }

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
    auto c = ControlClient::connect(dir_.file("ctl.sock"));
    if (!c) return c.error();
    return c->call(cmd, args);
  }

  // An extreme blood pressure entered by hand for Anna (the hub's patient): HF5 asks for a repeat.
  nlohmann::json add_bp(double systolic) {
    const nlohmann::json reading = {{"kind", "blood-pressure"}, {"device", "manual"}, {"source", "manual"},
                                    {"time", format_rfc3339(clock_.now())},
                                    {"values", {{"systolic", systolic}, {"diastolic", 100}}}};
    auto r = call("measure.add", {{"readings", {reading}}});
    EXPECT_TRUE(r) << r.error().message;
    return r ? (*r)["results"][0] : nlohmann::json{};
  }

  nlohmann::json status() {
    auto s = call("status");
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : nlohmann::json{};
  }

  int bad_requests() { return status()["counters"].value("control_bad_requests", 0); }

  // The audit trail's rows of one action, newest first, read as carehubctl audit does.
  std::vector<AuditEvent> audited(const std::string& action) {
    auto reader = StoreReader::open(store_);
    EXPECT_TRUE(reader) << reader.error().message;
    if (!reader) return {};
    AuditQuery q;
    q.action = action;
    auto rows = (*reader)->audit_events(q);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? *rows : std::vector<AuditEvent>{};
  }

  test::TempDir dir_;
  StoreOptions store_;
  ManualClock clock_{*parse_rfc3339("2026-11-21T10:00:00Z")};
  Logger log_{LogLevel::error};
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ConsentCommands, WithNoRecordEveryKindOfEveryKnownPatientIsAllowed) {
  auto shown = call("consent.show");
  ASSERT_TRUE(shown) << shown.error().message;
  ASSERT_EQ((*shown)["patients"].size(), 2u) << shown->dump();
  EXPECT_EQ((*shown)["patients"][0]["patient"], kAnna);
  EXPECT_EQ((*shown)["patients"][1]["patient"], kBen);
  EXPECT_EQ((*shown)["patients"][0]["kinds"]["blood-pressure"],
            (nlohmann::json{{"allowed", true}, {"source", "built-in"}}));
  EXPECT_EQ((*shown)["withheld"], 0);
  EXPECT_EQ(status()["consent"]["patients"][0]["denied"], nlohmann::json::array());
}

TEST_F(ConsentCommands, AWithdrawnKindIsWithheldYetHF5StillJudgesItAndStatusCountsIt) {
  auto set = call("consent.set", {{"patient", kAnna}, {"kind", "blood-pressure"}, {"allow", false},
                                  {"reason", "patient's request"}, {"by", "Tech Anna"}});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ((*set)["kinds"], nlohmann::json::array({"blood-pressure"}));
  EXPECT_EQ((*set)["allowed"], false);
  EXPECT_THAT((*set)["by"].get<std::string>(), HasSubstr("Tech Anna, uid "));

  EXPECT_EQ(add_bp(210)["status"], "stored");
  auto alerts = call("alerts");
  ASSERT_TRUE(alerts);
  ASSERT_EQ((*alerts)["alerts"].size(), 1u) << "HF5 judges a withheld reading: " << alerts->dump();
  EXPECT_EQ((*alerts)["alerts"][0]["rule"], "HF5");

  const auto s = status();
  EXPECT_EQ(s["buffer"]["withheld"], 1) << s["buffer"].dump();
  EXPECT_EQ(s["buffer"]["pending"], 0) << "not a backlog: it will never be sent";
  EXPECT_EQ(s["consent"]["withheld"], 1);
  EXPECT_EQ(s["consent"]["patients"][0], (nlohmann::json{{"patient", kAnna}, {"denied", {"blood-pressure"}}, {"withheld", 1}}));
  EXPECT_EQ(s["consent"]["patients"][1]["denied"], nlohmann::json::array()) << "Ben's consent is his own";

  auto shown = call("consent.show", {{"patient", kAnna}});
  ASSERT_TRUE(shown) << shown.error().message;
  ASSERT_EQ((*shown)["patients"].size(), 1u);
  const auto& bp = (*shown)["patients"][0]["kinds"]["blood-pressure"];
  EXPECT_EQ(bp["allowed"], false);
  EXPECT_EQ(bp["source"], "patient");
  EXPECT_EQ(bp["reason"], "patient's request");
  EXPECT_EQ((*shown)["patients"][0]["withheld"]["blood-pressure"], 1);
  auto listed = call("measurements", {{"state", "withheld"}});
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ((*listed)["readings"].size(), 1u) << listed->dump();
  EXPECT_EQ((*listed)["readings"][0]["sync"], "withheld");

  clock_.advance(std::chrono::seconds(30));  // the metrics interval
  daemon_->refresh_status();
  EXPECT_NE(test::read_file(dir_.file("carehub.prom")).find("carehub_buffer_withheld_readings 1"), std::string::npos)
      << test::read_file(dir_.file("carehub.prom"));
}

TEST_F(ConsentCommands, TheDefaultAndACategoryCoverEveryPatientWithoutARecord) {
  auto set = call("consent.set", {{"default", true}, {"kind", "environment"}, {"allow", false}});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ((*set)["patient"], nullptr);
  EXPECT_EQ((*set)["kinds"], (nlohmann::json{"room-temperature", "room-humidity", "illuminance", "motion"}));
  const auto s = status();
  EXPECT_EQ(s["consent"]["default_denied"], (nlohmann::json{"room-temperature", "room-humidity", "illuminance", "motion"}));
  EXPECT_EQ(s["consent"]["patients"][1]["denied"], s["consent"]["default_denied"]);
}

TEST_F(ConsentCommands, RefusesAWrongKindOrPatientNamingItAndChangesNothing) {
  auto kind = call("consent.set", {{"patient", kAnna}, {"kind", "bloodpressure"}, {"allow", false}});
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().code, Errc::invalid_argument);
  EXPECT_THAT(kind.error().message, HasSubstr("/args/kind: unknown kind \"bloodpressure\""));
  EXPECT_THAT(kind.error().message, HasSubstr("blood-pressure"));

  auto stranger = call("consent.set", {{"patient", "Patient/anne"}, {"kind", "glucose"}, {"allow", false}});
  ASSERT_FALSE(stranger);
  EXPECT_THAT(stranger.error().message, HasSubstr("Patient/anne is not a patient of this hub"));
  EXPECT_THAT(stranger.error().message, HasSubstr("Patient/anna, Patient/ben"));

  auto malformed = call("consent.set", {{"patient", "anna"}, {"kind", "glucose"}, {"allow", false}});
  ASSERT_FALSE(malformed);
  EXPECT_THAT(malformed.error().message, HasSubstr("/args/patient"));

  auto both = call("consent.set", {{"patient", kAnna}, {"default", true}, {"kind", "glucose"}, {"allow", false}});
  ASSERT_FALSE(both);
  EXPECT_THAT(both.error().message, HasSubstr("exactly one of \"patient\" and \"default\""));

  auto release = call("consent.set", {{"patient", kAnna}, {"kind", "glucose"}, {"allow", false}, {"release_withheld", true}});
  ASSERT_FALSE(release);
  EXPECT_THAT(release.error().message, HasSubstr("/args/release_withheld"));

  EXPECT_EQ(bad_requests(), 5);
  auto shown = call("consent.show");
  ASSERT_TRUE(shown);
  EXPECT_EQ((*shown)["patients"][0]["kinds"]["glucose"]["source"], "built-in") << "nothing was recorded";
}

TEST_F(ConsentCommands, AChangeIsAuditedInItsOwnTransactionAndARefusalIsAuditedToo) {
  ASSERT_TRUE(call("consent.set", {{"patient", kAnna}, {"kind", "glucose"}, {"allow", false}, {"by", "Tech Anna"}}));
  auto rows = audited("consent.set");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, AuditOutcome::success);
  EXPECT_EQ(rows[0].patient, kAnna);
  EXPECT_THAT(rows[0].actor.name, HasSubstr("Tech Anna"));
  EXPECT_THAT(rows[0].detail, ::testing::Not(HasSubstr("recorded after"))) << "written in the change's own transaction";

  ASSERT_FALSE(call("consent.set", {{"patient", kAnna}, {"kind", "glucos"}, {"allow", true}}));
  rows = audited("consent.set");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].outcome, AuditOutcome::refused) << "newest first: the refused attempt is on record";
  EXPECT_THAT(rows[0].detail, HasSubstr("glucos"));
}

}  // namespace
}  // namespace carehub::daemon
