#include "core/counters.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace carehub {
namespace {

TEST(Counters, StartAtZeroAndCountUp) {
  Counters c;
  EXPECT_EQ(c.get("bad_packets").load(), 0u);
  c.add("bad_packets");
  c.add("bad_packets", 4);
  EXPECT_EQ(c.get("bad_packets").load(), 5u);
}

TEST(Counters, HandOutAStableReferenceForHotPaths) {
  Counters c;
  auto& held = c.get("commits");
  for (int i = 0; i < 20; ++i) c.add("other_" + std::to_string(i));  // grow the map around it
  held.fetch_add(2);
  EXPECT_EQ(&c.get("commits"), &held);
  EXPECT_EQ(c.snapshot().at("commits"), 2u);
}

TEST(Counters, SnapshotListsEveryCounterByName) {
  Counters c;
  c.add("b", 2);
  c.add("a");
  const auto snap = c.snapshot();
  EXPECT_EQ(snap, (std::map<std::string, std::uint64_t>{{"a", 1}, {"b", 2}}));
}

TEST(Counters, CountEveryIncrementFromConcurrentThreads) {
  Counters c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 10000; ++i) c.add(i % 2 ? "odd" : "even");
      c.add("thread_" + std::to_string(t));
    });
  }
  for (auto& t : threads) t.join();
  const auto snap = c.snapshot();
  EXPECT_EQ(snap.at("odd"), 20000u);
  EXPECT_EQ(snap.at("even"), 20000u);
  EXPECT_EQ(snap.size(), 6u);
}

}  // namespace
}  // namespace carehub
