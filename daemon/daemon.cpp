#include "daemon/daemon.hpp"

#include <grp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/json_check.hpp"
#include "core/reading_json.hpp"
#include "core/secret.hpp"
#include "daemon/sources.hpp"
#include "rules/alert_json.hpp"

namespace carehub::daemon {
namespace {

nlohmann::json optional_time(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

Daemon::Daemon(Config config, Logger& log, const Clock& clock)
    : config_(std::make_shared<const Config>(std::move(config))), log_(log), clock_(clock), started_(clock.now()) {}

Daemon::~Daemon() { stop(); }

Result<std::unique_ptr<Daemon>> Daemon::start(Config config, Logger& log, const Clock& clock) {
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), log, clock));
  if (auto r = d->open(); !r) return r.error();
  return d;
}

std::shared_ptr<const Config> Daemon::config() const {
  std::lock_guard lock(config_mu_);
  return config_;
}

std::shared_ptr<sync::Uploader> Daemon::uploader() {
  std::lock_guard lock(uploader_mu_);
  return uploader_;
}

Result<std::shared_ptr<sync::Uploader>> Daemon::make_uploader(const Config& config) {
  auto options = config.upload;
  if (!config.bearer_token_file.empty()) {
    auto token = read_secret(config.bearer_token_file);
    if (!token) return make_error(Errc::invalid_argument, "/fhir/bearer_token_file: " + token.error().message);
    options.auth = std::make_shared<sync::StaticToken>(*token);
  }
  if (config.oauth2) {
    auto secret = read_secret(config.oauth2_secret_file);
    if (!secret) return make_error(Errc::invalid_argument, "/fhir/oauth2/client_secret_file: " + secret.error().message);
    auto creds = *config.oauth2;
    creds.client_secret = *secret;
    options.auth = std::make_shared<sync::OAuth2ClientCredentials>(std::move(creds), sync::make_curl_client(config.http, &counters_),
                                                                    clock_);
  }
  if (!config.http.verify_tls) {
    log_.warning("sync", "tls-verification-off",
                 {{"setting", "/fhir/tls_verify=false"}, {"risk", "the FHIR server and token endpoint are not authenticated"}});
  }
  auto reader = StoreReader::open(config.store);
  if (!reader) return reader.error();
  return std::make_shared<sync::Uploader>(std::move(*reader), *pipeline_, sync::make_curl_client(config.http, &counters_), clock_,
                                          log_, counters_, std::move(options));
}

SourceContext Daemon::source_context(const Config& config) {
  return SourceContext{*pipeline_, clock_, log_, counters_, config.hub_id, config.patient,
                       [this]() -> Result<std::vector<Device>> {
                         std::lock_guard lock(reader_mu_);
                         return reader_->devices();
                       },
                       [this](const std::string& device, TimePoint device_time) -> Result<std::vector<Reading>> {
                         ReadingQuery q;
                         q.device = device;
                         q.device_time = device_time;
                         q.by_time = true;  // the readings_device_time index: only this device's rows
                         q.limit = 256;
                         std::lock_guard lock(reader_mu_);
                         auto rows = reader_->readings(q);
                         if (!rows) return rows.error();
                         std::vector<Reading> out;
                         for (auto& row : *rows) out.push_back(std::move(row.reading));
                         return out;
                       }};
}

Result<void> Daemon::start_sources(const Config& config) {
  auto made = make_sources(config.sources, source_context(config));
  if (!made) return make_error(Errc::invalid_argument, made.error().message);
  std::vector<std::shared_ptr<Source>> started;
  for (auto& s : *made) {
    if (auto r = s->start(); !r) {
      for (auto& done : started) done->stop();
      return make_error(r.error().code, "source " + s->name() + ": " + r.error().message);
    }
    log_.info("carehubd", "source-started", {{"source", s->name()}});
    started.push_back(std::move(s));
  }
  std::lock_guard lock(sources_mu_);
  sources_ = std::move(started);
  return {};
}

