#include "sync/bundle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace carehub::sync {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const json kOutcome = json::parse(R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",)"
                                  R"("diagnostics":"Observation.subject: reference to a Patient that does not exist"}]})");

json response_bundle(const json& entries, std::string type = "batch-response") {
  return {{"resourceType", "Bundle"}, {"type", type}, {"entry", entries}};
}

json entry(std::string status, std::string location = "", json outcome = nullptr) {
  json response = {{"status", status}};
  if (!location.empty()) response["location"] = location;
  if (!outcome.is_null()) response["outcome"] = outcome;
  return {{"response", response}};
}

EntryOutcome only_outcome(const json& e) {
  auto r = read_batch_response(response_bundle(json::array({e})), 1);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  if (!r.has_value() || r->size() != 1) return {};
  return r->front();
}

TEST(BatchBundle, BuildsABatchWithOnePostPerEntryInOrder) {
  const json obs = {{"resourceType", "Observation"}, {"status", "final"}};
  const json dev = {{"resourceType", "Device"}, {"status", "active"}};
  const auto b = batch_bundle({{dev, "identifier=urn:carehub:hub|hub-1"}, {obs, "identifier=urn:ietf:rfc:3986|urn:uuid:x"}});
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["type"], "batch") << "a transaction would let one bad entry fail them all";
  ASSERT_EQ(b["entry"].size(), 2u);
  EXPECT_EQ(b["entry"][0]["resource"], dev);
  EXPECT_EQ(b["entry"][0]["request"], json({{"method", "POST"}, {"url", "Device"}, {"ifNoneExist", "identifier=urn:carehub:hub|hub-1"}}));
  EXPECT_EQ(b["entry"][1]["resource"], obs);
  EXPECT_EQ(b["entry"][1]["request"]["url"], "Observation");
  EXPECT_EQ(b["entry"][1]["request"]["ifNoneExist"], "identifier=urn:ietf:rfc:3986|urn:uuid:x");
}

TEST(BatchBundle, LeavesOutIfNoneExistWhenThereIsNoCondition) {
  const auto b = batch_bundle({{{{"resourceType", "Observation"}}, ""}});
  EXPECT_FALSE(b["entry"][0]["request"].contains("ifNoneExist"));
}

TEST(BatchBundle, ReplacesAResourceWithAPutToItsId) {
  const json issue = {{"resourceType", "DetectedIssue"}, {"id", "12"}};
  const auto b = batch_bundle({{issue, "identifier=urn:carehub:alert|a", "DetectedIssue/12"}});
  EXPECT_EQ(b["entry"][0]["request"], json({{"method", "PUT"}, {"url", "DetectedIssue/12"}}));
}

TEST(BatchBundle, AConditionalUpdateIsAPutToTheSearchWithItsFullUrl) {
  const json issue = {{"resourceType", "DetectedIssue"}};
  BundleEntry e{issue, ""};
  e.update = "DetectedIssue?identifier=urn:carehub:alert|a";
  e.full_url = "urn:uuid:00000000-0000-8000-8000-000000000001";
  const auto b = batch_bundle({e});
  EXPECT_EQ(b["entry"][0]["request"], json({{"method", "PUT"}, {"url", "DetectedIssue?identifier=urn:carehub:alert|a"}}));
  EXPECT_EQ(b["entry"][0]["fullUrl"], "urn:uuid:00000000-0000-8000-8000-000000000001");
  EXPECT_FALSE(batch_bundle({{issue, ""}})["entry"][0].contains("fullUrl")) << "no fullUrl unless given";
}

// HAPI JPA with referential integrity: the entry is refused for a resource it references, not for itself.
TEST(ReadBatchResponse, AMissingReferenceIsNotTheEntrysFault) {
  for (const char* text : {"HAPI-1094: Resource Patient/p1 not found, specified in path: Observation.subject",
                           "Resource Device/9 not found, specified in path: Observation.device"}) {
    const json outcome = {{"resourceType", "OperationOutcome"},
                          {"issue", {{{"severity", "error"}, {"code", "processing"}, {"diagnostics", text}}}}};
    const auto o = only_outcome(entry("400 Bad Request", "", outcome));
    EXPECT_EQ(o.fate, EntryFate::missing_reference) << text;
    EXPECT_THAT(o.reason, HasSubstr("not found, specified in path"));
  }
  EXPECT_EQ(only_outcome(entry("400 Bad Request", "", kOutcome)).fate, EntryFate::dead) << "other refusals stay dead";
}

