#include "core/json_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace carehub {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::SizeIs;

TEST(DescribeJson, SaysWhatKindOfValueItFoundAndWhichOne) {
  EXPECT_EQ(describe_json(json(nullptr)), "null");
  EXPECT_EQ(describe_json(json(true)), "boolean true");
  EXPECT_EQ(describe_json(json(false)), "boolean false");
  EXPECT_EQ(describe_json(json("abc")), "string \"abc\"");
  EXPECT_EQ(describe_json(json(5)), "number 5");
  EXPECT_EQ(describe_json(json(-5)), "number -5");
  EXPECT_EQ(describe_json(json(2.5)), "number 2.5");
  EXPECT_EQ(describe_json(json::object({{"a", 1}})), "an object");
  EXPECT_EQ(describe_json(json::array({1})), "an array");
}

TEST(DescribeJson, ShortensLongValues) {
  const auto d = describe_json(json(std::string(500, 'x')));
  EXPECT_EQ(d.size(), std::string("string ").size() + 60);
  EXPECT_THAT(d, EndsWith("..."));
}

TEST(JsonPath, JoinsAParentAndAKey) {
  EXPECT_EQ(json_path("", "kind"), "/kind");
  EXPECT_EQ(json_path("/fhir", "base_url"), "/fhir/base_url");
}

TEST(JsonPath, EscapesSlashAndTildeAsRfc6901Says) {
  EXPECT_EQ(json_path("/values", "a/b~c"), "/values/a~1b~0c");
}

TEST(JsonPath, JoinsAParentAndAnIndex) {
  EXPECT_EQ(json_path("/devices", std::size_t{3}), "/devices/3");
}

TEST(JsonReader, ReadsAPresentStringAndSkipsAnAbsentOptionalOne) {
  JsonReader in;
  const json doc = {{"name", "hub"}};
  EXPECT_EQ(in.string(doc, "/cfg", "name", true), "hub");
  EXPECT_EQ(in.string(doc, "/cfg", "other", false), std::nullopt);
  EXPECT_TRUE(in.ok());
}

TEST(JsonReader, ReportsAMissingRequiredMemberByPath) {
  JsonReader in;
  EXPECT_EQ(in.string(json::object(), "/cfg", "name", true), std::nullopt);
  EXPECT_FALSE(in.ok());
  EXPECT_THAT(in.errors(), ElementsAre("/cfg/name: required, but missing"));
}

TEST(JsonReader, ReportsAMemberOfTheWrongType) {
  JsonReader in;
  const json doc = {{"s", 5}, {"n", "5"}, {"i", 2.5}, {"b", "yes"}, {"o", json::array()}, {"a", json::object()}};
  EXPECT_EQ(in.string(doc, "/x", "s", true), std::nullopt);
  EXPECT_EQ(in.number(doc, "/x", "n", true, 0, 10), std::nullopt);
  EXPECT_EQ(in.integer(doc, "/x", "i", true, 0, 10), std::nullopt);
  EXPECT_EQ(in.boolean(doc, "/x", "b", true), std::nullopt);
  EXPECT_EQ(in.object(doc, "/x", "o", true), nullptr);
  EXPECT_EQ(in.array(doc, "/x", "a", true), nullptr);
  EXPECT_THAT(in.errors(), ElementsAre("/x/s: expected a string, found number 5",
                                       "/x/n: expected a number, found string \"5\"",
                                       "/x/i: expected a whole number, found number 2.5",
                                       "/x/b: expected true or false, found string \"yes\"",
                                       "/x/o: expected an object, found an array",
                                       "/x/a: expected an array, found an object"));
}

TEST(JsonReader, ChecksNumberRangesInclusively) {
  JsonReader in;
  const json doc = {{"lo", 0}, {"hi", 10.0}, {"over", 10.5}, {"under", -1}};
  EXPECT_EQ(in.number(doc, "", "lo", true, 0, 10), 0.0);
  EXPECT_EQ(in.number(doc, "", "hi", true, 0, 10), 10.0);
  EXPECT_EQ(in.number(doc, "", "over", true, 0, 10), std::nullopt);
  EXPECT_EQ(in.number(doc, "", "under", true, 0, 10), std::nullopt);
  EXPECT_THAT(in.errors(), ElementsAre("/over: expected a number from 0.0 to 10.0, found 10.5",
                                       "/under: expected a number from 0.0 to 10.0, found -1"));
}

TEST(JsonReader, ChecksIntegerRangesInclusively) {
  JsonReader in;
  const json doc = {{"lo", 1}, {"hi", 65535}, {"over", 65536}, {"under", 0}};
  EXPECT_EQ(in.integer(doc, "/mqtt", "lo", true, 1, 65535), 1);
  EXPECT_EQ(in.integer(doc, "/mqtt", "hi", true, 1, 65535), 65535);
  EXPECT_EQ(in.integer(doc, "/mqtt", "over", true, 1, 65535), std::nullopt);
  EXPECT_EQ(in.integer(doc, "/mqtt", "under", true, 1, 65535), std::nullopt);
  EXPECT_THAT(in.errors(), ElementsAre("/mqtt/over: expected a whole number from 1 to 65535, found 65536",
                                       "/mqtt/under: expected a whole number from 1 to 65535, found 0"));
}

