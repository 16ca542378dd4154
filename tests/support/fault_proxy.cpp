#include "tests/support/fault_proxy.hpp"

#include <csignal>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "sync/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {

FaultProxy::FaultProxy(const std::string& log_file, int upstream_port, const FaultProxyOptions& options)
    : log_file_(log_file), tls_(!options.tls_cert_file.empty()) {
  if (!options.client_ca_file.empty() && !tls_) {
    throw std::invalid_argument("FaultProxyOptions: client_ca_file needs tls_cert_file (client certificates need TLS)");
  }
  // /usr/bin/python3, not the PATH's: the proxy needs only the standard library, and this one is always there.
  std::vector<std::string> argv{"/usr/bin/python3", (source_dir() / "tests" / "peers" / "proxy" / "proxy.py").string(),
                                "--upstream", "127.0.0.1:" + std::to_string(upstream_port), "--port",
                                std::to_string(options.port)};
  if (tls_) {
    argv.insert(argv.end(), {"--tls-cert", options.tls_cert_file});
    if (!options.tls_key_file.empty()) argv.insert(argv.end(), {"--tls-key", options.tls_key_file});
    if (!options.client_ca_file.empty()) argv.insert(argv.end(), {"--client-ca", options.client_ca_file});
  }
  process_ = std::make_unique<ChildProcess>(std::move(argv), std::map<std::string, std::string>{}, log_file);
  auto line = process_->read_line(std::chrono::seconds(20));
  std::istringstream words(line.value_or(""));
  std::string tag;
  if (!(words >> tag >> port_ >> control_port_) || tag != "LISTENING") {
    throw std::runtime_error("fault proxy did not start (stdout: '" + line.value_or("<nothing>") + "'); its log:\n" +
                             read_file(log_file));
  }
}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::stop() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(10));
  }
  process_.reset();
}

std::string FaultProxy::base_url_for(const std::string& path) const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + path;
}

nlohmann::json FaultProxy::control(const std::string& method, const std::string& path, const nlohmann::json& body) {
  auto client = sync::make_curl_client({});
  sync::HttpRequest req{method, "http://127.0.0.1:" + std::to_string(control_port_) + path,
                        {{"Content-Type", "application/json"}}, body.is_null() ? std::string{} : body.dump()};
  auto resp = client->send(req);
  if (!resp) throw std::runtime_error("fault proxy " + method + " " + path + ": " + resp.error().message);
  auto answer = nlohmann::json::parse(resp->body, nullptr, false);
  if (resp->status != 200 || answer.is_discarded()) {
    throw std::runtime_error("fault proxy " + method + " " + path + ": HTTP " + std::to_string(resp->status) + " " +
                             resp->body);
  }
  return answer;
}

void FaultProxy::add_fault(const nlohmann::json& fault) { control("POST", "/faults", fault); }

void FaultProxy::set_down(std::optional<int> count) {
  nlohmann::json fault{{"kind", "down"}};
  if (count) fault["count"] = *count;
  add_fault(fault);
}

void FaultProxy::set_up() { control("POST", "/up"); }
int FaultProxy::release() { return control("POST", "/release")["released"].get<int>(); }
int FaultProxy::clear() { return control("POST", "/clear")["dropped"].get<int>(); }
nlohmann::json FaultProxy::stats() { return control("GET", "/stats"); }

bool FaultProxy::wait_for(const std::function<bool(const nlohmann::json&)>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done(stats())) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition, with a deadline
  }
}

}  // namespace carehub::test
