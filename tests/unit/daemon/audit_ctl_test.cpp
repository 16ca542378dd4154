// carehubctl audit (issue 18): the command line becomes the audit.list request carehubd documents
// (daemon/commands/audit.cpp), a bad --since is refused before anything is sent, and the answer is printed
// as a table or, with --json, one object per line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/command_line.hpp"

namespace carehub::ctl {
namespace {

using ::testing::HasSubstr;

class TheAuditCommand : public test::CommandLine {
 protected:
  void SetUp() override { answers_.emplace("audit.list", answer_); }

  const nlohmann::json answer_ = {
      {"events",
       {{{"seq", 2}, {"uid", "audit-1"}, {"time", "2026-12-05T10:00:00Z"}, {"action", "alerts.ack"},
         {"actor", "Tech Tom, uid 1000 (tom)"}, {"actor_kind", "unix"}, {"on_behalf_of", "Patient/anna"},
         {"patient", "Patient/anna"}, {"entities", {{{"type", "DetectedIssue"}, {"id", "al-1"}}}},
         {"outcome", "success"}, {"detail", ""}, {"synced", false}}}}};
};

TEST_F(TheAuditCommand, SendsItsFiltersAndPrintsWhoDidWhatWhen) {
  ASSERT_EQ(run({"audit", "--since", "2026-12-05T09:00:00Z", "--actor", "tom", "--action", "alerts."}), 0) << err_;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cmd, "audit.list");
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"limit", 100}, {"since", "2026-12-05T09:00:00Z"}, {"actor", "tom"},
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

// `config reload`, an audited action of its own (issue 18): carehubd checks and applies its file.
TEST_F(TheAuditCommand, ConfigReloadAsksCarehubdAndNamesTheFile) {
  answers_.emplace("config.reload", nlohmann::json{{"file", "/etc/carehub/carehubd.json"}, {"reloading", true}});
  ASSERT_EQ(run({"config", "reload"}), 0) << err_;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cmd, "config.reload");
  EXPECT_EQ(out_, "/etc/carehub/carehubd.json: reloading\n");
  answers_.insert_or_assign("config.reload", make_error(Errc::invalid_argument, "not reloaded: /store/path: required"));
  EXPECT_EQ(run({"config", "reload"}), 2);
  EXPECT_THAT(err_, HasSubstr("not reloaded: /store/path: required"));
}

}  // namespace
}  // namespace carehub::ctl