Result<void> Daemon::open() {
  const auto config = this->config();
  auto writer = StoreWriter::open(config->store);
  if (!writer) return make_error(writer.error().code, "store " + config->store.path + ": " + writer.error().message);
  writer_ = std::move(*writer);
  auto reader = StoreReader::open(config->store);
  if (!reader) return reader.error();
  reader_ = std::move(*reader);

  auto options = config->pipeline;
  if (auto wd = systemd_.watchdog_interval()) {
    // Beat well inside the watchdog period, from the writer loop itself.
    options.heartbeat = std::min(options.heartbeat, std::chrono::duration_cast<Millis>(*wd) / 3);
  }
  pipeline_ = std::make_unique<Pipeline>(*writer_, log_, counters_, options);
  engine_ = std::make_unique<rules::Engine>(config->rules, log_, counters_);
  pipeline_->set_batch_hook(*engine_, clock_);
  add_alert_publisher(watchers_);
  if (config->alerts_mqtt) {
    // Seeded from the store before the pipeline runs, so no alert falls between the seed and the feed.
    auto open_alerts = reader_->alerts({});
    if (!open_alerts) return open_alerts.error();
    auto publisher = MqttAlertPublisher::create(
        *config->alerts_mqtt, *open_alerts,
        [this](const std::string& id, const std::string& by) { return acknowledge_alert(id, by); }, clock_, log_,
        counters_);
    if (!publisher) return make_error(publisher.error().code, "alerts over MQTT: " + publisher.error().message);
    alerts_mqtt_ = std::move(*publisher);
    add_alert_publisher(*alerts_mqtt_);
    alerts_mqtt_->start();
  }
  if (!config->rules_file.empty()) {
    log_.notice("rules", "rules-loaded", {{"rules", config->rules.rules.size()}, {"file", config->rules_file}});
  }
  auto devices = reader_->devices();
  if (!devices) return devices.error();
  pipeline_->load_devices(*devices);
  const bool watchdog = systemd_.watchdog_interval().has_value();
  // Only the watchdog beats from the writer loop: anything slower (STATUS= counts every row) would
  // stall commits, so refresh_status() runs on the main thread instead.
  if (watchdog) pipeline_->on_heartbeat([this] { systemd_.watchdog(); });
  pipeline_->on_commit([this](const CommitSummary& s) {
    if (!s.alerts.empty()) publish(s.alerts);  // durable now: only then published (invariant 1)
    if (s.stored == 0) return;
    std::lock_guard lock(uploader_mu_);
    if (uploader_) uploader_->wake();
  });
  pipeline_->start();

  auto uploader = make_uploader(*config);
  if (!uploader) return uploader.error();
  {
    std::lock_guard lock(uploader_mu_);
    uploader_ = std::move(*uploader);
    uploader_->start();
  }
  if (config->upload.base_url.empty()) {
    log_.notice("sync", "sync-off", {{"reason", "no /fhir/base_url configured: readings stay buffered"}});
  }

  if (auto r = start_sources(*config); !r) return r;

  auto control = ControlServer::listen(
      {config->control_socket, config->control_group},
      [this](const Request& r, const PeerCred& p) { return handle(r, p); }, log_, counters_,
      {{"alerts.watch", [this](const Request& r, const PeerCred&, ControlStream& s) { return alerts_watch(r, s); }}});
  if (!control) return control.error();
  control_ = std::move(*control);

  log_.notice("carehubd", "started",
              {{"hub", config->hub_id}, {"store", config->store.path}, {"control", config->control_socket}});
  systemd_.ready(status_line());
  write_metrics();  // the first file at once, not an interval after start
  return {};
}

