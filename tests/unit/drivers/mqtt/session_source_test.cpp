// The mqtt source over carehub's subscriber against a real mosquitto: what the sink made durable is
// acknowledged, nothing else; /sources/mqtt's max_inflight reaches the subscriber.
#include "tests/unit/drivers/mqtt/subscriber_fixture.hpp"

namespace carehub::mqtt {
namespace {

// Its own name: gtest wants one fixture class per suite, and ASubscriber is another type in each file.
class TheMqttSource : public ASubscriber {};

std::string heart_rate(int bpm) {
  return R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device":"watch-1","values":{"value":)" +
         std::to_string(bpm) + "}}";
}

TEST_F(TheMqttSource, OverCarehubsSubscriberAcknowledgesOnlyWhatTheSinkMadeDurableAndCountedBadInput) {
  auto& b = broker();
  HandSink sink;
  Counters counters;
  SourceContext context{sink, clock_, log_, counters, "hub-test", "patient-1"};
  const nlohmann::json config{{"broker", b.url()},
                              {"client_id", "carehub-source"},
                              {"retry_base_ms", 10},
                              {"retry_cap_ms", 100},
                              {"subscriptions", {{{"topic", "home/readings"}, {"format", "reading-json"}}}}};
  const auto acknowledged = [](const std::unique_ptr<Source>& s) { return s->status()["acknowledged"].get<int>(); };
  const auto source_connected = [](const std::unique_ptr<Source>& s) { return s->status()["state"] == "connected"; };
  {
    auto source = make_mqtt_source(config, "/sources/mqtt", context);
    ASSERT_TRUE(source) << source.error().message;
    ASSERT_TRUE((*source)->start());
    ASSERT_TRUE(eventually([&] { return source_connected(*source); })) << (*source)->status().dump();
    ASSERT_TRUE(b.publish("home/readings", heart_rate(61)));
    ASSERT_TRUE(sink.wait_count(1));
    (*source)->stop();  // carehubd goes away before the commit
  }
  auto source = make_mqtt_source(config, "/sources/mqtt", context);
  ASSERT_TRUE(source);
  ASSERT_TRUE((*source)->start());
  ASSERT_TRUE(sink.wait_count(2)) << b.log();
  EXPECT_EQ(sink.reading(1).values, sink.reading(0).values);
  EXPECT_EQ(counters.get("mqtt_redelivered").load(), 1u);
  EXPECT_EQ(acknowledged(*source), 0);
  sink.resolve(1, HandSink::stored());
  ASSERT_TRUE(eventually([&] { return acknowledged(*source) == 1; }));
  EXPECT_EQ((*source)->status()["readings"], 1);

  // Bad input never reaches the sink: it is counted, then acknowledged.
  ASSERT_TRUE(b.publish("home/readings", "{not json"));
  ASSERT_TRUE(eventually([&] { return acknowledged(*source) == 2; }));
  EXPECT_EQ(counters.get("mqtt_bad_messages").load(), 1u);

  // A store error is not acknowledged: the source reconnects and the broker redelivers.
  ASSERT_TRUE(b.publish("home/readings", heart_rate(62)));
  ASSERT_TRUE(sink.wait_count(3));
  sink.resolve(2, make_error(Errc::io, "database is locked"));
  ASSERT_TRUE(sink.wait_count(4)) << b.log();
  EXPECT_EQ(counters.get("mqtt_ingest_errors").load(), 1u);
  EXPECT_EQ(counters.get("mqtt_redelivered").load(), 2u);
  // Refused by the pipeline (bad input it found): counted and acknowledged.
  sink.resolve(3, IngestResult{{""}, {IngestStatus::rejected}, {"implausible"}});
  ASSERT_TRUE(eventually([&] { return acknowledged(*source) == 3; }));
  EXPECT_EQ(counters.get("mqtt_rejected").load(), 1u);
  EXPECT_EQ(sink.count(), 4u);
}

// max_inflight from /sources/mqtt reaches the subscriber: a sink that has not committed anything yet gets
// exactly that many readings; bad values are refused with their JSON path.
TEST_F(TheMqttSource, OverCarehubsSubscriberHandsTheSinkAtMostMaxInflightReadingsFromItsConfiguration) {
  for (const int bad : {0, 1001}) {
    auto refused = parse_source_config(
        {{"broker", "tcp://127.0.0.1:1883"},
         {"max_inflight", bad},
         {"subscriptions", {{{"topic", "home/readings"}, {"format", "reading-json"}}}}},
        "/sources/mqtt", "hub-test");
    ASSERT_FALSE(refused) << bad;
    EXPECT_THAT(refused.error().message, HasSubstr("/sources/mqtt/max_inflight")) << refused.error().message;
  }
  auto& b = broker();
  HandSink sink;
  Counters counters;
  SourceContext context{sink, clock_, log_, counters, "hub-test", "patient-1"};
  const nlohmann::json config{{"broker", b.url()},
                              {"client_id", "carehub-source-inflight"},
                              {"max_inflight", 2},
                              {"subscriptions", {{{"topic", "home/readings"}, {"format", "reading-json"}}}}};
  ASSERT_EQ(parse_source_config(config, "/sources/mqtt", "hub-test")->max_inflight, 2u);
  auto source = make_mqtt_source(config, "/sources/mqtt", context);
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE((*source)->start());
  ASSERT_TRUE(eventually([&] { return (*source)->status()["state"] == "connected"; }));
  for (int bpm = 61; bpm < 64; ++bpm) ASSERT_TRUE(b.publish("home/readings", heart_rate(bpm)));
  ASSERT_TRUE(eventually([&] { return times_logged(kHolding) == 1; })) << b.log();
  EXPECT_EQ(sink.count(), 2u);
  // Committed out of order: the second first. Its acknowledgement waits for the first.
  sink.resolve(1, HandSink::stored());
  sink.resolve(0, HandSink::stored());
  ASSERT_TRUE(sink.wait_count(3));
  sink.resolve(2, HandSink::stored());
  ASSERT_TRUE(eventually([&] { return (*source)->status()["acknowledged"] == 3; }));
  EXPECT_EQ((*source)->status()["readings"], 3);
  EXPECT_EQ(sink.reading(2).values.at("value"), 63.0);
}

}  // namespace
}  // namespace carehub::mqtt
