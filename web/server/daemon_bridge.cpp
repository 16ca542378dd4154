#include "web/server/daemon_bridge.hpp"

#include <algorithm>

namespace carehub::web {

DaemonBridge::DaemonBridge(BridgeOptions options, EventHub& hub, const Clock& clock, Logger& log, Counters& counters)
    : options_(std::move(options)), hub_(hub), clock_(clock), log_(log), counters_(counters) {}

DaemonBridge::~DaemonBridge() { stop(); }

void DaemonBridge::start() {
  alerts_thread_ = std::thread([this] { alerts_loop(); });
  readings_thread_ = std::thread([this] { readings_loop(); });
}

void DaemonBridge::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (watching_) watching_->interrupt();
  }
  cv_.notify_all();
  if (alerts_thread_.joinable()) alerts_thread_.join();
  if (readings_thread_.joinable()) readings_thread_.join();
}

Result<nlohmann::json> DaemonBridge::call(const std::string& cmd, const nlohmann::json& args) const {
  auto client = daemon::ControlClient::connect(options_.socket);
  if (!client) return client.error();
  return client->call(cmd, args);
}

bool DaemonBridge::pause(std::chrono::milliseconds d) { return pause_until(clock_.monotonic() + d); }

bool DaemonBridge::pause_until(std::chrono::steady_clock::time_point t) {
  std::unique_lock lock(mu_);
  clock_.wait_until(lock, cv_, t, [this] { return stopping_.load(); });
  return !stopping_;
}

void DaemonBridge::set_reachable(bool up) {
  if (reachable_.exchange(up) == up) return;
  if (!up) counters_.add("daemon_disconnects");
  if (up) log_.notice("web", "daemon-reachable", {{"socket", options_.socket}});
  else log_.notice("web", "daemon-unreachable", {{"socket", options_.socket}});
  hub_.publish({"daemon", {{"reachable", up}}, true});
}

void DaemonBridge::alerts_loop() {
  auto backoff = options_.backoff_min;
  while (!stopping_) {
    auto client = daemon::ControlClient::connect(options_.socket);
    if (client) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        watching_ = &*client;
      }
      auto first = client->call("alerts.watch");
      if (first) {
        set_reachable(true);
        backoff = options_.backoff_min;
        for (;;) {
          auto line = client->next();
          if (!line) break;  // carehubd stopped, restarted or we were interrupted
          if (line->contains("lost")) hub_.publish({"resync", {{"reason", "alerts were dropped"}}, true});
          else hub_.publish({"alert", *line, true});
        }
      }
      std::lock_guard lock(mu_);
      watching_ = nullptr;
    }
    if (stopping_) return;
    // The backoff runs from the moment the connection was lost, before anyone hears of it: whoever
    // reacts to the "unreachable" event (a test advancing the clock) cannot push the retry further out.
    const auto retry_at = clock_.monotonic() + backoff;
    set_reachable(false);
    counters_.add("daemon_reconnects");
    if (!pause_until(retry_at)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

void DaemonBridge::readings_loop() {
  std::optional<std::int64_t> last_seq;  // unset: not yet known where the buffer ends
  auto backoff = options_.backoff_min;
  while (!stopping_) {
    std::chrono::milliseconds wait = options_.poll;
    if (!last_seq) {
      // Start at the newest reading: the page reads history itself, the stream brings what is new.
      auto newest = call("measurements", {{"limit", 1}});
      if (newest) {
        const auto& rows = (*newest)["readings"];
        last_seq = rows.empty() ? 0 : rows[0].value("seq", std::int64_t{0});
      }
    } else {
      auto rows = call("measurements", {{"after_seq", *last_seq}, {"limit", 200}, {"oldest_first", true}});
      if (rows) {
        const auto& list = (*rows)["readings"];
        for (const auto& r : list) {
          last_seq = std::max(*last_seq, r.value("seq", *last_seq));
          hub_.publish({"reading", r, true});
        }
        if (list.size() == 200) wait = std::chrono::milliseconds::zero();  // more waiting: read on
      } else if (rows.error().code != Errc::unavailable) {
        log_.warning("web", "readings-poll-failed", {{"error", rows.error().message}});
      }
    }
    if (!last_seq) {
      wait = backoff;
      backoff = std::min(backoff * 2, options_.backoff_max);
    } else {
      backoff = options_.backoff_min;
    }
    if (wait.count() > 0 && !pause(wait)) return;
  }
}

}  // namespace carehub::web