void Daemon::reload(Config config) {
  systemd_.reloading();
  // reload() and stop() run on the main thread only; control threads read the running configuration
  // through their own snapshots, so the one replaced here stays whole for as long as they use it.
  const auto running = this->config();
  for (const auto& key : restart_only_changes(*running, config)) {
    // It takes effect after a restart; the running value stays.
    log_.warning("carehubd", "restart-required", {{"setting", key}});
  }
  log_.set_level(config.log_level);
  // Secrets are re-read on every reload (that is how a rotated token or client secret takes effect), so
  // the uploader is rebuilt whenever sync is on, not only when /fhir changed.
  const bool sync_changed = config.fhir_section != running->fhir_section || !config.upload.base_url.empty();
  const bool sources_changed = config.sources != running->sources;
  // Rules were validated with the config; open episodes live in the store and carry on under the new set.
  engine_->set_rules(config.rules);
  if (config.rules_file.empty()) log_.notice("rules", "rules-off", {{"reason", "no rule file configured"}});
  else log_.notice("rules", "rules-reloaded", {{"rules", config.rules.rules.size()}, {"file", config.rules_file}});
  // Keep the restart-only settings as they run; take the rest.
  config.store = running->store;
  config.control_socket = running->control_socket;
  config.control_group = running->control_group;
  config.pipeline = running->pipeline;
  config.hub_id = running->hub_id;
  config.patient = running->patient;
  config.upload.hub_id = running->hub_id;
  std::shared_ptr<sync::Uploader> fresh;
  if (sync_changed) {
    auto uploader = make_uploader(config);
    if (!uploader) {
      log_.error("carehubd", "reload-sync-kept-previous", {{"error", uploader.error().message}});
      config.upload = running->upload;
      config.http = running->http;
      config.bearer_token_file = running->bearer_token_file;
      config.oauth2 = running->oauth2;
      config.oauth2_secret_file = running->oauth2_secret_file;
      config.fhir_section = running->fhir_section;
    } else {
      fresh = std::move(*uploader);
    }
  }
  const auto next = std::make_shared<const Config>(std::move(config));
  {
    std::lock_guard lock(config_mu_);
    config_ = next;
  }
  if (fresh) {
    // The old uploader stops before the new one starts: two uploaders must never send the same readings
    // at once (two concurrent conditional creates can both create on some servers). It stops outside
    // the lock: its last outcomes commit through the pipeline, whose commit hook takes the lock. Its
    // stop also ends a `sync now --wait` waiting on it, which then waits on the new one; whoever lets go
    // of it last destroys it.
    std::shared_ptr<sync::Uploader> old;
    {
      std::lock_guard lock(uploader_mu_);
      old = std::exchange(uploader_, fresh);
    }
    old->stop();
    fresh->start();
    log_.notice("carehubd", "reload-sync-applied");
  }
  if (sources_changed) {
    std::vector<std::shared_ptr<Source>> old;
    {
      std::lock_guard lock(sources_mu_);
      old = std::move(sources_);
    }
    for (auto& s : old) s->stop();
    if (auto r = start_sources(*next); !r) log_.error("carehubd", "reload-sources-failed", {{"error", r.error().message}});
    else log_.notice("carehubd", "reload-sources-restarted");
  }
  if (running->metrics.textfile != next->metrics.textfile && !running->metrics.textfile.empty()) {
    ::unlink(running->metrics.textfile.c_str());  // the collector must not keep exporting the old file's frozen values
  }
  {
    std::lock_guard lock(metrics_mu_);
    metrics_due_.reset();  // new path or interval: write now
  }
  write_metrics();
  log_.notice("carehubd", "reloaded", {{"file", next->source}});
  systemd_.ready(status_line());
}

void Daemon::refresh_status() {
  systemd_.status(status_line());
  write_metrics();
}

void Daemon::reload_rejected(const std::string& why) {
  // The running configuration stays; one event per problem keeps each on its own journal line.
  for_each_line(why, [&](std::string_view problem) { log_.error("carehubd", "reload-rejected", {{"problem", problem}}); });
  systemd_.status("reload rejected (bad configuration), running with the previous one; " + status_line());
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  systemd_.stopping();
  log_.notice("carehubd", "stopping");  // answers running commands, closes the control socket, flushes the buffer
  // systemd kills us at TimeoutStopSec, so nothing a control client runs may hold the stop up: from here
  // every command is answered "stopping", and the uploader's stop below ends a `sync now --wait` (up to
  // an hour otherwise), which then answers the same. The control server is joined only after that.
  stopping_ = true;
  std::vector<std::shared_ptr<Source>> sources;
  {
    std::lock_guard lock(sources_mu_);
    sources = std::move(sources_);
  }
  for (auto& s : sources) s->stop();  // no new readings
  // No new acknowledgements from the display; what it misses now it gets whole at the next start.
  if (alerts_mqtt_) alerts_mqtt_->stop();
  // Outside the lock: its last outcomes commit through the pipeline, whose commit hook takes the lock.
  // uploader_ stays set for the commit hook and for a `status` still being answered.
  if (auto uploader = this->uploader()) uploader->stop();
  // Every connection has been answered or is being told "stopping": join them. Only then is the
  // pipeline flushed, so no command can hand it a reading after the flush (`measure add` still runs
  // until here and is committed).
  if (control_) control_->stop();
  if (pipeline_) pipeline_->stop();  // commits everything queued
  // A stopped hub exports nothing rather than a frozen picture: the series go absent, which a fleet
  // alert can see (a crashed hub leaves the file, whose node_textfile_mtime_seconds then ages).
  const auto config = this->config();
  if (!config->metrics.textfile.empty()) ::unlink(config->metrics.textfile.c_str());
  log_.notice("carehubd", "stopped", {{"clean", true}});
}

Error Daemon::stopping_error() {
  return {Errc::unavailable, "carehubd is stopping: ask again once it runs (readings stay buffered)"};
}

std::string Daemon::status_line() {
  std::ostringstream out;
  std::lock_guard lock(reader_mu_);
  auto counts = reader_->counts();
  if (!counts) return "store unreadable: " + counts.error().message;
  out << counts->pending << " pending, " << counts->synced << " synced, " << counts->dead << " dead";
  if (const auto h = pipeline_->buffer_health(); h.state != BufferState::ok) out << "; buffer " << to_string(h.state);
  if (config()->upload.base_url.empty()) out << "; no FHIR URL: buffering only";
  return out.str();
}

