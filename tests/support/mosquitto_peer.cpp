#include "tests/support/mosquitto_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A port nobody uses right now: bind port 0, read what the kernel chose, release it for mosquitto.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(0);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error("openssl " + args.front() + ": " + r.err);
}

// A CA and a server certificate for DNS:localhost signed by it (P-256 keys: generated in milliseconds).
void make_certificates(const std::string& dir) {
  const auto ec = std::vector<std::string>{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::string> ca{"req", "-x509"};
  ca.insert(ca.end(), ec.begin(), ec.end());
  ca.insert(ca.end(), {"-keyout", dir + "/ca.key", "-out", dir + "/ca.pem", "-days", "2", "-subj", "/CN=carehub test CA"});
  openssl(ca);
  std::vector<std::string> csr{"req"};
  csr.insert(csr.end(), ec.begin(), ec.end());
  csr.insert(csr.end(), {"-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=localhost"});
  openssl(csr);
  write_file(dir + "/server.ext", "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n");
  openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
           "-CAcreateserial", "-out", dir + "/server.pem", "-days", "2", "-extfile", dir + "/server.ext"});
}

}  // namespace

MosquittoPeer::MosquittoPeer(std::string dir, MosquittoOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), port_(free_port()) {
  // As root, mosquitto would switch to the "mosquitto" user, who cannot write this test's directory.
  const std::string user = ::geteuid() == 0 ? "user root\n" : "";
  std::string conf = user + "listener " + std::to_string(port_) + " 127.0.0.1\n" +
                     "persistence true\npersistence_location " + dir_ + "/\n" +
                     // Save after every change too: a SIGKILLed broker then keeps what it acknowledged, but
                     // for the message of the last moment (mosquitto#1855; MosquittoOptions::tcp_nodelay).
                     "autosave_on_changes true\nautosave_interval 1\n" +
                     (options_.tcp_nodelay ? "set_tcp_nodelay true\n" : "") +
                     "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  if (!options_.username.empty()) {
    const auto passwords = dir_ + "/passwords";
    write_file(passwords, "");
    auto r = run_process({"/usr/bin/mosquitto_passwd", "-b", passwords, options_.username, options_.password});
    if (r.exit_code != 0) throw std::runtime_error("mosquitto_passwd: " + r.err);
    conf += "allow_anonymous false\npassword_file " + passwords + "\n";
  } else {
    conf += "allow_anonymous true\n";
  }
  if (options_.tls) {
    do {
      tls_port_ = free_port();  // the kernel may hand out the port just released for the plain listener
    } while (tls_port_ == port_);
    make_certificates(dir_);
    conf += "listener " + std::to_string(tls_port_) + " 127.0.0.1\ncafile " + dir_ + "/ca.pem\ncertfile " + dir_ +
            "/server.pem\nkeyfile " + dir_ + "/server.key\n";
  }
  write_file(dir_ + "/mosquitto.conf", conf);
  start();
}

std::string MosquittoPeer::tls_url() const { return "ssl://localhost:" + std::to_string(tls_port_); }
std::string MosquittoPeer::ca_file() const { return dir_ + "/ca.pem"; }

void MosquittoPeer::pause() {
  if (process_) process_->signal(SIGSTOP);
}

void MosquittoPeer::resume() {
  if (process_) process_->signal(SIGCONT);
}

MosquittoPeer::~MosquittoPeer() { stop(SIGKILL); }

std::string MosquittoPeer::url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

void MosquittoPeer::start() {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/sbin/mosquitto", "-c", dir_ + "/mosquitto.conf"},
      std::map<std::string, std::string>{}, dir_ + "/mosquitto.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts(port_)) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the port, with a deadline
  }
  throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ":\n" + log());
}

void MosquittoPeer::stop(int sig) {
  if (process_ && process_->running()) {
    process_->signal(sig);
    process_->signal(SIGCONT);  // a paused broker acts on the signal only once it runs again
    process_->wait(std::chrono::seconds(10));
  }
  process_.reset();
}

std::string MosquittoPeer::log() const { return read_file(dir_ + "/mosquitto.log"); }

bool MosquittoPeer::publish(const std::string& topic, const std::string& payload, bool retained, int qos) {
  std::vector<std::string> argv{"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port_),
                                "-q", std::to_string(qos), "-t", topic, "-m", payload};
  if (retained) argv.push_back("-r");
  if (!options_.username.empty()) {
    argv.insert(argv.end(), {"-u", options_.username, "-P", options_.password});
  }
  return run_process(argv, {}, {}, std::chrono::seconds(10)).exit_code == 0;
}

bool MosquittoPeer::publish_lines(const std::string& topic, const std::vector<std::string>& lines, int qos) {
  std::vector<std::string> argv{"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port_),
                                "-q", std::to_string(qos), "-t", topic, "-l"};
  if (!options_.username.empty()) {
    argv.insert(argv.end(), {"-u", options_.username, "-P", options_.password});
  }
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  return run_process(argv, input, {}, std::chrono::seconds(120)).exit_code == 0;
}

std::string MosquittoPeer::first_message(const std::string& topic, std::chrono::seconds timeout) {
  std::vector<std::string> argv{"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(port_),
                                "-t", topic, "-C", "1", "-W", std::to_string(timeout.count())};
  if (!options_.username.empty()) {
    argv.insert(argv.end(), {"-u", options_.username, "-P", options_.password});
  }
  auto r = run_process(argv, {}, {}, timeout + std::chrono::seconds(5));
  auto out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace carehub::test
