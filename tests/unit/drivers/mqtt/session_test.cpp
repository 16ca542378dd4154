// carehub's MQTT subscriber and the mqtt source against a real mosquitto (Debian's, started by each test on
// a free loopback port). The heart of it: a QoS 1 message is acknowledged only once its reading is durable.
// The proof does not look inside the broker: a message whose Delivery never completed comes back, with DUP,
// to the next connection of the same session; one that completed does not (a later message arrives first).
#include "drivers/mqtt/session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "drivers/mqtt/source.hpp"
#include "tests/unit/drivers/mqtt/hand_sink.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::mqtt {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test::HandSink;
using test::MosquittoPeer;
using test::TempDir;

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

// The owner side of a Subscriber: records every message and answers each with a Delivery the test completes
// by hand (manual) or that completes at once with `decide`'s verdict.
class Inbox {
 public:
  bool manual = false;
  std::function<Result<void>(const Message&, std::size_t index)> decide;

  Delivery handle(const Message& m) {
    auto promise = std::make_shared<std::promise<Result<void>>>();
    auto future = std::make_shared<std::shared_future<Result<void>>>(promise->get_future().share());
    std::size_t index = 0;
    {
      std::lock_guard lock(mu_);
      index = messages_.size();
      messages_.push_back(m);
      promises_.push_back(promise);
    }
    cv_.notify_all();
    if (!manual) promise->set_value(decide ? decide(m, index) : Result<void>{});
    return Delivery{[future](std::chrono::milliseconds d) { return future->wait_for(d) == std::future_status::ready; },
                    [future] { return future->get(); }};
  }
  bool wait_count(std::size_t n, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return messages_.size();
  }
  Message at(std::size_t i) {
    std::lock_guard lock(mu_);
    return messages_.at(i);
  }
  void complete(std::size_t i, Result<void> r = {}) {
    std::shared_ptr<std::promise<Result<void>>> p;
    {
      std::lock_guard lock(mu_);
      p = promises_.at(i);
    }
    p->set_value(std::move(r));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
  std::vector<std::shared_ptr<std::promise<Result<void>>>> promises_;
};

class ASubscriber : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }  // as carehubd does

  MosquittoPeer& broker(test::MosquittoOptions options = {}) {
    std::filesystem::create_directories(dir_.file("broker"));
    broker_ = std::make_unique<MosquittoPeer>(dir_.file("broker"), std::move(options));
    return *broker_;
  }

  SubscriberSettings settings(const std::string& url, const std::string& client_id, int qos = 1) {
    SubscriberSettings s;
    s.connection.broker = url;
    s.connection.client_id = client_id;
    s.connection.keepalive = 5s;
    s.connection.connect_timeout = 5s;
    s.connection.operation_timeout = 5s;
    s.connection.backoff = {10ms, 100ms};
    s.topics = {{"t/#", qos}};
    return s;
  }

  std::unique_ptr<Subscriber> start(SubscriberSettings s, Inbox& inbox, const Clock& clock) {
    auto made = Subscriber::create(std::move(s), clock, log_, "mqtt-test");
    EXPECT_TRUE(made) << made.error().message;
    if (!made) return nullptr;
    (*made)->on_message([&inbox](const Message& m) { return inbox.handle(m); });
    (*made)->start();
    return std::move(*made);
  }

  static bool connected(const Subscriber& s) { return s.status().state == "connected"; }

  TempDir dir_;
  std::unique_ptr<MosquittoPeer> broker_;
  SystemClock clock_;
  std::mutex log_mu_;
  std::vector<std::string> log_lines_;
  Logger log_{LogLevel::debug, [this](LogLevel, std::string_view, std::string_view m) {
                std::lock_guard lock(log_mu_);
                log_lines_.emplace_back(m);
              }};
  bool logged(std::string_view text) { return times_logged(text) > 0; }
  std::size_t times_logged(std::string_view text) {
    std::lock_guard lock(log_mu_);
    std::size_t n = 0;
    for (const auto& l : log_lines_) {
      if (l.find(text) != std::string::npos) ++n;
    }
    return n;
  }
};

