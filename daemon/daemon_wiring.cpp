// What carehubd hands its parts: the uploader made from the configuration, the sources' context, the
// control commands' context (daemon/commands/table.hpp), and alert delivery. Split from daemon.cpp, which
// keeps the lifecycle (start, reload, stop).
#include "core/secret.hpp"
#include "daemon/daemon.hpp"
#include "daemon/sources.hpp"
#include "sync/jwt.hpp"

namespace carehub::daemon {

Result<std::shared_ptr<sync::Uploader>> Daemon::make_uploader(const Config& config) {
  auto options = config.upload;
  if (!config.bearer_token_file.empty()) {
    auto token = read_secret(config.bearer_token_file);
    if (!token) return make_error(Errc::invalid_argument, "/fhir/bearer_token_file: " + token.error().message);
    options.auth = std::make_shared<sync::StaticToken>(*token);
  }
  if (config.oauth2) {
    auto creds = *config.oauth2;
    if (!config.oauth2_private_key_file.empty()) {
      // Read now so a missing or unusable key stops start-up (or keeps the running uploader on reload) with
      // its reason; the token source reads it again at each token request.
      if (auto key = sync::read_signing_key(config.oauth2_private_key_file); !key) {
        return make_error(Errc::invalid_argument, "/fhir/oauth2/private_key_file: " + key.error().message);
      }
      creds.signing_key = sync::signing_key_file(config.oauth2_private_key_file);
    } else {
      auto secret = read_secret(config.oauth2_secret_file);
      if (!secret) return make_error(Errc::invalid_argument, "/fhir/oauth2/client_secret_file: " + secret.error().message);
      creds.client_secret = *secret;
    }
    options.auth = std::make_shared<sync::OAuth2ClientCredentials>(std::move(creds), sync::make_curl_client(config.http, &counters_),
                                                                    clock_);
  }
  if (!config.http.verify_tls) {
    log_.warning("sync", "tls-verification-off",
                 {{"setting", "/fhir/tls_verify=false"}, {"risk", "the FHIR server and token endpoint are not authenticated"}});
  }
  // The rules in force when a reading is sent (a reload replaces them without a new uploader).
  options.bands = [this](const Reading& r) {
    std::map<std::string, std::string> out;
    const auto running = this->config();
    if (!running) return out;
    for (const auto& [component, band] : rules::component_bands(running->rules, r)) out[component] = std::string(to_string(band));
    return out;
  };
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

commands::Context Daemon::command_context() {
  commands::Context c{*pipeline_, *reader_, reader_mu_, log_, counters_, clock_};
  c.config = [this] { return config(); };
  c.uploader = [this] { return uploader(); };
  c.gather = [this] { return gather(); };
  c.sources = [this] {
    nlohmann::json out = nlohmann::json::object();
    std::lock_guard lock(sources_mu_);
    for (const auto& src : sources_) out[src->name()] = src->status();
    return out;
  };
  c.acknowledge = [this](const std::string& id, const std::string& by) { return acknowledge_alert(id, by); };
  c.close_alert = [this](const std::string& id) {
    // durable when it resolves
    return pipeline_->apply_alerts([this, id](StoreWriter& w) { return engine_->close(w, id, clock_.now()); }).get();
  };
  c.watch = [this] { return watchers_.subscribe(); };
  c.forward = [this](const std::string& cmd, const nlohmann::json& args) { return forward_to_source(cmd, args); };
  c.stopping = &stopping_;
  return c;
}

Result<nlohmann::json> Daemon::forward_to_source(const std::string& cmd, const nlohmann::json& args) {
  std::shared_ptr<Source> owner;
  {
    std::lock_guard lock(sources_mu_);
    for (const auto& s : sources_) {
      for (const auto& c : s->commands()) {
        if (c == cmd) owner = s;
      }
    }
  }
  if (owner) return owner->handle(cmd, args);  // outside the lock: it may take a while
  return commands::Table::not_served(cmd, counters_);
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
                    ->apply_alerts([this, id, by](StoreWriter& w) { return engine_->acknowledge(w, id, clock_.now(), by); })
                    .get();  // durable when it resolves
  if (!events) return events.error();
  log_.notice("rules", "alert-acknowledged", {{"alert", id}, {"by", by}});
  std::lock_guard lock(reader_mu_);
  auto a = reader_->find_alert(id);
  if (!a) return a.error();
  if (!*a) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  return **a;
}

// Audited like `carehubctl alerts ack` (daemon/commands/audit.hpp): the row commits in the acknowledgement's
// own transaction. A refused one (an unknown or closed alert) changed nothing and is counted and logged by
// the publisher but not recorded: a display, or anyone who may publish on its topic, could otherwise fill
// the buffer with rows that are kept until the server holds them.
Result<Alert> Daemon::acknowledge_from_display(const std::string& id, const std::string& by) {
  AuditEvent e;
  e.action = "alerts.ack";
  e.actor = {"mqtt", by};
  e.entities = {{"DetectedIssue", id}};
  {
    std::lock_guard lock(reader_mu_);
    if (auto a = reader_->find_alert(id); a && *a) e.patient = (*a)->patient;
  }
  audit::Scope scope(std::move(e), clock_);
  return acknowledge_alert(id, by);
}

}  // namespace carehub::daemon
