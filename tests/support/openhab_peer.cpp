#include "tests/support/openhab_peer.hpp"

#include <csignal>
#include <stdexcept>
#include <thread>

#include "sync/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

nlohmann::json http(const std::string& method, const std::string& url, const std::string& body = {}) {
  auto client = sync::make_curl_client({});
  sync::HttpRequest req{method, url, {{"Content-Type", "application/json"}}, body};
  auto resp = client->send(req);
  if (!resp) throw std::runtime_error(method + " " + url + ": " + resp.error().message);
  if (resp->status >= 300) throw std::runtime_error(method + " " + url + ": HTTP " + std::to_string(resp->status));
  return nlohmann::json::parse(resp->body);
}

}  // namespace

OpenhabPeer::OpenhabPeer(const std::string& log_file, const nlohmann::json& items, const std::string& items_file,
                         int alive_interval_s, int port, std::vector<std::string> extra_args) {
  write_file(items_file, items.dump());
  std::vector<std::string> argv{"/usr/bin/python3", (source_dir() / "tests" / "peers" / "openhab" / "server.py").string(),
                                "--port", std::to_string(port), "--items", items_file,
                                "--alive-interval", std::to_string(alive_interval_s)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string>{}, log_file);
  auto line = process_->read_line(std::chrono::seconds(20));
  if (!line || line->rfind("LISTENING ", 0) != 0) {
    throw std::runtime_error("openHAB peer did not start; its log:\n" + read_file(log_file));
  }
  port_ = std::stoi(line->substr(10));
}

OpenhabPeer::~OpenhabPeer() { stop(); }

void OpenhabPeer::stop() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(10));
  }
  process_.reset();
}

std::string OpenhabPeer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

nlohmann::json OpenhabPeer::post(const std::string& path, const nlohmann::json& body) {
  return http("POST", url() + path, body.dump());
}

void OpenhabPeer::update(const std::string& item, const std::string& state, bool event, const std::string& type,
                         const nlohmann::json& groups) {
  post("/test/update", {{"item", item}, {"state", state}, {"event", event}, {"type", type}, {"groups", groups}});
}

void OpenhabPeer::send_raw(const std::string& bytes) { post("/test/send", {{"raw", bytes}}); }
void OpenhabPeer::drop() { post("/test/drop", nlohmann::json::object()); }
void OpenhabPeer::keepalive(bool on) { post("/test/keepalive", {{"on", on}}); }
nlohmann::json OpenhabPeer::clients() { return http("GET", url() + "/test/clients"); }

bool OpenhabPeer::wait_connections(int n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = clients();
    // Streams opened and item lists served: after the n-th, the client has read the states it starts from.
    if (c["connections"].get<int>() >= n && c["connected"].get<int>() >= 1 && c["items_requests"].get<int>() >= n) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition, with a deadline
  }
  return false;
}

}  // namespace carehub::test
