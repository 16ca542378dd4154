#pragma once
// The fixture of the subscriber tests (session_test.cpp) and the mqtt source's tests against a real broker
// (session_source_test.cpp): a mosquitto per test on a free loopback port, an Inbox that completes
// Deliveries by hand or at once. Everything is in an unnamed namespace: each test file gets its own copy.
#include "drivers/mqtt/session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "drivers/mqtt/source.hpp"
#include "tests/unit/drivers/mqtt/hand_sink.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::mqtt {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test::HandSink;
using test::MosquittoPeer;
using test::TempDir;

const TimePoint kT0 = from_epoch_ms(1795000000000);

// Polls `done` until it holds or `timeout` passes: a condition with a deadline, never a fixed sleep.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The owner side of a Subscriber: records every message and answers each with a Delivery the test completes
// by hand (manual) or that completes at once with `decide`'s verdict.
class Inbox {
 public:
  bool manual = false;
  std::function<Result<void>(const Message&, std::size_t index)> decide;

  Delivery handle(const Message& m) {
    auto promise = std::make_shared<std::promise<Result<void>>>();
    auto future = std::make_shared<std::shared_future<Result<void>>>(promise->get_future().share());
    std::size_t index = 0;
    {
      std::lock_guard lock(mu_);
      index = messages_.size();
      messages_.push_back(m);
      promises_.push_back(promise);
    }
    cv_.notify_all();
    if (!manual) promise->set_value(decide ? decide(m, index) : Result<void>{});
    return Delivery{[future](std::chrono::milliseconds d) { return future->wait_for(d) == std::future_status::ready; },
                    [future] { return future->get(); }};
  }
  bool wait_count(std::size_t n, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return messages_.size();
  }
  Message at(std::size_t i) {
    std::lock_guard lock(mu_);
    return messages_.at(i);
  }
  void complete(std::size_t i, Result<void> r = {}) {
    std::shared_ptr<std::promise<Result<void>>> p;
    {
      std::lock_guard lock(mu_);
      p = promises_.at(i);
    }
    p->set_value(std::move(r));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
  std::vector<std::shared_ptr<std::promise<Result<void>>>> promises_;
};

class ASubscriber : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }  // as carehubd does

  MosquittoPeer& broker(test::MosquittoOptions options = {}) {
    std::filesystem::create_directories(dir_.file("broker"));
    broker_ = std::make_unique<MosquittoPeer>(dir_.file("broker"), std::move(options));
    return *broker_;
  }

  SubscriberSettings settings(const std::string& url, const std::string& client_id, int qos = 1) {
    SubscriberSettings s;
    s.connection.broker = url;
    s.connection.client_id = client_id;
    s.connection.keepalive = 5s;
    s.connection.connect_timeout = 5s;
    s.connection.operation_timeout = 5s;
    s.connection.backoff = {10ms, 100ms};
    s.topics = {{"t/#", qos}};
    return s;
  }

  std::unique_ptr<Subscriber> start(SubscriberSettings s, Inbox& inbox, const Clock& clock) {
    auto made = Subscriber::create(std::move(s), clock, log_, "mqtt-test");
    EXPECT_TRUE(made) << made.error().message;
    if (!made) return nullptr;
    (*made)->on_message([&inbox](const Message& m) { return inbox.handle(m); });
    (*made)->start();
    return std::move(*made);
  }

  static bool connected(const Subscriber& s) { return s.status().state == "connected"; }

  TempDir dir_;
  std::unique_ptr<MosquittoPeer> broker_;
  SystemClock clock_;
  std::mutex log_mu_;
  std::vector<std::string> log_lines_;
  Logger log_{LogLevel::debug, [this](LogLevel, std::string_view, std::string_view m) {
                std::lock_guard lock(log_mu_);
                log_lines_.emplace_back(m);
              }};
  bool logged(std::string_view text) { return times_logged(text) > 0; }
  std::size_t times_logged(std::string_view text) {
    std::lock_guard lock(log_mu_);
    std::size_t n = 0;
    for (const auto& l : log_lines_) {
      if (l.find(text) != std::string::npos) ++n;
    }
    return n;
  }
};

// The payloads of inbox messages [from, to), and whether each came with DUP.
inline std::vector<std::pair<std::string, bool>> received(Inbox& inbox, std::size_t from, std::size_t to) {
  std::vector<std::pair<std::string, bool>> out;
  for (std::size_t i = from; i < to; ++i) out.emplace_back(inbox.at(i).payload, inbox.at(i).duplicate);
  return out;
}

constexpr std::string_view kHolding = "event=holding-next-message inflight=";

}  // namespace
}  // namespace carehub::mqtt
