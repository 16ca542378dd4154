#include "tests/bench/e2e_mqtt.hpp"

#include <mqtt/async_client.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tests/bench/e2e_workload.hpp"

namespace carehub::bench {

struct Publisher::Callback : ::mqtt::callback {
  std::mutex mu;
  std::condition_variable cv;
  std::int64_t outstanding = 0;
  void delivery_complete(::mqtt::delivery_token_ptr) override {
    std::lock_guard lock(mu);
    --outstanding;
    cv.notify_all();
  }
};

Publisher::Publisher(const std::string& broker_url, const std::string& client_id, int window)
    : callback_(std::make_unique<Callback>()),
      client_(std::make_unique<::mqtt::async_client>(broker_url, client_id, static_cast<::mqtt::iclient_persistence*>(nullptr))),
      window_(window) {
  client_->set_callback(*callback_);
  client_->connect(::mqtt::connect_options_builder().clean_session(true).max_inflight(window).finalize())->wait();
}

Publisher::~Publisher() {
  try {
    client_->disconnect()->wait();
  } catch (const ::mqtt::exception&) {
  }
}

void Publisher::publish(const std::string& topic, const std::string& payload) {
  {
    std::unique_lock lock(callback_->mu);
    callback_->cv.wait(lock, [&] { return callback_->outstanding < window_; });
    ++callback_->outstanding;
  }
  client_->publish(topic, payload.data(), payload.size(), 1, false);
}

void Publisher::wait_all() {
  std::unique_lock lock(callback_->mu);
  callback_->cv.wait(lock, [&] { return callback_->outstanding == 0; });
}

struct Display::Callback : ::mqtt::callback {
  Display* owner;
  explicit Callback(Display* d) : owner(d) {}
  void message_arrived(::mqtt::const_message_ptr m) override {
    owner->on_message(m->get_topic(), m->to_string(), m->is_retained());
  }
};

Display::Display(const std::string& broker_url, const std::string& client_id, const std::string& prefix)
    : prefix_(prefix),
      callback_(std::make_unique<Callback>(this)),
      client_(std::make_unique<::mqtt::async_client>(broker_url, client_id, static_cast<::mqtt::iclient_persistence*>(nullptr))) {
  client_->set_callback(*callback_);
  client_->connect(::mqtt::connect_options_builder().clean_session(true).finalize())->wait();
  client_->subscribe(prefix_ + "/+", 1)->wait();
}

Display::~Display() {
  try {
    client_->disconnect()->wait();
  } catch (const ::mqtt::exception&) {
  }
}

void Display::on_message(const std::string& topic, const std::string& payload, bool retained) {
  const auto now = Steady::now();
  // Retained copies are what an earlier scenario left on the broker: a live alert arrives unretained.
  if (retained || payload.empty()) return;
  const auto leaf = topic.substr(topic.rfind('/') + 1);
  if (leaf == "open" || leaf == "ack") return;
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) return;
  const auto id = j.value("id", std::string{});
  const auto state = j.value("state", std::string{});
  bool ack = false;
  {
    std::lock_guard lock(mu_);
    if (state == "open" && !ids_.count(id)) {
      const auto seq = seq_from_alert_text(j.value("text", std::string{}));
      if (!seq) {
        ++unmatched_;
      } else {
        ids_[id] = *seq;
        seen_[*seq] = Seen{now, std::nullopt};
      }
      ack = true;
    } else if (state == "acknowledged") {
      if (auto it = ids_.find(id); it != ids_.end() && !seen_[it->second].acked) {
        seen_[it->second].acked = now;
        ++acked_;
        cv_.notify_all();
      }
    }
  }
  // The display's button, pressed at once: the bare id, QoS 1. Not waited for on Paho's callback thread.
  if (ack) client_->publish(prefix_ + "/ack", id.data(), id.size(), 1, false);
}

bool Display::wait_acknowledged(std::int64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    auto it = seen_.find(seq);
    return it != seen_.end() && it->second.acked.has_value();
  });
}

bool Display::wait_all_acknowledged(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return acked_ >= seen_.size(); });
}

std::map<std::int64_t, Display::Seen> Display::seen() {
  std::lock_guard lock(mu_);
  return seen_;
}

std::size_t Display::unmatched() {
  std::lock_guard lock(mu_);
  return unmatched_;
}

}  // namespace carehub::bench