// The payloads of inbox messages [from, to), and whether each came with DUP.
std::vector<std::pair<std::string, bool>> received(Inbox& inbox, std::size_t from, std::size_t to) {
  std::vector<std::pair<std::string, bool>> out;
  for (std::size_t i = from; i < to; ++i) out.emplace_back(inbox.at(i).payload, inbox.at(i).duplicate);
  return out;
}

constexpr std::string_view kHolding = "event=holding-next-message inflight=";

TEST_F(ASubscriber, AcknowledgesAQos1MessageOnlyOnceItsDeliveryIsDurable) {
  auto& b = broker();
  Inbox inbox;
  inbox.manual = true;
  {
    auto sub = start(settings(b.url(), "carehub-ack"), inbox, clock_);
    ASSERT_TRUE(eventually([&] { return connected(*sub); }));
    ASSERT_TRUE(b.publish("t/a", "first"));
    ASSERT_TRUE(inbox.wait_count(1));
    EXPECT_EQ(inbox.at(0).payload, "first");
    EXPECT_FALSE(inbox.at(0).duplicate);
    // The reading is not committed yet when the hub goes away: nothing may have acknowledged it.
    sub->stop();
    EXPECT_EQ(sub->acknowledged(), 0u);
  }
  {
    // The same session again: the broker never saw a PUBACK, so it sends the message again, marked DUP.
    auto sub = start(settings(b.url(), "carehub-ack"), inbox, clock_);
    ASSERT_TRUE(inbox.wait_count(2)) << b.log();
    EXPECT_EQ(inbox.at(1).payload, "first");
    EXPECT_TRUE(inbox.at(1).duplicate);
    EXPECT_EQ(sub->acknowledged(), 0u) << "not before the delivery completes";
    inbox.complete(1);
    ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 1; }));
    sub->stop();
  }
  // Published while no one is connected: queued in the session. Had "first" not been acknowledged, the
  // broker would resend it before this one.
  ASSERT_TRUE(b.publish("t/a", "second"));
  {
    auto sub = start(settings(b.url(), "carehub-ack"), inbox, clock_);
    ASSERT_TRUE(inbox.wait_count(3)) << b.log();
    EXPECT_EQ(inbox.at(2).payload, "second");
    EXPECT_FALSE(inbox.at(2).duplicate);
    inbox.complete(2);
    ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 1; }));
  }
  EXPECT_EQ(inbox.count(), 3u);
}

TEST_F(ASubscriber, DropsTheConnectionWhenADeliveryFailsSoThatTheBrokerRedeliversIt) {
  auto& b = broker();
  Inbox inbox;
  inbox.decide = [](const Message&, std::size_t index) -> Result<void> {
    if (index == 0) return make_error(Errc::io, "disk I/O error");
    return {};
  };
  auto sub = start(settings(b.url(), "carehub-fail"), inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*sub); }));
  ASSERT_TRUE(b.publish("t/a", "m"));
  ASSERT_TRUE(inbox.wait_count(2)) << b.log();
  EXPECT_EQ(inbox.at(1).payload, "m");
  EXPECT_TRUE(inbox.at(1).duplicate);
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 1 && connected(*sub); }));
  EXPECT_EQ(sub->status().connects, 2u);
  EXPECT_TRUE(logged("is not durable (disk I/O error): not acknowledged"));
  // Acknowledged the second time: the next message is the next one, not a third copy.
  ASSERT_TRUE(b.publish("t/a", "n"));
  ASSERT_TRUE(inbox.wait_count(3));
  EXPECT_EQ(inbox.at(2).payload, "n");
}