Result<nlohmann::json> Daemon::handle(const Request& request, const PeerCred&) {
  counters_.add("control_requests");
  if (stopping_) return stopping_error();
  const auto& cmd = request.cmd;
  if (cmd == "status") return status();
  if (cmd == "measure.add") return measure_add(request.args);
  if (cmd == "measurements") return measurements(request.args);
  if (cmd == "sync.now") return sync_now(request.args);
  if (cmd == "sync.status") {
    auto s = status();
    if (!s) return s;
    auto out = (*s)["sync"];
    out["pending"] = (*s)["buffer"]["pending"];
    out["dead"] = (*s)["buffer"]["dead"];
    return out;
  }
  if (cmd == "sync.dead") return sync_dead(request.args);
  if (cmd == "sync.retry-dead") return sync_retry_dead();
  if (cmd == "alerts") return alerts(request.args);
  if (cmd == "alerts.ack" || cmd == "alerts.close") return alert_change(cmd, request.args);
  std::shared_ptr<Source> owner;
  {
    std::lock_guard lock(sources_mu_);
    for (const auto& s : sources_) {
      for (const auto& c : s->commands()) {
        if (c == cmd) owner = s;
      }
    }
  }
  if (owner) return owner->handle(cmd, request.args);  // outside the lock: it may take a while
  counters_.add("control_bad_requests");
  return make_error(Errc::invalid_argument, "unknown command \"" + cmd +
                                                "\" (known: status, measure.add, measurements, sync.now, sync.status, "
                                                "sync.dead, sync.retry-dead, alerts, alerts.ack, alerts.close, alerts.watch)");
}

Result<nlohmann::json> Daemon::status() {
  const auto config = this->config();  // one configuration for the whole answer, whatever a reload does
  nlohmann::json j;
  j["hub"] = config->hub_id;
  j["patient"] = config->patient;
  j["config"] = config->source;
  j["started"] = format_rfc3339(started_);
  j["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - started_).count();
  {
    std::lock_guard lock(reader_mu_);
    auto counts = reader_->counts();
    if (!counts) return counts.error();
    j["buffer"] = {{"path", config->store.path},
                   {"pending", counts->pending},
                   {"synced", counts->synced},
                   {"dead", counts->dead},
                   {"quarantined", counts->quarantined},  // dated after their receipt: kept, never judged or sent
                   {"bytes", counts->bytes},
                   {"queued", pipeline_->queued()}};
  }
  {
    // The size cap and the disk (design.md invariant 3): what a technician must see first when readings stop.
    const auto h = pipeline_->buffer_health();
    auto& b = j["buffer"];
    b["state"] = to_string(h.state);
    b["detail"] = h.detail;
    b["since"] = optional_time(h.since);
    b["used_bytes"] = h.used_bytes;
    b["max_bytes"] = h.max_bytes;
    b["shed"] = {{"synced", h.shed_synced}, {"environment", h.shed_environment}, {"stream", h.shed_stream},
                 {"last", optional_time(h.last_shed)}};
    b["retention_days"] = config->store.retention_days;
    b["pruned"] = h.pruned;
  }
  const sync::SyncStatus s = uploader()->status();
  AlertSyncCounts alert_sync;
  {
    std::lock_guard lock(reader_mu_);
    auto a = reader_->alert_sync_counts();
    if (!a) return a.error();
    alert_sync = *a;
  }
  j["sync"] = {{"enabled", s.enabled},
               {"base_url", config->upload.base_url},
               {"auth", config->oauth2 ? "oauth2" : !config->bearer_token_file.empty() ? "bearer" : "none"},
               {"pending_alerts", alert_sync.pending},
               {"dead_alerts", alert_sync.dead},
               {"bundle_size", s.bundle_size},
               {"gzip", s.gzip},
               {"state", !s.enabled                       ? "off: no FHIR URL configured, readings stay buffered"
                         : s.consecutive_failures > 0 ? "backing off"
                                                          : "ok"},
               {"in_flight", s.in_flight},
               {"consecutive_failures", s.consecutive_failures},
               {"last_success", optional_time(s.last_success)},
               {"last_attempt", optional_time(s.last_attempt)},
               {"last_error", s.last_error},
               {"next_attempt", optional_time(s.next_attempt)}};
  j["sources"] = nlohmann::json::object();
  {
    std::lock_guard lock(sources_mu_);
    for (const auto& src : sources_) j["sources"][src->name()] = src->status();
  }
  {
    std::lock_guard lock(reader_mu_);
    auto alerts = reader_->alert_counts();
    if (!alerts) return alerts.error();
    const auto rules = engine_->rules();
    j["alerts"] = {{"open", alerts->open},
                   {"awaiting_ack", alerts->unacknowledged_red},
                   {"acknowledged", alerts->acknowledged},
                   {"watchers", watchers_.count()},
                   {"mqtt", alerts_mqtt_ ? alerts_mqtt_->status() : nlohmann::json(nullptr)},
                   {"rules_file", config->rules_file},
                   {"rules", rules->rules.size()}};
  }
  j["counters"] = counters_.snapshot();
  auto devices = devices_status(j["sources"]);
  if (!devices) return devices.error();
  j["devices"] = std::move(*devices);
  {
    std::lock_guard lock(reader_mu_);
    AlertQuery q;
    q.limit = 10;  // a glance, newest first; `carehubctl alerts` lists them all
    auto open_alerts = reader_->alerts(q);
    if (!open_alerts) return open_alerts.error();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : *open_alerts) {
      list.push_back({{"id", a.id},
                      {"rule", a.rule},
                      {"event", a.event},
                      {"severity", to_string(a.severity)},
                      {"state", to_string(a.state)},
                      {"raised", format_rfc3339(a.raised)},
                      {"requires_ack", a.requires_ack}});
    }
    j["alerts"]["list"] = std::move(list);
  }
  {
    // Disk use beside the database's own size: the write-ahead log, and what the filesystem has left.
    std::error_code ec;
    const auto wal = std::filesystem::file_size(config->store.path + "-wal", ec);
    j["buffer"]["wal_bytes"] = ec ? 0 : wal;
    const auto space = std::filesystem::space(std::filesystem::path(config->store.path).parent_path(), ec);
    j["buffer"]["disk_free_bytes"] = ec ? nlohmann::json(nullptr) : nlohmann::json(space.available);
  }
  {
    std::lock_guard lock(metrics_mu_);
    j["metrics"] = {{"textfile", config->metrics.textfile},
                    {"interval_s", config->metrics.interval.count()},
                    {"last_written", optional_time(metrics_written_)},
                    {"last_error", metrics_error_}};
  }
  j["warnings"] = config_warnings(*config);
  return j;
}

