#include <cstdlib>
#include <iostream>

#include "daemon/control_client.hpp"
#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

std::string Context::socket() const {
  if (!socket_flag.empty()) return socket_flag;
  if (const char* env = std::getenv("CAREHUB_SOCKET"); env && *env) return env;
  return std::string(daemon::kDefaultSocket);
}

Result<nlohmann::json> Context::call(const std::string& cmd, const nlohmann::json& args) const {
  if (transport) return transport(cmd, args);
  auto client = daemon::ControlClient::connect(socket());
  if (!client) return client.error();
  return client->call(cmd, args);
}

int fail(const Error& e) {
  std::cerr << "carehubctl: " << e.message << "\n";
  return e.code == Errc::invalid_argument ? 2 : 1;
}

std::string text(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  return v.dump();
}

}  // namespace carehub::ctl
