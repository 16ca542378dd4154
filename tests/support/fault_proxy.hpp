#pragma once
// The fault-injecting reverse proxy (tests/peers/proxy/proxy.py) in front of a loopback peer, started
// for one test and stopped with it, and the calls that steer it. Faults apply to the next requests in
// the order they were added; see tests/peers/proxy/README.md for what each kind does on the wire.
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/support/child_process.hpp"

namespace carehub::test {

struct FaultProxyOptions {
  int port = 0;  // 0 picks a free one; a fixed port lets a test put the proxy where a client already points
  // TLS on the data port (the control port stays plain HTTP): the server certificate and its key (PEM).
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: clients must present a certificate signed by this CA (PEM), or the handshake is refused
  // and counted in stats()["tls_handshake_failures"].
  std::string client_ca_file;
};

class FaultProxy {
 public:
  // Forwards 127.0.0.1:<port()> to 127.0.0.1:<upstream_port>. Throws with the proxy's log on failure.
  FaultProxy(const std::string& log_file, int upstream_port, const FaultProxyOptions& options);
  FaultProxy(const std::string& log_file, int upstream_port, int port = 0)
      : FaultProxy(log_file, upstream_port, FaultProxyOptions{.port = port, .tls_cert_file = {}, .tls_key_file = {}, .client_ca_file = {}}) {}
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  int control_port() const { return control_port_; }
  bool tls() const { return tls_; }
  // http://127.0.0.1:<port><path> (https:// with TLS), e.g. base_url_for("/fhir/R4") for a client that
  // must go through it.
  std::string base_url_for(const std::string& path) const;

  // One fault ({"kind": "reset_after", "count": 2}) or a list of them, validated by the proxy: a bad one
  // throws with its message and nothing is added. A "down" fault takes effect at once.
  void add_fault(const nlohmann::json& fault);
  // Without a count: the listening socket closes (connects get ECONNREFUSED) until set_up(). With one:
  // the next `count` connections are accepted and reset at once (the kernel cannot count refusals).
  void set_down(std::optional<int> count = std::nullopt);
  void set_up();
  int release();  // ends every stall_mid_response in progress (the rest of the body follows); how many
  int clear();    // drops pending faults; how many were pending
  // {"requests","forwarded","faults_applied":{kind:n},"pending_faults","connections","refused_connections",
  //  "stalled","down","tls","tls_handshakes","tls_handshake_failures","tls_last_error"}
  nlohmann::json stats();
  // Polls stats() until `done(stats)` holds or `timeout` passes (a deadline, not a sleep to synchronise).
  bool wait_for(const std::function<bool(const nlohmann::json&)>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void stop();

 private:
  nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
  std::string log_file_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  int control_port_ = 0;
  bool tls_ = false;
};

}  // namespace carehub::test