Result<nlohmann::json> Daemon::devices_status(const nlohmann::json& sources) {
  // What the sources know live (BLE: connection state, battery), keyed by Bluetooth address.
  std::map<std::string, nlohmann::json> live;
  for (const auto& [name, st] : sources.items()) {
    if (!st.is_object() || !st.contains("devices") || !st["devices"].is_object()) continue;
    for (const auto& [address, d] : st["devices"].items()) live[address] = d;
  }
  std::lock_guard lock(reader_mu_);
  auto devices = reader_->devices();
  if (!devices) return devices.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : *devices) {
    ReadingQuery q;
    q.device = d.id;
    q.by_time = true;  // the readings_device_time index: no scan of a wearable's million rows
    q.newest_first = true;
    q.limit = 1;
    auto newest = reader_->readings(q);
    if (!newest) return newest.error();
    // When and what, never the values: `status --json` is sent off the hub for remote diagnosis.
    nlohmann::json last = nullptr;
    if (!newest->empty()) {
      const auto& r = newest->front().reading;
      last = {{"time", format_rfc3339(r.time)}, {"kind", to_string(r.kind)}, {"sync", to_string(newest->front().state)}};
    }
    nlohmann::json row = {{"id", d.id},
                          {"name", d.name},
                          {"model", d.model},
                          {"category", d.category},
                          {"address", d.address},
                          {"last_seen", optional_time(d.last_seen)},
                          {"last_reading", last},
                          {"battery", nullptr},
                          {"state", nullptr}};
    if (auto it = live.find(d.address); !d.address.empty() && it != live.end()) {
      const auto& l = it->second;
      if (l.contains("battery")) row["battery"] = l["battery"];
      if (l.contains("state")) row["state"] = l["state"];
      if (l.contains("last_seen") && !l["last_seen"].is_null()) row["last_seen"] = l["last_seen"];
      if (l.contains("last_error") && l["last_error"] != "") row["last_error"] = l["last_error"];
    }
    out.push_back(std::move(row));
  }
  return out;
}