TEST(ReadBatchResponse, ExplainsA412MultipleMatches) {
  const auto o = only_outcome(entry("412 Precondition Failed", "", kOutcome));
  EXPECT_EQ(o.fate, EntryFate::dead);
  EXPECT_THAT(o.reason, HasSubstr("more than one resource with this identifier"));
  EXPECT_THAT(o.reason, HasSubstr("sync retry-dead"));
  const auto outcome = json::parse(o.reason);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome") << "still an OperationOutcome for sync dead --json";
  ASSERT_EQ(outcome["issue"].size(), 2u);
  EXPECT_EQ(outcome["issue"][1], kOutcome["issue"][0]) << "the server's own words are kept";
}

TEST(BatchBundle, BuildsAnEmptyBatch) {
  const auto b = batch_bundle({});
  EXPECT_TRUE(b["entry"].is_array());
  EXPECT_TRUE(b["entry"].empty());
}

TEST(ReadBatchResponse, Marks201SyncedWithTheIdFromTheLocation) {
  const auto o = only_outcome(entry("201 Created", "Observation/123/_history/1"));
  EXPECT_EQ(o.fate, EntryFate::synced);
  EXPECT_EQ(o.status, 201);
  EXPECT_EQ(o.server_id, "Observation/123");
}

TEST(ReadBatchResponse, Marks200SyncedForAConditionalCreateThatFoundTheResource) {
  const auto o = only_outcome(entry("200 OK", "Observation/77"));
  EXPECT_EQ(o.fate, EntryFate::synced);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.server_id, "Observation/77");
}

TEST(ReadBatchResponse, ReadsTheIdFromAnAbsoluteLocation) {
  EXPECT_EQ(only_outcome(entry("201", "https://fhir.example.org/fhir/R4/Observation/abc-9/_history/2")).server_id,
            "Observation/abc-9");
  EXPECT_EQ(only_outcome(entry("201", "http://localhost:8080/fhir/Device/5")).server_id, "Device/5");
}

TEST(ReadBatchResponse, TakesTheIdFromTheReturnedResourceWithoutALocation) {
  json e = entry("201 Created");
  e["resource"] = {{"resourceType", "Observation"}, {"id", "42"}};
  EXPECT_EQ(only_outcome(e).server_id, "Observation/42");
}

TEST(ReadBatchResponse, DeadLettersEntriesTheServerRefusesKeepingTheOutcome) {
  for (const char* status : {"400 Bad Request", "404 Not Found", "422 Unprocessable Entity"}) {
    const auto o = only_outcome(entry(status, "", kOutcome));
    EXPECT_EQ(o.fate, EntryFate::dead) << status;
    EXPECT_EQ(json::parse(o.reason), kOutcome) << status;
    EXPECT_EQ(o.server_id, "") << status;
  }
}

// Issue 12 (bounded peer input): a dead letter's reason is stored with the reading, so a server that
// answers with a huge OperationOutcome must not make the buffer keep megabytes per refused reading.
TEST(ReadBatchResponse, KeepsABoundedStartOfAHugeOutcomeAsAnOperationOutcome) {
  json huge = kOutcome;
  huge["issue"][0]["diagnostics"] = std::string(3 * 1024 * 1024, 'x');
  const auto o = only_outcome(entry("422 Unprocessable Entity", "", huge));
  EXPECT_EQ(o.fate, EntryFate::dead);
  EXPECT_LE(o.reason.size(), kMaxReasonBytes);
  const auto kept = json::parse(o.reason);
  EXPECT_EQ(kept["resourceType"], "OperationOutcome");
  EXPECT_THAT(kept["issue"][0]["diagnostics"].get<std::string>(), HasSubstr(std::to_string(huge.dump().size()) + " bytes"));
}

