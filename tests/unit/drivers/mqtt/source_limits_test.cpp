// What an MQTT publisher can make the source hold or write (issue 12, defect 9): the topic is the
// publisher's choice (up to 64 KiB, a new one per message if it likes), so it must neither key the log rate
// limiter nor go whole into a log line or the status.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "drivers/mqtt/source.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::mqtt {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);  // poll interval of a condition with a deadline
  }
  return true;
}

// Stores nothing: oversize messages never reach it.
class NullSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading>) override {
    return ready(Result<IngestResult>{IngestResult{{"uid"}, {IngestStatus::stored}, {""}}});
  }
  std::future<Result<void>> upsert_device(Device) override { return ready(Result<void>{}); }
  std::future<Result<bool>> remove_device(std::string) override { return ready(Result<bool>{false}); }

 private:
  template <class T>
  static std::future<T> ready(T v) {
    std::promise<T> p;
    p.set_value(std::move(v));
    return p.get_future();
  }
};

class AnMqttSourceUnderAFloodOfTopics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  std::vector<std::string> lines_with(std::string_view text) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& l : lines_) {
      if (l.find(text) != std::string::npos) out.push_back(l);
    }
    return out;
  }

  test::TempDir dir_;
  SystemClock clock_;
  Counters counters_;
  NullSink sink_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  Logger log_{LogLevel::info, [this](LogLevel, std::string_view, std::string_view m) {
                std::lock_guard lock(mu_);
                lines_.emplace_back(m);
              }};
};

TEST_F(AnMqttSourceUnderAFloodOfTopics, RateLimitsOversizeMessagesPerSubscriptionAndShortensTheTopic) {
  std::filesystem::create_directories(dir_.file("broker"));
  test::MosquittoPeer broker(dir_.file("broker"));
  SourceContext context{sink_, clock_, log_, counters_, "hub-test", "patient-1"};
  const nlohmann::json config{{"broker", broker.url()},
                              {"client_id", "carehub-flood"},
                              {"retry_base_ms", 10},
                              {"retry_cap_ms", 100},
                              {"subscriptions", {{{"topic", "home/#"}, {"format", "reading-json"}}}}};
  auto source = make_mqtt_source(config, "/sources/mqtt", context);
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->start());
  ASSERT_TRUE(eventually([&] { return (*source)->status()["state"] == "connected"; })) << (*source)->status().dump();

  constexpr int kTopics = 30;
  const std::string oversize(SourceConfig{}.max_payload_bytes + 1, 'x');
  for (int i = 0; i < kTopics; ++i) {
    // A long topic of the publisher's choosing, a new one each time.
    ASSERT_TRUE(broker.publish("home/" + std::string(4000, 'a') + "/" + std::to_string(i), oversize));
  }
  ASSERT_TRUE(eventually([&] { return counters_.get("mqtt_oversize").load() == kTopics; }))
      << counters_.get("mqtt_oversize").load();

  // Every message is counted, but one rate limit covers the subscription: not one line per topic.
  const auto dropped = lines_with("event=message-dropped");
  EXPECT_EQ(dropped.size(), 1u);
  for (const auto& l : dropped) EXPECT_LT(l.size(), 1024u) << l.substr(0, 300);
  EXPECT_LT((*source)->status()["last_error"].get<std::string>().size(), 1024u);
  (*source)->stop();
}

}  // namespace
}  // namespace carehub::mqtt