nlohmann::json Daemon::config_warnings(const Config& config) {
  nlohmann::json w = nlohmann::json::array();
  if (config.upload.base_url.empty()) w.push_back("/fhir/base_url is empty: readings stay in the buffer, nothing is uploaded");
  if (!config.http.verify_tls) w.push_back("/fhir/tls_verify is false: the FHIR server is not authenticated");
  if (config.upload.base_url.starts_with("http://")) w.push_back("/fhir/base_url is plain http://: readings cross the network unencrypted");
  if (config.rules_file.empty()) w.push_back("/rules/file is not set: no decision-support alerts are raised");
  if (config.log_level == LogLevel::debug) w.push_back("/log/level is debug: reading values go to the journal; set info after diagnosing");
  // getgrnam_r: control connections run status() concurrently, and getgrnam's buffer is shared.
  group grp{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  if (!config.control_group.empty() &&
      (::getgrnam_r(config.control_group.c_str(), &grp, buf.data(), buf.size(), &found) != 0 || found == nullptr)) {
    w.push_back("/control/group \"" + config.control_group + "\" does not exist: only root can use carehubctl");
  }
  if (config.sources.empty()) w.push_back("/sources is empty: only manual readings (carehubctl measure add) are taken");
  if (!config.metrics.textfile.empty()) {
    const auto dir = std::filesystem::path(config.metrics.textfile).parent_path();
    if (::access(dir.c_str(), W_OK) != 0) w.push_back("/metrics/textfile: cannot write to " + dir.string());
  }
  return w;
}

Result<MetricsSnapshot> Daemon::metrics_snapshot() {
  MetricsSnapshot m;
  m.counters = counters_.snapshot();
  StoreCounts counts;
  AlertCounts alerts;
  {
    std::lock_guard lock(reader_mu_);
    auto c = reader_->counts();
    if (!c) return c.error();
    counts = *c;
    auto a = reader_->alert_counts();
    if (!a) return a.error();
    alerts = *a;
  }
  const sync::SyncStatus s = uploader()->status();
  const auto unix_seconds = [](TimePoint t) { return static_cast<double>(to_epoch_ms(t)) / 1000.0; };
  const auto d = [](auto v) { return static_cast<double>(v); };
  m.gauges = {
      {"buffer_pending_readings", "readings in the buffer waiting for the FHIR server", d(counts.pending)},
      {"buffer_dead_readings", "readings the FHIR server refused (carehubctl sync dead)", d(counts.dead)},
      {"buffer_synced_readings", "readings delivered and kept in the buffer", d(counts.synced)},
      {"buffer_bytes", "size of the SQLite buffer in bytes", d(counts.bytes)},
      {"pipeline_queued_readings", "readings received but not yet committed", d(pipeline_->queued())},
      {"alerts_open", "open decision-support alerts", d(alerts.open)},
      {"alerts_awaiting_ack", "open red alerts the patient has not acknowledged", d(alerts.unacknowledged_red)},
      {"sync_enabled", "1 when a FHIR base URL is configured", s.enabled ? 1.0 : 0.0},
      {"sync_consecutive_failures", "failed upload attempts since the last success", d(s.consecutive_failures)},
      {"sync_last_success_timestamp_seconds", "Unix time of the last successful upload since start; 0: none yet",
       s.last_success ? unix_seconds(*s.last_success) : 0.0},
      {"start_time_seconds", "Unix time carehubd started", unix_seconds(started_)},
  };
  return m;
}

void Daemon::write_metrics() {
  const auto config = this->config();
  if (config->metrics.textfile.empty()) return;
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(metrics_mu_);
    if (metrics_due_ && now < *metrics_due_) return;
    metrics_due_ = now + config->metrics.interval;
  }
  auto snapshot = metrics_snapshot();
  Result<void> written = snapshot ? write_file_atomically(config->metrics.textfile, render_prometheus(*snapshot))
                                  : Result<void>(snapshot.error());
  std::lock_guard lock(metrics_mu_);
  if (written) {
    if (!metrics_error_.empty()) log_.notice("metrics", "textfile-recovered", {{"file", config->metrics.textfile}});
    metrics_written_ = clock_.now();
    metrics_error_.clear();
    return;
  }
  counters_.add("metrics_write_errors");
  // Once an hour at most: a missing collector directory would otherwise log every interval for years.
  log_.rate_limited(LogLevel::warning, "metrics", "metrics:write", "textfile-write-failed",
                    {{"file", config->metrics.textfile}, {"error", written.error().message}}, std::chrono::hours(1));
  metrics_error_ = written.error().message;
}

