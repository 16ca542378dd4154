#include "daemon/config.hpp"

#include <filesystem>

#include "core/json_check.hpp"
#include "daemon/sources.hpp"

namespace carehub::daemon {

Result<Config> load_config(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_config(*text, path);
}

Result<Config> parse_config(std::string_view text, const std::string& source) {
  auto document = parse_json_document(text, source);
  if (!document) return document.error();
  const nlohmann::json& doc = *document;
  Config c;
  c.source = source;
  JsonReader in;
  if (!doc.is_object()) {
    in.fail("", "expected an object, found " + describe_json(doc));
    return make_error(Errc::invalid_argument, in.joined(source));
  }
  in.only_keys(doc, "", {"hub", "store", "control", "fhir", "pipeline", "log", "sources", "rules", "alerts", "metrics"});

  if (const auto* hub = in.object(doc, "", "hub", true)) {
    auto identity = read_hub_identity(*hub, in);
    c.hub_id = std::move(identity.id);
    c.patient = std::move(identity.patient);
    c.hub_system_id = std::move(identity.system_id);
    c.hub_system_id_derived = identity.system_id_derived;
    c.hub_time_sync = std::move(identity.time_sync);
    c.hub_time_sync_mdc = identity.time_sync_mdc;
  }
  if (const auto* store = in.object(doc, "", "store", true)) {
    in.only_keys(*store, "/store", {"path", "synchronous", "max_bytes", "retention_days", "key_file", "encryption"});
    if (auto v = in.string(*store, "/store", "path", true)) c.store.path = *v;
    if (auto v = in.string(*store, "/store", "synchronous", false)) {
      if (*v == "full") c.store.synchronous = Synchronous::full;
      else if (*v == "normal") c.store.synchronous = Synchronous::normal;
      else if (*v == "extra") c.store.synchronous = Synchronous::extra;
      else in.fail("/store/synchronous", "expected one of: full, normal, extra, found \"" + *v + "\"");
    }
    // 0 turns the cap off; a cap below 1 MiB would shed on the first few thousand readings.
    if (auto v = in.integer(*store, "/store", "max_bytes", false, 0, std::int64_t{1} << 50)) {
      if (*v != 0 && *v < (std::int64_t{1} << 20)) in.fail("/store/max_bytes", "expected 0 (no cap) or at least 1048576 (1 MiB), found " + std::to_string(*v));
      c.store.max_bytes = *v;
    }
    if (auto v = in.integer(*store, "/store", "retention_days", false, 0, 36500)) c.store.retention_days = static_cast<int>(*v);
    // A file or a credential name: the key itself never sits in the configuration (issue 18).
    if (auto v = in.string(*store, "/store", "key_file", false)) {
      if (v->empty()) in.fail("/store/key_file", "expected a file or a credential name, found an empty string");
      else c.store_key_file = *v;
    }
    if (auto v = in.string(*store, "/store", "encryption", false)) {
      if (*v == "on") c.store_encrypted = true;
      else if (*v == "off") c.store_encrypted = false;
      else in.fail("/store/encryption", "expected one of: on, off, found \"" + *v + "\"");
    }
  }
  if (const auto* control = in.object(doc, "", "control", false)) {
    in.only_keys(*control, "/control", {"socket", "group"});
    if (auto v = in.string(*control, "/control", "socket", false)) {
      if (v->size() >= 100) in.fail("/control/socket", "path longer than a Unix socket allows (107 bytes)");
      c.control_socket = *v;
    }
    if (auto v = in.string(*control, "/control", "group", false)) c.control_group = *v;
  }
  if (const auto* fhir = in.object(doc, "", "fhir", false)) {
    c.fhir_section = *fhir;
    in.only_keys(*fhir, "/fhir", {"base_url", "bundle_size", "upload_window_ms", "retry_base_ms", "retry_cap_ms",
                                  "connect_timeout_ms", "request_timeout_ms", "ca_file", "tls_verify", "client_cert_file",
                                  "client_key_file", "bearer_token_file", "oauth2", "gzip", "aggregate"});
    if (auto v = in.string(*fhir, "/fhir", "base_url", false)) {
      if (!v->empty() && !v->starts_with("http://") && !v->starts_with("https://")) {
        in.fail("/fhir/base_url", "expected an http:// or https:// URL, found \"" + *v + "\"");
      }
      while (!v->empty() && v->back() == '/') v->pop_back();
      c.upload.base_url = *v;
    }
    if (auto v = in.integer(*fhir, "/fhir", "bundle_size", false, 1, 1000)) c.upload.bundle_size = static_cast<std::size_t>(*v);
    if (auto v = in.integer(*fhir, "/fhir", "upload_window_ms", false, 0, 60000)) c.upload.upload_window = Millis(*v);
    if (auto v = in.integer(*fhir, "/fhir", "retry_base_ms", false, 10, 3600000)) c.upload.backoff.base = Millis(*v);
    if (auto v = in.integer(*fhir, "/fhir", "retry_cap_ms", false, 10, 86400000)) c.upload.backoff.cap = Millis(*v);
    if (auto v = in.integer(*fhir, "/fhir", "connect_timeout_ms", false, 100, 600000)) c.http.connect_timeout = Millis(*v);
    if (auto v = in.integer(*fhir, "/fhir", "request_timeout_ms", false, 100, 3600000)) c.http.request_timeout = Millis(*v);
    if (auto v = in.string(*fhir, "/fhir", "ca_file", false)) c.http.ca_file = *v;
    if (auto v = in.boolean(*fhir, "/fhir", "tls_verify", false)) c.http.verify_tls = *v;
    if (auto v = in.string(*fhir, "/fhir", "bearer_token_file", false)) c.bearer_token_file = *v;
    if (auto v = in.string(*fhir, "/fhir", "client_cert_file", false)) c.http.client_cert_file = *v;
    if (auto v = in.string(*fhir, "/fhir", "client_key_file", false)) c.http.client_key_file = *v;
    if (c.http.client_key_file.empty()) c.http.client_key_file = c.http.client_cert_file;
    if (!c.http.client_key_file.empty() && c.http.client_cert_file.empty()) {
      in.fail("/fhir/client_key_file", "needs /fhir/client_cert_file (mutual TLS takes both)");
    }
    if (const auto* o = in.object(*fhir, "/fhir", "oauth2", false)) {
      in.only_keys(*o, "/fhir/oauth2", {"token_url", "client_id", "client_secret_file", "private_key_file",
                                        "next_private_key_file", "scope"});
      sync::ClientCredentials cc;
      if (auto v = in.string(*o, "/fhir/oauth2", "token_url", true)) {
        if (!v->starts_with("http://") && !v->starts_with("https://")) {
          in.fail("/fhir/oauth2/token_url", "expected an http:// or https:// URL, found \"" + *v + "\"");
        }
        cc.token_url = *v;
      }
      if (auto v = in.string(*o, "/fhir/oauth2", "client_id", true)) cc.client_id = *v;
      if (auto v = in.string(*o, "/fhir/oauth2", "scope", false)) cc.scope = *v;
      // The secret or key itself never sits here: a file, or a name in systemd's $CREDENTIALS_DIRECTORY.
      if (auto v = in.string(*o, "/fhir/oauth2", "client_secret_file", false)) c.oauth2_secret_file = *v;
      if (auto v = in.string(*o, "/fhir/oauth2", "private_key_file", false)) c.oauth2_private_key_file = *v;
      if (auto v = in.string(*o, "/fhir/oauth2", "next_private_key_file", false)) c.oauth2_next_private_key_file = *v;
      if (c.oauth2_secret_file.empty() == c.oauth2_private_key_file.empty()) {
        in.fail("/fhir/oauth2", "give exactly one of client_secret_file (a shared secret) and private_key_file (a signed JWT, recommended)");
      }
      if (!c.oauth2_next_private_key_file.empty() && c.oauth2_private_key_file.empty()) {
        in.fail("/fhir/oauth2/next_private_key_file", "needs /fhir/oauth2/private_key_file");
      }
      c.oauth2 = cc;
      if (!c.bearer_token_file.empty()) in.fail("/fhir/oauth2", "give either /fhir/oauth2 or /fhir/bearer_token_file, not both");
    }
    if (auto v = in.string(*fhir, "/fhir", "gzip", false)) {
      if (*v == "auto") c.upload.compression = sync::Compression::automatic;
      else if (*v == "on") c.upload.compression = sync::Compression::on;
      else if (*v == "off") c.upload.compression = sync::Compression::off;
      else in.fail("/fhir/gzip", "expected one of: auto, on, off, found \"" + *v + "\"");
    }
    if (const auto* agg = in.array(*fhir, "/fhir", "aggregate", false)) {
      for (std::size_t i = 0; i < agg->size(); ++i) {
        const auto path = json_path("/fhir/aggregate", i);
        const auto& item = (*agg)[i];
        if (!item.is_object()) {
          in.fail(path, "expected an object, found " + describe_json(item));
          continue;
        }
        in.only_keys(item, path, {"kind", "period_s", "devices"});
        sync::AggregationRule rule;
        if (auto v = in.string(item, path, "kind", true)) {
          const auto kind = kind_from_string(*v);
          if (!kind) in.fail(json_path(path, "kind"), "unknown kind \"" + *v + "\"");
          else if (!sync::aggregatable(*kind)) {
            in.fail(json_path(path, "kind"), "\"" + *v + "\" is a spot measurement and is never aggregated "
                                             "(aggregatable: heart-rate, room-temperature, room-humidity, illuminance)");
          } else {
            rule.kind = *kind;
          }
        }
        if (auto v = in.integer(item, path, "period_s", true, 10, 86400)) rule.period = std::chrono::seconds(*v);
        if (const auto* devices = in.array(item, path, "devices", false)) {
          for (std::size_t d = 0; d < devices->size(); ++d) {
            if ((*devices)[d].is_string()) rule.devices.push_back((*devices)[d].get<std::string>());
            else in.fail(json_path(json_path(path, "devices"), d), "expected a device id string, found " + describe_json((*devices)[d]));
          }
        }
        c.upload.aggregate.push_back(std::move(rule));
      }
    }
    if (c.upload.backoff.cap < c.upload.backoff.base) in.fail("/fhir/retry_cap_ms", "must not be below /fhir/retry_base_ms");
  }
  if (const auto* p = in.object(doc, "", "pipeline", false)) {
    in.only_keys(*p, "/pipeline", {"queue_capacity", "max_batch", "commit_window_ms", "max_future_s"});
    if (auto v = in.integer(*p, "/pipeline", "queue_capacity", false, 1, 10000000)) c.pipeline.queue_capacity = static_cast<std::size_t>(*v);
    if (auto v = in.integer(*p, "/pipeline", "max_batch", false, 1, 1000000)) c.pipeline.max_batch = static_cast<std::size_t>(*v);
    if (auto v = in.integer(*p, "/pipeline", "commit_window_ms", false, 0, 1000)) c.pipeline.commit_window = Millis(*v);
    // How far a device clock may run ahead before its readings are quarantined (design.md invariant 8).
    if (auto v = in.integer(*p, "/pipeline", "max_future_s", false, 0, 86400)) c.pipeline.max_future = std::chrono::seconds(*v);
  }
  if (const auto* log = in.object(doc, "", "log", false)) {
    in.only_keys(*log, "/log", {"level"});
    if (auto v = in.string(*log, "/log", "level", false)) {
      if (auto l = log_level_from_string(*v)) c.log_level = *l;
      else in.fail("/log/level", "expected one of: error, warning, notice, info, debug, found \"" + *v + "\"");
    }
  }
  if (const auto* m = in.object(doc, "", "metrics", false)) {
    in.only_keys(*m, "/metrics", {"textfile", "interval_s"});
    if (auto v = in.string(*m, "/metrics", "textfile", false)) {
      // The atomic rename needs the temporary file beside the target, so the path must name a file in a directory.
      if (!v->empty() && (!v->starts_with("/") || v->back() == '/')) {
        in.fail("/metrics/textfile", "expected an absolute file path (e.g. /var/lib/prometheus/node-exporter/carehub.prom), found \"" + *v + "\"");
      } else if (!v->empty() && !v->ends_with(".prom")) {
        in.fail("/metrics/textfile", "must end in .prom: node_exporter's textfile collector reads only those, found \"" + *v + "\"");
      }
      c.metrics.textfile = *v;
    }
    // The main thread wakes every 10 s (carehubd_main.cpp): a shorter interval could not be kept.
    if (auto v = in.integer(*m, "/metrics", "interval_s", false, 10, 86400)) c.metrics.interval = std::chrono::seconds(*v);
  }
  if (const auto* sources = in.object(doc, "", "sources", false)) {
    for (const auto& [name, section] : sources->items()) {
      if (!section.is_object()) {
        in.fail(json_path("/sources", name), "expected an object, found " + describe_json(section));
        continue;
      }
      c.sources[name] = section;
    }
    for (auto& problem : check_sources(c.sources)) {
      const auto colon = problem.find(": ");
      in.fail(problem.substr(0, colon), colon == std::string::npos ? "invalid" : problem.substr(colon + 2));
    }
  }
  if (const auto* r = in.object(doc, "", "rules", false)) {
    in.only_keys(*r, "/rules", {"file"});
    if (auto v = in.string(*r, "/rules", "file", false); v && !v->empty()) {
      std::filesystem::path file(*v);
      if (file.is_relative()) file = std::filesystem::path(source).parent_path() / file;
      c.rules_file = file.string();
      // The rule file's own errors name its path and JSON paths; they are reported under /rules/file.
      if (auto set = rules::load_rules(c.rules_file); !set) in.fail("/rules/file", set.error().message);
      else c.rules = std::move(*set);
    }
  }
  if (const auto* alerts = in.object(doc, "", "alerts", false)) {
    in.only_keys(*alerts, "/alerts", {"mqtt"});
    if (const auto* m = in.object(*alerts, "/alerts", "mqtt", false)) {
      auto parsed = parse_mqtt_alerts(*m, "/alerts/mqtt", c.hub_id);
      if (parsed) {
        c.alerts_mqtt = std::move(*parsed);
      } else {
        std::string_view all = parsed.error().message;
        while (!all.empty()) {
          const auto nl = all.find('\n');
          const auto line = all.substr(0, nl);
          const auto colon = line.find(": ");
          in.fail(std::string(line.substr(0, colon)), std::string(colon == std::string_view::npos ? line : line.substr(colon + 2)));
          if (nl == std::string_view::npos) break;
          all.remove_prefix(nl + 1);
        }
      }
    }
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(source));
  carry_hub_identity(c);
  return c;
}

void carry_hub_identity(Config& c) {
  c.upload.hub_id = c.hub_id;
  // The hub Device is a PhgDevice (PHD IG): its EUI-64 and how its clock is set (daemon/config_hub.hpp).
  c.upload.hub_system_id = c.hub_system_id;
  c.upload.hub_time_sync_mdc = c.hub_time_sync_mdc;
  // Looked up at every uploader start: a wrong /hub/patient is a configuration error, not a refusal per reading.
  c.upload.patient = c.patient;
  c.pipeline.default_patient = c.patient;
  c.pipeline.hub_id = c.hub_id;  // reading uids: a hub-local device is qualified by the hub (core/reading.hpp)
}

}  // namespace carehub::daemon
