// The openhab source as the daemon runs it, against the openHAB stand-in (tests/peers/openhab) on a free
// loopback port: the factory reads no secret, the item list and a state change become readings in the sink,
// status says what happened, stop() ends the stream.
#include "drivers/openhab/source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/support/openhab_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using openhab::make_openhab_source;

using ::testing::HasSubstr;
using nlohmann::json;
using test::OpenhabPeer;
using test::TempDir;

const TimePoint kT0 = from_epoch_ms(1'795'255'200'000);  // 2026-11-21T10:00:00Z

// Stores everything it is given and says so; the test waits for a number of readings.
class RecordingSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading> readings) override {
    IngestResult r;
    for (std::size_t i = 0; i < readings.size(); ++i) {
      r.uids.push_back("uid");
      r.status.push_back(IngestStatus::stored);
      r.errors.emplace_back();
    }
    {
      std::lock_guard lock(mu_);
      for (auto& reading : readings) readings_.push_back(std::move(reading));
    }
    cv_.notify_all();
    std::promise<Result<IngestResult>> p;
    p.set_value(std::move(r));
    return p.get_future();
  }
  std::future<Result<void>> upsert_device(Device) override { return {}; }
  std::future<Result<bool>> remove_device(std::string) override { return {}; }

  // Waits (bounded, for a broken driver) until `n` readings arrived; returns them.
  std::vector<Reading> wait_readings(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return readings_.size() >= n; });
    return readings_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Reading> readings_;
};

json items() {
  return json::array({{{"name", "Living_Temp"}, {"type", "Number:Temperature"}, {"state", "21.5 °C"},
                       {"tags", json::array()}, {"groupNames", json::array()}},
                      {{"name", "Hall_Motion"}, {"type", "Switch"}, {"state", "OFF"}, {"tags", json::array()},
                       {"groupNames", json::array()}}});
}

json config(const std::string& url) {
  return {{"url", url},
          {"items", {{{"name", "Living_Temp"}, {"kind", "room-temperature"}}, {{"name", "Hall_Motion"}, {"kind", "motion"}}}}};
}

struct AnOpenhabSource : ::testing::Test {
  TempDir dir;
  RecordingSink sink;
  ManualClock clock{kT0};
  Logger log{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  SourceContext context{sink, clock, log, counters, "hub-1", "Patient/p1"};
};

TEST_F(AnOpenhabSource, IsBuiltFromItsSectionWithoutReadingTheSecretItNamesAndStartFailsWithoutIt) {
  auto c = config("http://127.0.0.1:9");
  c["auth"] = {{"type", "bearer"}, {"token_file", dir.file("missing-token")}};
  auto made = make_openhab_source(c, "/sources/openhab", context);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ((*made)->name(), "openhab");
  EXPECT_EQ((*made)->status()["state"], "stopped");
  auto started = (*made)->start();
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error().message, HasSubstr("auth.token_file"));
}

TEST_F(AnOpenhabSource, RefusesABadSectionNamingItsPath) {
  auto made = make_openhab_source(json{{"url", "ftp://x"}}, "/sources/openhab", context);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().message, HasSubstr("/sources/openhab/url: expected an http:// or https:// URL"));
}

TEST_F(AnOpenhabSource, TurnsTheItemListAndAStateChangeIntoReadingsAndSaysSoInStatus) {
  OpenhabPeer peer(dir.file("openhab.log"), items(), dir.file("items.json"), 1);
  auto made = make_openhab_source(config(peer.url()), "/sources/openhab", context);
  ASSERT_TRUE(made) << made.error().message;
  auto& source = **made;
  ASSERT_TRUE(source.start());

  auto readings = sink.wait_readings(2);
  ASSERT_EQ(readings.size(), 2u) << source.status().dump();
  std::map<std::string, Reading> by_device;
  for (const auto& r : readings) by_device[r.device] = r;
  ASSERT_TRUE(by_device.contains("openhab-Living_Temp"));
  const auto& temp = by_device["openhab-Living_Temp"];
  EXPECT_EQ(temp.kind, Kind::room_temperature);
  EXPECT_DOUBLE_EQ(temp.values.at("value"), 21.5);
  EXPECT_EQ(temp.source, "openhab");
  EXPECT_EQ(temp.time, kT0) << "the receive time, on the injected clock";
  ASSERT_TRUE(by_device.contains("openhab-Hall_Motion"));
  EXPECT_EQ(by_device["openhab-Hall_Motion"].values.at("value"), 0);

  peer.update("Hall_Motion", "ON", true, "OnOff");
  readings = sink.wait_readings(3);
  ASSERT_EQ(readings.size(), 3u) << source.status().dump();
  EXPECT_EQ(readings[2].device, "openhab-Hall_Motion");
  EXPECT_EQ(readings[2].values.at("value"), 1);

  // The source counts a reading once the sink's future says it is stored, just after the sink has it:
  // wait for the count, bounded (it was read too early on a loaded machine: 2, not 3).
  auto status = source.status();
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       status["readings"] != 3 && std::chrono::steady_clock::now() < deadline; status = source.status()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(status["state"], "connected") << status.dump();
  EXPECT_EQ(status["url"], peer.url());
  EXPECT_EQ(status["connects"], 1);
  EXPECT_EQ(status["readings"], 3);
  EXPECT_EQ(status["last_reading"], "2026-11-21T10:00:00Z");
  source.stop();
  EXPECT_EQ(source.status()["state"], "stopped");
}

}  // namespace
}  // namespace carehub
