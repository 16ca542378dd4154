#include "daemon/mqtt_alerts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "rules/alert_json.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

using ::testing::HasSubstr;

TEST(AckAlertId, TakesTheBareIdOrTheIdMember) {
  EXPECT_EQ(ack_alert_id("alert-1").value(), "alert-1");
  EXPECT_EQ(ack_alert_id("alert-1 \n").value(), "alert-1");
  EXPECT_EQ(ack_alert_id(R"({"id":"alert-2"})").value(), "alert-2");
  EXPECT_EQ(ack_alert_id(R"(  {"id":"alert-3","by":"display"})").value(), "alert-3");
}

// Issue 12: the display is a peer; its JSON goes through the one safe parse and what does not parse is
// refused, not taken for an id (and quoted into logs).
TEST(AckAlertId, RefusesHostileJsonWithoutTakingItForAnId) {
  EXPECT_THAT(ack_alert_id(R"({"id":"a","n":1e999})").error().message,
              HasSubstr("ack: a number beyond the range of a double"));
  EXPECT_THAT(ack_alert_id(R"({"id":"a","x":)" + std::string(1000, '[') + std::string(1000, ']') + "}").error().message,
              HasSubstr("ack: nesting deeper than 8"));
  EXPECT_THAT(ack_alert_id(R"({"id":)").error().message, HasSubstr("ack is not valid JSON"));
  EXPECT_THAT(ack_alert_id(R"({"id":5})").error().message, HasSubstr("expected {\"id\""));
  EXPECT_THAT(ack_alert_id(std::string(kMaxAckBytes + 1, 'a')).error().message, HasSubstr("more than the limit of 4096"));
}

