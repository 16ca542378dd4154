#include "drivers/openhab/source.hpp"

#include "core/secret.hpp"
#include "core/thread_name.hpp"
#include "core/time_json.hpp"

namespace carehub::openhab {
namespace {

constexpr std::string_view kLog = "openhab";
// A connection that lasted this long counts as healthy: the next failure starts the backoff afresh.
constexpr std::chrono::seconds kHealthy{30};

// A relative name is a systemd credential ($CREDENTIALS_DIRECTORY), as for every secret (core/secret.hpp).
carehub::Result<std::string> read_secret(const std::string& name, std::string_view what) {
  auto secret = carehub::read_secret(name);
  if (!secret) return carehub::make_error(secret.error().code, std::string(what) + ": " + secret.error().message);
  return secret;
}

}  // namespace

carehub::Result<std::unique_ptr<Source>> make_openhab_source(const nlohmann::json& config, const std::string& path,
                                                     const SourceContext& context) {
  auto parsed = parse_client_config(config, path);
  if (!parsed) return parsed.error();
  return std::unique_ptr<Source>(std::make_unique<OpenhabSource>(std::move(*parsed), context));
}

OpenhabSource::OpenhabSource(ClientConfig config, const SourceContext& context)
    : config_(std::move(config)),
      context_(context),
      events_url_(config_.url + "/rest/events?topics=" + topic_filter(config_.mapping)),
      items_url_(config_.url + "/rest/items"),
      session_(config_.mapping, context_.log, context_.counters, SseLimits{}, config_.max_held_events),
      rng_(std::random_device{}()) {}

OpenhabSource::~OpenhabSource() { stop(); }

carehub::Result<void> OpenhabSource::start() {
  HttpSettings s;
  s.verify_tls = config_.verify_tls;
  s.ca_file = config_.ca_file;
  s.connect_timeout = config_.connect_timeout;
  s.request_timeout = config_.request_timeout;
  const auto& auth = config_.auth;
  if (auth.kind == AuthKind::bearer || auth.kind == AuthKind::cloud) {
    auto token = read_secret(auth.token_file, "auth.token_file");
    if (!token) return token.error();
    // The cloud proxy takes the account in Basic auth and passes the local API token on in its own header.
    s.headers.push_back((auth.kind == AuthKind::bearer ? "Authorization: Bearer " : "X-OPENHAB-TOKEN: ") + *token);
  }
  if (auth.kind == AuthKind::basic || auth.kind == AuthKind::cloud) {
    auto password = read_secret(auth.password_file, "auth.password_file");
    if (!password) return password.error();
    s.userpwd = auth.username + ":" + *password;
  }
  if (!config_.verify_tls) {
    context_.log.warning(kLog, "tls-verification-off", {{"setting", "tls_verify=false"}, {"url", config_.url}});
  }
  settings_ = std::move(s);
  {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return {};
    stopping_ = false;
    state_ = "connecting";
  }
  thread_ = std::thread([this] {
    name_this_thread("openhab");
    run();
  });
  return {};
}

void OpenhabSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  http_.wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  state_ = "stopped";
}

void OpenhabSource::set_state(std::string state) {
  std::lock_guard lock(mu_);
  state_ = std::move(state);
}

void OpenhabSource::ingest(std::vector<carehub::Reading> readings) {
  if (readings.empty()) return;
  const auto n = readings.size();
  // Waiting for the commit gives back-pressure: a slow disk slows reading the socket, nothing is dropped.
  auto stored = context_.sink.ingest(std::move(readings)).get();
  if (!stored) {
    context_.counters.add("openhab_ingest_errors");
    context_.log.rate_limited(LogLevel::error, kLog, "openhab:ingest", "readings-not-stored", {{"error", stored.error().message}});
    return;
  }
  std::uint64_t ok = 0;
  for (std::size_t i = 0; i < stored->status.size(); ++i) {
    if (stored->status[i] == IngestStatus::rejected) {
      context_.counters.add("openhab_rejected");
      // The refusal quotes the values it found implausible: those only at debug level.
      // The reason may quote the reading's values: patient data, so only at debug level.
      context_.log.rate_limited(LogLevel::warning, kLog, "openhab:rejected", "reading-rejected");
      context_.log.debug(kLog, "reading-rejected-detail", {{"error", stored->errors[i]}});
    } else {
      ++ok;
    }
  }
  std::lock_guard lock(mu_);
  readings_ += ok;
  if (ok) last_reading_ = context_.clock.now();
  (void)n;
}

