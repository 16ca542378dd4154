#pragma once
// The openHAB stand-in (tests/peers/openhab/server.py) on a loopback port, started for one test and
// stopped with it, and the calls that steer it: change states, send raw frames, drop streams, fall silent.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace carehub::test {

class OpenhabPeer {
 public:
  // `items`: the /rest/items list it starts with. `port` 0 picks a free one; a fixed port lets a test
  // restart the server where carehubd expects it. `extra_args`: --token T, --basic u:p, --cloud-token T.
  OpenhabPeer(const std::string& log_file, const nlohmann::json& items, const std::string& items_file,
              int alive_interval_s, int port = 0, std::vector<std::string> extra_args = {});
  ~OpenhabPeer();

  int port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:<port>
  void stop();

  // A new state; with `event` the subscribers get an ItemStateChangedEvent (`type` is its state type).
  void update(const std::string& item, const std::string& state, bool event = true,
              const std::string& type = "Quantity", const nlohmann::json& groups = nlohmann::json::array());
  void send_raw(const std::string& bytes);  // written as is to every open stream
  void drop();                              // closes every open stream
  void keepalive(bool on);                  // off: the server sends nothing at all (hung)
  nlohmann::json clients();                 // {"connected","connections","items_requests","auth_failures"}
  // Waits until at least `n` event streams were ever opened and item lists served (and a stream is open).
  bool wait_connections(int n, std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  nlohmann::json post(const std::string& path, const nlohmann::json& body);
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace carehub::test
