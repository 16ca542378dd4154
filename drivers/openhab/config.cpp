#include "drivers/openhab/config.hpp"

#include <nlohmann/json.hpp>

#include "core/json_check.hpp"
#include "core/time.hpp"

namespace carehub::openhab {

carehub::Result<ClientConfig> parse_client_config(const nlohmann::json& section, const std::string& path) {
  JsonReader in;
  ClientConfig c;
  if (!section.is_object()) {
    return carehub::make_error(Errc::invalid_argument, path + ": expected an object, found " + carehub::describe_json(section));
  }
  only_table_keys(in, section, path, kOptions, "");
  if (auto url = in.string(section, path, "url", true)) {
    while (!url->empty() && url->back() == '/') url->pop_back();
    if (!url->starts_with("http://") && !url->starts_with("https://")) {
      in.fail(json_path(path, "url"), "expected an http:// or https:// URL, found \"" + *url + "\"");
    }
    c.url = *url;
  }
  if (const auto* auth = in.object(section, path, "auth", false)) {
    const auto apath = json_path(path, "auth");
    only_table_keys(in, *auth, apath, kOptions, "/auth");
    const auto type = in.string(*auth, apath, "type", true).value_or("none");
    const bool token = type == "bearer" || type == "cloud";
    const bool basic = type == "basic" || type == "cloud";
    if (type == "none") c.auth.kind = AuthKind::none;
    else if (type == "bearer") c.auth.kind = AuthKind::bearer;
    else if (type == "basic") c.auth.kind = AuthKind::basic;
    else if (type == "cloud") c.auth.kind = AuthKind::cloud;
    else in.fail(json_path(apath, "type"), "expected one of none, bearer, basic, cloud, found \"" + type + "\"");
    if (auto v = in.string(*auth, apath, "token_file", token)) c.auth.token_file = *v;
    if (auto v = in.string(*auth, apath, "username", basic)) c.auth.username = *v;
    if (auto v = in.string(*auth, apath, "password_file", basic)) c.auth.password_file = *v;
    if (!token && auth->contains("token_file")) in.fail(json_path(apath, "token_file"), "only for type bearer or cloud");
    if (!basic && (auth->contains("username") || auth->contains("password_file"))) {
      in.fail(json_path(apath, auth->contains("username") ? "username" : "password_file"),
              "only for type basic or cloud");
    }
  }
  if (auto v = in.boolean(section, path, "tls_verify", false)) c.verify_tls = *v;
  if (auto v = in.string(section, path, "ca_file", false)) c.ca_file = *v;
  if (auto v = in.integer(section, path, "keepalive_margin_s", false, 1, 3600)) c.keepalive_margin = std::chrono::seconds(*v);
  if (auto v = in.integer(section, path, "silence_timeout_s", false, 1, 86400)) c.silence_timeout = std::chrono::seconds(*v);
  if (auto v = in.integer(section, path, "retry_base_ms", false, 10, 3600000)) c.backoff.base = Millis(*v);
  if (auto v = in.integer(section, path, "retry_cap_ms", false, 10, 86400000)) c.backoff.cap = Millis(*v);
  if (c.backoff.cap < c.backoff.base) in.fail(json_path(path, "retry_cap_ms"), "must not be below retry_base_ms");
  if (auto v = in.integer(section, path, "connect_timeout_ms", false, 100, 600000)) c.connect_timeout = Millis(*v);
  if (auto v = in.integer(section, path, "request_timeout_ms", false, 100, 600000)) c.request_timeout = Millis(*v);

  auto mapping = parse_mapping(section, path);
  std::string errors = in.joined("");
  if (!mapping) {
    for (const auto& e : mapping.error()) errors += (errors.empty() ? "" : "\n") + e.message;
  } else if (mapping->empty()) {
    errors += (errors.empty() ? "" : "\n") + path + ": maps no item (add items, tags or groups)";
  }
  if (!errors.empty()) return carehub::make_error(Errc::invalid_argument, errors);
  c.mapping = std::move(*mapping);
  return c;
}

}  // namespace carehub::openhab
