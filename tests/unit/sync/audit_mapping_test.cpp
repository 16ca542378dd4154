// The AuditEvent a row of the audit trail becomes (sync/audit_mapping.hpp): R4's required elements (type,
// recorded, agent with requestor, source with observer), the outcome code, the patient a technician acted
// for, and entities that name what changed by the identifiers carehub gives those resources.
#include "sync/audit_mapping.hpp"

#include <gtest/gtest.h>

#include "core/time.hpp"
#include "sync/alert_mapping.hpp"
#include "sync/fhir_mapping.hpp"

namespace carehub::fhir {
namespace {

using json = nlohmann::json;

AuditEvent acknowledgement() {
  AuditEvent e;
  e.uid = "audit-00112233445566778899aabbccddeeff";
  e.time = *parse_rfc3339("2026-12-05T10:00:00Z");
  e.action = "alerts.ack";
  e.actor = {"unix", "Tech Tom, uid 1000 (tom)"};
  e.on_behalf_of = "Patient/anna";
  e.patient = "Patient/anna";
  e.entities = {{"DetectedIssue", "al-1"}, {"Patient", "Patient/anna"}};
  return e;
}

TEST(AnAuditEvent, CarriesR4sRequiredElementsAndTheRowsIdentity) {
  const auto r = audit_event(acknowledgement(), "hub-0001");
  EXPECT_EQ(r["resourceType"], "AuditEvent");
  EXPECT_EQ(r["id"], "audit-00112233445566778899aabbccddeeff");
  EXPECT_EQ(r["type"]["system"], "http://dicom.nema.org/resources/ontology/DCM");
  EXPECT_EQ(r["type"]["code"], "110110") << "Patient Record: an alert's acknowledgement changes it";
  EXPECT_EQ(r["subtype"][0], (json{{"system", kAuditActionSystem}, {"code", "alerts.ack"}, {"display", "alerts.ack"}}));
  EXPECT_EQ(r["action"], "U");
  EXPECT_EQ(r["recorded"], "2026-12-05T10:00:00Z");
  EXPECT_EQ(r["outcome"], "0");
  EXPECT_FALSE(r.contains("outcomeDesc"));
  EXPECT_EQ(r["source"]["observer"]["identifier"], (json{{"system", kHubSystem}, {"value", "hub-0001"}}));
  EXPECT_EQ(r["source"]["site"], "hub-0001");
  EXPECT_EQ(audit_event_url(acknowledgement()), "AuditEvent/audit-00112233445566778899aabbccddeeff");
}

TEST(AnAuditEvent, NamesWhoAskedAndThePatientTheyActedFor) {
  const auto r = audit_event(acknowledgement(), "hub-0001");
  ASSERT_EQ(r["agent"].size(), 2u);
  EXPECT_EQ(r["agent"][0]["requestor"], true);
  EXPECT_EQ(r["agent"][0]["name"], "Tech Tom, uid 1000 (tom)");
  EXPECT_EQ(r["agent"][0]["who"]["display"], "Tech Tom, uid 1000 (tom)");
  EXPECT_EQ(r["agent"][0]["type"]["coding"][0]["code"], "unix");
  EXPECT_EQ(r["agent"][1]["requestor"], false);
  EXPECT_EQ(r["agent"][1]["who"]["reference"], "Patient/anna");
  auto own = acknowledgement();
  own.on_behalf_of.clear();
  EXPECT_EQ(audit_event(own, "hub-0001")["agent"].size(), 1u) << "the patient's own acknowledgement";
}

TEST(AnAuditEvent, NamesWhatChangedByCarehubsIdentifiers) {
  auto e = acknowledgement();
  e.entities = {{"DetectedIssue", "al-1"}, {"Observation", "r-uid-1"}, {"Device", "manual"}, {"Device", "AA:BB:CC:DD:EE:03"},
                {"Patient", "Patient/anna"}, {"Configuration", "/etc/carehub/carehubd.json"}};
  const auto r = audit_event(e, "hub-0001");
  ASSERT_EQ(r["entity"].size(), 6u);
  EXPECT_EQ(r["entity"][0]["what"]["identifier"], (json{{"system", kAlertSystem}, {"value", "al-1"}}));
  EXPECT_EQ(r["entity"][1]["what"]["identifier"],
            (json{{"system", kIdentifierSystem}, {"value", observation_identifier("r-uid-1")}}))
      << "the Observation's own identifier: a logical reference the server need not resolve";
  EXPECT_EQ(r["entity"][2]["what"]["identifier"]["value"], fleet_device_id("manual", "hub-0001"));
  EXPECT_EQ(r["entity"][3]["what"]["display"], "Bluetooth device AA:BB:CC:DD:EE:03");
  EXPECT_EQ(r["entity"][4]["what"]["reference"], "Patient/anna");
  EXPECT_EQ(r["entity"][4]["role"]["code"], "1");
  EXPECT_EQ(r["entity"][5]["name"], "Configuration /etc/carehub/carehubd.json");
  EXPECT_FALSE(r["entity"][5].contains("what"));
}

TEST(AnAuditEvent, CodesARefusalAndAFailureWithTheirReason) {
  auto e = acknowledgement();
  e.outcome = AuditOutcome::refused;
  e.detail = "no alert with id \"al-9\"";
  auto r = audit_event(e, "hub-0001");
  EXPECT_EQ(r["outcome"], "4");
  EXPECT_EQ(r["outcomeDesc"], "no alert with id \"al-9\"");
  e.outcome = AuditOutcome::failed;
  EXPECT_EQ(audit_event(e, "hub-0001")["outcome"], "8");
  e.action = "config.reload";
  r = audit_event(e, "hub-0001");
  EXPECT_EQ(r["type"]["code"], "110100") << "Application Activity";
  EXPECT_EQ(r["action"], "E");
  e.action = "devices.forget";
  EXPECT_EQ(audit_event(e, "hub-0001")["action"], "D");
  e.action = "devices.pair";
  EXPECT_EQ(audit_event(e, "hub-0001")["action"], "C");
}

}  // namespace
}  // namespace carehub::fhir
