// The mqtt source against a real mosquitto (issue 12, defects 6 and 7): a message the broker delivers again
// (a lost PUBACK, a failed delivery ahead of it, a retained state re-sent on subscribe) maps to the reading
// it made the first time, while two genuine identical readings stay two; bad input is reported without the
// patient's values above debug level; and a reading JSON that names a patient is taken only from a
// subscription configured to allow it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "drivers/mqtt/source.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/tcp_relay.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/drivers/mqtt/hand_sink.hpp"

namespace carehub::mqtt {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;
using test::HandSink;
using test::MosquittoPeer;

const TimePoint kT0 = from_epoch_ms(1795000000000);

// Polls `done` until it holds or `timeout` passes: a condition with a deadline, never a fixed sleep.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

IngestResult duplicate() { return IngestResult{{"uid"}, {IngestStatus::duplicate}, {""}}; }

class AnMqttSource : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }  // as carehubd does

  AnMqttSource() {
    std::filesystem::create_directories(dir_.file("broker"));
    broker_ = std::make_unique<MosquittoPeer>(dir_.file("broker"));
  }

  // A started, connected source with `subscriptions`. The wall clock unless told: the subscriber's reconnect
  // backoff waits on it, so a test that makes the source reconnect cannot freeze it.
  std::unique_ptr<Source> start(const json& subscriptions, const std::string& client_id, int max_inflight = 20,
                                const Clock* clock = nullptr, const std::string& broker = {}) {
    const json config{{"broker", broker.empty() ? broker_->url() : broker},
                      {"client_id", client_id},
                      {"retry_base_ms", 10},
                      {"retry_cap_ms", 100},
                      {"keepalive_s", 30},
                      {"max_inflight", max_inflight},
                      {"subscriptions", subscriptions}};
    const SourceContext context{sink_, clock ? *clock : static_cast<const Clock&>(system_clock_), log_, counters_, "hub-test", "Patient/kit"};
    auto made = make_mqtt_source(config, "/sources/mqtt", context);
    EXPECT_TRUE(made) << made.error().message;
    if (!made) return nullptr;
    auto source = std::move(*made);
    EXPECT_TRUE(source->start());
    EXPECT_TRUE(connected(*source)) << source->status().dump();
    return source;
  }
  static bool connected(const Source& s) {
    return eventually([&] { return s.status()["state"] == "connected"; });
  }
  static bool acknowledged(const Source& s, int n) {
    return eventually([&] { return s.status()["acknowledged"].get<int>() == n; });
  }

  // Log lines at `level` or more severe.
  std::vector<std::string> lines_at_least(LogLevel level) {
    std::lock_guard lock(log_mu_);
    std::vector<std::string> out;
    for (const auto& [l, line] : log_lines_) {
      if (l <= level) out.push_back(line);
    }
    return out;
  }
  std::string all_lines() {
    std::lock_guard lock(log_mu_);
    std::string out;
    for (const auto& [l, line] : log_lines_) out += line + "\n";
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<MosquittoPeer> broker_;
  SystemClock system_clock_;
  ManualClock manual_clock_{kT0};
  HandSink sink_;
  Counters counters_;
  std::mutex log_mu_;
  std::vector<std::pair<LogLevel, std::string>> log_lines_;
  Logger log_{LogLevel::debug, [this](LogLevel level, std::string_view, std::string_view m) {
                std::lock_guard lock(log_mu_);
                log_lines_.emplace_back(level, std::string(m));
              }};
};

const json kTemperature = {{{"topic", "home/+/temperature"}, {"format", "number"}, {"kind", "room-temperature"}}};

// The source talks to mosquitto through a relay that swallows the PUBACK and then cuts the connection, as a
// network path dies: the broker never got it, so it delivers the message again, with DUP, on the reconnect.
TEST_F(AnMqttSource, GivesAMessageRedeliveredAfterALostPubackTheTimeOfItsFirstDeliverySoItIsStoredOnce) {
  test::TcpRelay relay(broker_->port());
  auto source = start(kTemperature, "carehub-lost-puback", 20, nullptr, relay.url());
  ASSERT_TRUE(source);
  ASSERT_TRUE(broker_->publish("home/bedroom/temperature", "21.5"));
  ASSERT_TRUE(sink_.wait_count(1));
  relay.swallow_upstream();
  sink_.resolve(0, HandSink::stored());
  ASSERT_TRUE(acknowledged(*source, 1));
  ASSERT_TRUE(eventually([&] { return relay.swallowed() >= 4; }));  // the PUBACK: 4 bytes, dropped
  relay.cut();
  ASSERT_TRUE(sink_.wait_count(2)) << broker_->log();
  EXPECT_EQ(counters_.get("mqtt_redelivered").load(), 1u) << "the broker resent it with DUP";
  const auto first = sink_.reading(0);
  const auto again = sink_.reading(1);
  EXPECT_EQ(again.time, first.time) << format_rfc3339(again.time) << " vs " << format_rfc3339(first.time);
  EXPECT_EQ(reading_uid(again), reading_uid(first)) << "the same reading: the pipeline reports a duplicate";
  sink_.resolve(1, duplicate());
  EXPECT_TRUE(acknowledged(*source, 2));
  source->stop();
}

