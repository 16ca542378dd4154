#pragma once
// Debian's mosquitto on a free loopback port with its own config and persistence directory, for one test.
// stop() and start() again keep the port and the persistence file, so a test can restart the broker
// mid-stream as a real one restarts.
#include <chrono>
#include <csignal>
#include <memory>
#include <string>

#include "tests/support/child_process.hpp"

namespace carehub::test {

struct MosquittoOptions {
  std::string username;  // with a password: anonymous clients are refused
  std::string password;
};

class MosquittoPeer {
 public:
  // `dir` holds mosquitto.conf, the persistence file and the log. Starts the broker.
  explicit MosquittoPeer(std::string dir, MosquittoOptions options = {});
  ~MosquittoPeer();

  int port() const { return port_; }
  std::string url() const;  // tcp://127.0.0.1:<port>
  void start();             // returns once the port accepts connections; throws with the log otherwise
  void stop(int sig = SIGTERM);  // SIGTERM saves the persistence file, as a broker restart does
  std::string log() const;

  // mosquitto_pub, QoS 1: returns true once the broker acknowledged (false: broker down, refused...).
  bool publish(const std::string& topic, const std::string& payload, bool retained = false);
  // mosquitto_sub for the first message on `topic` (a retained one arrives at once); empty on timeout.
  std::string first_message(const std::string& topic, std::chrono::seconds timeout = std::chrono::seconds(10));

 private:
  std::string dir_;
  MosquittoOptions options_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace carehub::test
