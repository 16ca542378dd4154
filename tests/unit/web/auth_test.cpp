// Passwords, sessions and the login rate limiter: the technician console's door.
#include <gtest/gtest.h>

#include <set>

#include "web/server/login_limiter.hpp"
#include "web/server/secrets.hpp"
#include "web/server/sessions.hpp"

namespace carehub::web {
namespace {

using namespace std::chrono_literals;

TimePoint t0() { return *parse_rfc3339("2026-12-05T03:00:00Z"); }

TEST(Password, AHashVerifiesItsPasswordAndNoOther) {
  auto h = hash_password("correct horse battery staple");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_TRUE(h->starts_with("$y$")) << *h;  // yescrypt: slow by design
  EXPECT_EQ(h->find("correct"), std::string::npos);
  EXPECT_TRUE(verify_password("correct horse battery staple", *h));
  EXPECT_FALSE(verify_password("correct horse battery stapl", *h));
  EXPECT_FALSE(verify_password("", *h));
  auto again = hash_password("correct horse battery staple");
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *h);  // a fresh salt each time
}

TEST(Password, AnUnusableHashMatchesNothing) {
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "*"));
  EXPECT_FALSE(verify_password("x", "!locked"));
  EXPECT_FALSE(verify_password("x", "$y$garbage"));
  EXPECT_FALSE(hash_password(""));
  EXPECT_FALSE(hash_password(std::string("a\0b", 3)));
}

TEST(Secrets, TokensAre256BitsAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = random_hex(32);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->size(), 64u);
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(Sessions, ASessionExpiresAfterItsIdleTimeAndUseKeepsItAlive) {
  ManualClock clock(t0());
  SessionStore store(clock, {15min, 12h, 32});
  auto s = store.create("technician");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id.size(), 64u);
  EXPECT_NE(s->csrf, s->id);
  clock.advance(14min);
  ASSERT_TRUE(store.touch(s->id));  // used: the idle time starts again
  clock.advance(14min);
  ASSERT_TRUE(store.touch(s->id));
  clock.advance(15min);
  EXPECT_FALSE(store.touch(s->id));
  EXPECT_EQ(store.size(), 0u);
}

TEST(Sessions, NoSessionOutlivesItsMaximumAgeHoweverBusy) {
  ManualClock clock(t0());
  SessionStore store(clock, {15min, 1h, 32});
  auto s = store.create("technician");
  ASSERT_TRUE(s);
  for (int i = 0; i < 5; ++i) {
    clock.advance(10min);
    ASSERT_TRUE(store.touch(s->id)) << i;
  }
  clock.advance(10min);
  EXPECT_FALSE(store.touch(s->id));
}

TEST(Sessions, LogoutEndsItAndAFullTableDropsTheLeastRecentlyUsed) {
  ManualClock clock(t0());
  SessionStore store(clock, {15min, 12h, 2});
  auto a = store.create("technician");
  clock.advance(1s);
  auto b = store.create("technician");
  clock.advance(1s);
  ASSERT_TRUE(store.touch(a->id));  // b is now the least recently used
  auto c = store.create("technician");
  EXPECT_TRUE(store.touch(a->id));
  EXPECT_FALSE(store.touch(b->id));
  EXPECT_TRUE(store.touch(c->id));
  store.remove(a->id);
  EXPECT_FALSE(store.touch(a->id));
  EXPECT_FALSE(store.touch("not-a-session"));
}

TEST(LoginLimiter, LocksAnAddressOutAfterFiveFailuresDoublingToTheCap) {
  ManualClock clock(t0());
  LoginLimiter limiter(clock, {5, 1s, 8s, 100});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(limiter.locked_for("192.0.2.7"), 0s);
    limiter.failed("192.0.2.7");
  }
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 1s);
  EXPECT_EQ(limiter.locked_for("127.0.0.1"), 0s);  // per address
  clock.advance(1s);
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 0s);
  limiter.failed("192.0.2.7");
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 2s);
  clock.advance(2s);
  limiter.failed("192.0.2.7");
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 4s);
  clock.advance(4s);
  limiter.failed("192.0.2.7");
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 8s);
  clock.advance(8s);
  limiter.failed("192.0.2.7");
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 8s);  // capped
  clock.advance(8s);
  limiter.succeeded("192.0.2.7");
  limiter.failed("192.0.2.7");
  EXPECT_EQ(limiter.locked_for("192.0.2.7"), 0s);  // a success starts the count again
}

TEST(LoginLimiter, AFloodOfAddressesStaysWithinTheTable) {
  ManualClock clock(t0());
  LoginLimiter limiter(clock, {0, 60s, 60s, 10});
  for (int i = 0; i < 1000; ++i) limiter.failed("198.51.100." + std::to_string(i));
  // The newest addresses are still locked out; the table did not grow past 10 (the oldest went).
  EXPECT_EQ(limiter.locked_for("198.51.100.999"), 60s);
  EXPECT_EQ(limiter.locked_for("198.51.100.0"), 0s);
}

}  // namespace
}  // namespace carehub::web
