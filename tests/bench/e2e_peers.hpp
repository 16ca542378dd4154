#pragma once
// The end-to-end benchmark's processes: mosquitto configured as a hub's broker (tests/support's peer with
// its test-only save-after-every-change removed, and a queue large enough that a full-rate burst is never
// dropped) and, unless asked not to, without Nagle towards subscribers, the validating FHIR peer, and carehubd with a generated configuration (MQTT source, alerts on
// the same broker, FHIR upload with gzip off). Plus what is read from /proc about them.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::bench {

// utime + stime of a process in seconds (/proc/<pid>/stat).
double cpu_seconds(pid_t pid);
// VmRSS / VmHWM in KiB (/proc/<pid>/status); 0 when the process is gone.
std::int64_t status_kib(pid_t pid, const std::string& key);
// A child of this process whose comm starts with `comm` ("node", "mosquitto"), or -1.
pid_t child_pid(const std::string& comm);

class Peers {
 public:
  // `broker_nagle`: keep mosquitto's default (Nagle on its sockets towards subscribers) instead of
  // set_tcp_nodelay true, which a hub that shows alerts should run with.
  Peers(bool hl7_invariants, bool broker_nagle);
  test::MosquittoPeer& broker() { return *broker_; }
  test::FhirPeer& fhir() { return *fhir_; }
  pid_t fhir_pid() const { return fhir_pid_; }
  pid_t broker_pid() const { return broker_pid_; }
  // An empty server with the bench patient: every scenario and the baseline start from the same state.
  void reset_fhir();
  std::int64_t count(const std::string& type);  // resources of `type` the peer holds (its stats endpoint)

 private:
  test::TempDir dir_;
  std::unique_ptr<test::MosquittoPeer> broker_;
  std::unique_ptr<test::FhirPeer> fhir_;
  pid_t fhir_pid_ = -1;
  pid_t broker_pid_ = -1;
};

// One carehubd for one scenario: its own directory, store and MQTT client id.
class Carehubd {
 public:
  // `encrypted` false: /store/encryption off, the plaintext baseline of the encrypted buffer's cost.
  Carehubd(Peers& peers, const std::string& name, bool encrypted = true);
  ~Carehubd();
  bool start();  // false with the log on stderr
  pid_t pid() const { return daemon_->pid(); }
  void drain_notify() { daemon_->drain_notify(); }  // carehubd blocks on a full notify queue otherwise
  nlohmann::json status() { return daemon_->status(); }
  std::string log() const { return daemon_->log(); }

 private:
  test::TempDir dir_;
  std::unique_ptr<test::DaemonProcess> daemon_;
};

}  // namespace carehub::bench
