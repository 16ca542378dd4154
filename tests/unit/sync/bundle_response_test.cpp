// read_batch_response_body (sync/bundle_response.cpp) reads a batch-response without the server's copies
// of the resources: what it returns must be what read_batch_response makes of the whole parsed text, and
// what it refuses, refused with parse_peer_json's words.
#include <gtest/gtest.h>

#include "core/json_check.hpp"
#include "sync/bundle.hpp"

namespace carehub::sync {
namespace {

using nlohmann::json;

// An Observation as a server echoes it back: nested codings, components, numbers of every kind.
json echoed_observation(int i) {
  return {{"resourceType", "Observation"},
          {"id", "obs-" + std::to_string(i)},
          {"meta", {{"versionId", "1"}, {"lastUpdated", "2026-12-05T10:00:00.000Z"}}},
          {"status", "final"},
          {"code", {{"coding", {{{"system", "urn:iso:std:iso:11073:10101"}, {"code", "150020"}}}}}},
          {"component",
           {{{"valueQuantity", {{"value", 120.5}, {"unit", "mmHg"}}}}, {{"valueQuantity", {{"value", -3}}}}}},
          {"extension", json::array({nullptr, true, 18446744073709551615ULL})},
          {"resource", {{"resourceType", "Patient"}, {"id", "not-the-entry's"}}}};
}

json response_with_resources() {
  const json outcome = {{"resourceType", "OperationOutcome"},
                        {"issue", {{{"severity", "error"}, {"code", "not-found"},
                                    {"diagnostics", "HAPI-1094: Resource Patient/p not found, specified in path"}}}}};
  json entries = json::array();
  entries.push_back({{"resource", echoed_observation(1)},
                     {"response", {{"status", "201 Created"}, {"location", "Observation/obs-1/_history/1"}}}});
  // No Location: the server id comes from the echoed resource's type and id.
  entries.push_back({{"fullUrl", "urn:uuid:2"}, {"resource", echoed_observation(2)}, {"response", {{"status", "200 OK"}}}});
  entries.push_back({{"response", {{"status", "400 Bad Request"}, {"outcome", outcome}}}});
  entries.push_back({{"response", {{"status", "503"}}}});
  entries.push_back("not an object");
  entries.push_back({{"resource", echoed_observation(6)}, {"response", {{"status", "412"}, {"outcome", outcome}}}});
  return {{"resourceType", "Bundle"}, {"type", "batch-response"}, {"id", "r"}, {"entry", entries}};
}

void expect_same(const Result<std::vector<EntryOutcome>>& got, const Result<std::vector<EntryOutcome>>& want) {
  ASSERT_EQ(got.has_value(), want.has_value()) << (got ? want.error().message : got.error().message);
  if (!got) {
    EXPECT_EQ(got.error().message, want.error().message);
    return;
  }
  ASSERT_EQ(got->size(), want->size());
  for (std::size_t i = 0; i < got->size(); ++i) {
    EXPECT_EQ((*got)[i].fate, (*want)[i].fate) << "entry " << i;
    EXPECT_EQ((*got)[i].status, (*want)[i].status) << "entry " << i;
    EXPECT_EQ((*got)[i].server_id, (*want)[i].server_id) << "entry " << i;
    EXPECT_EQ((*got)[i].reason, (*want)[i].reason) << "entry " << i;
  }
}

TEST(ReadBatchResponseBodyPruned, ReadsWhatTheWholeParseReads) {
  const auto text = response_with_resources().dump();
  const auto whole = read_batch_response(json::parse(text), 6);
  ASSERT_TRUE(whole.has_value()) << whole.error().message;
  EXPECT_EQ((*whole)[1].server_id, "Observation/obs-2") << "the fixture must exercise the Location-less id";
  expect_same(read_batch_response_body(text, 6), whole);
  // A mismatched entry count is refused the same way.
  expect_same(read_batch_response_body(text, 5), read_batch_response(json::parse(text), 5));
}

TEST(ReadBatchResponseBodyPruned, ARepeatedMemberTakesTheLastValueAsTheWholeParseDoes) {
  const std::string text =
      R"({"resourceType":"Bundle","type":"batch-response","entry":[)"
      R"({"response":{"status":"500","status":"201","location":"Observation/a"},)"
      R"("resource":{"resourceType":"Observation","id":"x","id":"y","code":{"a":1},"code":2}}]})";
  expect_same(read_batch_response_body(text, 1), read_batch_response(json::parse(text), 1));
  EXPECT_EQ(read_batch_response_body(text, 1)->front().server_id, "Observation/a");
}

TEST(ReadBatchResponseBodyPruned, RefusesWhatParsePeerJsonRefusesInItsWords) {
  const std::vector<std::string> bad = {
      "<html>",
      "",
      R"({"resourceType":"Bundle"} trailing)",
      R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","value":1e999}}]})",
      std::string(R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","note":")") + "\xff" +
          R"("}}]})",  // not UTF-8, inside a member that is dropped
      R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation",]}]})",
      R"({"resourceType":"Bundle","x":1e999})",
      std::string(100, '[') + std::string(100, ']'),
  };
  for (const auto& text : bad) {
    const auto want = parse_peer_json(text, "FHIR batch-response");
    ASSERT_FALSE(want.has_value()) << text;
    const auto got = read_batch_response_body(text, 1);
    ASSERT_FALSE(got.has_value()) << text;
    EXPECT_EQ(got.error().code, Errc::invalid_argument) << text;
    EXPECT_EQ(got.error().message, want.error().message) << text;
  }
}

TEST(ReadBatchResponseBodyPruned, KeepsEverythingOutsideTheEntriesResources) {
  // "resource" elsewhere (the root, an outcome) is not an entry's resource: nothing there is dropped.
  const std::string text =
      R"({"resourceType":"Bundle","type":"batch-response","resource":{"keep":1},"entry":[)"
      R"({"response":{"status":"422","outcome":{"resourceType":"OperationOutcome","resource":{"diagnostics":"kept"}}}}]})";
  const auto got = read_batch_response_body(text, 1);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_NE(got->front().reason.find("kept"), std::string::npos) << got->front().reason;
  expect_same(got, read_batch_response(json::parse(text), 1));
}

}  // namespace
}  // namespace carehub::sync
