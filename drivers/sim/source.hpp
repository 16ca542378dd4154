#pragma once
// The simulator ("sim" under /sources in carehubd.json): emits the configured readings, one round at start
// and one every `interval_s` after, timed by the injected Clock. For demos and tests, and the driver to copy
// when adding one (docs/adding-a-driver.md): it has every part of the Source contract and nothing else.
//
// One thread. Each round hands its readings to the sink and waits for the answer, so a slow store slows the
// simulator instead of piling readings up; what the sink refuses is counted and logged, never retried.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "core/source.hpp"
#include "drivers/sim/config.hpp"

namespace carehub::sim {

// The SourceFactory for daemon/sources.cpp: validates `config` (at `path`), no I/O.
[[nodiscard]] Result<std::unique_ptr<Source>> make_sim_source(const nlohmann::json& config, const std::string& path,
                                                              const SourceContext& context);

class SimSource final : public Source {
 public:
  SimSource(SimConfig config, const SourceContext& context);
  ~SimSource() override;

  std::string name() const override { return "sim"; }
  Result<void> start() override;
  void stop() override;
  // {"state", "device", "interval_s", "rounds", "readings", "last_reading", "last_error"}
  nlohmann::json status() const override;

 private:
  void run();
  void emit_round();

  SimConfig config_;
  SourceContext context_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  // status(), guarded by mu_
  std::string state_ = "stopped";
  std::uint64_t rounds_ = 0;
  std::uint64_t readings_ = 0;  // stored or duplicate
  std::optional<TimePoint> last_reading_;
  std::string last_error_;
};

}  // namespace carehub::sim
