#include "drivers/sim/source.hpp"

#include "core/thread_name.hpp"
#include "core/time_json.hpp"

namespace carehub::sim {
namespace {

constexpr std::string_view kLog = "sim";

}  // namespace

Result<std::unique_ptr<Source>> make_sim_source(const nlohmann::json& config, const std::string& path,
                                                const SourceContext& context) {
  auto parsed = parse_sim_config(config, path);
  if (!parsed) return parsed.error();
  return std::unique_ptr<Source>(std::make_unique<SimSource>(std::move(*parsed), context));
}

SimSource::SimSource(SimConfig config, const SourceContext& context)
    : config_(std::move(config)), context_(context) {}

SimSource::~SimSource() { stop(); }

Result<void> SimSource::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return make_error(Errc::invalid_argument, "sim: already started");
  stopping_ = false;
  state_ = "running";
  thread_ = std::thread([this] {
    name_this_thread("sim");
    run();
  });
  context_.log.info(kLog, "started", {{"device", config_.device},
                                      {"interval_s", std::to_string(config_.interval.count())}});
  return {};
}

void SimSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  state_ = "stopped";
}

void SimSource::run() {
  // Deadlines on the monotonic clock: setting the hub's wall clock neither skips nor repeats a round.
  auto next = context_.clock.monotonic();
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (context_.clock.wait_until(lock, cv_, next, [this] { return stopping_; })) return;
    }
    emit_round();
    next += config_.interval;
  }
}

void SimSource::emit_round() {
  const auto now = context_.clock.now();
  std::vector<Reading> round;
  for (const auto& sim : config_.readings) {
    Reading r;
    r.kind = sim.kind;
    r.device = config_.device;
    r.time = now;
    r.received = now;
    r.source = "sim";
    r.values = sim.values;
    round.push_back(std::move(r));
  }
  const auto n = round.size();
  Result<IngestResult> outcome = make_error(Errc::internal, "no answer");
  try {
    outcome = context_.sink.ingest(std::move(round)).get();
  } catch (const std::future_error& e) {  // the pipeline went away without answering
    outcome = make_error(Errc::unavailable, std::string("the pipeline did not answer: ") + e.what());
  }
  std::uint64_t ok = 0;
  std::string error;
  if (!outcome) {
    context_.counters.add("sim_ingest_errors");
    error = "not stored: " + outcome.error().message;
    context_.log.rate_limited(LogLevel::error, kLog, "sim:ingest", "readings-not-stored", {{"error", error}});
  } else {
    for (std::size_t i = 0; i < outcome->status.size() && i < n; ++i) {
      if (outcome->status[i] != IngestStatus::rejected) {
        ++ok;
        continue;
      }
      context_.counters.add("sim_rejected");
      // As in every driver, the reason (it may quote values) only at debug level, never in status.
      error = "a reading was rejected by the pipeline (the reason is logged at debug level)";
      context_.log.rate_limited(LogLevel::warning, kLog, "sim:rejected", "reading-rejected");
      if (i < outcome->errors.size()) context_.log.debug(kLog, "reading-rejected-detail", {{"error", outcome->errors[i]}});
    }
  }
  context_.counters.add("sim_readings", ok);
  std::lock_guard lock(mu_);
  ++rounds_;
  readings_ += ok;
  if (ok) last_reading_ = now;
  if (!error.empty()) last_error_ = error;
}

nlohmann::json SimSource::status() const {
  std::lock_guard lock(mu_);
  return {{"state", state_},
          {"device", config_.device},
          {"interval_s", config_.interval.count()},
          {"rounds", rounds_},
          {"readings", readings_},
          {"last_reading", optional_time_json(last_reading_)},
          {"last_error", last_error_}};
}

}  // namespace carehub::sim