TEST(ReadBatchResponse, DescribesARefusalThatCameWithoutAnOutcome) {
  const auto o = only_outcome(entry("422 Unprocessable Entity"));
  EXPECT_EQ(o.fate, EntryFate::dead);
  EXPECT_EQ(o.status, 422);
  EXPECT_THAT(o.reason, HasSubstr("422"));
}

TEST(ReadBatchResponse, RetriesTimeoutsThrottlingAndServerErrors) {
  for (const char* status : {"408 Request Timeout", "429 Too Many Requests", "500 Internal Server Error",
                             "502 Bad Gateway", "503 Service Unavailable", "504"}) {
    const auto o = only_outcome(entry(status));
    EXPECT_EQ(o.fate, EntryFate::retry) << status;
    EXPECT_FALSE(o.reason.empty()) << status;
  }
}

TEST(ReadBatchResponse, RetriesAnEntryWithoutAResponseOrWithAnUnreadableStatus) {
  EXPECT_EQ(only_outcome(json::object()).fate, EntryFate::retry);
  EXPECT_EQ(only_outcome(json{{"response", "201"}}).fate, EntryFate::retry);
  EXPECT_EQ(only_outcome(json{{"response", {{"status", 201}}}}).fate, EntryFate::retry);
  EXPECT_EQ(only_outcome(entry("Created")).fate, EntryFate::retry);
  EXPECT_EQ(only_outcome(entry("999")).fate, EntryFate::retry);
  EXPECT_EQ(only_outcome(json("not an object")).fate, EntryFate::retry);
}

TEST(ReadBatchResponse, GivesOneOutcomePerEntryInRequestOrder) {
  auto r = read_batch_response(response_bundle(json::array({entry("201", "Observation/1"), entry("400", "", kOutcome),
                                                            entry("503"), entry("200", "Observation/4")})),
                               4);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].fate, EntryFate::synced);
  EXPECT_EQ((*r)[0].server_id, "Observation/1");
  EXPECT_EQ((*r)[1].fate, EntryFate::dead);
  EXPECT_EQ((*r)[2].fate, EntryFate::retry);
  EXPECT_EQ((*r)[3].fate, EntryFate::synced);
  EXPECT_EQ((*r)[3].server_id, "Observation/4");
}

TEST(ReadBatchResponse, AcceptsATransactionResponse) {
  auto r = read_batch_response(response_bundle(json::array({entry("201", "Observation/1")}), "transaction-response"), 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->front().fate, EntryFate::synced);
}

TEST(ReadBatchResponse, RefusesABundleOfAnotherType) {
  auto r = read_batch_response(response_bundle(json::array({entry("201", "Observation/1")}), "searchset"), 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("\"searchset\""));
}

TEST(ReadBatchResponse, RefusesAResponseWithTheWrongNumberOfEntries) {
  auto r = read_batch_response(response_bundle(json::array({entry("201", "Observation/1")})), 2);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("1 entries for 2 requests"));
  auto none = read_batch_response({{"resourceType", "Bundle"}, {"type", "batch-response"}}, 1);
  ASSERT_FALSE(none.has_value());
  EXPECT_THAT(none.error().message, HasSubstr("0 entries for 1 requests"));
}

TEST(ReadBatchResponse, RefusesSomethingThatIsNotABundle) {
  EXPECT_FALSE(read_batch_response(kOutcome, 1).has_value());
  EXPECT_FALSE(read_batch_response(json::array(), 0).has_value());
  EXPECT_FALSE(read_batch_response(json(), 0).has_value());
  EXPECT_FALSE(read_batch_response(json::parse("\"Bundle\""), 0).has_value());
}

