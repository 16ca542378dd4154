// The BLE driver's reconnect waits: core/backoff.hpp's exponential backoff with full jitter, for a
// device session that keeps failing and for the adapter. The clock and the jitter's draws are injected,
// so the sequence of delays is exact.
#include <gtest/gtest.h>

#include <deque>

#include "drivers/ble/manager.hpp"
#include "tests/unit/drivers/ble/fakes.hpp"

namespace carehub::ble {
namespace {

using namespace carehub::ble::fakes;
using std::chrono::milliseconds;

class ABleBackoff : public ::testing::Test {
 protected:
  ABleBackoff()
      : clock_(*parse_rfc3339("2026-11-21T12:00:00Z")),
        log_(LogLevel::debug, [](LogLevel, std::string_view, std::string_view) {}),
        context_{sink_, clock_, log_, counters_, "hub", "Patient/kit"} {
    config_.backoff_base = milliseconds(100);
    config_.backoff_cap = milliseconds(1000);
    config_.resolve_timeout = milliseconds(5000);
    bluez_.add_adapter();
  }
  void start(const std::vector<Device>& registry) {
    manager_ = std::make_unique<Manager>(bluez_, config_, context_, [this] {
      EXPECT_FALSE(draws_.empty()) << "more backoffs than draws";
      if (draws_.empty()) return 1.0;
      const double d = draws_.front();
      draws_.pop_front();
      return d;
    });
    ASSERT_TRUE(manager_->start(registry));
  }
  // The session's connect fails; how long the manager then waits before the next.
  milliseconds fail_connect() {
    auto done = std::move(bluez_.pending_connect.at(dev_path(kBp1)));
    bluez_.pending_connect.erase(dev_path(kBp1));
    done(bluez_error("org.bluez.Error.Failed"));
    const auto& s = manager_->sessions().at(kBp1);
    EXPECT_EQ(s.state, SessionState::backoff);
    return std::chrono::duration_cast<milliseconds>(s.retry_at - clock_.monotonic());
  }

  std::deque<double> draws_;
  BleConfig config_;
  FakeBluez bluez_;
  FakeSink sink_;
  ManualClock clock_;
  Logger log_;
  Counters counters_;
  SourceContext context_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(ABleBackoff, DrawsEachReconnectWaitBelowADoublingCappedCeiling) {
  // Ceilings 100, 200, 400, 800, 1000 (the cap), 1000 ms; each wait is its draw's share of it.
  draws_ = {0.5, 0.25, 1.0, 0.0, 0.5, 0.999};
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  std::vector<milliseconds> waits;
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const auto wait = fail_connect();
    waits.push_back(wait);
    clock_.advance(wait - milliseconds(1) > milliseconds(0) ? wait - milliseconds(1) : milliseconds(0));
    manager_->tick(clock_.monotonic());
    if (wait > milliseconds(0)) {
      EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), static_cast<std::size_t>(attempt)) << "not before the wait";
      clock_.advance(milliseconds(1));
      manager_->tick(clock_.monotonic());
    }
    EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), static_cast<std::size_t>(attempt + 1)) << "at the wait's end";
  }
  EXPECT_EQ(waits, (std::vector<milliseconds>{milliseconds(50), milliseconds(50), milliseconds(400), milliseconds(0),
                                              milliseconds(500), milliseconds(999)}));
  EXPECT_TRUE(draws_.empty());
}

TEST_F(ABleBackoff, StartsAgainFromTheBaseOnceASessionSubscribed) {
  draws_ = {1.0, 1.0, 1.0};
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  EXPECT_EQ(fail_connect(), milliseconds(100));
  clock_.advance(milliseconds(100));
  manager_->tick(clock_.monotonic());
  EXPECT_EQ(fail_connect(), milliseconds(200));
  clock_.advance(milliseconds(200));
  manager_->tick(clock_.monotonic());
  auto done = std::move(bluez_.pending_connect.at(dev_path(kBp1)));
  bluez_.pending_connect.erase(dev_path(kBp1));
  done(Result<void>{});
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", true}, {"ServicesResolved", true}});
  ASSERT_EQ(manager_->sessions().at(kBp1).state, SessionState::subscribed);
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", false}});
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"RSSI", std::int64_t{-50}}});
  EXPECT_EQ(fail_connect(), milliseconds(100)) << "the failures counted from the last good session";
}

TEST_F(ABleBackoff, PacesTheAdapterRetriesWithTheSameJitter) {
  // Discovery refused once (adapter busy): the resync waits its draw's share of the base.
  draws_ = {0.3};
  bluez_.discovery_error = bluez_error("org.bluez.Error.InProgress");
  start({});
  const auto at = clock_.monotonic();
  ASSERT_TRUE(manager_->next_deadline());
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(*manager_->next_deadline() - at), milliseconds(30));
  clock_.advance(milliseconds(29));
  manager_->tick(clock_.monotonic());
  EXPECT_EQ(bluez_.count("StartDiscovery"), 1u);
  clock_.advance(milliseconds(1));
  manager_->tick(clock_.monotonic());
  EXPECT_EQ(bluez_.count("StartDiscovery"), 2u);
}

}  // namespace
}  // namespace carehub::ble
