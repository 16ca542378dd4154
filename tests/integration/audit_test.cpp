// The audit trail end to end (issue 18): carehubctl -> carehubd's control socket -> the buffer -> the
// uploader -> the local FHIR peer (Medplum's validator, R4). Each recorded action, refusals included, is an
// AuditEvent on the server after a sync, exactly once however often the uploader passes, and carehubctl
// audit shows the same events, now marked synced.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"

namespace carehub::test {
namespace {

constexpr const char* kPatient = "Patient/test-patient";  // DaemonProcess's /hub/patient

std::vector<nlohmann::json> lines_of(const std::string& out) {
  std::vector<nlohmann::json> rows;
  std::size_t start = 0;
  while (start < out.size()) {
    const auto end = out.find('\n', start);
    const auto line = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return rows;
}

TEST(AuditEndToEnd, EachRecordedActionIsOneAuditEventOnTheServer) {
  TempDir dir;
  FhirPeer peer(dir.file("fhir.log"));
  peer.put(kPatient, {{"resourceType", "Patient"}, {"id", "test-patient"}});
  DaemonProcess d(dir, peer.base_url());
  ASSERT_TRUE(d.start()) << d.log();

  auto requeued = d.ctl({"sync", "retry-dead"});  // a change in the buffer: recorded with it
  ASSERT_EQ(requeued.exit_code, 0) << requeued.err;
  auto refused = d.ctl({"alerts", "ack", "no-such-alert"});  // refused: recorded as such
  ASSERT_NE(refused.exit_code, 0);

  auto synced = d.ctl({"sync", "now", "--wait", "30"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err << d.log();
  auto again = d.ctl({"sync", "now", "--wait", "30"});
  ASSERT_EQ(again.exit_code, 0) << again.err;

  auto listed = d.ctl({"audit", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto rows = lines_of(listed.out);
  ASSERT_EQ(rows.size(), 2u) << listed.out;
  EXPECT_EQ(peer.count("AuditEvent"), 2u) << "once each, however many passes";
  for (const auto& row : rows) {
    EXPECT_EQ(row["synced"], true) << row.dump();
    const auto r = peer.get("AuditEvent/" + row["uid"].get<std::string>());
    EXPECT_EQ(r["subtype"][0]["code"], row["action"]);
    EXPECT_EQ(r["agent"][0]["requestor"], true);
    EXPECT_NE(r["agent"][0]["name"].get<std::string>().find("uid " + std::to_string(::getuid())), std::string::npos)
        << "who: the control socket's peer, as the kernel vouches for it";
    EXPECT_EQ(r["recorded"], row["time"]);
    EXPECT_EQ(r["outcome"], row["outcome"] == "success" ? "0" : "4") << r.dump();
  }
  const auto ack = peer.get("AuditEvent/" + rows[0]["uid"].get<std::string>());
  EXPECT_EQ(rows[0]["action"], "alerts.ack");
  EXPECT_EQ(ack["entity"][0]["what"]["identifier"]["value"], "no-such-alert");
  EXPECT_NE(ack["outcomeDesc"].get<std::string>().find("no-such-alert"), std::string::npos);
}

// `systemctl reload` is a SIGHUP from systemd, not a control command: the row names the signal's sender
// (the kernel's siginfo) and how the reload ended. `carehubctl config reload` signals carehubd itself and
// is recorded once, by its command. carehubd takes signals one at a time, so the SIGTERM after them is
// handled only once their rows are durable; the restarted daemon shows and uploads them.
TEST(AuditEndToEnd, AReloadBySignalIsRecordedWithItsSenderAndAReloadByCommandOnce) {
  TempDir dir;
  FhirPeer peer(dir.file("fhir.log"));
  peer.put(kPatient, {{"resourceType", "Patient"}, {"id", "test-patient"}});
  DaemonProcess d(dir, peer.base_url());
  ASSERT_TRUE(d.start()) << d.log();

  d.signal(SIGHUP);  // applied
  ASSERT_TRUE(d.wait_notify("READY=1")) << d.log();
  auto by_command = d.ctl({"config", "reload"});
  ASSERT_EQ(by_command.exit_code, 0) << by_command.err;
  ASSERT_TRUE(d.wait_notify("READY=1")) << d.log();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(), 0) << d.log();

  ASSERT_TRUE(d.start()) << d.log();
  auto listed = d.ctl({"audit", "--action", "config.reload", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto rows = lines_of(listed.out);  // newest first
  ASSERT_EQ(rows.size(), 2u) << "one row per reload, the command's not twice\n" << listed.out;
  const std::string sender = "SIGHUP from uid " + std::to_string(::getuid());
  EXPECT_EQ(rows[1]["actor"].get<std::string>().rfind(sender, 0), 0u) << rows[1].dump();
  EXPECT_EQ(rows[1]["outcome"], "success") << rows[1].dump();
  EXPECT_EQ(rows[0]["actor"].get<std::string>().find("SIGHUP"), std::string::npos)
      << "the command's row names the socket's peer: " << rows[0].dump();

  auto synced = d.ctl({"sync", "now", "--wait", "30"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err << d.log();
  const auto r = peer.get("AuditEvent/" + rows[1]["uid"].get<std::string>());
  EXPECT_EQ(r["subtype"][0]["code"], "config.reload") << r.dump();
  EXPECT_EQ(r["agent"][0]["name"].get<std::string>().rfind(sender, 0), 0u) << r.dump();
}

// A reload whose file no longer validates keeps the running configuration; the signal's row says refused.
TEST(AuditEndToEnd, ARefusedReloadBySignalIsRecordedAsRefused) {
  TempDir dir;
  DaemonProcess d(dir, "");
  ASSERT_TRUE(d.start()) << d.log();
  {
    std::ofstream broken(dir.file("carehubd.json"), std::ios::trunc);
    broken << "{ not json";
  }
  d.signal(SIGHUP);
  d.signal(SIGTERM);  // taken after the SIGHUP and its row
  ASSERT_EQ(d.wait_exit(), 0) << d.log();
  // start() writes the valid file again.
  ASSERT_TRUE(d.start()) << d.log();
  auto listed = d.ctl({"audit", "--action", "config.reload", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto rows = lines_of(listed.out);
  ASSERT_EQ(rows.size(), 1u) << listed.out;
  EXPECT_EQ(rows[0]["outcome"], "refused") << rows[0].dump();
  EXPECT_FALSE(rows[0]["detail"].get<std::string>().empty()) << "the reason the file was refused: " << rows[0].dump();
}

}  // namespace
}  // namespace carehub::test
