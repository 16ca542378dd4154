#include "daemon/daemon.hpp"

#include <malloc.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <utility>

#include "core/json_check.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/audit.hpp"
#include "daemon/restart_only.hpp"
#include "store/buffer_migration.hpp"

namespace carehub::daemon {
namespace {

// The buffer encrypted at rest (issue 18, docs/design/encrypted-buffer.md): the key from its credential,
// and a plaintext buffer of an earlier release encrypted with it once, before the store opens it. A
// missing or malformed key is Errc::invalid_argument, so carehubd exits 2 (so does a buffer that does not
// open with the key, at StoreWriter::open): it never starts an empty buffer over one it cannot read.
Result<StoreOptions> keyed_store(const Config& config, Logger& log, Counters& counters, const Clock& clock,
                                 const SystemdNotifier& systemd) {
  StoreOptions store = config.store;
  if (!config.store_encrypted) {
    counters.add("buffer_encryption_off");
    log.warning("store", "buffer-not-encrypted", {{"buffer", store.path}, {"reason", "/store/encryption is off"}});
    return store;  // no key: a plaintext buffer; an encrypted one fails to open (exit 2)
  }
  auto key = BufferKey::read(config.store_key_file);
  if (!key) {
    return make_error(Errc::invalid_argument,
                      "the buffer key (credential buffer-key, /store/key_file): " + key.error().message +
                          ". carehubd does not start without it, and never starts an empty buffer over " +
                          config.store.path + "; see docs/operations.md, \"The buffer key\"");
  }
  // Encrypting a large buffer on a slow card can outlast TimeoutStartSec=: systemd would kill carehubd
  // and start it again, which starts the copy over, for ever. While the copy makes progress, each 5 s
  // asks for 30 s more; a copy that stops making progress still times out.
  buffer_migration::Options progress;
  const std::string what = "encrypting the buffer " + store.path + " (once, after the upgrade)";
  auto extended = clock.monotonic();
  if (auto found = buffer_migration::inspect(store.path); found && *found == buffer_migration::Found::plaintext) {
    systemd.extend_start(std::chrono::seconds(30), what);
  }
  progress.on_progress = [&] {
    if (clock.monotonic() - extended < std::chrono::seconds(5)) return;
    extended = clock.monotonic();
    systemd.extend_start(std::chrono::seconds(30), what);
  };
  auto migrated = buffer_migration::encrypt_if_plaintext(store.path, *key, progress);
  if (!migrated) {
    return make_error(migrated.error().code, "encrypting the plaintext buffer " + store.path + ": " +
                                                 migrated.error().message);
  }
  if (migrated->not_enough_space) {
    // The lead's decision: buffering goes on, in plaintext, loudly; the next start tries again.
    counters.add("buffer_plaintext_migration_deferred");
    log.warning("store", "buffer-not-encrypted",
                {{"buffer", store.path},
                 {"needs_mb", (migrated->needed_bytes + (1 << 20) - 1) >> 20},
                 {"free_mb", migrated->free_bytes >> 20},
                 {"reason", "not enough free space for the encrypted copy; retried at the next start"}});
    return store;  // no key: the plaintext buffer as it is
  }
  if (migrated->migrated) {
    counters.add("buffer_migrated_to_encrypted");
    log.notice("store", "buffer-encrypted", {{"buffer", store.path}, {"rows", migrated->rows}});
  }
  store.key = std::move(*key);
  return store;
}

}  // namespace

Daemon::Daemon(Config config, Logger& log, const Clock& clock)
    : config_(std::make_shared<const Config>(std::move(config))), log_(log), clock_(clock), started_(clock.now()) {}

Daemon::~Daemon() { stop(); }

Result<std::unique_ptr<Daemon>> Daemon::start(Config config, Logger& log, const Clock& clock) {
  // RSS (issue 15): glibc gives every thread that allocates its own arena (up to 8 per core), and memory
  // freed in one stays there. carehubd's dozen threads allocate little each but in bursts (the uploader's
  // JSON, the writer's batches), so arenas multiplied the peak. Two arenas keep the writer and the uploader
  // from contending on one lock. (No periodic malloc_trim: it walks the arenas under their locks, a stall the
  // writer would feel, and the RSS it returned under load was within noise.)
  ::mallopt(M_ARENA_MAX, 2);
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

Result<void> Daemon::open() {
  {
    auto store = keyed_store(*this->config(), log_, counters_, clock_, systemd_);
    if (!store) return store.error();
    auto keyed = std::make_shared<Config>(*this->config());
    keyed->store = std::move(*store);
    std::lock_guard lock(config_mu_);
    config_ = std::move(keyed);
  }
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
  pipeline_ = std::make_unique<Pipeline>(*writer_, clock_, log_, counters_, options);
  engine_ = std::make_unique<rules::Engine>(config->rules, log_, counters_, config->hub_id);
  commands_ = std::make_unique<commands::Table>(command_context());
  pipeline_->set_batch_hook(*engine_);
  add_alert_publisher(watchers_);
  if (config->alerts_mqtt) {
    // Seeded from the store before the pipeline runs, so no alert falls between the seed and the feed.
    auto open_alerts = reader_->alerts({});
    if (!open_alerts) return open_alerts.error();
    auto publisher = MqttAlertPublisher::create(
        *config->alerts_mqtt, *open_alerts,
        [this](const std::string& id, const std::string& by) { return acknowledge_from_display(id, by); }, clock_,
        log_, counters_);
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
    if (s.stored == 0 && s.alerts.empty()) return;
    std::lock_guard lock(uploader_mu_);
    if (!uploader_) return;
    // An alert change (an acknowledgement commits no reading) goes at once; readings may wait for the
    // upload window to share a request.
    if (!s.alerts.empty()) uploader_->alerts_changed();
    if (s.stored > 0) uploader_->wake(s.stored);
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
      [this](const Request& r, const PeerCred& p) -> Result<nlohmann::json> {
        counters_.add("control_requests");
        if (stopping_) return commands::stopping_error();
        return commands_->dispatch(r, p);
      },
      log_, counters_, commands_->streams());
  if (!control) return control.error();
  control_ = std::move(*control);

  log_.notice("carehubd", "started",
              {{"hub", config->hub_id}, {"store", config->store.path}, {"control", config->control_socket}});
  const auto snapshot = gather();
  systemd_.ready(status_line(snapshot));
  write_metrics(snapshot);  // the first file at once, not an interval after start
  return {};
}

void Daemon::reload(Config config) {
  systemd_.reloading();
  // reload() and stop() run on the main thread only; control threads read the running configuration
  // through their own snapshots, so the one replaced here stays whole for as long as they use it.
  const auto running = this->config();
  config.store.key = running->store.key;  // read once at start: every later StoreReader opens with it
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
  // Keep the restart-only settings as they run (the table the check above read); take the rest.
  keep_restart_only(*running, config);
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
      config.oauth2_private_key_file = running->oauth2_private_key_file;
      config.oauth2_next_private_key_file = running->oauth2_next_private_key_file;
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
  const auto snapshot = gather();
  write_metrics(snapshot);
  log_.notice("carehubd", "reloaded", {{"file", next->source}});
  systemd_.ready(status_line(snapshot));
}

void Daemon::reload_rejected(const std::string& why) {
  // The running configuration stays; one event per problem keeps each on its own journal line.
  for_each_line(why, [&](std::string_view problem) { log_.error("carehubd", "reload-rejected", {{"problem", problem}}); });
  systemd_.status("reload rejected (bad configuration), running with the previous one; " + status_line(gather()));
}

void Daemon::audit_signal_reload(const PeerCred& sender, const std::string& refused_why) {
  AuditEvent e;
  e.action = "config.reload";
  e.actor = {"system", "SIGHUP from " + who(sender, "") + " pid " + std::to_string(sender.pid)};
  e.entities = {{"Configuration", config()->source}};
  e.outcome = refused_why.empty() ? AuditOutcome::success : AuditOutcome::refused;
  e.detail = refused_why.empty() ? "applied" : refused_why;
  if (auto r = commands::record_audit(*pipeline_, clock_, std::move(e)); !r) {
    counters_.add("audit_write_errors");
    log_.error("audit", "audit-record-failed", {{"action", "config.reload"}, {"error", r.error().message}});
  }
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

}  // namespace carehub::daemon