Result<nlohmann::json> Daemon::measure_add(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"readings"});
  const auto* list = in.array(args, "/args", "readings", true);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (list->empty()) return make_error(Errc::invalid_argument, "/args/readings: expected at least one reading");
  std::vector<Reading> readings;
  std::vector<std::size_t> index;  // position in the request of each parsed reading
  nlohmann::json results = nlohmann::json::array();
  const auto now = clock_.now();
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto r = reading_from_json((*list)[i], now);
    if (!r) {
      counters_.add("readings_rejected");
      results.push_back({{"status", "rejected"}, {"error", r.error().message}});
      continue;
    }
    if (r->source.empty()) r->source = "manual";
    results.push_back(nullptr);
    index.push_back(i);
    readings.push_back(std::move(*r));
  }
  if (!readings.empty()) {
    auto stored = pipeline_->ingest(std::move(readings)).get();  // returns once durable
    if (!stored) return stored.error();
    for (std::size_t k = 0; k < index.size(); ++k) {
      auto& slot = results[index[k]];
      switch (stored->status[k]) {
        case IngestStatus::stored:
          // Kept but quarantined (a time far after its receipt): say so, or the technician believes it counts.
          if (!stored->errors[k].empty()) {
            slot = {{"status", "quarantined"}, {"uid", stored->uids[k]}, {"error", stored->errors[k]}};
          } else {
            slot = {{"status", "stored"}, {"uid", stored->uids[k]}};
          }
          break;
        case IngestStatus::duplicate: slot = {{"status", "duplicate"}, {"uid", stored->uids[k]}}; break;
        case IngestStatus::rejected: slot = {{"status", "rejected"}, {"error", stored->errors[k]}}; break;
      }
    }
  }
  return nlohmann::json{{"results", results}};
}

Result<nlohmann::json> Daemon::measurements(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"limit", "state"});
  ReadingQuery q;
  q.newest_first = true;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 100000)) q.limit = static_cast<std::size_t>(*limit);
  if (auto state = in.string(args, "/args", "state", false)) {
    if (*state == "pending") q.state = SyncState::pending;
    else if (*state == "synced") q.state = SyncState::synced;
    else if (*state == "dead") q.state = SyncState::dead;
    else if (*state == "quarantined") q.state = SyncState::quarantined;
    else in.fail("/args/state", "expected one of: pending, synced, dead, quarantined, found \"" + *state + "\"");
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(reader_mu_);
  auto rows = reader_->readings(q);
  if (!rows) return rows.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *rows) {
    auto j = reading_to_json(s.reading);
    j["uid"] = s.uid;
    j["received"] = format_rfc3339(s.reading.received);
    j["sync"] = to_string(s.state);
    if (!s.server_id.empty()) j["server_id"] = s.server_id;
    if (!s.dead_reason.empty()) j["dead_reason"] = s.dead_reason;
    if (!s.quarantine_reason.empty()) j["quarantine_reason"] = s.quarantine_reason;
    out.push_back(std::move(j));
  }
  return nlohmann::json{{"readings", out}};
}

Result<nlohmann::json> Daemon::sync_now(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"wait_s"});
  const auto wait = in.number(args, "/args", "wait_s", false, 0, 3600);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (config()->upload.base_url.empty()) {
    return make_error(Errc::unavailable, "sync is off: no FHIR base URL configured (/fhir/base_url)");
  }
  if (!wait || *wait <= 0) {
    uploader()->sync_now();
    return nlohmann::json{{"started", true}};
  }
  const auto deadline = clock_.monotonic() + std::chrono::milliseconds(static_cast<long long>(*wait * 1000));
  bool idle = false;
  for (;;) {
    // This command's own reference: a reload may replace the uploader meanwhile. It stops the old one,
    // which ends the wait on it, and this wait goes on with the new one for the time that is left.
    const auto uploader = this->uploader();
    if (stopping_) return stopping_error();
    if (!uploader->status().enabled) {
      return make_error(Errc::unavailable, "sync was turned off by a reload: no FHIR base URL configured (/fhir/base_url)");
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_.monotonic());
    if (left <= std::chrono::milliseconds::zero()) break;
    if (uploader->wait_idle(left)) {
      idle = true;
      break;
    }
    // stop() sets stopping_ before it stops the uploader, so a wait it ended sees it here.
    if (stopping_) return stopping_error();
    if (this->uploader() == uploader) break;  // the time is up on the running uploader
  }
  auto s = status();
  if (!s) return s;
  if (!idle) {
    return make_error(Errc::timeout, "sync did not finish within " + nlohmann::json(*wait).dump() +
                                         " s: " + (*s)["buffer"]["pending"].dump() + " pending; last error: " +
                                         (*s)["sync"]["last_error"].get<std::string>());
  }
  return nlohmann::json{{"idle", true}, {"buffer", (*s)["buffer"]}};
}

