#include "sync/alert_mapping.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace carehub::fhir {
namespace {

using nlohmann::json;

const TimePoint kRaised = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

Alert alert() {
  Alert a;
  a.id = "0b6e…-alert";
  a.rule = "hf5-systolic";
  a.patient = "Patient/p1";
  a.event = "alert";
  a.severity = Severity::red;
  a.raised = kRaised;
  a.text = "Systolic above 180 mmHg twice within 30 minutes";
  a.category = "CVD";
  a.readings = {"u1", "u2"};
  return a;
}

TEST(DetectedIssue, CarriesTheFindingItsEvidenceAndItsAuthor) {
  const auto r = detected_issue(alert(), {"Device/hub", {"Observation/1", "Observation/2"}});
  EXPECT_EQ(r["resourceType"], "DetectedIssue");
  EXPECT_EQ(r["identifier"][0], json({{"system", "urn:carehub:alert"}, {"value", "0b6e…-alert"}}));
  EXPECT_EQ(r["status"], "final");
  EXPECT_EQ(r["severity"], "high");
  EXPECT_EQ(r["patient"]["reference"], "Patient/p1");
  EXPECT_EQ(r["author"]["reference"], "Device/hub");
  EXPECT_EQ(r["identifiedDateTime"], "2026-11-21T10:00:00Z");
  EXPECT_EQ(r["detail"], "Systolic above 180 mmHg twice within 30 minutes");
  EXPECT_EQ(r["code"]["coding"][0]["code"], "hf5-systolic");
  EXPECT_EQ(r["code"]["text"], "CVD: hf5-systolic");
  EXPECT_EQ(r["evidence"][0]["detail"], json::parse(R"([{"reference":"Observation/1"},{"reference":"Observation/2"}])"));
  EXPECT_FALSE(r.contains("mitigation"));
}

TEST(DetectedIssue, MapsSeverities) {
  auto a = alert();
  a.severity = Severity::amber;
  EXPECT_EQ(detected_issue(a, {})["severity"], "moderate");
  a.severity = Severity::info;
  EXPECT_EQ(detected_issue(a, {})["severity"], "low");
}

TEST(DetectedIssue, LeavesOutEvidenceAndAuthorTheServerDoesNotHold) {
  const auto r = detected_issue(alert(), {});
  EXPECT_FALSE(r.contains("evidence"));
  EXPECT_FALSE(r.contains("author"));
}

TEST(DetectedIssue, RecordsEscalationAcknowledgementAndClosureAsMitigations) {
  auto a = alert();
  a.escalated = true;
  a.escalate_at = kRaised + std::chrono::minutes(30);
  a.state = AlertState::closed;
  a.acknowledged = kRaised + std::chrono::minutes(40);
  a.closed = kRaised + std::chrono::hours(2);
  a.resolution = "confirmed";
  const auto r = detected_issue(a, {});
  EXPECT_EQ(r["status"], "amended");
  ASSERT_EQ(r["mitigation"].size(), 3u);
  EXPECT_EQ(r["mitigation"][0]["action"]["coding"][0]["code"], "escalated");
  EXPECT_EQ(r["mitigation"][0]["date"], "2026-11-21T10:30:00Z");
  EXPECT_EQ(r["mitigation"][1]["action"]["coding"][0]["code"], "acknowledged");
  EXPECT_EQ(r["mitigation"][1]["date"], "2026-11-21T10:40:00Z");
  EXPECT_EQ(r["mitigation"][2]["action"]["coding"][0]["code"], "closed");
  EXPECT_EQ(r["mitigation"][2]["action"]["text"], "confirmed");
}

// Issue 16: the clinician must see whether the patient acknowledged or someone did on their behalf.
TEST(DetectedIssue, SaysWhetherThePatientOrATechnicianOnTheirBehalfAcknowledged) {
  auto a = alert();
  a.state = AlertState::acknowledged;
  a.acknowledged = kRaised + std::chrono::minutes(5);
  a.acknowledged_by = "patient (display)";
  auto r = detected_issue(a, {});
  EXPECT_EQ(r["mitigation"][0]["action"]["coding"][0]["display"], "Acknowledged by the patient");
  EXPECT_EQ(r["mitigation"][0]["action"]["text"], "patient (display)");
  a.acknowledged_by = "anna (technician, for the patient): patient phoned";
  r = detected_issue(a, {});
  EXPECT_EQ(r["mitigation"][0]["action"]["coding"][0]["display"], "Acknowledged on the patient's behalf");
  EXPECT_EQ(r["mitigation"][0]["action"]["text"], "anna (technician, for the patient): patient phoned");
  a.acknowledged_by.clear();  // an alert acknowledged before carehub recorded who
  r = detected_issue(a, {});
  EXPECT_EQ(r["mitigation"][0]["action"]["coding"][0]["display"], "Acknowledged");
  EXPECT_FALSE(r["mitigation"][0]["action"].contains("text"));
}

TEST(DetectedIssue, CreatesConditionallyOnTheAlertId) {
  EXPECT_EQ(detected_issue_if_none_exist("a-1"), "identifier=urn:carehub:alert|a-1");
}

TEST(DetectedIssue, EscapesTheAlertIdInItsConditionalCreate) {
  EXPECT_EQ(detected_issue_if_none_exist("a|1&x=#"), "identifier=urn:carehub:alert|a%5C%7C1%26x%3D%23");
}

std::vector<std::string> codes_of(const json& issue, std::string_view system) {
  std::vector<std::string> out;
  for (const auto& c : issue["code"]["coding"]) {
    if (c["system"] == system) out.push_back(c["code"].get<std::string>());
  }
  return out;
}

// Issue 13: R4 has no status or severity search on DetectedIssue, so a HAPI dashboard could not ask for
// the open red alerts. Category, severity and state ride on DetectedIssue.code, which is searchable.
TEST(DetectedIssue, PutsCategorySeverityAndStateWhereADashboardCanSearchThem) {
  auto a = alert();
  auto r = detected_issue(a, {});
  EXPECT_EQ(codes_of(r, kAlertRuleSystem), std::vector<std::string>{"hf5-systolic"});
  EXPECT_EQ(codes_of(r, kAlertCategorySystem), std::vector<std::string>{"CVD"});
  EXPECT_EQ(codes_of(r, kAlertSeveritySystem), std::vector<std::string>{"red"});
  EXPECT_EQ(codes_of(r, kAlertStateSystem), std::vector<std::string>{"open"});
  a.state = AlertState::acknowledged;
  a.acknowledged = kRaised + std::chrono::minutes(5);
  a.escalated = true;
  r = detected_issue(a, {});
  EXPECT_EQ(codes_of(r, kAlertStateSystem), (std::vector<std::string>{"acknowledged", "escalated"}));
  a.category.clear();
  EXPECT_TRUE(codes_of(detected_issue(a, {}), kAlertCategorySystem).empty());
}

TEST(DetectedIssue, MarksARetrospectiveAlertSoAWorklistCanLeaveItOut) {
  auto a = alert();
  EXPECT_THAT(codes_of(detected_issue(a, {}), kAlertStateSystem), ::testing::Not(::testing::Contains("retrospective")));
  a.retrospective = true;
  EXPECT_THAT(codes_of(detected_issue(a, {}), kAlertStateSystem), ::testing::Contains("retrospective"));
}

TEST(DetectedIssue, ItsConditionalCreateQueryServesAsTheConditionalUpdateSearch) {
  EXPECT_EQ("DetectedIssue?" + detected_issue_if_none_exist("a-1"), "DetectedIssue?identifier=urn:carehub:alert|a-1");
}

}  // namespace
}  // namespace carehub::fhir
