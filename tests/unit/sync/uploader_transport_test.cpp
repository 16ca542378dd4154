// How requests travel: bearer tokens refreshed on a 401, gzip and its fallback, and the bundle size
// adapting to 413s and timeouts. Same fixture as uploader_test.cpp.
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace fixture;

// ---- Credentials ----

class CountingToken final : public TokenSource {
 public:
  Result<std::string> token() override { return "token-" + std::to_string(generation_); }
  Result<std::string> refresh(const std::string&) override {
    ++generation_;
    ++refreshes;
    return token();
  }
  std::atomic<int> refreshes{0};

 private:
  std::atomic<int> generation_{1};
};

TEST_F(UploaderTest, A401FetchesANewTokenOnceAndResends) {
  const auto uids = ingest({heart_rate(70, 0)});
  auto token = std::make_shared<CountingToken>();
  server->on_raw_request([](const HttpRequest& req, const json&) -> std::optional<Result<HttpResponse>> {
    if (test::has_header(req, "Authorization", "Bearer token-1")) return Result<HttpResponse>(HttpResponse{401, "expired", {}});
    return std::nullopt;
  });
  auto o = options();
  o.auth = token;
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(token->refreshes, 1);
  EXPECT_EQ(stored(uids[0]).state, SyncState::synced);
  EXPECT_EQ(counters.get("sync_token_refreshes").load(), 1u);
}

TEST_F(UploaderTest, ARefusedFreshTokenKeepsEverythingPendingAndBacksOff) {
  ingest({heart_rate(70, 0)});
  auto token = std::make_shared<CountingToken>();
  server->on_raw_request([](const HttpRequest&, const json&) -> std::optional<Result<HttpResponse>> {
    return Result<HttpResponse>(HttpResponse{401, "no", {}});
  });
  auto o = options();
  o.auth = token;
  start_uploader(o);
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  uploader->stop();
  EXPECT_GE(token->refreshes, 1);
  EXPECT_EQ(counts().pending, 1);
  EXPECT_EQ(counts().dead, 0);
  EXPECT_THAT(uploader->status().last_error, HasSubstr("HTTP 401"));
}

// ---- Compression ----

TEST_F(UploaderTest, GzipsLargeBodiesAndFallsBackToPlainOn415) {
  std::vector<Reading> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(heart_rate(60 + i, i));
  ingest(rs);
  std::atomic<int> refused{0};
  server->on_raw_request([&](const HttpRequest& req, const json&) -> std::optional<Result<HttpResponse>> {
    if (test::has_header(req, "Content-Encoding", "gzip")) {
      ++refused;
      return Result<HttpResponse>(HttpResponse{415, "gzip not supported", {}});
    }
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(refused, 1) << "one refusal must switch compression off for the rest of the run";
  EXPECT_FALSE(uploader->status().gzip);
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(counts().dead, 0);
}

TEST_F(UploaderTest, SendsGzipBodiesTheServerAccepts) {
  std::vector<Reading> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(heart_rate(60 + i, i));
  ingest(rs);
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  bool zipped = false;
  for (const auto& req : server->state().requests) {
    if (test::has_header(req, "Content-Encoding", "gzip")) {
      zipped = true;
      EXPECT_LT(req.body.size(), test::request_body(req).size());
    }
  }
  EXPECT_TRUE(zipped);
  EXPECT_EQ(counts().pending, 0);
}

// ---- Bundle size ----

TEST_F(UploaderTest, HalvesTheBundleOn413AndGrowsBackAfterGoodBundles) {
  std::vector<Reading> rs;
  for (int i = 0; i < 400; ++i) rs.push_back(heart_rate(60 + i % 50, i));
  ingest(rs);
  server->on_request([](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (bundle["entry"].size() > 25) return Result<HttpResponse>(HttpResponse{413, "too large", {}});
    return std::nullopt;
  });
  auto o = options();
  o.bundle_size = 100;
  o.compression = Compression::off;  // about size; a 413 to a gzip body is first retried plain
  start_uploader(o);
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(counts().pending, 0);
  EXPECT_EQ(counts().dead, 0) << "a 413 is about size, not about any entry";
  std::vector<std::size_t> sizes;
  for (const auto& b : observation_bundles(server->state())) sizes.push_back(b["entry"].size());
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_EQ(sizes[0], 100u);
  EXPECT_EQ(sizes[1], 50u);
  EXPECT_EQ(sizes[2], 25u);
  // After kGrowAfter good bundles of 25 it tries 50 again (and is refused again).
  EXPECT_EQ(sizes[2 + Uploader::kGrowAfter], 50u);
}

TEST_F(UploaderTest, DeadLettersASingleEntryTooLargeEvenAlone) {
  const auto uids = ingest({heart_rate(70, 0), heart_rate(71, 1)});
  const auto big = identifier(uids[0]);
  server->on_request([&](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (has_identifier(bundle, big)) return Result<HttpResponse>(HttpResponse{413, "too large", {}});
    return std::nullopt;
  });
  start_uploader();
  ASSERT_TRUE(uploader->wait_idle(kPatience));
  EXPECT_EQ(stored(uids[0]).state, SyncState::dead);
  EXPECT_THAT(stored(uids[0]).dead_reason, HasSubstr("413"));
  EXPECT_EQ(stored(uids[1]).state, SyncState::synced);
}

TEST_F(UploaderTest, ShrinksTheBundleAfterATimeout) {
  std::vector<Reading> rs;
  for (int i = 0; i < 60; ++i) rs.push_back(heart_rate(60, i));
  ingest(rs);
  std::atomic<bool> timed_out{false};
  server->on_request([&](const json& bundle) -> std::optional<Result<HttpResponse>> {
    if (has_resource(bundle, "Observation") && !timed_out.exchange(true)) {
      return Result<HttpResponse>(make_error(Errc::timeout, "http: operation timed out"));
    }
    return std::nullopt;
  });
  auto o = options();
  o.bundle_size = 40;
  start_uploader(o);
  uploader->wake();
  ASSERT_TRUE(wait_failure_logged());
  ASSERT_TRUE(uploader->wait_idle(kPatience));  // skips the backoff wait on the manual clock
  const auto bundles = observation_bundles(server->state());
  ASSERT_GE(bundles.size(), 2u);
  EXPECT_EQ(bundles[0]["entry"].size(), 40u);
  EXPECT_EQ(bundles[1]["entry"].size(), 20u);
  EXPECT_EQ(counts().pending, 0);
}

}  // namespace
}  // namespace carehub::sync
