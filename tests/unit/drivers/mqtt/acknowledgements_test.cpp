// The subscriber's acknowledgement bookkeeping (drivers/mqtt/acknowledgements.hpp) and the watcher that
// marks Deliveries ready (ready_watcher.hpp), without a broker: what one settle() sends, in what order, and
// how many times the session's Wakeup fires for a run of Deliveries a single commit made ready (issue 15:
// one write of acknowledgements and one wake-up per run, not one per message).
#include "drivers/mqtt/acknowledgements.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "drivers/mqtt/packet.hpp"

namespace carehub::mqtt {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A Delivery the test completes by hand, and its Outstanding as the session keeps it.
struct Hand {
  std::promise<Result<void>> promise;
  std::shared_future<Result<void>> future = promise.get_future().share();
  std::shared_ptr<Outstanding> outstanding = std::make_shared<Outstanding>(
      Delivery{[f = future](std::chrono::milliseconds d) { return f.wait_for(d) == std::future_status::ready; },
               [f = future] { return f.get(); }});
  // As the watcher does once the Delivery answered.
  void done(Result<void> r = {}) {
    promise.set_value(std::move(r));
    outstanding->ready.store(true);
  }
};

std::string ack_bytes(const packet::Packet& p) { return packet::encode(p).value(); }

TEST(Acknowledgements, ThoseSettledTogetherAreOneRunOfBytesInReceiveOrderStoppingAtTheFirstNotDone) {
  Acknowledgements acks;
  Hand m7, m3, m9, m4, m5, m6;
  acks.add(m7.outstanding, 7, 1, "t/a");
  acks.add(m3.outstanding, 3, 1, "t/a");
  acks.add(m9.outstanding, 9, 1, "t/a");
  acks.add(m4.outstanding, 4, 2, "t/b");
  acks.add(m5.outstanding, 5, 1, "t/a");
  acks.add(m6.outstanding, 6, 1, "t/a");
  // Done out of order, m5 not at all: m7, m3, m9 and m4 go out, in the order received; m6 waits for m5.
  m6.done();
  m4.done();
  m9.done();
  m3.done();
  m7.done();
  auto s = acks.settle();
  EXPECT_FALSE(s.failure);
  EXPECT_EQ(s.acknowledgements, ack_bytes(packet::Puback{7}) + ack_bytes(packet::Puback{3}) + ack_bytes(packet::Puback{9}) +
                                    ack_bytes(packet::Pubrec{4}));
  EXPECT_EQ(s.acknowledged, 4u);
  EXPECT_EQ(acks.in_flight(), 2u);
  EXPECT_TRUE(acks.durable_qos2(4)) << "PUBREC'd: a redelivery of it needs only the PUBREC";
  EXPECT_EQ(acks.settle().acknowledgements, "") << "nothing more is done";
  m5.done();
  s = acks.settle();
  EXPECT_EQ(s.acknowledgements, ack_bytes(packet::Puback{5}) + ack_bytes(packet::Puback{6}));
  EXPECT_EQ(s.acknowledged, 2u);
  EXPECT_EQ(acks.in_flight(), 0u);
  acks.released(4);
  EXPECT_FALSE(acks.durable_qos2(4));
}

TEST(Acknowledgements, AFailedDeliveryIsNotAcknowledgedNorAnythingAfterItButTheOlderOnesAre) {
  Acknowledgements acks;
  Hand m1, m2, m3, m4;
  acks.add(m1.outstanding, 1, 1, "t/a");
  acks.add(m2.outstanding, 2, 1, "t/failed");
  acks.add(m3.outstanding, 3, 1, "t/a");
  acks.add(m4.outstanding, 4, 1, "t/a");
  m4.done();
  m3.done();
  m2.done(make_error(Errc::io, "disk I/O error"));
  m1.done();
  const auto s = acks.settle();
  EXPECT_EQ(s.acknowledgements, ack_bytes(packet::Puback{1})) << "m1 only: m3 and m4 are younger than the failure";
  EXPECT_EQ(s.acknowledged, 1u);
  ASSERT_TRUE(s.failure);
  EXPECT_THAT(s.failure->message,
              HasSubstr("the message on t/failed is not durable (disk I/O error): not acknowledged (nor the 2 "
                        "received after it)"));
  EXPECT_EQ(s.failure->code, Errc::io);
  EXPECT_EQ(acks.failures(), 1);
  acks.abandon();  // the connection ends: m3 and m4 come back from the broker
  EXPECT_EQ(acks.in_flight(), 0u);
}

TEST(Acknowledgements, Qos0IsNeverAcknowledgedAndARepeatedPubrecIsSentButNotCountedAgain) {
  Acknowledgements acks;
  Hand q0, q0failed, again, q1;
  acks.add(q0.outstanding, 0, 0, "t/a");
  acks.add(q0failed.outstanding, 0, 0, "t/a");
  acks.add(again.outstanding, 8, 2, "t/a", true);  // durable before; our PUBREC was lost
  acks.add(q1.outstanding, 2, 1, "t/a");
  q0.done();
  q0failed.done(make_error(Errc::io, "disk I/O error"));  // nothing the broker could resend: no failure
  again.done();
  q1.done();
  const auto s = acks.settle();
  EXPECT_FALSE(s.failure);
  EXPECT_EQ(s.acknowledgements, ack_bytes(packet::Pubrec{8}) + ack_bytes(packet::Puback{2}));
  EXPECT_EQ(s.acknowledged, 1u);
}

// Waits for a flag the watcher thread sets: a condition with a deadline, never a fixed sleep.
bool becomes_ready(const Outstanding& o) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!o.ready.load()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// How many times the Wakeup fired since it was last cleared (an eventfd counts its notifications), clearing
// it; after waiting up to 15 s for the first (the watcher notifies just after it marks the Deliveries ready).
std::uint64_t notifications(const Wakeup& wake) {
  pollfd p{wake.fd(), POLLIN, 0};
  if (::poll(&p, 1, 15000) != 1) return 0;
  std::uint64_t n = 0;
  if (::read(wake.fd(), &n, sizeof n) != static_cast<ssize_t>(sizeof n)) return 0;
  return n;
}

TEST(ReadyWatcher, FiresTheWakeupOnceForARunOfDeliveriesThatBecameReadyTogether) {
  auto wake = Wakeup::create().value();
  ReadyWatcher watcher(*wake);
  Hand m0, m1, m2;
  watcher.watch(m0.outstanding);
  watcher.watch(m1.outstanding);
  watcher.watch(m2.outstanding);
  // The younger two answer first (the watcher still waits on m0), then m0: all three are ready at once.
  m2.promise.set_value({});
  m1.promise.set_value({});
  m0.promise.set_value({});
  ASSERT_TRUE(becomes_ready(*m2.outstanding));
  EXPECT_TRUE(m0.outstanding->ready.load());
  EXPECT_TRUE(m1.outstanding->ready.load());
  EXPECT_EQ(notifications(*wake), 1u) << "one wake-up for the run, not one per Delivery";
  EXPECT_TRUE(watcher.take_signal());
}

TEST(ReadyWatcher, DoesNotFireAgainWhileItsSignalIsUntakenAndFiresOnceItIsTaken) {
  auto wake = Wakeup::create().value();
  ReadyWatcher watcher(*wake);
  Hand m0, m1, m2;
  watcher.watch(m0.outstanding);
  m0.promise.set_value({});
  ASSERT_TRUE(becomes_ready(*m0.outstanding));
  watcher.watch(m1.outstanding);
  m1.promise.set_value({});
  ASSERT_TRUE(becomes_ready(*m1.outstanding));
  // The session has not taken the first signal: it settles m1 with m0 when it does.
  EXPECT_EQ(notifications(*wake), 1u);
  EXPECT_TRUE(watcher.take_signal());
  EXPECT_FALSE(watcher.take_signal());
  // Taken: the next ready Delivery fires the Wakeup again (no wake-up is lost).
  watcher.watch(m2.outstanding);
  m2.promise.set_value({});
  ASSERT_TRUE(becomes_ready(*m2.outstanding));
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!watcher.take_signal()) {  // raised just after the notify
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  EXPECT_EQ(notifications(*wake), 1u);
}

}  // namespace
}  // namespace carehub::mqtt
