// The time of a reading that carries none, against redelivery (issue 12, defect 6): pure, no broker. The
// broker-level proofs are in source_test.cpp.
#include "drivers/mqtt/delivery_times.hpp"

#include <gtest/gtest.h>

namespace carehub::mqtt {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = from_epoch_ms(1795000000000);

Message msg(std::uint16_t id, std::string payload, bool dup = false, bool retained = false,
            std::string topic = "home/bedroom/temperature") {
  Message m{std::move(topic), std::move(payload), 1, retained, dup};
  m.packet_id = id;
  return m;
}

TEST(DeliveryTimes, GiveARedeliveryWithTheSamePacketIdTopicAndPayloadTheTimeOfItsFirstDelivery) {
  DeliveryTimes times;
  EXPECT_EQ(times.time_for(msg(7, "21.5"), kT0).time, kT0);
  const auto again = times.time_for(msg(7, "21.5", /*dup=*/true), kT0 + 3min);
  EXPECT_EQ(again.time, kT0);
  EXPECT_TRUE(again.repeat);
  // And again, after yet another lost acknowledgement.
  EXPECT_EQ(times.time_for(msg(7, "21.5", true), kT0 + 9min).time, kT0);
}

TEST(DeliveryTimes, TreatAFirstAttemptAsNewWhateverItHolds) {
  DeliveryTimes times;
  (void)times.time_for(msg(7, "21.5"), kT0);
  // DUP=0: the broker's first attempt to send this message (3.3.1-1), e.g. a broker that reuses the lowest
  // free packet id for a steady sensor. Never a repeat.
  const auto next = times.time_for(msg(7, "21.5"), kT0 + 1min);
  EXPECT_EQ(next.time, kT0 + 1min);
  EXPECT_FALSE(next.repeat);
}

TEST(DeliveryTimes, ForgetAPacketIdOnceTheBrokerReusedItForAnotherMessage) {
  DeliveryTimes times;
  (void)times.time_for(msg(7, "21.5"), kT0);
  (void)times.time_for(msg(7, "22.0"), kT0 + 1min);  // id 7 is free again: our PUBACK arrived
  // A DUP under id 7 with the first content is not the first message (its id was reused since).
  EXPECT_EQ(times.time_for(msg(7, "21.5", true), kT0 + 2min).time, kT0 + 2min);
  // A DUP with other content than remembered is not a redelivery of it either.
  DeliveryTimes other;
  (void)other.time_for(msg(9, "21.5"), kT0);
  EXPECT_FALSE(other.time_for(msg(9, "21.6", true), kT0 + 1s).repeat);
  EXPECT_FALSE(other.time_for(msg(10, "21.5", true), kT0 + 2s).repeat) << "another packet id";
  EXPECT_FALSE(other.time_for(msg(9, "21.5", true, false, "home/kitchen/temperature"), kT0 + 3s).repeat)
      << "another topic";
}

TEST(DeliveryTimes, KeepTwoIdenticalMessagesInOneMillisecondApart) {
  DeliveryTimes times;
  EXPECT_EQ(times.time_for(msg(1, "21.5"), kT0).time, kT0);
  EXPECT_EQ(times.time_for(msg(2, "21.5"), kT0).time, kT0 + 1ms);
  EXPECT_EQ(times.time_for(msg(3, "21.5"), kT0).time, kT0 + 2ms);
  EXPECT_EQ(times.time_for(msg(4, "21.5"), kT0 + 1min).time, kT0 + 1min);
  // The redelivery of the second keeps its shifted time.
  EXPECT_EQ(times.time_for(msg(2, "21.5", true), kT0 + 2min).time, kT0 + 1ms);
}

TEST(DeliveryTimes, GiveARetainedStateSeenBeforeItsFirstTimeAndAChangedOneANewTime) {
  DeliveryTimes times;
  (void)times.time_for(msg(1, "48 %"), kT0);
  const auto resent = times.time_for(msg(2, "48 %", false, /*retained=*/true), kT0 + 10min);
  EXPECT_EQ(resent.time, kT0);
  EXPECT_TRUE(resent.repeat);
  EXPECT_EQ(times.time_for(msg(3, "50 %", false, true), kT0 + 20min).time, kT0 + 20min);
  // A live message equal to the last one is a new measurement, not a re-sent state.
  EXPECT_EQ(times.time_for(msg(4, "50 %"), kT0 + 30min).time, kT0 + 30min);
}

TEST(DeliveryTimes, RememberABoundedNumberOfDeliveriesAndTopics) {
  DeliveryTimes times(4);
  (void)times.time_for(msg(1, "1"), kT0);
  for (std::uint16_t id = 2; id < 10; ++id) {
    (void)times.time_for(msg(id, "x", false, false, "t/" + std::to_string(id)), kT0 + std::chrono::seconds(id));
  }
  EXPECT_FALSE(times.time_for(msg(1, "1", true), kT0 + 1h).repeat) << "evicted: at-least-once, never a wrong match";
  EXPECT_TRUE(times.time_for(msg(9, "x", true, false, "t/9"), kT0 + 1h).repeat);
}

TEST(DeliveryTimes, GiveQos0MessagesTheirReceiveTime) {
  DeliveryTimes times;
  Message m{"home/lux", "312", 0, false, false};
  EXPECT_EQ(times.time_for(m, kT0).time, kT0);
  EXPECT_EQ(times.time_for(m, kT0 + 1s).time, kT0 + 1s);
}

}  // namespace
}  // namespace carehub::mqtt
