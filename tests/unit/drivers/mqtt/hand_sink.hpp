#pragma once
// A ReadingSink whose futures the test resolves by hand: the store's commit, under the test's control.
// Shared by the subscriber and the mqtt source tests (both against a real mosquitto).
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "core/source.hpp"

namespace carehub::test {

class HandSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading> readings) override {
    auto promise = std::make_shared<std::promise<Result<IngestResult>>>();
    auto f = promise->get_future();
    {
      std::lock_guard lock(mu_);
      batches_.push_back(std::move(readings));
      promises_.push_back(promise);
    }
    cv_.notify_all();
    return f;
  }
  std::future<Result<void>> upsert_device(Device) override { return ready(Result<void>{}); }
  std::future<Result<bool>> remove_device(std::string) override { return ready(Result<bool>{false}); }

  bool wait_count(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(15), [&] { return batches_.size() >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return batches_.size();
  }
  Reading reading(std::size_t i) {
    std::lock_guard lock(mu_);
    return batches_.at(i).at(0);
  }
  void resolve(std::size_t i, Result<IngestResult> r) {
    std::shared_ptr<std::promise<Result<IngestResult>>> p;
    {
      std::lock_guard lock(mu_);
      p = promises_.at(i);
    }
    p->set_value(std::move(r));
  }
  static IngestResult stored() { return IngestResult{{"uid"}, {IngestStatus::stored}, {""}}; }

 private:
  template <class T>
  static std::future<T> ready(T v) {
    std::promise<T> p;
    p.set_value(std::move(v));
    return p.get_future();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Reading>> batches_;
  std::vector<std::shared_ptr<std::promise<Result<IngestResult>>>> promises_;
};

}  // namespace carehub::test