TEST(JsonReader, RefusesAnUnsignedIntegerBeyondInt64WithoutWrapping) {
  JsonReader in;
  const json doc = json::parse(R"({"big":18446744073709551615})");
  EXPECT_EQ(in.integer(doc, "", "big", true, 0, std::numeric_limits<std::int64_t>::max()), std::nullopt);
  EXPECT_THAT(in.errors(), SizeIs(1));
}

TEST(JsonReader, ReadsBooleansObjectsAndArrays) {
  JsonReader in;
  const json doc = {{"b", false}, {"o", {{"k", 1}}}, {"a", {1, 2}}};
  EXPECT_EQ(in.boolean(doc, "", "b", true), false);
  const auto* o = in.object(doc, "", "o", true);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ((*o)["k"], 1);
  const auto* a = in.array(doc, "", "a", true);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(in.object(doc, "", "absent", false), nullptr);
  EXPECT_TRUE(in.ok());
}

TEST(JsonReader, RefusesEveryUnknownKeyListingTheKnownOnes) {
  JsonReader in;
  in.only_keys(json{{"a", 1}, {"colour", 2}, {"b", 3}, {"size", 4}}, "/cfg", {"a", "b"});
  EXPECT_THAT(in.errors(), ElementsAre("/cfg/colour: unknown key (expected one of: a, b)",
                                       "/cfg/size: unknown key (expected one of: a, b)"));
}

TEST(JsonReader, NamesTheRootAsSlash) {
  JsonReader in;
  in.fail("", "expected an object");
  EXPECT_THAT(in.errors(), ElementsAre("/: expected an object"));
}

TEST(JsonReader, JoinsAllErrorsOnePerLineWithAPrefix) {
  JsonReader in;
  in.fail("/a", "first");
  in.fail("/b", "second");
  EXPECT_EQ(in.joined("carehub.json"), "carehub.json: /a: first\ncarehub.json: /b: second");
  EXPECT_EQ(in.joined(""), "/a: first\n/b: second");
}


// Peer JSON: what openHAB, the FHIR server, the token endpoint, MQTT publishers and control clients send.
std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(ParsePeerJson, ParsesWhatAPeerNormallySends) {
  auto j = parse_peer_json(R"({"type":"ALIVE","interval":10,"list":[1,2.5,"x",null,true]})", "openHAB event");
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["interval"], 10);
  EXPECT_EQ((*j)["list"].size(), 5u);
}

TEST(ParsePeerJson, RefusesANumberBeyondADoubleInsteadOfThrowing) {
  for (const char* text : {R"({"type":"ALIVE","interval":1e999})", "[1e999]", "-1e400", R"({"a":[[[1E+99999]]]})"}) {
    auto j = parse_peer_json(text, "openHAB /rest/items");
    ASSERT_FALSE(j) << text;
    EXPECT_EQ(j.error().code, Errc::invalid_argument);
    EXPECT_EQ(j.error().message, "openHAB /rest/items: a number beyond the range of a double") << text;
  }
}

TEST(ParsePeerJson, RefusesDeepNestingBeforeBuildingAnything) {
  EXPECT_TRUE(parse_peer_json(nested(64), "x"));
  auto deep = parse_peer_json(nested(65), "openHAB /rest/items");
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().message, "openHAB /rest/items: nesting deeper than 64");
  // 200,000 deep (400 KB): were it built, copying or dumping it would overflow the stack.
  auto hostile = parse_peer_json(R"({"cmd":"status","args":{"a":)" + nested(200'000, '{', '}') + "}}", "request");
  ASSERT_FALSE(hostile);
  EXPECT_EQ(hostile.error().message, "request: nesting deeper than 64");
  EXPECT_FALSE(parse_peer_json(nested(100'000, '[', ' '), "unterminated"));  // never closed: still too deep
}

TEST(ParsePeerJson, CountsBracketsInsideStringsAsText) {
  const std::string text = R"({"a":")" + std::string(1000, '[') + R"(\"[{","b":[1]})";
  auto j = parse_peer_json(text, "x");
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["b"][0], 1);
  EXPECT_EQ(json_nesting_depth(text, 100), 2u);
  EXPECT_EQ(json_nesting_depth(R"("\\"[[)", 100), 2u);  // an escaped backslash does not escape the quote
}

TEST(ParsePeerJson, HonoursACustomDepthAndSize) {
  EXPECT_FALSE(parse_peer_json("[[1]]", "x", {1, 0}));
  EXPECT_TRUE(parse_peer_json("[1]", "x", {1, 0}));
  auto big = parse_peer_json(R"({"id":"0123456789"})", "MQTT ack", {64, 10});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "MQTT ack: 19 bytes, more than the limit of 10");
}

TEST(ParsePeerJson, NamesTheSourceAndTheByteButNeverQuotesThePeer) {
  auto j = parse_peer_json(R"({"value":"187 mmHg",)", "MQTT reading");
  ASSERT_FALSE(j);
  EXPECT_THAT(j.error().message, ::testing::StartsWith("MQTT reading is not valid JSON (at byte "));
  EXPECT_EQ(j.error().message.find("187"), std::string::npos);
  EXPECT_FALSE(parse_peer_json("", "x"));
  EXPECT_FALSE(parse_peer_json("{} trailing", "x"));
  EXPECT_FALSE(parse_peer_json("\"\xff\"", "x"));            // invalid UTF-8 would make dump() throw later
  EXPECT_FALSE(parse_peer_json("// comment\n{}", "x"));  // peers speak plain JSON
}

}  // namespace
}  // namespace carehub