// Issue 15: Paho calls on_message on the thread that also reads the broker's PUBACKs. An acknowledgement
// waiting there for its commit (behind a batch, an fsync, the uploader's outcomes) held up every alert
// publish waiting for its PUBACK: alert latency depended on the pipeline's load. Acknowledgements now
// wait on a thread of their own; alerts are published while one is still being made durable.
class PublisherWithABroker : public ::testing::Test {
 protected:
  PublisherWithABroker() {
    std::filesystem::create_directories(dir_.path() / "mqtt");
    broker_ = std::make_unique<test::MosquittoPeer>((dir_.path() / "mqtt").string());
  }
  std::unique_ptr<MqttAlertPublisher> make(MqttAlertPublisher::Acknowledge ack) {
    auto config = parse_mqtt_alerts(nlohmann::json{{"broker", broker_->url()}}, "/alerts/mqtt", "hub-t");
    EXPECT_TRUE(config) << config.error().message;
    auto p = MqttAlertPublisher::create(*config, {}, std::move(ack), clock_, log_, counters_);
    EXPECT_TRUE(p) << p.error().message;
    return std::move(*p);
  }
  // The publisher's retained "online" is out and the acknowledgements' subscription is in place: what
  // the display publishes from now on reaches us.
  static bool connected(MqttAlertPublisher& p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto s = p.status();
      if (s["state"] == "connected" && s["acks"]["state"] == "connected") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::uint64_t counter(const std::string& name) {
    for (const auto& [k, v] : counters_.snapshot()) {
      if (k == name) return v;
    }
    return 0;
  }
  static AlertEvent event(const std::string& id) {
    Alert a;
    a.id = id;
    a.rule = "HF5";
    a.patient = "Patient/p";
    a.event = "alert";
    a.severity = Severity::red;
    a.state = AlertState::open;
    a.requires_ack = true;
    a.text = "t";
    return {"raised", TimePoint{}, a};
  }

  test::TempDir dir_;
  std::unique_ptr<test::MosquittoPeer> broker_;
  SystemClock clock_;
  Logger log_{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters_;
  const std::string prefix_ = "carehub/hub-t/alerts";
};

TEST_F(PublisherWithABroker, PublishesAlertsWhileAnAcknowledgementIsStillBeingMadeDurable) {
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  auto publisher = make([&](const std::string& id, const std::string&) -> Result<Alert> {
    entered.set_value();
    released.wait();  // the commit this acknowledgement waits for
    Alert a = event(id).alert;
    a.state = AlertState::acknowledged;
    return a;
  });
  // Declared after the publisher, so whatever fails below lets the acknowledgement go before the publisher
  // stops (its stop waits for it).
  struct Release {
    std::promise<void>& release;
    ~Release() { release.set_value(); }
  } let_go{release};
  publisher->start();
  ASSERT_TRUE(connected(*publisher));
  ASSERT_TRUE(broker_->publish(prefix_ + "/ack", "al-first"));
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);

  publisher->publish(event("al-second"));
  // Both messages of the new alert (its own topic and the open list) are confirmed by the broker while the
  // acknowledgement is still held.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (counter("alerts_mqtt_published") < 2 && counter("alerts_mqtt_deferred") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(counter("alerts_mqtt_deferred"), 0u);
  EXPECT_GE(counter("alerts_mqtt_published"), 2u);
  EXPECT_THAT(broker_->first_message(prefix_ + "/open"), HasSubstr("al-second"));
}

// The open list is built from each alert's cached JSON (issue 15: rebuilding every alert's JSON per event
// was O(open alerts) per alert); it must stay exactly the JSON array of the alerts' latest states.
TEST_F(PublisherWithABroker, TheOpenListIsTheLatestStateOfEveryShownAlertNewestFirst) {
  auto publisher = make([](const std::string& id, const std::string&) -> Result<Alert> { return event(id).alert; });
  publisher->start();
  ASSERT_THAT(broker_->first_message(prefix_ + "/hub"), HasSubstr("online"));
  auto first = event("al-1"), second = event("al-2");
  publisher->publish(first);
  publisher->publish(second);
  // A change after the first was sent (and its JSON cached) must replace it in the list.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (counter("alerts_mqtt_published") < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  first.alert.state = AlertState::acknowledged;
  publisher->publish(first);
  const auto expected =
      nlohmann::json::array({rules::alert_to_json(second.alert), rules::alert_to_json(first.alert)}).dump();
  std::string open;
  while (open != expected && std::chrono::steady_clock::now() < deadline) open = broker_->first_message(prefix_ + "/open");
  EXPECT_EQ(open, expected);
  EXPECT_EQ(broker_->first_message(prefix_ + "/al-1"), rules::alert_to_json(first.alert).dump());
  publisher->stop();
}

// An acknowledgement is acknowledged to the broker only once it is durable: one the store could not keep
// (here a failing commit) is delivered again, where Paho's acknowledgement on receipt lost it.
TEST_F(PublisherWithABroker, AnAcknowledgementThatWasNotMadeDurableIsDeliveredAgain) {
  std::mutex mu;
  std::vector<std::string> tried;
  std::promise<void> stored;
  auto publisher = make([&](const std::string& id, const std::string&) -> Result<Alert> {
    std::lock_guard lock(mu);
    tried.push_back(id);
    if (tried.size() == 1) return make_error(Errc::io, "disk I/O error");
    if (tried.size() == 2) stored.set_value();
    Alert a = event(id).alert;
    a.state = AlertState::acknowledged;
    return a;
  });
  publisher->start();
  ASSERT_TRUE(connected(*publisher));
  ASSERT_TRUE(broker_->publish(prefix_ + "/ack", "al-1"));
  ASSERT_EQ(stored.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "the broker never delivered the acknowledgement again";
  publisher->stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(tried, (std::vector<std::string>{"al-1", "al-1"}));
  EXPECT_EQ(counter("alerts_mqtt_ack_errors"), 1u);
}

// A refusal (an unknown or closed alert) is bad input, not a failure: counted and acknowledged, on the same
// connection (a failure would have dropped it for a redelivery).
TEST_F(PublisherWithABroker, ARefusedAcknowledgementIsCountedAndAcknowledged) {
  std::mutex mu;
  std::vector<std::string> tried;
  std::promise<void> both;
  auto publisher = make([&](const std::string& id, const std::string&) -> Result<Alert> {
    std::lock_guard lock(mu);
    tried.push_back(id);
    if (tried.size() == 2) both.set_value();
    return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  });
  publisher->start();
  ASSERT_TRUE(connected(*publisher));
  ASSERT_TRUE(broker_->publish(prefix_ + "/ack", "al-unknown"));
  ASSERT_TRUE(broker_->publish(prefix_ + "/ack", "al-other"));
  ASSERT_EQ(both.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  publisher->stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(tried, (std::vector<std::string>{"al-unknown", "al-other"}));
  EXPECT_EQ(counter("alerts_mqtt_bad_acks"), 2u);
  EXPECT_EQ(counter("alerts_mqtt_ack_errors"), 0u);
}

}  // namespace
}  // namespace carehub::daemon
