// Disk full and the size cap, through carehubd: a real full filesystem (a small tmpfs, when the test may
// mount one) fails the ingest without corrupting anything, `status` says "disk full", and readings are
// taken again once space returns; the configured cap sheds by priority and says so.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/reliability/harness.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::reliability {
namespace {

std::vector<nlohmann::json> bp_batch(std::int64_t& t, int n) {
  std::vector<nlohmann::json> b;
  for (int i = 0; i < n; ++i) b.push_back(reading_line("blood-pressure", t++, {{"systolic", 110 + i % 40}, {"diastolic", 70}}));
  return b;
}

std::int64_t a_month_ago() {
  return now_epoch_ms() - 2LL * 86400000;  // well inside the 30-day retention
}

TEST(DiskFull, AFullFilesystemRefusesReadingsCorruptsNothingAndRecoversWhenSpaceReturns) {
  test::TempDir dir;
  SmallFilesystem small(dir.file("small"), 3 << 20);
  if (!small.mounted()) GTEST_SKIP() << small.why_not() << " (store_test covers SQLITE_FULL with SQLite's page limit)";
  test::DaemonProcess d(dir, "");
  d.config()["store"]["path"] = dir.file("small/buffer.db");
  d.config()["store"]["max_bytes"] = 0;  // no cap: the filesystem is the limit here
  ASSERT_TRUE(d.start()) << d.log();

  std::int64_t t = a_month_ago();
  std::size_t acked = 0;
  std::string error;
  for (int i = 0; i < 200 && error.empty(); ++i) {
    auto batch = bp_batch(t, 500);
    const auto got = add_readings(d, batch, &error);
    acked += got.size();
    if (got.size() != batch.size() && error.empty()) error = "a batch was cut short without an error";
  }
  ASSERT_FALSE(error.empty()) << "3 MiB never filled";
  EXPECT_NE(error.find("full"), std::string::npos) << error;
  auto s = status(d);
  EXPECT_EQ(s["buffer"]["state"], "disk full") << s["buffer"].dump();
  EXPECT_NE(s["buffer"]["detail"].get<std::string>().find("no space left"), std::string::npos);
  EXPECT_GE(s["counters"].value("store_disk_full", 0), 1);
  EXPECT_NE(d.log().find("<3>store: event=disk-full error="), std::string::npos);
  EXPECT_EQ(integrity_check(dir.file("small/buffer.db")), "ok");
  EXPECT_EQ(s["buffer"]["pending"], acked) << "every acknowledged reading is kept, nothing else";

  ASSERT_TRUE(small.resize(32 << 20));  // space returns
  ASSERT_TRUE(eventually([&] { return status(d)["buffer"]["state"] != "disk full"; }, 30s)) << status(d)["buffer"].dump();
  auto again = bp_batch(t, 100);
  const auto got = add_readings(d, again);
  EXPECT_EQ(got.size(), again.size());
  EXPECT_NE(d.log().find("<5>store: event=disk-space-back"), std::string::npos);
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(), 0) << d.log();
  EXPECT_EQ(integrity_check(dir.file("small/buffer.db")), "ok");
  EXPECT_EQ(stored_rows(dir.file("small/buffer.db")).size(), acked + got.size());
  std::cout << "[reliability] disk full: " << acked << " readings acknowledged before the 3 MiB tmpfs filled; error: "
            << error.substr(0, error.find('\n')) << "; recovered after remounting with 32 MiB" << std::endl;
}

TEST(SizeCap, AtTheCapTheEnvironmentIsShedSpotMeasurementsKeptAndStatusSaysSo) {
  test::TempDir dir;
  test::DaemonProcess d(dir, "");
  d.config()["store"]["max_bytes"] = 1 << 20;
  ASSERT_TRUE(d.start()) << d.log();
  std::int64_t t = a_month_ago();
  auto spot = bp_batch(t, 500);
  ASSERT_EQ(add_readings(d, spot).size(), spot.size());
  std::size_t sent = 0;
  nlohmann::json s;
  for (int i = 0; i < 100; ++i) {
    std::vector<nlohmann::json> env;
    for (int k = 0; k < 1000; ++k) env.push_back(reading_line("room-temperature", t++, {{"value", 21.0 + k % 10}}, "living-room"));
    ASSERT_EQ(add_readings(d, env).size(), env.size()) << "environmental readings are shed, never refused";
    sent += env.size();
    s = status(d);
    if (s["counters"].value("store_shed_environment", 0) > 0) break;
  }
  EXPECT_GT(s["counters"].value("store_shed_environment", 0), 0) << s.dump();
  EXPECT_EQ(s["buffer"]["state"], "shedding") << s["buffer"].dump();
  EXPECT_LE(s["buffer"]["used_bytes"].get<std::int64_t>(), 1 << 20);
  EXPECT_NE(d.log().find("<4>store: event=buffer-shed max_bytes="), std::string::npos);
  EXPECT_NE(d.ctl({"status"}).out.find("shedding"), std::string::npos);
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(), 0) << d.log();
  const auto db = dir.file("buffer.db");
  EXPECT_EQ(integrity_check(db), "ok");
  std::size_t bp = 0, room = 0;
  for (const auto& r : stored_rows(db)) (r.kind == "blood-pressure" ? bp : room)++;
  EXPECT_EQ(bp, spot.size()) << "no spot measurement was shed";
  std::cout << "[reliability] size cap 1 MiB: " << sent << " environmental readings sent, "
            << s["counters"].value("store_shed_environment", 0) << " shed, " << room << " kept; " << bp
            << " blood pressures all kept" << std::endl;
}

}  // namespace
}  // namespace carehub::reliability