Result<nlohmann::json> Daemon::sync_dead(const nlohmann::json& args) {
  nlohmann::json a = args;
  a["state"] = "dead";
  auto out = measurements(a);
  if (!out) return out;
  std::lock_guard lock(reader_mu_);
  auto alerts = reader_->dead_alerts(1000);
  if (!alerts) return alerts.error();
  auto& list = (*out)["dead_alerts"] = nlohmann::json::array();
  for (const auto& d : *alerts) {
    list.push_back({{"id", d.id}, {"rule", d.rule}, {"raised", format_rfc3339(d.raised)}, {"reason", d.reason}});
  }
  return out;
}

Result<nlohmann::json> Daemon::sync_retry_dead() {
  std::int64_t moved = 0;
  auto r = pipeline_
               ->apply([&moved](StoreWriter& w) -> Result<void> {
                 auto n = w.requeue_dead();
                 if (!n) return n.error();
                 moved = *n;
                 return {};
               })
               .get();
  if (!r) return r.error();
  uploader()->sync_now();
  log_.notice("sync", "dead-letters-requeued", {{"count", moved}, {"by", "technician"}});
  return nlohmann::json{{"requeued", moved}};
}

void Daemon::add_alert_publisher(rules::AlertPublisher& publisher) {
  std::lock_guard lock(publishers_mu_);
  publishers_.push_back(&publisher);
}

void Daemon::publish(const std::vector<AlertEvent>& events) {
  std::lock_guard lock(publishers_mu_);
  for (const auto& e : events) {
    // The alert id and rule say what happened; whose alert it is (a patient id) only at debug level.
    log_.info("rules", "alert-event",
              {{"kind", e.event},
               {"alert", e.alert.id},
               {"rule", e.alert.rule},
               {"severity", to_string(e.alert.severity)},
               {"notify", e.alert.notify}});
    log_.debug("rules", "alert-patient", {{"alert", e.alert.id}, {"patient", e.alert.patient}});
    for (auto* p : publishers_) p->publish(e);
  }
}

Result<Alert> Daemon::acknowledge_alert(const std::string& id, const std::string& by) {
  auto events = pipeline_
                    ->apply_alerts([this, id](StoreWriter& w) { return engine_->acknowledge(w, id, clock_.now()); })
                    .get();  // durable when it resolves
  if (!events) return events.error();
  log_.notice("rules", "alert-acknowledged", {{"alert", id}, {"by", by}});
  std::lock_guard lock(reader_mu_);
  auto a = reader_->find_alert(id);
  if (!a) return a.error();
  if (!*a) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  return **a;
}

Result<nlohmann::json> Daemon::alerts(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"all", "limit"});
  AlertQuery q;
  if (auto all = in.boolean(args, "/args", "all", false)) q.include_closed = *all;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 100000)) q.limit = static_cast<std::size_t>(*limit);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(reader_mu_);
  auto rows = reader_->alerts(q);
  if (!rows) return rows.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : *rows) out.push_back(rules::alert_to_json(a));
  return nlohmann::json{{"alerts", out}};
}

Result<nlohmann::json> Daemon::alert_change(const std::string& cmd, const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"id"});
  const auto id = in.string(args, "/args", "id", true);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (cmd == "alerts.ack") {
    auto a = acknowledge_alert(*id, "carehubctl");
    if (!a) return a.error();
    return rules::alert_to_json(*a);
  }
  auto events =
      pipeline_->apply_alerts([this, id = *id](StoreWriter& w) { return engine_->close(w, id, clock_.now()); }).get();
  if (!events) return events.error();
  log_.notice("rules", "alert-closed", {{"alert", *id}, {"by", "carehubctl"}});
  std::lock_guard lock(reader_mu_);
  auto a = reader_->find_alert(*id);
  if (!a) return a.error();
  if (!*a) return make_error(Errc::not_found, "no alert with id \"" + *id + "\"");
  return rules::alert_to_json(**a);
}

Result<void> Daemon::alerts_watch(const Request& request, ControlStream& stream) {
  if (!request.args.empty()) return make_error(Errc::invalid_argument, "/args: alerts.watch takes no arguments");
  auto sub = watchers_.subscribe();
  if (!sub) return make_error(Errc::io, "cannot watch alerts: no eventfd");
  // The first line says the subscription is live: every event committed after it will follow.
  if (!stream.send({{"watching", true}})) return {};
  for (;;) {
    if (stream.wait(sub->fd(), std::chrono::seconds(5)) == ControlStream::Wait::closed) return {};
    std::size_t lost = 0;
    auto events = sub->take(lost);
    if (lost > 0 && !stream.send({{"lost", lost}})) return {};  // a watcher too slow to keep up is told
    for (const auto& e : events) {
      if (!stream.send(rules::event_to_json(e))) return {};
    }
  }
}

}  // namespace carehub::daemon