// Pipelining: every message is handed over before any is durable, the owner finishes them out of order, and
// the acknowledgements go out in receive order, each only once its own message and all older ones are durable.
TEST_F(ASubscriber, KeepsSeveralDeliveriesInFlightAndAcknowledgesInReceiveOrderOnlyWhatIsDurable) {
  auto& b = broker();
  Inbox inbox;
  inbox.manual = true;
  {
    auto sub = start(settings(b.url(), "carehub-inflight"), inbox, clock_);
    ASSERT_TRUE(eventually([&] { return connected(*sub); }));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.publish("t/a", "m" + std::to_string(i)));
    // All five are with the owner although none is durable: the old subscriber would stop at one.
    ASSERT_TRUE(inbox.wait_count(5)) << b.log();
    EXPECT_EQ(received(inbox, 0, 5), (std::vector<std::pair<std::string, bool>>{
                                         {"m0", false}, {"m1", false}, {"m2", false}, {"m3", false}, {"m4", false}}));
    // Done out of order: m3, m1, then m0. m2 never: m0 and m1 may be acknowledged, m3 may not (m2 is older).
    inbox.complete(3);
    inbox.complete(1);
    inbox.complete(0);
    ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 2; }));
    sub->stop();
    EXPECT_EQ(sub->acknowledged(), 2u);
  }
  // The same session again: the broker resends exactly what was never acknowledged, oldest first, with DUP:
  // m2 (not durable), m3 (durable but younger than m2, so it was held back) and m4; m0 and m1 not.
  ASSERT_TRUE(b.publish("t/a", "m5"));  // queued behind the resent ones: once it is here, nothing else comes
  auto sub = start(settings(b.url(), "carehub-inflight"), inbox, clock_);
  ASSERT_TRUE(inbox.wait_count(9)) << b.log();
  EXPECT_EQ(received(inbox, 5, 9),
            (std::vector<std::pair<std::string, bool>>{{"m2", true}, {"m3", true}, {"m4", true}, {"m5", false}}));
  for (std::size_t i = 5; i < 9; ++i) inbox.complete(i);
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 4; }));
  EXPECT_EQ(inbox.count(), 9u);
}

// A failure in the middle: the older messages, durable, are acknowledged; the failed one and every younger
// one (durable or not) are not, and come back after the reconnect the failure causes.
TEST_F(ASubscriber, OnAFailedDeliveryInTheMiddleAcknowledgesTheOlderOnesAndGetsItAndTheYoungerOnesBack) {
  auto& b = broker();
  Inbox inbox;
  inbox.manual = true;
  auto sub = start(settings(b.url(), "carehub-middle"), inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*sub); }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.publish("t/a", "m" + std::to_string(i)));
  ASSERT_TRUE(inbox.wait_count(5)) << b.log();
  inbox.complete(4);
  inbox.complete(3);
  inbox.complete(2, make_error(Errc::io, "disk I/O error"));
  inbox.complete(1);
  inbox.complete(0);
  // The failure ends the connection; the broker resends m2..m4 to the next one, in order, with DUP.
  ASSERT_TRUE(inbox.wait_count(8)) << b.log();
  EXPECT_EQ(received(inbox, 5, 8),
            (std::vector<std::pair<std::string, bool>>{{"m2", true}, {"m3", true}, {"m4", true}}));
  EXPECT_EQ(sub->acknowledged(), 2u) << "m0 and m1, acknowledged before the connection was dropped";
  EXPECT_TRUE(logged("is not durable (disk I/O error): not acknowledged (nor the 2 received after it)"));
  for (std::size_t i = 5; i < 8; ++i) inbox.complete(i);
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 5 && connected(*sub); }));
  EXPECT_EQ(sub->status().connects, 2u);
  ASSERT_TRUE(b.publish("t/a", "m5"));  // the next message is the next one: no copy of m0..m4 before it
  ASSERT_TRUE(inbox.wait_count(9));
  EXPECT_EQ(inbox.at(8).payload, "m5");
  inbox.complete(8);
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 6; }));
}

