#include "daemon/control_protocol.hpp"

#include "core/json_check.hpp"

namespace carehub::daemon {

Result<Request> parse_request(std::string_view line) {
  auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(Errc::invalid_argument, "request is not valid JSON");
  if (!doc.is_object()) return make_error(Errc::invalid_argument, "request: expected an object, found " + describe_json(doc));
  JsonReader in;
  in.only_keys(doc, "", {"id", "cmd", "args"});
  Request r;
  if (doc.contains("id")) r.id = doc["id"];
  if (auto cmd = in.string(doc, "", "cmd", true)) r.cmd = *cmd;
  if (const auto* args = in.object(doc, "", "args", false)) r.args = *args;
  if (!in.ok()) return make_error(Errc::invalid_argument, "request " + in.joined(""));
  return r;
}

std::string encode_request(const Request& r) {
  nlohmann::json j = {{"cmd", r.cmd}, {"args", r.args}};
  if (!r.id.is_null()) j["id"] = r.id;
  return j.dump() + "\n";
}

std::string ok_response(const nlohmann::json& id, const nlohmann::json& result) {
  return nlohmann::json{{"id", id}, {"ok", true}, {"result", result}}.dump(-1, ' ', false,
                                                                         nlohmann::json::error_handler_t::replace) + "\n";
}

std::string error_response(const nlohmann::json& id, std::string_view code, std::string_view message) {
  return nlohmann::json{{"id", id}, {"ok", false}, {"error", {{"code", code}, {"message", message}}}}.dump(
             -1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string error_response(const nlohmann::json& id, const Error& e) {
  return error_response(id, to_string(e.code), e.message);
}

Result<nlohmann::json> parse_response(std::string_view line) {
  auto doc = nlohmann::json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("ok")) {
    return make_error(Errc::internal, "carehubd sent a malformed response");
  }
  if (doc["ok"] == true) return doc.value("result", nlohmann::json::object());
  const auto& err = doc.value("error", nlohmann::json::object());
  const auto code = err.value("code", "internal");
  Errc errc = Errc::internal;
  for (auto c : {Errc::invalid_argument, Errc::not_found, Errc::io, Errc::full, Errc::unavailable, Errc::timeout}) {
    if (to_string(c) == code) errc = c;
  }
  return make_error(errc, err.value("message", "unknown error"));
}

}  // namespace carehub::daemon
