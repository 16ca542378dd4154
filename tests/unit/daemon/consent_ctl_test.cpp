// carehubctl consent as a technician types it (issue 18): each command line becomes exactly the request
// carehubd documents (daemon/commands/consent.cpp), a line naming neither a patient nor the default is
// refused before anything is sent (exit 2), and the answers are printed. The transport records instead of
// connecting: carehubd's side is tested in consent_commands_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "tests/support/command_line.hpp"

namespace carehub::ctl {
namespace {

using ::testing::HasSubstr;

class AConsentCommandLine : public test::CommandLine {};

TEST_F(AConsentCommandLine, DeniesAKindForAPatientAndSaysWhatWasWithheld) {
  answers_.emplace("consent.set", nlohmann::json{{"patient", "Patient/anna"}, {"default", false}, {"kinds", {"glucose"}},
                                                 {"allowed", false}, {"since", "2026-11-21T10:00:00Z"}, {"withheld", 3},
                                                 {"released", 0}, {"by", "Tech Anna, uid 1000 (tech)"}});
  ASSERT_EQ(run({"consent", "set", "--patient", "Patient/anna", "--kind", "glucose", "deny", "--reason", "asked", "--by",
                 "Tech Anna"}),
            0)
      << err_;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cmd, "consent.set");
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"patient", "Patient/anna"}, {"kind", "glucose"}, {"allow", false},
                                           {"reason", "asked"}, {"by", "Tech Anna"}}));
  EXPECT_THAT(out_, HasSubstr("denied glucose for Patient/anna from 2026-11-21T10:00:00Z"));
  EXPECT_THAT(out_, HasSubstr("3 reading(s) not yet uploaded are now withheld"));
}

TEST_F(AConsentCommandLine, AllowsAsTheDefaultAndReleasesWithheldOnlyWhenAsked) {
  ASSERT_EQ(run({"consent", "set", "--default", "--kind", "vitals", "allow", "--release-withheld"}), 0) << err_;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"default", true}, {"kind", "vitals"}, {"allow", true}, {"release_withheld", true}}));
}

TEST_F(AConsentCommandLine, RefusesALineNamingNeitherAPatientNorTheDefaultOrNoDecision) {
  EXPECT_EQ(run({"consent", "set", "--kind", "glucose", "deny"}), 2);
  EXPECT_THAT(err_, HasSubstr("give --patient or --default"));
  EXPECT_EQ(run({"consent", "set", "--patient", "Patient/anna", "--kind", "glucose", "maybe"}), 2);
  EXPECT_EQ(run({"consent", "set", "--patient", "Patient/anna", "--default", "--kind", "glucose", "deny"}), 2);
  EXPECT_TRUE(sent_.empty()) << "nothing reaches carehubd";
}

TEST_F(AConsentCommandLine, ShowsEachPatientsKindsAndWhatIsWithheld) {
  answers_.emplace("consent.show",
                   nlohmann::json{{"default", {{"glucose", {{"allowed", true}, {"source", "built-in"}}}}},
                                  {"patients",
                                   {{{"patient", "Patient/anna"},
                                     {"kinds", {{"glucose", {{"allowed", false}, {"source", "patient"}, {"since", "2026-11-21T10:00:00Z"}, {"by", "tech"}}}}},
                                     {"withheld", {{"glucose", 2}}}}}},
                                  {"withheld", 2}});
  ASSERT_EQ(run({"consent", "show", "--patient", "Patient/anna"}), 0) << err_;
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"patient", "Patient/anna"}}));
  EXPECT_THAT(out_, HasSubstr("Patient/anna:"));
  EXPECT_THAT(out_, HasSubstr("glucose           deny  (patient, 2026-11-21T10:00:00Z by tech), 2 withheld"));
  EXPECT_THAT(out_, HasSubstr("2 reading(s) withheld"));
}

}  // namespace
}  // namespace carehub::ctl
