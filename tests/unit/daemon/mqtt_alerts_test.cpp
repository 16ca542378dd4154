#include "daemon/mqtt_alerts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace carehub::daemon
