// drivers/option_table.hpp: which keys a table allows where, and the unknown-key error it gives.
#include "drivers/option_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <nlohmann/json.hpp>

namespace carehub {
namespace {

using ::testing::ElementsAre;

constexpr std::array kTable{
    ConfigOption{"/broker", OptionType::string, "required", "where"},
    ConfigOption{"/subscriptions", OptionType::array, "required", "what"},
    ConfigOption{"/subscriptions/*/topic", OptionType::string, "required", "filter"},
    ConfigOption{"/subscriptions/*/qos", OptionType::integer, "1", "0..2"},
    ConfigOption{"/auth/type", OptionType::string, "\"none\"", "how"},
};

TEST(AnOptionTable, ListsTheKeysUnderEachParentOnceInTableOrder) {
  EXPECT_THAT(keys_under(kTable, ""), ElementsAre("broker", "subscriptions", "auth"));
  EXPECT_THAT(keys_under(kTable, "/subscriptions/*"), ElementsAre("topic", "qos"));
  EXPECT_THAT(keys_under(kTable, "/auth"), ElementsAre("type"));
  EXPECT_TRUE(keys_under(kTable, "/broker").empty());
  EXPECT_TRUE(keys_under(kTable, "/sub").empty()) << "a prefix of a key is not its parent";
}

TEST(AnOptionTable, NamesTheKeyAPersonWrites) {
  EXPECT_EQ(option_key(kTable[3]), "qos");
  EXPECT_EQ(option_key(kTable[0]), "broker");
  EXPECT_EQ(to_string(OptionType::integer), "integer");
}

TEST(AnOptionTable, RefusesUnknownKeysAsJsonReaderOnlyKeysDoes) {
  const auto doc = nlohmann::json::parse(R"({"broker": "x", "brokr": "y", "auth": {"typ": 1}})");
  JsonReader table;
  only_table_keys(table, doc, "/sources/x", kTable, "");
  only_table_keys(table, doc["auth"], "/sources/x/auth", kTable, "/auth");
  JsonReader literal;
  literal.only_keys(doc, "/sources/x", {"broker", "subscriptions", "auth"});
  literal.only_keys(doc["auth"], "/sources/x/auth", {"type"});
  EXPECT_EQ(table.errors(), literal.errors());
  EXPECT_THAT(table.errors(),
              ElementsAre("/sources/x/brokr: unknown key (expected one of: broker, subscriptions, auth)",
                          "/sources/x/auth/typ: unknown key (expected one of: type)"));
}

}  // namespace
}  // namespace carehub
