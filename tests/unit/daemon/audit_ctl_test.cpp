// carehubctl audit (issue 18): the command line becomes the audit.list request carehubd documents
// (daemon/commands/audit.cpp), a bad --since is refused before anything is sent, and the answer is printed
// as a table or, with --json, one object per line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

using ::testing::HasSubstr;

class TheAuditCommand : public ::testing::Test {
 protected:
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "carehubctl");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    Context ctx;
    ctx.transport = [this](const std::string& cmd, const nlohmann::json& a) -> Result<nlohmann::json> {
      sent_.push_back({cmd, a});
      return answer_;
    };
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int rc = carehub::ctl::run(static_cast<int>(argv.size()), argv.data(), ctx);
    std::fflush(stdout);
    out_ = ::testing::internal::GetCapturedStdout();
    err_ = ::testing::internal::GetCapturedStderr();
    return rc;
  }

  std::vector<std::pair<std::string, nlohmann::json>> sent_;
  nlohmann::json answer_ = {
      {"events",
       {{{"seq", 2}, {"uid", "audit-1"}, {"time", "2026-12-05T10:00:00Z"}, {"action", "alerts.ack"},
         {"actor", "Tech Tom, uid 1000 (tom)"}, {"actor_kind", "unix"}, {"on_behalf_of", "Patient/anna"},
         {"patient", "Patient/anna"}, {"entities", {{{"type", "DetectedIssue"}, {"id", "al-1"}}}},
         {"outcome", "success"}, {"detail", ""}, {"synced", false}}}}};
  std::string out_, err_;
};

TEST_F(TheAuditCommand, SendsItsFiltersAndPrintsWhoDidWhatWhen) {
  ASSERT_EQ(run({"audit", "--since", "2026-12-05T09:00:00Z", "--actor", "tom", "--action", "alerts."}), 0) << err_;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].first, "audit.list");
  EXPECT_EQ(sent_[0].second, (nlohmann::json{{"limit", 100}, {"since", "2026-12-05T09:00:00Z"}, {"actor", "tom"},
                                             {"action", "alerts."}}));
  EXPECT_THAT(out_, HasSubstr("2026-12-05T10:00:00Z"));
  EXPECT_THAT(out_, HasSubstr("alerts.ack"));
  EXPECT_THAT(out_, HasSubstr("Tech Tom, uid 1000 (tom) for Patient/anna"));
  EXPECT_THAT(out_, HasSubstr("DetectedIssue/al-1"));
}

TEST_F(TheAuditCommand, PrintsOneJsonObjectPerLine) {
  ASSERT_EQ(run({"audit", "--json"}), 0) << err_;
  EXPECT_EQ(out_, answer_["events"][0].dump() + "\n");
}

TEST_F(TheAuditCommand, RefusesABadSinceBeforeSendingAnything) {
  EXPECT_EQ(run({"audit", "--since", "yesterday"}), 2);
  EXPECT_TRUE(sent_.empty());
  EXPECT_THAT(err_, HasSubstr("--since"));
}

}  // namespace
}  // namespace carehub::ctl
