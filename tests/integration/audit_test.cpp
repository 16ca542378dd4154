// The audit trail end to end (issue 18): carehubctl -> carehubd's control socket -> the buffer -> the
// uploader -> the local FHIR peer (Medplum's validator, R4). Each recorded action, refusals included, is an
// AuditEvent on the server after a sync, exactly once however often the uploader passes, and carehubctl
// audit shows the same events, now marked synced.
#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace carehub::test
