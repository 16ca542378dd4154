#include "drivers/mqtt/config.hpp"

#include <nlohmann/json.hpp>

#include "core/json_check.hpp"
#include "core/time.hpp"
#include "drivers/mqtt/transport.hpp"

namespace carehub::mqtt {
namespace {

bool valid_filter(std::string_view topic) {
  if (topic.empty()) return false;
  for (std::size_t i = 0; i < topic.size(); ++i) {
    const char c = topic[i];
    const bool level_start = i == 0 || topic[i - 1] == '/';
    const bool level_end = i + 1 == topic.size() || topic[i + 1] == '/';
    if (c == '+' && !(level_start && level_end)) return false;
    if (c == '#' && !(level_start && i + 1 == topic.size())) return false;
  }
  return true;
}

void read_subscription(JsonReader& in, const nlohmann::json& s, const std::string& where, SourceConfig& out) {
  Subscription sub;
  sub.where = where;
  if (!s.is_object()) {
    in.fail(where, "expected an object, found " + describe_json(s));
    return;
  }
  only_table_keys(in, s, where, kOptions, "/subscriptions/*");
  if (auto t = in.string(s, where, "topic", true)) {
    if (!valid_filter(*t)) in.fail(json_path(where, "topic"), "not a valid MQTT topic filter: \"" + *t + "\"");
    sub.topic = *t;
  }
  if (auto q = in.integer(s, where, "qos", false, 0, 2)) sub.qos = static_cast<int>(*q);
  const auto format = in.string(s, where, "format", true).value_or("");
  if (format == "number") sub.format = Format::number;
  else if (format == "openhab-state") sub.format = Format::openhab_state;
  else if (format == "reading-json") sub.format = Format::reading_json;
  else if (s.contains("format") && s["format"].is_string()) {
    in.fail(json_path(where, "format"), "expected one of number, openhab-state, reading-json, found \"" + format + "\"");
  }
  const bool number = sub.format == Format::number;
  if (auto k = in.string(s, where, "kind", number && !format.empty())) {
    if (!number) in.fail(json_path(where, "kind"), "only for format number");
    else if (auto kind = kind_from_string(*k); !kind) in.fail(json_path(where, "kind"), "unknown kind \"" + *k + "\"");
    else if (!find_component(*kind, "value") || info(*kind).components.size() != 1) {
      in.fail(json_path(where, "kind"), "\"" + *k + "\" has several values; send it as reading-json");
    } else {
      sub.kind = kind;
    }
  }
  if (auto u = in.string(s, where, "unit", false)) {
    if (!number) in.fail(json_path(where, "unit"), "only for format number");
    sub.unit = *u;
  }
  if (auto d = in.string(s, where, "device", false)) {
    if (!number) in.fail(json_path(where, "device"), "only for format number");
    sub.device = *d;
  }
  if (auto a = in.boolean(s, where, "allow_patient", false)) {
    if (sub.format != Format::reading_json) in.fail(json_path(where, "allow_patient"), "only for format reading-json");
    else sub.allow_patient = *a;
  }
  if (sub.format == Format::openhab_state) {
    auto mapping = openhab::parse_mapping(s, where);
    if (!mapping) {
      for (const auto& e : mapping.error()) {  // already "<path>: <problem>"
        const auto colon = e.message.find(": ");
        if (colon == std::string::npos) in.fail(where, e.message);
        else in.fail(e.message.substr(0, colon), e.message.substr(colon + 2));
      }
    } else if (mapping->items.empty()) {
      in.fail(json_path(where, "items"), "maps no item (openhab-state needs items: [{\"name\":…,\"kind\":…}])");
    } else {
      sub.items = std::move(*mapping);
    }
  } else if (s.contains("items")) {
    in.fail(json_path(where, "items"), "only for format openhab-state");
  }
  out.subscriptions.push_back(std::move(sub));
}

}  // namespace

carehub::Result<SourceConfig> parse_source_config(const nlohmann::json& section, const std::string& path,
                                                  const std::string& hub_id) {
  JsonReader in;
  SourceConfig c;
  if (!section.is_object()) {
    return carehub::make_error(Errc::invalid_argument, path + ": expected an object, found " + describe_json(section));
  }
  only_table_keys(in, section, path, kOptions, "");  // persist_dir is known, to be refused below with its reason
  auto& conn = c.connection;
  if (auto b = in.string(section, path, "broker", true)) {
    if (auto e = parse_broker(*b); !e) in.fail(json_path(path, "broker"), e.error().message);
    else conn.tls = e->tls;
    conn.broker = *b;
  }
  conn.client_id = in.string(section, path, "client_id", false).value_or("carehub-" + hub_id);
  if (conn.client_id.empty() || conn.client_id.size() > 23 * 4) {
    in.fail(json_path(path, "client_id"), "must be 1..92 characters");
  }
  if (auto u = in.string(section, path, "username", false)) conn.username = *u;
  if (auto p = in.string(section, path, "password_file", false)) c.password_file = *p;
  if (!c.password_file.empty() && conn.username.empty()) {
    in.fail(json_path(path, "password_file"), "needs a username");
  }
  if (auto v = in.boolean(section, path, "tls_verify", false)) conn.verify_tls = *v;
  if (auto v = in.string(section, path, "ca_file", false)) conn.ca_file = *v;
  if (auto v = in.boolean(section, path, "clean_session", false)) conn.clean_session = *v;
  // persist_dir held Paho's file store of received, not yet committed messages. carehub's own subscriber
  // acknowledges only what is committed, so the broker keeps everything else: there is nothing to persist.
  if (section.contains("persist_dir")) {
    in.fail(json_path(path, "persist_dir"),
            "no longer used: messages are acknowledged only once committed, the broker keeps the rest; remove it");
  }
  if (auto v = in.integer(section, path, "keepalive_s", false, 5, 3600)) conn.keepalive = std::chrono::seconds(*v);
  if (auto v = in.integer(section, path, "connect_timeout_ms", false, 100, 600000)) conn.connect_timeout = Millis(*v);
  if (auto v = in.integer(section, path, "retry_base_ms", false, 10, 3600000)) conn.backoff.base = Millis(*v);
  if (auto v = in.integer(section, path, "retry_cap_ms", false, 10, 86400000)) conn.backoff.cap = Millis(*v);
  if (conn.backoff.cap < conn.backoff.base) in.fail(json_path(path, "retry_cap_ms"), "must not be below retry_base_ms");
  if (auto v = in.integer(section, path, "max_inflight", false, 1, 1000)) c.max_inflight = static_cast<std::size_t>(*v);
  c.status_topic = in.string(section, path, "status_topic", false).value_or("carehub/" + hub_id + "/status");
  if (c.status_topic.empty() || c.status_topic.find_first_of("+#") != std::string::npos) {
    in.fail(json_path(path, "status_topic"), "must be a topic without wildcards");
  }
  if (const auto* subs = in.array(section, path, "subscriptions", true)) {
    if (subs->empty()) in.fail(json_path(path, "subscriptions"), "expected at least one subscription");
    for (std::size_t i = 0; i < subs->size(); ++i) {
      read_subscription(in, (*subs)[i], json_path(json_path(path, "subscriptions"), i), c);
    }
  }
  if (!in.ok()) return carehub::make_error(Errc::invalid_argument, in.joined(""));
  return c;
}

}  // namespace carehub::mqtt
