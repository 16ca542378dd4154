// carehubd's lifecycle under a technician's long command: `carehubctl sync now --wait` in progress while
// the daemon reloads (SIGHUP rebuilds the uploader) or stops (SIGTERM). The FHIR server is made
// unreachable or stalled through the fault proxy, so the wait cannot finish on its own.
#include <gtest/gtest.h>

#include <csignal>

#include "core/time.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/fhir_peer.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kIdSystem = "urn:ietf:rfc:3986";

// systemd gives carehubd TimeoutStopSec=60s (systemd/carehubd.service); a stop must finish well inside it.
constexpr auto kStopBound = 10s;

std::string heart_rate_line() {
  const auto t = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) - 1h;
  return json{{"kind", "heart-rate"}, {"time", format_rfc3339(t)}, {"device", "manual"}, {"values", {{"value", 64}}}}
             .dump() +
         "\n";
}

class DaemonLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"));
    peer_->put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
    proxy_ = std::make_unique<FaultProxy>(dir_.file("proxy.log"), peer_->port());
    d_ = std::make_unique<DaemonProcess>(dir_, proxy_->base_url_for("/fhir/R4"));
  }

  // `carehubctl sync now --wait 3600` running on its own; its stderr goes to <name>.err.
  std::unique_ptr<ChildProcess> start_waiter(const std::string& name) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{(binary_dir() / "daemon" / "carehubctl").string(), "--socket", d_->socket(), "sync",
                                 "now", "--wait", "3600"},
        std::map<std::string, std::string>{}, dir_.file(name + ".err"));
  }
  std::string waiter_err(const std::string& name) const { return read_file(dir_.file(name + ".err")); }

  std::uint64_t control_requests() { return d_->status()["counters"].value("control_requests", std::uint64_t{0}); }
  // Polls status until carehubd has taken `n` requests besides the polls themselves since `before` (a
  // control_requests reading taken by a status call): the waiters' `sync.now` are then being served.
  bool wait_taken(std::uint64_t before, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (std::uint64_t polls = 1; std::chrono::steady_clock::now() < deadline; ++polls) {
      if (control_requests() >= before + polls + n) return true;
    }
    return false;
  }

  // SIGTERM while one `sync now --wait 3600` waits: carehubd exits cleanly within kStopBound, and the
  // waiter is told that the daemon is stopping rather than cut off without an answer.
  void expect_prompt_stop_with_an_answer() {
    const auto before = control_requests();
    auto waiter = start_waiter("waiter");
    ASSERT_TRUE(wait_taken(before, 1)) << d_->log();

    const auto t0 = std::chrono::steady_clock::now();
    d_->signal(SIGTERM);
    const int code = d_->wait_exit();  // SIGKILLs after 30 s: -1
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(code, 0) << d_->log();
    EXPECT_LT(took, kStopBound) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";

    EXPECT_EQ(waiter->wait(kStopBound), 1) << waiter_err("waiter");
    EXPECT_NE(waiter_err("waiter").find("stopping"), std::string::npos) << waiter_err("waiter");
  }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(DaemonLifecycle, SyncNowWaitCarriesOnAcrossReloadsInALoopAndFinishesOnceTheServerIsBack) {
  proxy_->set_down();  // connects refused: nothing can be delivered until set_up()
  ASSERT_TRUE(d_->start()) << d_->log();
  const auto added = d_->add(heart_rate_line());
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto uids = added.uids();
  ASSERT_EQ(uids.size(), 1u);

  // Many waiters (the control server takes 16 connections): each reload destroys the uploader they wait
  // on, and the more of them wake at once, the likelier one of them still waits for its lock when the
  // uploader is freed, which is how ASan saw the use-after-free before the fix.
  constexpr int kWaiters = 12;
  const auto before = control_requests();
  std::vector<std::unique_ptr<ChildProcess>> waiters;
  for (int i = 0; i < kWaiters; ++i) waiters.push_back(start_waiter("waiter" + std::to_string(i)));
  ASSERT_TRUE(wait_taken(before, kWaiters)) << d_->log();

  for (int i = 0; i < 20; ++i) {
    d_->signal(SIGHUP);
    // Status while the reload swaps the uploader and the configuration under it.
    EXPECT_FALSE(d_->status().empty()) << "reload " << i << "\n" << d_->log();
    ASSERT_TRUE(d_->wait_notify("READY=1")) << "reload " << i << "\n" << d_->log();
  }
  ASSERT_EQ(::kill(d_->pid(), 0), 0) << "carehubd died during the reloads\n" << d_->log();
  // A reload is not the end of the wait: each waiter goes on waiting on the new uploader.
  for (int i = 0; i < kWaiters; ++i) {
    EXPECT_TRUE(waiters[i]->running()) << "waiter " << i << " answered during the reloads: "
                                       << waiter_err("waiter" + std::to_string(i));
  }

  proxy_->set_up();
  for (int i = 0; i < kWaiters; ++i) {
    EXPECT_EQ(waiters[i]->wait(30s), 0) << "waiter " << i << ": " << waiter_err("waiter" + std::to_string(i))
                                         << d_->log();
  }
  EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uids[0]), 1u);
  EXPECT_EQ(peer_->count("Observation"), 1u);
}

TEST_F(DaemonLifecycle, SigtermDuringSyncNowWaitOnAStalledServerAnswersTheWaiterAndExitsPromptly) {
  // The upload request hangs halfway through the answer for longer than the stop bound.
  d_->config()["fhir"]["request_timeout_ms"] = 120000;
  proxy_->add_fault({{"kind", "stall_mid_response"}, {"count", 100}});
  ASSERT_TRUE(d_->start()) << d_->log();
  ASSERT_EQ(d_->add(heart_rate_line()).exit_code, 0);
  ASSERT_TRUE(proxy_->wait_for([](const json& s) { return s.value("stalled", 0) >= 1; })) << proxy_->stats().dump();
  expect_prompt_stop_with_an_answer();
}

TEST_F(DaemonLifecycle, SigtermDuringSyncNowWaitOnAnUnreachableServerAnswersTheWaiterAndExitsPromptly) {
  proxy_->set_down();
  ASSERT_TRUE(d_->start()) << d_->log();
  ASSERT_EQ(d_->add(heart_rate_line()).exit_code, 0);
  expect_prompt_stop_with_an_answer();
}

}  // namespace
}  // namespace carehub::test