// A store error on the first message drops the connection without acknowledging the second, though it was
// committed: the broker sends both again.
TEST_F(AnMqttSource, GivesMessagesRedeliveredBehindAFailedDeliveryTheTimeOfTheirFirstDelivery) {
  auto source = start(kTemperature, "carehub-behind-failure", 2);
  ASSERT_TRUE(source);
  ASSERT_TRUE(broker_->publish("home/kitchen/temperature", "21.5"));
  ASSERT_TRUE(broker_->publish("home/bedroom/temperature", "19.0"));
  ASSERT_TRUE(sink_.wait_count(2));
  sink_.resolve(1, HandSink::stored());                        // durable
  sink_.resolve(0, make_error(Errc::io, "database is locked"));  // not durable: nothing acknowledged
  ASSERT_TRUE(sink_.wait_count(4)) << broker_->log();
  EXPECT_EQ(counters_.get("mqtt_redelivered").load(), 2u);
  EXPECT_EQ(sink_.reading(2).values, sink_.reading(0).values);
  EXPECT_EQ(sink_.reading(3).values, sink_.reading(1).values);
  EXPECT_EQ(reading_uid(sink_.reading(3)), reading_uid(sink_.reading(1))) << "the committed one is a duplicate";
  EXPECT_EQ(sink_.reading(2).time, sink_.reading(0).time);
  sink_.resolve(2, HandSink::stored());
  sink_.resolve(3, duplicate());
  EXPECT_TRUE(acknowledged(*source, 2));
  source->stop();
}

// Two readings of the same value from the same sensor are two measurements, whether they arrive within one
// millisecond (a backlog drained after a reconnect) or a minute apart.
TEST_F(AnMqttSource, KeepsTwoGenuineIdenticalReadingsApartEvenWithinOneMillisecond) {
  auto source = start(kTemperature, "carehub-identical", 20, &manual_clock_);
  ASSERT_TRUE(source);
  ASSERT_TRUE(broker_->publish("home/bedroom/temperature", "21.5"));
  ASSERT_TRUE(broker_->publish("home/bedroom/temperature", "21.5"));  // the clock does not move
  ASSERT_TRUE(sink_.wait_count(2));
  manual_clock_.advance(1min);
  ASSERT_TRUE(broker_->publish("home/bedroom/temperature", "21.5"));
  ASSERT_TRUE(sink_.wait_count(3));
  std::set<std::string> uids;
  for (std::size_t i = 0; i < 3; ++i) uids.insert(reading_uid(sink_.reading(i)));
  EXPECT_EQ(uids.size(), 3u) << "three measurements, three readings";
  EXPECT_EQ(sink_.reading(2).time, kT0 + 1min);
  for (std::size_t i = 0; i < 3; ++i) sink_.resolve(i, HandSink::stored());
  EXPECT_TRUE(acknowledged(*source, 3));
  source->stop();
}

// openHAB's MQTT bridge publishes states retained; every (re)subscribe gets the retained one again. The same
// state is the same reading; a changed one is new.
TEST_F(AnMqttSource, GivesARetainedStateResentOnResubscribeTheTimeItWasFirstReceived) {
  const json subs = {{{"topic", "openhab/out/+/state"},
                      {"format", "openhab-state"},
                      {"items", {{{"name", "Kitchen_Humidity"}, {"kind", "room-humidity"}}}}}};
  auto source = start(subs, "carehub-retained");
  ASSERT_TRUE(source);
  ASSERT_TRUE(broker_->publish("openhab/out/Kitchen_Humidity/state", "48 %", /*retained=*/true));
  ASSERT_TRUE(sink_.wait_count(1));
  sink_.resolve(0, HandSink::stored());
  ASSERT_TRUE(acknowledged(*source, 1));
  source->stop();
  ASSERT_TRUE(source->start());
  ASSERT_TRUE(connected(*source));
  ASSERT_TRUE(sink_.wait_count(2)) << "the retained state, sent again on subscribe";
  EXPECT_EQ(sink_.reading(1).time, sink_.reading(0).time) << format_rfc3339(sink_.reading(1).time);
  EXPECT_EQ(reading_uid(sink_.reading(1)), reading_uid(sink_.reading(0)));
  sink_.resolve(1, duplicate());
  ASSERT_TRUE(broker_->publish("openhab/out/Kitchen_Humidity/state", "50 %", /*retained=*/true));
  ASSERT_TRUE(sink_.wait_count(3));
  EXPECT_NE(reading_uid(sink_.reading(2)), reading_uid(sink_.reading(0))) << "a new state is a new reading";
  sink_.resolve(2, HandSink::stored());
  source->stop();
}

