#include "daemon/control_protocol.hpp"

#include "core/json_check.hpp"

namespace carehub::daemon {

Result<Request> parse_request(std::string_view line) {
  // The one safe parse, before anything copies `args`: a request nested 200,000 deep (well under
  // kMaxRequestBytes) is refused here instead of overflowing the stack in a recursive copy.
  auto parsed = parse_peer_json(line, "request");
  if (!parsed) return make_error(Errc::invalid_argument, parsed.error().message);
  const nlohmann::json& doc = *parsed;
  if (!doc.is_object()) return make_error(Errc::invalid_argument, "request: expected an object, found " + describe_json(doc));
  JsonReader in;
  in.only_keys(doc, "", {"id", "cmd", "args"});
  Request r;
  if (auto id = doc.find("id"); id != doc.end()) r.id = *id;
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
  // carehubd is not hostile, but whatever answers on the socket path is a peer all the same.
  auto parsed = parse_peer_json(line, "response");
  if (!parsed) return make_error(Errc::internal, "carehubd sent a malformed response");
  nlohmann::json& doc = *parsed;
  if (!doc.is_object() || !doc.contains("ok")) {
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
