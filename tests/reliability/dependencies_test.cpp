// Dependencies restarting: mosquitto stopped and started again (at random, seeded points) while readings
// flow over MQTT QoS 1 and carehubd syncs them; nothing the broker acknowledged is lost or duplicated.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "tests/reliability/harness.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::reliability {
namespace {

TEST(Dependencies, MosquittoRestartedDuringLoadLosesAndDuplicatesNothing) {
  std::mt19937_64 rng(seed("dependencies"));
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("broker"));
  test::MosquittoPeer broker(dir.file("broker"));
  test::FhirPeer peer(dir.file("fhir.log"));
  peer.put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
  test::DaemonProcess d(dir, peer.base_url());
  d.config()["sources"]["mqtt"] = {{"broker", broker.url()},
                                   {"client_id", "carehub-reliability"},
                                   {"keepalive_s", 5},
                                   {"retry_base_ms", 50},
                                   {"retry_cap_ms", 500},
                                   {"subscriptions", {{{"topic", "home/readings"}, {"qos", 1}, {"format", "reading-json"}}}}};
  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_TRUE(eventually([&] { return status(d)["sources"]["mqtt"]["state"] == "connected"; }, 30s)) << d.log();

  constexpr int kReadings = 240;
  std::int64_t t = now_epoch_ms() - 86400000;
  std::vector<std::string> lines, uids;
  for (int i = 0; i < kReadings; ++i) {
    auto line = reading_line("heart-rate", t + i * 1000, {{"value", 50 + i % 60}}, "watch-1");
    uids.push_back(uid_of_line(line));
    lines.push_back(line.dump());
  }
  std::atomic<int> published{0};
  std::thread publisher([&] {
    for (int i = 0; i < kReadings; ++i) {
      // Each message until the broker acknowledges it (it may be restarting right now).
      while (!broker.publish("home/readings", lines[static_cast<std::size_t>(i)])) {
        std::this_thread::sleep_for(20ms);
      }
      published = i + 1;
    }
  });
  // Three restarts at random points of the stream.
  std::vector<int> at;
  for (int k = 0; k < 3; ++k) at.push_back(std::uniform_int_distribution<int>(10, kReadings - 10)(rng));
  std::sort(at.begin(), at.end());
  for (int point : at) {
    ASSERT_TRUE(eventually([&] { return published.load() >= point; }, 120s));
    broker.stop(SIGTERM);  // a clean broker restart keeps its persistence, as a service restart does
    broker.start();
  }
  publisher.join();
  const auto db = dir.file("buffer.db");
  ASSERT_TRUE(eventually([&] { return stored_rows(db).size() >= static_cast<std::size_t>(kReadings); }, 120s))
      << stored_rows(db).size() << " of " << kReadings << " stored\n" << d.log();
  ASSERT_EQ(d.ctl({"sync", "now", "--wait", "120"}).exit_code, 0) << d.log();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(), 0) << d.log();
  EXPECT_EQ(integrity_check(db), "ok");
  EXPECT_EQ(stored_rows(db).size(), static_cast<std::size_t>(kReadings));
  std::size_t once = 0;
  for (const auto& u : uids) once += peer.count_by_identifier("Observation", kIdSystem, "urn:uuid:" + u) == 1;
  EXPECT_EQ(once, uids.size());
  EXPECT_EQ(peer.count("Observation"), uids.size());
  std::cout << "[reliability] dependencies: mosquitto restarted at readings " << at[0] << ", " << at[1] << ", "
            << at[2] << " of " << kReadings << "; stored " << stored_rows(db).size() << ", exactly once on the server "
            << once << std::endl;
}

}  // namespace
}  // namespace carehub::reliability