// docs/technician-guide.md: measurement values appear only at debug level. The warning and last_error name
// the topic, the field and what was wrong.
TEST_F(AnMqttSource, ReportsBadInputAtWarningAndInStatusWithoutTheValuesWhichOnlyDebugShows) {
  const json subs = {
      {{"topic", "home/glucose"}, {"format", "number"}, {"kind", "glucose"}},
      {{"topic", "openhab/out/+/state"},
       {"format", "openhab-state"},
       {"items", {{{"name", "Kitchen_Humidity"}, {"kind", "room-humidity"}}}}},
      {{"topic", "home/readings"}, {"format", "reading-json"}}};
  auto source = start(subs, "carehub-quiet");
  ASSERT_TRUE(source);
  const std::vector<std::string> values{"3125", "812.4", "187", "5 MB/s"};
  std::vector<std::string> errors;
  const auto publish_bad = [&](const std::string& topic, const std::string& payload) {
    const auto before = counters_.get("mqtt_bad_messages").load();
    ASSERT_TRUE(broker_->publish(topic, payload));
    ASSERT_TRUE(eventually([&] { return counters_.get("mqtt_bad_messages").load() == before + 1; }));
    errors.push_back((*source).status()["last_error"].get<std::string>());
  };
  publish_bad("home/glucose", "3125");
  publish_bad("home/readings",
              R"({"kind":"body-weight","time":"2026-11-21T10:00:00Z","device":"scale-1","values":{"value":812.4}})");
  publish_bad("home/readings",
              R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device":"watch-1","values":{"value":"187"}})");
  publish_bad("openhab/out/Kitchen_Humidity/state", "5 MB/s");
  ASSERT_TRUE(acknowledged(*source, 4)) << "bad input is counted, then acknowledged";
  EXPECT_EQ(sink_.count(), 0u);

  ASSERT_EQ(errors.size(), 4u);
  EXPECT_THAT(errors[0], HasSubstr("home/glucose"));
  EXPECT_THAT(errors[0], HasSubstr("plausible range"));
  EXPECT_THAT(errors[1], HasSubstr("home/readings"));
  EXPECT_THAT(errors[1], HasSubstr("/values/value"));
  EXPECT_THAT(errors[1], HasSubstr("plausible range"));
  EXPECT_THAT(errors[2], HasSubstr("/values/value"));
  EXPECT_THAT(errors[2], HasSubstr("expected a number"));
  EXPECT_THAT(errors[3], HasSubstr("Kitchen_Humidity"));
  for (const auto& e : errors) {
    for (const auto& v : values) EXPECT_THAT(e, Not(HasSubstr(v))) << "last_error: " << e;
  }
  const auto loud = lines_at_least(LogLevel::info);
  for (const auto& line : loud) {
    for (const auto& v : values) EXPECT_THAT(line, Not(HasSubstr(v))) << "logged above debug: " << line;
  }
  EXPECT_THAT(all_lines(), HasSubstr("3125")) << "the detail is still there at debug level";
  source->stop();
}

// Any publisher on the broker could otherwise file a reading under another patient.
TEST_F(AnMqttSource, TakesAPatientFromReadingJsonOnlyOnASubscriptionThatAllowsIt) {
  const json subs = {{{"topic", "home/readings"}, {"format", "reading-json"}},
                     {{"topic", "clinic/readings"}, {"format", "reading-json"}, {"allow_patient", true}}};
  auto source = start(subs, "carehub-patient");
  ASSERT_TRUE(source);
  const std::string other =
      R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device":"watch-1","patient":"Patient/other","values":{"value":61}})";
  ASSERT_TRUE(broker_->publish("home/readings", other));
  ASSERT_TRUE(eventually([&] { return counters_.get("mqtt_bad_messages").load() == 1; }));
  ASSERT_TRUE(acknowledged(*source, 1)) << "refused input is acknowledged, or it would come back forever";
  EXPECT_EQ(sink_.count(), 0u) << "never stored, under any patient";
  const auto error = source->status()["last_error"].get<std::string>();
  EXPECT_THAT(error, HasSubstr("home/readings"));
  EXPECT_THAT(error, HasSubstr("/patient"));
  EXPECT_THAT(error, HasSubstr("allow_patient"));
  EXPECT_THAT(error, Not(HasSubstr("Patient/other")));
  for (const auto& line : lines_at_least(LogLevel::info)) EXPECT_THAT(line, Not(HasSubstr("Patient/other")));

  ASSERT_TRUE(broker_->publish("clinic/readings", other));
  ASSERT_TRUE(sink_.wait_count(1));
  EXPECT_EQ(sink_.reading(0).patient, "Patient/other");
  sink_.resolve(0, HandSink::stored());
  ASSERT_TRUE(broker_->publish("home/readings", R"({"kind":"heart-rate","time":"2026-11-21T10:01:00Z","device":"watch-1","values":{"value":62}})"));
  ASSERT_TRUE(sink_.wait_count(2));
  EXPECT_EQ(sink_.reading(1).patient, "") << "attributed by the device registry, as always";
  sink_.resolve(1, HandSink::stored());
  EXPECT_TRUE(acknowledged(*source, 3));
  source->stop();
}

}  // namespace
}  // namespace carehub::mqtt
