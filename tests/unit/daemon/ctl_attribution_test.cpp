// carehubctl's attribution commands as a technician types them (issue 14): each command line becomes
// exactly the request carehubd documents, bad combinations are refused before anything is sent (exit 2),
// and the answers are printed so a technician can act on them. The transport records instead of
// connecting: carehubd's side of the same requests is tested in attribution_commands_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/command_line.hpp"

namespace carehub::ctl {
namespace {

using ::testing::HasSubstr;

class ACommandLine : public test::CommandLine {};

TEST_F(ACommandLine, PairsATwoUserMonitorWithOnePatientPerUserInTheOrderGiven) {
  answers_.emplace("devices.pair", nlohmann::json{
      {"device", {{"id", "ble-aa-bb-cc-dd-ee-01"}, {"address", "AA:BB:CC:DD:EE:01"}, {"category", "blood-pressure"}, {"model", "BP7000"}}},
      {"users", {{{"device", "ble-aa-bb-cc-dd-ee-01"}, {"user", 1}, {"patient", "Patient/anna"}, {"since", "2026-11-21T10:00:00Z"}, {"by", "uid 1000 (tech)"}},
                 {{"device", "ble-aa-bb-cc-dd-ee-01"}, {"user", 2}, {"patient", "Patient/ben"}, {"since", "2026-11-21T10:00:00Z"}, {"by", "uid 1000 (tech)"}}}}});
  ASSERT_EQ(run({"devices", "pair", "AA:BB:CC:DD:EE:01", "--category", "blood-pressure", "--user", "1", "--patient",
                 "Patient/anna", "--user", "2", "--patient", "Patient/ben", "--by", "Tech Anna"}),
            0) << err_;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cmd, "devices.pair");
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:01"},
                                           {"category", "blood-pressure"},
                                           {"users", {{{"user", 1}, {"patient", "Patient/anna"}}, {{"user", 2}, {"patient", "Patient/ben"}}}},
                                           {"by", "Tech Anna"}}));
  EXPECT_THAT(out_, HasSubstr("user 1 -> Patient/anna since 2026-11-21T10:00:00Z"));
  EXPECT_THAT(out_, HasSubstr("user 2 -> Patient/ben"));
  EXPECT_THAT(out_, HasSubstr("any other user: unassigned"));
}

TEST_F(ACommandLine, RefusesAUserWithoutItsPatientBeforeSendingAnything) {
  EXPECT_EQ(run({"devices", "pair", "AA:BB:CC:DD:EE:01", "--category", "blood-pressure", "--user", "1", "--user", "2",
                 "--patient", "Patient/anna"}),
            2);
  EXPECT_TRUE(sent_.empty());
  EXPECT_THAT(err_, HasSubstr("give one --patient for each --user (found 2 --user and 1 --patient)"));
}

TEST_F(ACommandLine, RefusesTheUnknownUserSlotAndANegativeOne) {
  // 255 is the wire's "unknown user": never bindable, so its readings always wait for a technician.
  EXPECT_EQ(run({"devices", "assign", "ble-aa-bb-cc-dd-ee-01", "--user", "255", "--patient", "Patient/anna"}), 2);
  EXPECT_THAT(err_, HasSubstr("--user: Value 255 not in range 0 to 254"));
  EXPECT_EQ(run({"devices", "pair", "AA:BB:CC:DD:EE:01", "--category", "scale", "--user", "-1", "--patient", "Patient/anna"}), 2);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(ACommandLine, PairsAWholeDeviceToAPatientWithoutUsersByPairingThenAssigning) {
  answers_.emplace("devices.assign", nlohmann::json{{"device", {{"id", "ble-aa-bb-cc-dd-ee-02"}, {"patient", "Patient/anna"}}}});
  ASSERT_EQ(run({"devices", "pair", "AA:BB:CC:DD:EE:02", "--category", "thermometer", "--patient", "Patient/anna"}), 0) << err_;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:02"}, {"category", "thermometer"}}));
  EXPECT_EQ(sent_[1].cmd, "devices.assign");
  EXPECT_EQ(sent_[1].args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:02"}, {"patient", "Patient/anna"}}));
}

TEST_F(ACommandLine, AssignsOneUserSlotOrTheWholeDeviceAndUnbindsASlot) {
  answers_.emplace("devices.assign", nlohmann::json{{"binding", {{"device", "ble-aa-bb-cc-dd-ee-01"}, {"user", 2}, {"patient", "Patient/ben"}, {"since", "2026-11-21T10:00:00Z"}}}});
  ASSERT_EQ(run({"devices", "assign", "ble-aa-bb-cc-dd-ee-01", "--user", "2", "--patient", "Patient/ben"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"device", "ble-aa-bb-cc-dd-ee-01"}, {"user", 2}, {"patient", "Patient/ben"}}));
  EXPECT_THAT(out_, HasSubstr("ble-aa-bb-cc-dd-ee-01 user 2 now measures Patient/ben (readings measured from 2026-11-21T10:00:00Z on)"));
  answers_.erase("devices.assign");
  ASSERT_EQ(run({"devices", "assign", "AA:BB:CC:DD:EE:01", "--patient", "Patient/ben"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:01"}, {"patient", "Patient/ben"}}))
      << "without --user: the device-level command as before";
  ASSERT_EQ(run({"devices", "unbind", "ble-aa-bb-cc-dd-ee-01", "--user", "2"}), 0) << err_;
  EXPECT_EQ(sent_.back().cmd, "devices.unbind");
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"device", "ble-aa-bb-cc-dd-ee-01"}, {"user", 2}}));
}