// With an owner that never finishes, exactly max_inflight messages are handed over; the next one is read and
// held (the log says so), and the rest waits at the broker. Each completion lets exactly one more through.
TEST_F(ASubscriber, HandsOverAtMostMaxInflightMessagesAndHoldsTheNextUntilTheOldestIsDone) {
  auto& b = broker();
  Inbox inbox;
  inbox.manual = true;
  auto s = settings(b.url(), "carehub-bound");
  s.max_inflight = 3;
  auto sub = start(s, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*sub); }));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(b.publish("t/a", "m" + std::to_string(i)));
  // Holding is logged once m3 has been read: from then on nothing is handed over before a completion.
  ASSERT_TRUE(eventually([&] { return times_logged(kHolding) == 1; })) << b.log();
  EXPECT_EQ(inbox.count(), 3u);
  inbox.complete(0);
  // m3 goes to the owner, then m4 is read and held.
  ASSERT_TRUE(eventually([&] { return times_logged(kHolding) == 2; }));
  EXPECT_EQ(inbox.count(), 4u);
  EXPECT_EQ(inbox.at(3).payload, "m3");
  EXPECT_EQ(sub->acknowledged(), 1u);
  for (std::size_t i = 1; i < 4; ++i) inbox.complete(i);
  ASSERT_TRUE(inbox.wait_count(6));
  EXPECT_EQ(received(inbox, 0, 6), (std::vector<std::pair<std::string, bool>>{
                                       {"m0", false}, {"m1", false}, {"m2", false}, {"m3", false}, {"m4", false},
                                       {"m5", false}}));
  inbox.complete(4);
  inbox.complete(5);
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 6; }));
  EXPECT_EQ(sub->status().connects, 1u);
  EXPECT_FALSE(Subscriber::create([&] {
                 auto zero = settings(b.url(), "carehub-zero");
                 zero.max_inflight = 0;
                 return zero;
               }(),
                                  clock_, log_, "t"));
}

// A slow commit no longer blinds the subscriber: with a Delivery outstanding it still reads the socket, so
// a broker that stopped answering is declared dead on time (injected clock), and the message comes back.
TEST_F(ASubscriber, NoticesADeadBrokerWhileADeliveryIsOutstanding) {
  auto& b = broker();
  ManualClock clock(kT0);
  Inbox inbox;
  inbox.manual = true;
  auto s = settings(b.url(), "carehub-slow-commit");
  s.connection.keepalive = 2s;
  auto sub = start(s, inbox, clock);
  ASSERT_TRUE(eventually([&] { return connected(*sub); }));
  ASSERT_TRUE(b.publish("t/a", "slow"));
  ASSERT_TRUE(inbox.wait_count(1));
  b.pause();
  int steps = 0;
  for (; steps < 40 && connected(*sub); ++steps) {
    clock.advance(500ms);
    (void)eventually([&] { return !connected(*sub); }, 300ms);
  }
  ASSERT_FALSE(connected(*sub)) << "the pending delivery must not stop the keepalive";
  EXPECT_GE(steps, 8) << "not before keepalive + the PINGRESP wait (4 s) on the injected clock";
  EXPECT_THAT(sub->status().last_error, HasSubstr("no answer to PINGREQ"));
  inbox.complete(0);  // durable now, but its connection is gone: it must not be acknowledged on another one
  b.resume();
  for (int i = 0; i < 40 && inbox.count() < 2; ++i) {
    clock.advance(100ms);
    (void)inbox.wait_count(2, 300ms);
  }
  ASSERT_EQ(inbox.count(), 2u) << sub->status().last_error;
  EXPECT_EQ(inbox.at(1).payload, "slow");
  EXPECT_TRUE(inbox.at(1).duplicate);
  EXPECT_EQ(sub->acknowledged(), 0u);
  inbox.complete(1);
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 1; }));
}

TEST_F(ASubscriber, TakesQos2ExactlyOnceAcknowledgingWithPubrecAfterTheDeliveryAndCompletingOnPubrel) {
  auto& b = broker();
  Inbox inbox;
  {
    auto sub = start(settings(b.url(), "carehub-qos2", 2), inbox, clock_);
    ASSERT_TRUE(eventually([&] { return connected(*sub); }));
    ASSERT_TRUE(b.publish("t/a", "one", false, 2));
    ASSERT_TRUE(b.publish("t/a", "two", false, 2));
    ASSERT_TRUE(inbox.wait_count(2));
    ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 2; }));
    EXPECT_EQ(inbox.at(0).qos, 2);
  }
  ASSERT_TRUE(b.publish("t/a", "three", false, 2));
  auto sub = start(settings(b.url(), "carehub-qos2", 2), inbox, clock_);
  ASSERT_TRUE(inbox.wait_count(3));
  EXPECT_EQ(inbox.at(2).payload, "three");
  EXPECT_FALSE(inbox.at(2).duplicate);
  EXPECT_EQ(inbox.at(1).payload, "two");
}

