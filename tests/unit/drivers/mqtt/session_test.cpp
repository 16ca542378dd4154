// carehub's MQTT subscriber and the mqtt source against a real mosquitto (Debian's, started by each test on
// a free loopback port). The heart of it: a QoS 1 message is acknowledged only once its reading is durable.
// The proof does not look inside the broker: a message whose Delivery never completed comes back, with DUP,
// to the next connection of the same session; one that completed does not (a later message arrives first).
#include "tests/unit/drivers/mqtt/subscriber_fixture.hpp"

namespace carehub::mqtt {
namespace {

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

}  // namespace
}  // namespace carehub::mqtt
