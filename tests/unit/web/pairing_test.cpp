// Pairing codes and paired displays: what lets a tablet on the home network see the patient's data.
#include "web/server/pairing.hpp"

#include <gtest/gtest.h>

#include "core/json_check.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::web {
namespace {

using namespace std::chrono_literals;

TimePoint t0() { return *parse_rfc3339("2026-12-05T03:00:00Z"); }

TEST(PairingCodes, ACodeWorksOnceWithinItsTime) {
  ManualClock clock(t0());
  PairingCodes codes(clock, {300s, 5});
  EXPECT_FALSE(codes.current());
  EXPECT_FALSE(codes.confirm("000000"));
  auto code = codes.start();
  ASSERT_TRUE(code);
  ASSERT_EQ(code->size(), 6u);
  ASSERT_TRUE(codes.current());
  EXPECT_EQ(codes.current()->code, *code);
  EXPECT_TRUE(codes.confirm(*code));
  EXPECT_FALSE(codes.confirm(*code));  // used up
  EXPECT_FALSE(codes.current());
}

TEST(PairingCodes, AnExpiredCodeIsRefused) {
  ManualClock clock(t0());
  PairingCodes codes(clock, {300s, 5});
  auto code = codes.start();
  clock.advance(300s);
  EXPECT_FALSE(codes.current());
  EXPECT_FALSE(codes.confirm(*code));
}

TEST(PairingCodes, WrongGuessesVoidTheCode) {
  ManualClock clock(t0());
  PairingCodes codes(clock, {300s, 3});
  auto code = codes.start();
  const std::string wrong = *code == "111111" ? "222222" : "111111";
  EXPECT_FALSE(codes.confirm(wrong));
  EXPECT_FALSE(codes.confirm(wrong));
  EXPECT_FALSE(codes.confirm(wrong));
  EXPECT_FALSE(codes.confirm(*code));  // three wrong guesses: even the right one is refused now
}

TEST(DisplayRegistry, KnowsItsTokensKeepsOnlyDigestsAndRevokes) {
  test::TempDir dir;
  ManualClock clock(t0());
  const auto path = dir.path() / "displays.json";
  std::string token, id;
  {
    auto reg = DisplayRegistry::open(path.string(), clock);
    ASSERT_TRUE(reg) << reg.error().message;
    auto t = reg->add();
    ASSERT_TRUE(t);
    token = *t;
    EXPECT_TRUE(reg->known(token));
    EXPECT_FALSE(reg->known(std::string(64, '0')));
    EXPECT_FALSE(reg->known(""));
    id = reg->list().at(0).id;
  }
  auto text = read_text_file(path.string());
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(token), std::string::npos) << "the file must not hold a working cookie";
  auto reopened = DisplayRegistry::open(path.string(), clock);
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(reopened->known(token));  // survives a restart of carehub-web
  auto gone = reopened->revoke(id);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(*gone);
  EXPECT_FALSE(reopened->known(token));
  EXPECT_FALSE(*reopened->revoke(id));
}

}  // namespace
}  // namespace carehub::web
