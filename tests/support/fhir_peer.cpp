#include "tests/support/fhir_peer.hpp"

#include <csignal>
#include <stdexcept>

#include "sync/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

nlohmann::json http(const std::string& method, const std::string& url, const std::string& body = {}) {
  auto client = sync::make_curl_client({});
  sync::HttpRequest req{method, url, {{"Accept", "application/fhir+json"}, {"Content-Type", "application/fhir+json"}}, body};
  auto resp = client->send(req);
  if (!resp) throw std::runtime_error(resp.error().message);
  if (resp->status >= 300) throw std::runtime_error(method + " " + url + ": HTTP " + std::to_string(resp->status) + " " + resp->body);
  return nlohmann::json::parse(resp->body);
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

FhirPeer::FhirPeer(const std::string& log_file, int port) {
  const auto dir = source_dir() / "tests" / "peers" / "fhir";
  if (!std::filesystem::exists(dir / "node_modules")) {
    throw std::runtime_error("tests/peers/fhir/node_modules is missing: run scripts/install-deps.sh");
  }
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/env", "node", "--experimental-websocket", (dir / "server.mjs").string(),
                               "--port", std::to_string(port), "--quiet"},
      std::map<std::string, std::string>{}, log_file);
  // Loading the R4 definitions takes a few seconds on these machines.
  for (;;) {
    auto line = process_->read_line(std::chrono::seconds(60));
    if (!line) throw std::runtime_error("FHIR peer did not start; its log:\n" + read_file(log_file));
    if (line->rfind("LISTENING ", 0) == 0) {
      port_ = std::stoi(line->substr(10));
      break;
    }
  }
}

FhirPeer::~FhirPeer() { stop(); }

void FhirPeer::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

std::string FhirPeer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fhir/R4"; }

nlohmann::json FhirPeer::get(const std::string& path_and_query) { return http("GET", base_url() + "/" + path_and_query); }

void FhirPeer::put(const std::string& path, const nlohmann::json& resource) {
  http("PUT", base_url() + "/" + path, resource.dump());
}

std::size_t FhirPeer::count_by_identifier(const std::string& type, const std::string& system, const std::string& value) {
  auto bundle = get(type + "?identifier=" + url_encode(system + "|" + value) + "&_count=1000");
  return bundle.contains("entry") ? bundle["entry"].size() : 0;
}

std::size_t FhirPeer::count(const std::string& type) {
  auto bundle = get(type + "?_count=1000&_total=accurate");
  if (bundle.contains("total")) return bundle["total"].get<std::size_t>();
  return bundle.contains("entry") ? bundle["entry"].size() : 0;
}

}  // namespace carehub::test