TEST_F(ASubscriber, DeclaresASilentBrokerDeadAfterTheKeepaliveOnTheInjectedClockAndReconnects) {
  auto& b = broker();
  ManualClock clock(kT0);
  Inbox inbox;
  auto s = settings(b.url(), "carehub-keepalive");
  s.connection.keepalive = 2s;
  auto sub = start(s, inbox, clock);
  ASSERT_TRUE(eventually([&] { return connected(*sub); }));
  b.pause();  // the TCP connection stays open; nothing is answered
  // Half a second of the injected clock at a time: a PINGREQ after 2 s of silence, dead 2 s after it.
  int steps = 0;
  for (; steps < 40 && connected(*sub); ++steps) {
    clock.advance(500ms);
    (void)eventually([&] { return !connected(*sub); }, 300ms);
  }
  ASSERT_FALSE(connected(*sub));
  EXPECT_GE(steps, 8) << "not before keepalive + the PINGRESP wait (4 s) on the injected clock";
  EXPECT_THAT(sub->status().last_error, HasSubstr("no answer to PINGREQ"));
  b.resume();
  // The reconnect waits out its backoff on the injected clock too.
  for (int i = 0; i < 40 && !connected(*sub); ++i) {
    clock.advance(100ms);
    (void)eventually([&] { return connected(*sub); }, 300ms);
  }
  ASSERT_TRUE(connected(*sub)) << sub->status().last_error;
  EXPECT_EQ(sub->status().connects, 2u);
  ASSERT_TRUE(b.publish("t/a", "after"));
  ASSERT_TRUE(inbox.wait_count(1));
  EXPECT_EQ(inbox.at(0).payload, "after");
}

TEST_F(ASubscriber, StopsAtOnceWhileWaitingForTheConnackOfASilentBroker) {
  auto& b = broker();
  b.pause();
  Inbox inbox;
  auto s = settings(b.url(), "carehub-stop");
  s.connection.connect_timeout = 60s;
  auto sub = start(s, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return logged("event=connecting broker=" + b.url()); }));
  const auto before = std::chrono::steady_clock::now();
  sub->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_EQ(sub->status().state, "stopped");
  b.resume();
}

TEST_F(ASubscriber, LogsInWithUserNameAndPasswordAndReportsARefusal) {
  auto& b = broker({"carehub", "s3cret"});
  Inbox inbox;
  auto wrong = settings(b.url(), "carehub-auth");
  wrong.connection.username = "carehub";
  wrong.connection.password = "wrong";
  auto refused = start(wrong, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return refused->status().last_error.find("refused the connection") != std::string::npos; }))
      << refused->status().last_error;
  refused->stop();
  auto right = wrong;
  right.connection.password = "s3cret";
  auto sub = start(right, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*sub); })) << sub->status().last_error;
  ASSERT_TRUE(b.publish("t/x", "hello"));
  ASSERT_TRUE(inbox.wait_count(1));
  EXPECT_EQ(inbox.at(0).topic, "t/x");
}

TEST_F(ASubscriber, SpeaksTlsVerifyingTheChainAndTheHostNameUnlessTurnedOff) {
  auto& b = broker({"", "", true});
  Inbox inbox;
  auto good = settings(b.tls_url(), "carehub-tls");
  good.connection.ca_file = b.ca_file();
  auto sub = start(good, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*sub); })) << sub->status().last_error;
  EXPECT_TRUE(sub->settings().connection.tls);
  ASSERT_TRUE(b.publish("t/tls", "secure"));
  ASSERT_TRUE(inbox.wait_count(1));
  EXPECT_EQ(inbox.at(0).payload, "secure");
  sub->stop();

  // The system store does not know the test CA.
  auto unknown_ca = settings(b.tls_url(), "carehub-tls-2");
  auto untrusted = start(unknown_ca, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return !untrusted->status().last_error.empty(); }));
  EXPECT_THAT(untrusted->status().last_error, HasSubstr("certificate verification failed"));
  untrusted->stop();

  // The certificate names localhost, not 127.0.0.1.
  auto by_ip = settings("ssl://127.0.0.1:" + std::to_string(b.tls_port()), "carehub-tls-3");
  by_ip.connection.ca_file = b.ca_file();
  auto mismatch = start(by_ip, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return !mismatch->status().last_error.empty(); }));
  EXPECT_THAT(mismatch->status().last_error, HasSubstr("certificate verification failed"));
  EXPECT_THAT(mismatch->status().last_error, HasSubstr("mismatch"));
  mismatch->stop();

  auto unverified = by_ip;
  unverified.connection.ca_file.clear();
  unverified.connection.verify_tls = false;
  auto off = start(unverified, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*off); })) << off->status().last_error;
}

