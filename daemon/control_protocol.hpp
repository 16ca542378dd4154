#pragma once
// The control socket's protocol: one JSON object per line each way.
//   request:  {"id":1,"cmd":"measure.add","args":{...}}
//   response: {"id":1,"ok":true,"result":{...}}  or  {"id":1,"ok":false,"error":{"code":"…","message":"…"}}
// Shared by carehubd (server) and carehubctl (client).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace carehub::daemon {

// Larger requests are refused (and the connection closed) before they are parsed.
inline constexpr std::size_t kMaxRequestBytes = 1 << 20;
inline constexpr std::string_view kDefaultSocket = "/run/carehub/control.sock";

struct Request {
  nlohmann::json id;  // echoed back; null when the client sent none
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();
};

Result<Request> parse_request(std::string_view line);
std::string encode_request(const Request& r);

std::string ok_response(const nlohmann::json& id, const nlohmann::json& result);
std::string error_response(const nlohmann::json& id, std::string_view code, std::string_view message);
std::string error_response(const nlohmann::json& id, const Error& e);

// Client side: a response line -> the result, or the daemon's error as an Error.
Result<nlohmann::json> parse_response(std::string_view line);

}  // namespace carehub::daemon
