// carehubd's lifecycle in-process (defects 8 and 10 of issue 12): `sync now --wait` over the control
// socket while reload() rebuilds the uploader under it and replaces the configuration `status` reads,
// then stop() while it still waits. The FHIR server is a loopback port that refuses connections, so the
// wait cannot finish. Meant for the sanitizer passes as much as for the plain run: before the fix, ASan
// saw the uploader freed under the waiter (heap-use-after-free in Uploader::wait_idle).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <thread>

#include "core/clock.hpp"
#include "daemon/control_client.hpp"
#include "daemon/daemon.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

using namespace std::chrono_literals;

// A loopback TCP port bound but not listening: connects to it are refused for as long as it is held.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  int port() const { return port_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

class ADaemonWithAWaitingSyncNow : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(refusing_.port(), 0);
    config_json_ = {
        {"hub", {{"id", "hub-life-1"}, {"patient", "Patient/p-life"}}},
        {"store", {{"path", dir_.file("buffer.db")}, {"key_file", test::write_buffer_key(dir_)}}},
        {"control", {{"socket", dir_.file("ctl.sock")}, {"group", ""}}},
        {"fhir",
         {{"base_url", "http://127.0.0.1:" + std::to_string(refusing_.port()) + "/fhir/R4"},
          {"retry_base_ms", 50},
          {"retry_cap_ms", 200}}},
        {"log", {{"level", "info"}}},
    };
    auto d = Daemon::start(config(), log_, clock_);
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
    const nlohmann::json reading = {{"kind", "heart-rate"},
                                    {"time", format_rfc3339(clock_.now() - 1h)},
                                    {"values", {{"value", 64}}}};
    auto r = call("measure.add", {{"readings", {reading}}});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ((*r)["results"][0]["status"], "stored") << r->dump();
  }
  void TearDown() override {
    if (daemon_) daemon_->stop();
  }

  Config config() {
    auto c = parse_config(config_json_.dump(), dir_.file("carehubd.json"));
    EXPECT_TRUE(c) << c.error().message;
    return *c;
  }

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
    auto c = ControlClient::connect(dir_.file("ctl.sock"));
    if (!c) return c.error();
    return c->call(cmd, args);
  }
  std::uint64_t control_requests() {
    auto s = call("status");
    return s ? (*s)["counters"].value("control_requests", std::uint64_t{0}) : 0;
  }

  // `sync now --wait` for a minute (far beyond any bound below; before the fix a stop waited it out).
  std::future<Result<nlohmann::json>> start_waiter() {
    return std::async(std::launch::async, [this] { return call("sync.now", {{"wait_s", 60}}); });
  }
  // Until carehubd has taken `n` requests besides these status polls since `before`.
  bool wait_taken(std::uint64_t before, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (std::uint64_t polls = 1; std::chrono::steady_clock::now() < deadline; ++polls) {
      if (control_requests() >= before + polls + n) return true;
    }
    return false;
  }

  test::TempDir dir_;
  RefusingPort refusing_;
  nlohmann::json config_json_;
  SystemClock clock_;
  Logger log_{LogLevel::info, [](LogLevel, std::string_view, std::string_view) {}};
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ADaemonWithAWaitingSyncNow, KeepsWaitingAcrossReloadsThatReplaceTheUploaderAndTheConfiguration) {
  constexpr int kWaiters = 4;
  const auto before = control_requests();
  std::vector<std::future<Result<nlohmann::json>>> waiters;
  for (int i = 0; i < kWaiters; ++i) waiters.push_back(start_waiter());
  ASSERT_TRUE(wait_taken(before, kWaiters));

  // `status` on another thread all along: it reads the configuration and the uploader a reload replaces.
  std::atomic<bool> done{false};
  std::atomic<int> statuses{0};
  std::thread reader([&] {
    while (!done) {
      auto s = call("status");
      EXPECT_TRUE(s) << s.error().message;
      if (s) ++statuses;
    }
  });
  for (int i = 0; i < 30; ++i) {
    // Each reload takes a different metrics interval, so the configuration really changes.
    config_json_["metrics"] = {{"interval_s", 10 + i}};
    daemon_->reload(config());
  }
  done = true;
  reader.join();
  EXPECT_GT(statuses.load(), 0);

  for (auto& w : waiters) {
    ASSERT_EQ(w.wait_for(0s), std::future_status::timeout) << "a reload answered a waiter";
  }
  auto s = call("status");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)["metrics"]["interval_s"], 39);

  // And stop() answers them.
  auto stopped = std::async(std::launch::async, [this] { daemon_->stop(); });
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready);
  for (auto& w : waiters) {
    ASSERT_EQ(w.wait_for(10s), std::future_status::ready);
    const auto r = w.get();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("stopping"), std::string::npos) << r.error().message;
  }
}

TEST_F(ADaemonWithAWaitingSyncNow, StopsWithinTheBoundAndTellsTheWaiterItIsStopping) {
  const auto before = control_requests();
  auto waiter = start_waiter();
  ASSERT_TRUE(wait_taken(before, 1));

  const auto t0 = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [this] { daemon_->stop(); });
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready) << "stop() is held up by the waiter";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready);
  const auto r = waiter.get();
  ASSERT_FALSE(r) << r->dump();
  EXPECT_NE(r.error().message.find("stopping"), std::string::npos) << r.error().message;
  // Nothing is lost by stopping: the reading waits in the buffer for the next start.
  StoreOptions store;
  store.path = dir_.file("buffer.db");
  store.key = test::test_buffer_key();
  auto reader = StoreReader::open(store);
  ASSERT_TRUE(reader) << reader.error().message;
  auto counts = (*reader)->counts();
  ASSERT_TRUE(counts) << counts.error().message;
  EXPECT_EQ(counts->pending, 1);
}

}  // namespace
}  // namespace carehub::daemon