TEST_F(ASubscriber, SkipsAnOversizePayloadUnreadButStillAcknowledgesIt) {
  auto& b = broker();
  Inbox inbox;
  auto s = settings(b.url(), "carehub-big");
  s.max_payload_bytes = 8;
  auto sub = start(s, inbox, clock_);
  ASSERT_TRUE(eventually([&] { return connected(*sub); }));
  ASSERT_TRUE(b.publish("t/big", std::string(100, 'x')));
  ASSERT_TRUE(b.publish("t/small", "ok"));
  ASSERT_TRUE(inbox.wait_count(2));
  EXPECT_EQ(inbox.at(0).payload, "");
  EXPECT_EQ(inbox.at(0).dropped_payload_bytes, 100u);
  EXPECT_EQ(inbox.at(1).payload, "ok");
  ASSERT_TRUE(eventually([&] { return sub->acknowledged() == 2; }));
}

TEST_F(ASubscriber, RefusesSettingsItCannotSend) {
  SubscriberSettings s;
  s.connection.broker = "http://x";
  s.topics = {{"t", 1}};
  EXPECT_FALSE(Subscriber::create(s, clock_, log_, "t"));
  s.connection.broker = "tcp://127.0.0.1:1";
  s.connection.client_id = "";
  EXPECT_THAT(Subscriber::create(s, clock_, log_, "t").error().message, HasSubstr("clean_session"));
  s.connection.client_id = "c";
  s.topics = {{"t", 3}};
  EXPECT_THAT(Subscriber::create(s, clock_, log_, "t").error().message, HasSubstr("SUBSCRIBE: requested QoS"));
  s.topics.clear();
  EXPECT_FALSE(Subscriber::create(s, clock_, log_, "t"));
}

// ------------------------------------------------------------------------------------ the mqtt source

std::string heart_rate(int bpm) {
  return R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device":"watch-1","values":{"value":)" +
         std::to_string(bpm) + "}}";
}

