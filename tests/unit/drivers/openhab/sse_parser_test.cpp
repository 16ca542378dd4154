#include "drivers/openhab/sse_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/drivers/openhab/frames.hpp"

namespace carehub::openhab {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

SseOutput parse_chunks(const std::vector<std::string_view>& chunks, SseLimits limits = {}) {
  SseParser parser(limits);
  SseOutput out;
  for (const auto chunk : chunks) parser.feed(chunk, out);
  return out;
}

SseOutput parse_whole(std::string_view stream, SseLimits limits = {}) { return parse_chunks({stream}, limits); }

SseOutput parse_byte_by_byte(std::string_view stream, SseLimits limits = {}) {
  SseParser parser(limits);
  SseOutput out;
  for (std::size_t i = 0; i < stream.size(); ++i) parser.feed(stream.substr(i, 1), out);
  return out;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(s.substr(pos));
  return out;
}

// Every way of cutting the stream in two gives exactly what one read gives.
void expect_split_invariant(std::string_view stream, SseLimits limits = {}) {
  const SseOutput whole = parse_whole(stream, limits);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    const SseOutput split = parse_chunks({stream.substr(0, cut), stream.substr(cut)}, limits);
    ASSERT_EQ(split.events, whole.events) << "cut at byte " << cut;
    ASSERT_EQ(split.errors, whole.errors) << "cut at byte " << cut;
  }
  const SseOutput bytes = parse_byte_by_byte(stream, limits);
  EXPECT_EQ(bytes.events, whole.events);
  EXPECT_EQ(bytes.errors, whole.errors);
}

TEST(AnSseParser, ReadsARealisticOpenhabStream) {
  const SseOutput out = parse_whole(testdata::realistic_stream());
  ASSERT_THAT(out.events, SizeIs(8));
  EXPECT_THAT(out.errors, IsEmpty());
  EXPECT_EQ(out.events[0], (SseEvent{"message", std::string(testdata::kTemperatureChanged), ""}));
  EXPECT_EQ(out.events[3], (SseEvent{"alive", std::string(testdata::kAlive), ""}));
  EXPECT_EQ(out.events[7], (SseEvent{"message", std::string(testdata::kLuxUndef), "42"}));
}

TEST(AnSseParser, GivesTheSameEventsForEveryTwoChunkSplitAndByteByByte) {
  expect_split_invariant(testdata::realistic_stream());
}

TEST(AnSseParser, GivesTheSameEventsForEverySplitOfACrlfStream) {
  // Covers a CR ending one read and its LF starting the next.
  expect_split_invariant(replace_all(testdata::realistic_stream(), "\n", "\r\n"));
}

TEST(AnSseParser, GivesTheSameEventsForEverySplitOfACrOnlyStream) {
  expect_split_invariant(replace_all(testdata::realistic_stream(), "\n", "\r"));
}

TEST(AnSseParser, TreatsCrlfLfAndCrLineEndingsAlike) {
  const std::string lf = testdata::realistic_stream();
  const SseOutput expected = parse_whole(lf);
  EXPECT_EQ(parse_whole(replace_all(lf, "\n", "\r\n")).events, expected.events);
  EXPECT_EQ(parse_whole(replace_all(lf, "\n", "\r")).events, expected.events);
}

TEST(AnSseParser, AcceptsMixedLineEndingsInOneStream) {
  const SseOutput out = parse_whole("data: a\r\ndata: b\rdata: c\n\r\nevent: x\rdata: d\r\r");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "a\nb\nc", ""}, SseEvent{"x", "d", ""}));
}

TEST(AnSseParser, DoesNotMistakeCrThenBlankLineForCrlf) {
  // "\r" ends the data line, the following "\r" is a blank line: the event is dispatched at once.
  SseParser parser;
  SseOutput out;
  parser.feed("data: a\r", out);
  EXPECT_THAT(out.events, IsEmpty());
  parser.feed("\r", out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "a", ""}));
}

