#pragma once
// The live openHAB source ("openhab" under /sources in carehubd.json): a Server-Sent Events client on
// GET /rest/events that turns item state changes of mapped items into readings.
//
// One thread per source. Each round: open the stream (topic filter for the mapped items), read
// GET /rest/items for the current states once the stream is open (openHAB replays nothing), then follow
// events. A stream that stays silent past the keep-alive deadline (interval + margin from the server's
// `alive` events, 3.4+; the silence timeout before the first one, or on older servers) is dead. Any end
// is followed by a reconnect after an exponential backoff with full jitter. All waits read the injected
// Clock. Readings are handed to the sink and waited for, so a slow disk slows the stream, never drops it.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "core/source.hpp"
#include "drivers/openhab/config.hpp"
#include "drivers/openhab/http.hpp"
#include "drivers/openhab/session.hpp"

namespace carehub::openhab {

// The SourceFactory for daemon/sources.cpp: validates `config` (at `path`), no I/O.
carehub::Result<std::unique_ptr<Source>> make_openhab_source(const nlohmann::json& config, const std::string& path,
                                                     const SourceContext& context);

class OpenhabSource final : public Source {
 public:
  OpenhabSource(ClientConfig config, const SourceContext& context);
  ~OpenhabSource() override;

  std::string name() const override { return "openhab"; }
  // Reads the secret files and starts the thread. Unreadable secrets are an error (the source cannot
  // work); an unreachable server is not (the thread retries and status() says so).
  carehub::Result<void> start() override;
  void stop() override;
  nlohmann::json status() const override;

 private:
  void run();
  void ingest(std::vector<carehub::Reading> readings);
  bool wait_backoff(std::chrono::milliseconds delay);
  void set_state(std::string state);

  ClientConfig config_;
  SourceContext context_;
  HttpSettings settings_;
  std::string events_url_;
  std::string items_url_;
  Session session_;
  HttpStream http_;
  std::mt19937_64 rng_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  // status(), guarded by mu_
  std::string state_ = "stopped";
  std::string last_error_;
  std::optional<TimePoint> connected_since_;
  std::optional<TimePoint> last_event_;
  std::optional<TimePoint> last_reading_;
  std::uint64_t connects_ = 0;
  std::uint64_t readings_ = 0;
  std::optional<std::chrono::seconds> keepalive_;
};

}  // namespace carehub::openhab
