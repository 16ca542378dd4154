// classify(): every status the uploader meets, one row each. The rows are what uploader_exchange.cpp
// did before the classification had a file of its own (issue 17: no behaviour change), 425 included:
// it is not among the transient statuses, so a 425 is a refusal of the request, backed off from.
#include "sync/classify.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace carehub::sync {
namespace {

struct Row {
  long status;
  std::string body;
  std::string retry_after;  // the header's value; empty: no header
  Verdict verdict;
  Refusal refusal;
  std::optional<long> retry_after_s;
};

const std::string kOperationOutcome =
    R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"bad code"}]})";
// HAPI's referential-integrity refusal: per entry it keeps a reading pending (read_batch_response); for a
// whole request the status alone decides.
const std::string kReferenceMissing =
    R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":)"
    R"("HAPI-1094: Resource Patient/x not found, specified in path: Observation.subject"}]})";

const std::vector<Row> kRows = {
    // 2xx: the entries say how each went.
    {200, R"({"resourceType":"Bundle","type":"batch-response"})", "", Verdict::ok, Refusal::none, {}},
    {201, "", "", Verdict::ok, Refusal::none, {}},
    {299, "", "", Verdict::ok, Refusal::none, {}},
    // The server's state: back off, honouring Retry-After (delta seconds only, bounded).
    {408, "", "", Verdict::retry, Refusal::none, {}},
    {429, "", "30", Verdict::retry, Refusal::none, 30},
    {429, "", "Wed, 21 Oct 2026 07:28:00 GMT", Verdict::retry, Refusal::none, {}},
    {500, kOperationOutcome, "", Verdict::retry, Refusal::none, {}},
    {502, "", "", Verdict::retry, Refusal::none, {}},
    {503, "busy", "120", Verdict::retry, Refusal::none, 120},
    {503, "", "9223372036854775807", Verdict::retry, Refusal::none, 86400},
    {503, "", "-5", Verdict::retry, Refusal::none, {}},
    {504, "", "", Verdict::retry, Refusal::none, {}},
    {599, "", "", Verdict::retry, Refusal::none, {}},
    // Too large: a smaller bundle may go.
    {413, "too large", "", Verdict::error, Refusal::too_large, {}},
    // What the request carries: an entry may be at fault, whatever the OperationOutcome says.
    {400, kOperationOutcome, "", Verdict::error, Refusal::content, {}},
    {400, kReferenceMissing, "", Verdict::error, Refusal::content, {}},
    {409, "", "", Verdict::error, Refusal::content, {}},
    {412, kOperationOutcome, "", Verdict::error, Refusal::content, {}},
    {422, kOperationOutcome, "", Verdict::error, Refusal::content, {}},
    // The request itself: credentials, address, method, redirects, and everything else.
    {401, kOperationOutcome, "", Verdict::error, Refusal::request, {}},
    {403, "", "", Verdict::error, Refusal::request, {}},
    {404, "", "", Verdict::error, Refusal::request, {}},
    {405, "", "", Verdict::error, Refusal::request, {}},
    {415, "", "", Verdict::error, Refusal::request, {}},
    {425, "", "10", Verdict::error, Refusal::request, {}},
    {301, "", "", Verdict::error, Refusal::request, {}},
    {304, "", "", Verdict::error, Refusal::request, {}},
    {100, "", "", Verdict::error, Refusal::request, {}},
    {0, "", "", Verdict::error, Refusal::request, {}},
};

class ClassifyTable : public ::testing::TestWithParam<Row> {};

TEST_P(ClassifyTable, ReadsTheStatusAsTheUploaderActsOnIt) {
  const auto& row = GetParam();
  HttpResponse response{row.status, row.body, {}};
  if (!row.retry_after.empty()) response.headers.emplace_back("retry-after", row.retry_after);
  const auto c = classify(response);
  EXPECT_EQ(to_string(c.verdict), to_string(row.verdict)) << "HTTP " << row.status;
  EXPECT_EQ(to_string(c.refusal), to_string(row.refusal)) << "HTTP " << row.status;
  ASSERT_EQ(c.retry_after.has_value(), row.retry_after_s.has_value()) << "HTTP " << row.status;
  if (row.retry_after_s) {
    EXPECT_EQ(c.retry_after->count(), *row.retry_after_s);
  }
}

INSTANTIATE_TEST_SUITE_P(Statuses, ClassifyTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& row_info) {
                           return "Row" + std::to_string(row_info.index) + "_" + std::to_string(row_info.param.status);
                         });

TEST(TransientStatus, IsTheSetABatchResponseEntryIsRetriedOnToo) {
  for (long s : {408L, 429L, 500L, 503L, 599L}) EXPECT_TRUE(transient_status(s)) << s;
  for (long s : {200L, 400L, 404L, 413L, 425L, 499L}) EXPECT_FALSE(transient_status(s)) << s;
}

}  // namespace
}  // namespace carehub::sync