TEST(AnSseParser, DeliversSeveralFramesFromOneRead) {
  const SseOutput out = parse_whole("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  EXPECT_THAT(out.events, SizeIs(3));
}

TEST(AnSseParser, JoinsDataLinesWithNewlines) {
  const SseOutput out = parse_whole("data: first\ndata: second\ndata:\ndata: fourth\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "first\nsecond\n\nfourth", ""}));
}

TEST(AnSseParser, StripsOnlyOneSpaceAfterTheColon) {
  const SseOutput out = parse_whole("data:no space\n\ndata:  two spaces\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "no space", ""}, SseEvent{"message", " two spaces", ""}));
}

TEST(AnSseParser, KeepsColonsInsideTheValue) {
  const SseOutput out = parse_whole("data: {\"a\":\"b:c\"}\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "{\"a\":\"b:c\"}", ""}));
}

TEST(AnSseParser, TreatsAFieldWithoutColonAsAnEmptyValue) {
  const SseOutput out = parse_whole("data\n\nevent\ndata: x\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "", ""}, SseEvent{"message", "x", ""}));
}

TEST(AnSseParser, IgnoresAndCountsCommentLines) {
  SseParser parser;
  SseOutput out;
  parser.feed(":hello\n: another\ndata: x\n:mid-event comment\n\n", out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "x", ""}));
  EXPECT_EQ(parser.stats().comments, 3u);
}

TEST(AnSseParser, UsesMessageAsTheDefaultEventTypeAndResetsTheTypeAfterEachEvent) {
  const SseOutput out = parse_whole("event: alive\ndata: a\n\ndata: b\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"alive", "a", ""}, SseEvent{"message", "b", ""}));
}

TEST(AnSseParser, DispatchesNothingForBlankLinesWithoutData) {
  const SseOutput out = parse_whole("\n\n\nevent: alive\n\n\r\n");
  EXPECT_THAT(out.events, IsEmpty());
}

TEST(AnSseParser, KeepsTheLastEventIdForFollowingEvents) {
  SseParser parser;
  SseOutput out;
  parser.feed("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "a", "7"}, SseEvent{"message", "b", "7"},
                                      SseEvent{"message", "c", ""}));
  EXPECT_EQ(parser.last_event_id(), "");
}

TEST(AnSseParser, IgnoresAnIdContainingNul) {
  SseParser parser;
  SseOutput out;
  parser.feed(std::string_view("id: 1\n\nid: 2\0x\ndata: a\n\n", 24), out);
  ASSERT_THAT(out.events, SizeIs(1));
  EXPECT_EQ(out.events[0].id, "1");
}

TEST(AnSseParser, RemembersAValidRetryAndIgnoresOthers) {
  SseParser parser;
  SseOutput out;
  EXPECT_FALSE(parser.retry().has_value());
  parser.feed("retry: 3000\n", out);
  EXPECT_EQ(parser.retry(), std::chrono::milliseconds(3000));
  parser.feed("retry: soon\nretry: -5\nretry: 1.5\nretry:\nretry: 99999999999999999999\n", out);
  EXPECT_EQ(parser.retry(), std::chrono::milliseconds(3000));
}

TEST(AnSseParser, IgnoresUnknownFields) {
  const SseOutput out = parse_whole("foo: bar\ndata: x\nDATA: y\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "x", ""}));
}

TEST(AnSseParser, SkipsAByteOrderMarkAtTheStartOfTheStream) {
  const SseOutput out = parse_whole("\xEF\xBB\xBF" "data: x\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "x", ""}));
  expect_split_invariant("\xEF\xBB\xBF" "data: x\n\n\xEF\xBB\xBF" "data: y\n\n");
}

TEST(AnSseParser, KeepsBytesThatOnlyLookedLikeTheStartOfAByteOrderMark) {
  // "\xEF\xBB" followed by "d" is not a BOM: the bytes stay and spoil the field name.
  SseParser parser;
  SseOutput out;
  parser.feed("\xEF\xBB", out);
  parser.feed("data: x\n\ndata: y\n\n", out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "y", ""}));
}

TEST(AnSseParser, SkipsAByteOrderMarkOnlyAtTheStart) {
  const SseOutput out = parse_whole("data: a\n\n\xEF\xBB\xBF" "data: b\n\n");
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "a", ""}));
}

TEST(AnSseParser, DropsAHalfReceivedEventWhenTheStreamEnds) {
  SseParser parser;
  SseOutput out;
  parser.feed("id: 9\ndata: complete\n\ndata: half", out);
  parser.end_of_stream();
  parser.feed("\xEF\xBB\xBF" "data: next connection\n\n", out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "complete", "9"}, SseEvent{"message", "next connection", "9"}));
}

TEST(AnSseParser, DiscardsAnOversizeLineUpToTheNextBlankLineAndCarriesOn) {
  const SseLimits limits{32, 1024};
  const std::string stream = "data: ok\n\nevent: big\ndata: " + std::string(100, 'x') + "\ndata: more\n\ndata: after\n\n";
  const SseOutput out = parse_whole(stream, limits);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "ok", ""}, SseEvent{"message", "after", ""}));
  ASSERT_THAT(out.errors, SizeIs(1));
  EXPECT_EQ(out.errors[0].code, SseError::Code::line_too_long);
  EXPECT_THAT(out.errors[0].message, ::testing::HasSubstr("32 bytes"));
  expect_split_invariant(stream, limits);
}

TEST(AnSseParser, DiscardsAnEventWhoseDataGrowsPastTheLimit) {
  const SseLimits limits{64, 40};
  std::string stream = "data: before\n\n";
  for (int i = 0; i < 10; ++i) stream += "data: 0123456789\n";
  stream += "\ndata: after\n\n";
  SseParser parser(limits);
  SseOutput out;
  parser.feed(stream, out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "before", ""}, SseEvent{"message", "after", ""}));
  ASSERT_THAT(out.errors, SizeIs(1));
  EXPECT_EQ(out.errors[0].code, SseError::Code::event_too_long);
  EXPECT_EQ(parser.stats().discarded_events, 1u);
  expect_split_invariant(stream, limits);
}

TEST(AnSseParser, StaysBoundedOnAnEndlessLine) {
  SseParser parser(SseLimits{1024, 1024});
  SseOutput out;
  const std::string junk(4096, 'a');
  for (int i = 0; i < 1000; ++i) parser.feed(junk, out);  // 4 MB, no line end
  EXPECT_THAT(out.errors, SizeIs(1));
  parser.feed("\n\ndata: alive again\n\n", out);
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "alive again", ""}));
}

TEST(AnSseParser, AcceptsAnEventExactlyAtTheLimits) {
  const SseLimits limits{10, 5};
  const SseOutput out = parse_whole("data: 1234\n\n", limits);  // line of 10 bytes, data "1234\n" of 5
  EXPECT_THAT(out.events, ElementsAre(SseEvent{"message", "1234", ""}));
  EXPECT_THAT(out.errors, IsEmpty());
}

TEST(AnSseParser, CountsBytesAndEvents) {
  SseParser parser;
  SseOutput out;
  const std::string stream = testdata::realistic_stream();
  parser.feed(stream, out);
  EXPECT_EQ(parser.stats().bytes, stream.size());
  EXPECT_EQ(parser.stats().events, 8u);
  EXPECT_EQ(parser.stats().comments, 1u);
}

}  // namespace
}  // namespace carehub::openhab