TEST_F(ASubscriber, UnderTheMqttSourceAcknowledgesOnlyWhatTheSinkMadeDurableAndCountedBadInput) {
  auto& b = broker();
  HandSink sink;
  Counters counters;
  SourceContext context{sink, clock_, log_, counters, "hub-test", "patient-1"};
  const nlohmann::json config{{"broker", b.url()},
                              {"client_id", "carehub-source"},
                              {"retry_base_ms", 10},
                              {"retry_cap_ms", 100},
                              {"subscriptions", {{{"topic", "home/readings"}, {"format", "reading-json"}}}}};
  const auto acknowledged = [](const std::unique_ptr<Source>& s) { return s->status()["acknowledged"].get<int>(); };
  const auto source_connected = [](const std::unique_ptr<Source>& s) { return s->status()["state"] == "connected"; };
  {
    auto source = make_mqtt_source(config, "/sources/mqtt", context);
    ASSERT_TRUE(source) << source.error().message;
    ASSERT_TRUE((*source)->start());
    ASSERT_TRUE(eventually([&] { return source_connected(*source); })) << (*source)->status().dump();
    ASSERT_TRUE(b.publish("home/readings", heart_rate(61)));
    ASSERT_TRUE(sink.wait_count(1));
    (*source)->stop();  // carehubd goes away before the commit
  }
  auto source = make_mqtt_source(config, "/sources/mqtt", context);
  ASSERT_TRUE(source);
  ASSERT_TRUE((*source)->start());
  ASSERT_TRUE(sink.wait_count(2)) << b.log();
  EXPECT_EQ(sink.reading(1).values, sink.reading(0).values);
  EXPECT_EQ(counters.get("mqtt_redelivered").load(), 1u);
  EXPECT_EQ(acknowledged(*source), 0);
  sink.resolve(1, HandSink::stored());
  ASSERT_TRUE(eventually([&] { return acknowledged(*source) == 1; }));
  EXPECT_EQ((*source)->status()["readings"], 1);

  // Bad input never reaches the sink: it is counted, then acknowledged.
  ASSERT_TRUE(b.publish("home/readings", "{not json"));
  ASSERT_TRUE(eventually([&] { return acknowledged(*source) == 2; }));
  EXPECT_EQ(counters.get("mqtt_bad_messages").load(), 1u);

  // A store error is not acknowledged: the source reconnects and the broker redelivers.
  ASSERT_TRUE(b.publish("home/readings", heart_rate(62)));
  ASSERT_TRUE(sink.wait_count(3));
  sink.resolve(2, make_error(Errc::io, "database is locked"));
  ASSERT_TRUE(sink.wait_count(4)) << b.log();
  EXPECT_EQ(counters.get("mqtt_ingest_errors").load(), 1u);
  EXPECT_EQ(counters.get("mqtt_redelivered").load(), 2u);
  // Refused by the pipeline (bad input it found): counted and acknowledged.
  sink.resolve(3, IngestResult{{""}, {IngestStatus::rejected}, {"implausible"}});
  ASSERT_TRUE(eventually([&] { return acknowledged(*source) == 3; }));
  EXPECT_EQ(counters.get("mqtt_rejected").load(), 1u);
  EXPECT_EQ(sink.count(), 4u);
}

// max_inflight from /sources/mqtt reaches the subscriber: a sink that has not committed anything yet gets
// exactly that many readings; bad values are refused with their JSON path.
TEST_F(ASubscriber, UnderTheMqttSourceHandsTheSinkAtMostMaxInflightReadingsFromItsConfiguration) {
  for (const int bad : {0, 1001}) {
    auto refused = parse_source_config(
        {{"broker", "tcp://127.0.0.1:1883"},
         {"max_inflight", bad},
         {"subscriptions", {{{"topic", "home/readings"}, {"format", "reading-json"}}}}},
        "/sources/mqtt", "hub-test");
    ASSERT_FALSE(refused) << bad;
    EXPECT_THAT(refused.error().message, HasSubstr("/sources/mqtt/max_inflight")) << refused.error().message;
  }
  auto& b = broker();
  HandSink sink;
  Counters counters;
  SourceContext context{sink, clock_, log_, counters, "hub-test", "patient-1"};
  const nlohmann::json config{{"broker", b.url()},
                              {"client_id", "carehub-source-inflight"},
                              {"max_inflight", 2},
                              {"subscriptions", {{{"topic", "home/readings"}, {"format", "reading-json"}}}}};
  ASSERT_EQ(parse_source_config(config, "/sources/mqtt", "hub-test")->max_inflight, 2u);
  auto source = make_mqtt_source(config, "/sources/mqtt", context);
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->start());
  ASSERT_TRUE(eventually([&] { return (*source)->status()["state"] == "connected"; }));
  for (int bpm = 61; bpm < 64; ++bpm) ASSERT_TRUE(b.publish("home/readings", heart_rate(bpm)));
  ASSERT_TRUE(eventually([&] { return times_logged(kHolding) == 1; })) << b.log();
  EXPECT_EQ(sink.count(), 2u);
  // Committed out of order: the second first. Its acknowledgement waits for the first.
  sink.resolve(1, HandSink::stored());
  sink.resolve(0, HandSink::stored());
  ASSERT_TRUE(sink.wait_count(3));
  sink.resolve(2, HandSink::stored());
  ASSERT_TRUE(eventually([&] { return (*source)->status()["acknowledged"] == 3; }));
  EXPECT_EQ((*source)->status()["readings"], 3);
  EXPECT_EQ(sink.reading(2).values.at("value"), 63.0);
}

}  // namespace
}  // namespace carehub::mqtt