bool OpenhabSource::wait_backoff(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  const auto deadline = context_.clock.monotonic() + delay;
  context_.clock.wait_until(lock, cv_, deadline, [this] { return stopping_; });
  return !stopping_;
}

void OpenhabSource::run() {
  int failures = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    session_.begin();
    auto last_activity = context_.clock.monotonic();
    std::optional<std::chrono::steady_clock::time_point> opened_at;
    std::string why;  // set when this side ends the stream
    StreamHandlers h;
    h.on_open = [&] {
      opened_at = last_activity = context_.clock.monotonic();
      std::lock_guard lock(mu_);
      state_ = "connected";
      connected_since_ = context_.clock.now();
      ++connects_;
    };
    h.on_data = [&](std::string_view bytes) {
      last_activity = context_.clock.monotonic();
      const auto now = context_.clock.now();
      std::vector<carehub::Reading> out;
      session_.feed(bytes, now, out);
      {
        std::lock_guard lock(mu_);
        last_event_ = now;
        keepalive_ = session_.keepalive_interval();
        if (stopping_) return false;
      }
      ingest(std::move(out));
      return true;
    };
    h.on_snapshot = [&](carehub::Result<std::string> body) {
      std::vector<carehub::Reading> out;
      if (body) {
        auto loaded = session_.load_items(*body, context_.clock.now(), out);
        if (!loaded) why = loaded.error().message;
      } else {
        why = body.error().message;
      }
      if (!why.empty()) context_.counters.add("openhab_snapshot_errors");
      ingest(std::move(out));
    };
    h.keep_going = [&] {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return false;
      }
      if (!why.empty()) return false;  // the item list failed: retry the whole round
      const auto interval = session_.keepalive_interval();
      const auto allowed = interval ? std::chrono::duration_cast<std::chrono::milliseconds>(*interval + config_.keepalive_margin)
                                    : std::chrono::duration_cast<std::chrono::milliseconds>(config_.silence_timeout);
      if (context_.clock.monotonic() - last_activity > allowed) {
        why = interval ? "no keep-alive for " + std::to_string(allowed.count() / 1000) + " s (the server promised one every " +
                             std::to_string(interval->count()) + " s): the stream is dead"
                       : "no data for " + std::to_string(allowed.count() / 1000) + " s: the stream is dead";
        context_.counters.add("openhab_dead_streams");
        return false;
      }
      return true;
    };
    auto ended = http_.run(events_url_, items_url_, settings_, config_.max_items_bytes, h);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const std::string reason = !why.empty() ? why : ended ? std::string("stream ended") : ended.error().message;
    if (opened_at && context_.clock.monotonic() - *opened_at >= kHealthy) failures = 0;
    ++failures;
    context_.counters.add("openhab_disconnects");
    const auto delay = backoff_delay(config_.backoff, failures, unit(rng_));
    {
      std::lock_guard lock(mu_);
      state_ = "reconnecting";
      last_error_ = reason;
      connected_since_.reset();
    }
    context_.log.rate_limited(LogLevel::warning, kLog, "openhab:disconnect", "disconnected",
                              {{"url", config_.url}, {"error", reason}, {"retry_in_ms", delay.count()}},
                              std::chrono::seconds(30));
    if (!wait_backoff(delay)) return;
  }
}

nlohmann::json OpenhabSource::status() const {
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : context_.counters.snapshot()) {
    if (name.starts_with("openhab_")) counters[name.substr(8)] = value;
  }
  std::lock_guard lock(mu_);
  return {{"state", state_},
          {"url", config_.url},
          {"connected_since", optional_time_json(connected_since_)},
          {"last_event", optional_time_json(last_event_)},
          {"last_reading", optional_time_json(last_reading_)},
          {"last_error", last_error_},
          {"connects", connects_},
          {"readings", readings_},
          {"keepalive_interval_s", keepalive_ ? nlohmann::json(keepalive_->count()) : nlohmann::json(nullptr)},
          {"counters", counters}};
}

}  // namespace carehub::openhab