TEST_F(ACommandLine, ListsUnassignedReadingsWithWhyAndHowToDecide) {
  answers_.emplace("readings.unassigned", nlohmann::json{
      {"readings", {{{"uid", "u-1"}, {"time", "2026-11-21T09:00:00Z"}, {"device", "ble-aa-bb-cc-dd-ee-01"}, {"user", 2},
                     {"kind", "blood-pressure"}, {"values", {{"diastolic", 120}, {"systolic", 210}}},
                     {"reason", "user slot 2 of the device is not bound to a patient"}}}},
      {"unassigned", 1}, {"discarded", 0}});
  ASSERT_EQ(run({"readings", "unassigned"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"limit", 1000}}));
  EXPECT_THAT(out_, HasSubstr("u-1"));
  EXPECT_THAT(out_, HasSubstr("diastolic 120, systolic 210"));
  EXPECT_THAT(out_, HasSubstr("why: user slot 2 of the device is not bound to a patient"));
  EXPECT_THAT(out_, HasSubstr("1 unassigned reading(s)"));
  EXPECT_THAT(out_, HasSubstr("carehubctl readings assign UID... --patient"));
  ASSERT_EQ(run({"readings", "unassigned", "--json", "--discarded", "--limit", "5"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"limit", 5}, {"discarded", true}}));
  EXPECT_EQ(nlohmann::json::parse(out_)["uid"], "u-1") << "one JSON object per line";
}

TEST_F(ACommandLine, AssignsAndDiscardsReadingsByUid) {
  answers_.emplace("readings.assign", nlohmann::json{{"patient", "Patient/ben"},
                                                     {"assigned", {{{"old_uid", "u-1"}, {"uid", "n-1"}, {"already_stored", false}},
                                                                   {{"old_uid", "u-2"}, {"uid", "n-2"}, {"already_stored", true}}}},
                                                     {"by", "Tech Anna, uid 1000 (tech)"}});
  ASSERT_EQ(run({"readings", "assign", "u-1", "u-2", "--patient", "Patient/ben", "--by", "Tech Anna"}), 0) << err_;
  EXPECT_EQ(sent_.back().cmd, "readings.assign");
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"uids", {"u-1", "u-2"}}, {"patient", "Patient/ben"}, {"by", "Tech Anna"}}));
  EXPECT_THAT(out_, HasSubstr("u-2 -> n-2 (already stored for this patient: kept once)"));
  EXPECT_THAT(out_, HasSubstr("assigned 2 reading(s) to Patient/ben (1 new), by Tech Anna, uid 1000 (tech)"));

  answers_.emplace("readings.discard", nlohmann::json{{"discarded", 1}, {"by", "uid 1000 (tech)"}});
  ASSERT_EQ(run({"readings", "discard", "u-3", "--reason", "previous owner's memory"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"uids", {"u-3"}}, {"reason", "previous owner's memory"}}));
  EXPECT_THAT(out_, HasSubstr("discarded 1 reading(s), by uid 1000 (tech)"));
}