// The body comes from the network. A batch-response entry whose response object lacks "status" makes
// bundle.cpp:56 read (*resp)["status"] through nlohmann's const operator[], which asserts (debug builds:
// abort) or is undefined behaviour (release). Run in a child process so a crash fails only this test.
TEST(ReadBatchResponse, RetriesAnEntryWhoseResponseHasNoStatusWithoutCrashing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto r = read_batch_response(response_bundle(json::array({json{{"response", {{"location", "Observation/1"}}}}})), 1);
        std::exit(r.has_value() && r->size() == 1 && r->front().fate == EntryFate::retry ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// json::value("type", "") throws type_error when the member exists with another type; an exception
// escaping read_batch_response ends the uploader thread and with it carehubd (std::terminate).
TEST(ReadBatchResponse, RefusesFieldsOfTheWrongTypeWithoutThrowing) {
  std::optional<Result<std::vector<EntryOutcome>>> r;
  EXPECT_NO_THROW(r.emplace(read_batch_response({{"resourceType", "Bundle"}, {"type", 5}, {"entry", json::array()}}, 0)));
  if (r) {
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_NO_THROW(r.emplace(read_batch_response({{"resourceType", 7}, {"type", "batch-response"}}, 0)));
  if (r) {
    EXPECT_FALSE(r->has_value());
  }
  json e = entry("201 Created");
  e["resource"] = {{"resourceType", "Observation"}, {"id", 42}};
  EXPECT_NO_THROW(r.emplace(read_batch_response(response_bundle(json::array({e})), 1)));
}

TEST(RetryAfterSeconds, ReadsTheDeltaForm) {
  EXPECT_EQ(retry_after_seconds("120"), 120);
  EXPECT_EQ(retry_after_seconds("0"), 0);
}

TEST(RetryAfterSeconds, IgnoresDatesAndGarbage) {
  EXPECT_EQ(retry_after_seconds(""), std::nullopt);
  EXPECT_EQ(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(retry_after_seconds("-5"), std::nullopt);
  EXPECT_EQ(retry_after_seconds("12abc"), std::nullopt);
  EXPECT_EQ(retry_after_seconds("1.5"), std::nullopt);
}

// Issue 12: a huge Retry-After became seconds, then milliseconds: a signed overflow (undefined behaviour)
// that in practice wrapped to a negative wait. It is clamped where it is read.
TEST(RetryAfterSeconds, ClampsAHugeDelayToTheDocumentedBound) {
  EXPECT_EQ(retry_after_seconds("86400"), kMaxRetryAfter.count());
  EXPECT_EQ(retry_after_seconds("86401"), kMaxRetryAfter.count());
  EXPECT_EQ(retry_after_seconds("9223372036854775807"), kMaxRetryAfter.count());
  EXPECT_EQ(retry_after_seconds("99999999999999999999999"), kMaxRetryAfter.count()) << "too long to count is long";
}

// The body of a batch-response as the server sent it, through the safe parse.
std::string deep_outcome_body(std::size_t depth) {
  std::string outcome;
  for (std::size_t i = 0; i < depth; ++i) outcome += R"({"a":)";
  outcome += "1" + std::string(depth, '}');
  return R"({"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400 Bad Request","outcome":)" +
         outcome + "}}]}";
}

TEST(ReadBatchResponseBody, ReadsTheOutcomesFromTheText) {
  auto r = read_batch_response_body(response_bundle(json::array({entry("201 Created", "Observation/7/_history/1")})).dump(), 1);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->front().fate, EntryFate::synced);
  EXPECT_EQ(r->front().server_id, "Observation/7");
  auto shallow = read_batch_response_body(deep_outcome_body(10), 1);
  ASSERT_TRUE(shallow.has_value()) << shallow.error().message;
  EXPECT_EQ(shallow->front().fate, EntryFate::dead);
}

// Issue 12: a 100,000-deep outcome (200 KB) segfaulted in dump(), again after every restart.
TEST(ReadBatchResponseBody, RefusesADeeplyNestedOutcomeWithoutCrashing) {
  auto r = read_batch_response_body(deep_outcome_body(100'000), 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, "FHIR batch-response: nesting deeper than 64");
}

TEST(ReadBatchResponseBody, RefusesNumbersBeyondADoubleAndGarbage) {
  EXPECT_EQ(read_batch_response_body(R"({"resourceType":"Bundle","x":1e999})", 1).error().message,
            "FHIR batch-response: a number beyond the range of a double");
  EXPECT_THAT(read_batch_response_body("<html>", 1).error().message, HasSubstr("FHIR batch-response is not valid JSON"));
}

}  // namespace
}  // namespace carehub::sync
