#pragma once
// Debian's mosquitto on a free loopback port with its own config and persistence directory, for one test.
// stop() and start() again keep the port and the persistence file, so a test can restart the broker
// mid-stream as a real one restarts; pause() and resume() (SIGSTOP/SIGCONT) make it a silent, dead peer
// whose TCP connections stay open. With `tls`, a second listener speaks TLS with a certificate for
// "localhost" (only: 127.0.0.1 does not match it) issued by a throw-away CA in `dir` (openssl CLI).
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace carehub::test {

struct MosquittoOptions {
  std::string username;  // with a password: anonymous clients are refused
  std::string password;
  bool tls = false;
  // TCP_NODELAY on the broker's sockets (mosquitto's set_tcp_nodelay; off by default, as in a stock
  // broker). With Nagle a PUBLISH the broker queued to a subscriber can wait in its send queue, and a
  // SIGKILL's reset discards it although the publisher already had its PUBACK (mosquitto#1855: the PUBACK
  // does not wait for the save). A test that must account for every acknowledged message sets this.
  bool tcp_nodelay = false;
};

class MosquittoPeer {
 public:
  // `dir` holds mosquitto.conf, the persistence file and the log. Starts the broker.
  explicit MosquittoPeer(std::string dir, MosquittoOptions options = {});
  ~MosquittoPeer();

  int port() const { return port_; }
  std::string url() const;  // tcp://127.0.0.1:<port>
  int tls_port() const { return tls_port_; }
  std::string tls_url() const;  // ssl://localhost:<tls port>
  std::string ca_file() const;  // the PEM of the CA that issued the broker's certificate
  void start();             // returns once the port accepts connections; throws with the log otherwise
  void stop(int sig = SIGTERM);  // SIGTERM saves the persistence file, as a broker restart does
  std::string log() const;
  void pause();   // SIGSTOP: connections stay open, nothing is answered
  void resume();  // SIGCONT

  // mosquitto_pub (QoS 1 unless told): returns true once the broker acknowledged (false: broker down, refused...).
  bool publish(const std::string& topic, const std::string& payload, bool retained = false, int qos = 1);
  // One mosquitto_pub -l (one connection) publishing each line as a message: for a burst; true once it exits 0.
  bool publish_lines(const std::string& topic, const std::vector<std::string>& lines, int qos = 1);
  // mosquitto_sub for the first message on `topic` (a retained one arrives at once); empty on timeout.
  std::string first_message(const std::string& topic, std::chrono::seconds timeout = std::chrono::seconds(10));

 private:
  std::string dir_;
  MosquittoOptions options_;
  int port_ = 0;
  int tls_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace carehub::test