TEST_F(ACommandLine, AssignNeedsAPatientAndAtLeastOneUid) {
  EXPECT_EQ(run({"readings", "assign", "u-1"}), 2);
  EXPECT_EQ(run({"readings", "assign", "--patient", "Patient/ben"}), 2);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(ACommandLine, PrintsCarehubdsRefusalAndExitsTwoForBadInput) {
  answers_.emplace("readings.assign", Result<nlohmann::json>(Error{Errc::invalid_argument, "/args/patient: expected a reference"}));
  EXPECT_EQ(run({"readings", "assign", "u-1", "--patient", "patient/ben"}), 2);
  EXPECT_THAT(err_, HasSubstr("carehubctl: /args/patient: expected a reference"));
}

TEST_F(ACommandLine, StatusShowsUnassignedReadingsAndWhoEachSlotMeasures) {
  answers_.emplace("status", nlohmann::json{
      {"hub", "hub-0042"}, {"patient", "Patient/anna"}, {"uptime_s", 5}, {"config", "c.json"},
      {"buffer", {{"pending", 0}, {"synced", 3}, {"dead", 0}, {"quarantined", 0}, {"unassigned", 2}, {"queued", 0}}},
      {"sync", {{"state", "configuration error: Patient/anna not found"}, {"enabled", true}, {"base_url", "https://fhir"},
                {"gzip_refused", "HTTP 415 to a gzip body"}}},
      {"devices", {{{"id", "ble-aa-bb-cc-dd-ee-01"}, {"category", "blood-pressure"},
                    {"users", {{{"user", 1}, {"patient", "Patient/anna"}, {"since", "2026-11-21T10:00:00Z"}}}}},
                   {{"id", "ble-aa-bb-cc-dd-ee-02"}, {"category", "scale"}, {"users", nlohmann::json::array()},
                    {"patient", nullptr},
                    {"warning", "it names user slots (a multi-user device) but no slot is bound to a patient: bind"}}}}});
  ASSERT_EQ(run({"status"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("sync       configuration error: Patient/anna not found -> https://fhir"));
  EXPECT_THAT(out_, HasSubstr("gzip off for this server: HTTP 415 to a gzip body"));
  EXPECT_THAT(out_, HasSubstr("2 unassigned: not attributed to a patient"));
  EXPECT_THAT(out_, HasSubstr("carehubctl readings unassigned"));
  EXPECT_THAT(out_, HasSubstr("user 1 -> Patient/anna since 2026-11-21T10:00:00Z\n           other users: unassigned"));
  EXPECT_THAT(out_, HasSubstr("WARNING    ble-aa-bb-cc-dd-ee-02: it names user slots"));
}

TEST_F(ACommandLine, RegistersAUserDataServiceUserAndBindsItsNewSlot) {
  answers_.emplace("devices.users", nlohmann::json{{"address", "AA:BB:CC:DD:EE:04"}, {"device", "ble-aa-bb-cc-dd-ee-04"},
                                                   {"action", "register"}, {"user", 3}});
  answers_.emplace("devices.assign", nlohmann::json{{"binding", {{"device", "ble-aa-bb-cc-dd-ee-04"}, {"user", 3}, {"patient", "Patient/ben"}}}});
  ASSERT_EQ(run({"devices", "users", "AA:BB:CC:DD:EE:04", "register", "--consent", "1234", "--patient", "Patient/ben"}), 0) << err_;
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].cmd, "devices.users");
  EXPECT_EQ(sent_[0].args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:04"}, {"action", "register"}, {"consent", 1234}}));
  EXPECT_EQ(sent_[1].args, (nlohmann::json{{"device", "AA:BB:CC:DD:EE:04"}, {"user", 3}, {"patient", "Patient/ben"}}))
      << "the index the device gave is the slot bound";
  EXPECT_THAT(out_, HasSubstr("registered and consented user 3 on ble-aa-bb-cc-dd-ee-04"));
  EXPECT_THAT(out_, HasSubstr("ble-aa-bb-cc-dd-ee-04 user 3 now measures Patient/ben"));

  ASSERT_EQ(run({"devices", "users", "AA:BB:CC:DD:EE:04", "consent", "--user", "1", "--consent", "42"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:04"}, {"action", "consent"}, {"consent", 42}, {"user", 1}}));
  ASSERT_EQ(run({"devices", "users", "AA:BB:CC:DD:EE:04", "register", "--consent", "5678", "--json"}), 0) << err_;
  EXPECT_EQ(nlohmann::json::parse(out_)["user"], 3) << "--json: the answer, for scripts";
  ASSERT_EQ(run({"devices", "users", "AA:BB:CC:DD:EE:04", "delete"}), 0) << err_;
  EXPECT_EQ(sent_.back().args, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:04"}, {"action", "delete"}}));
  const auto before = sent_.size();
  EXPECT_EQ(run({"devices", "users", "AA:BB:CC:DD:EE:04", "consent", "--user", "1", "--consent", "10000"}), 2);
  EXPECT_EQ(sent_.size(), before) << "a consent code above 9999 never reaches the device";
}

TEST_F(ACommandLine, HelpNamesTheNewCommands) {
  EXPECT_EQ(run({"readings", "--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("unassigned"));
  EXPECT_THAT(out_, HasSubstr("discard"));
  EXPECT_EQ(run({"devices", "--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("unbind"));
  EXPECT_EQ(run({"devices", "pair", "--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("--user"));
}

}  // namespace
}  // namespace carehub::ctl
