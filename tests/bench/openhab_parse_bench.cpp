// Throughput of the openHAB parsers on this hub's hardware: SSE frames per second through framing and
// event decoding (the path every openHAB update takes), and states per second through the state parser.
// A home produces a few events per second; these numbers say how much headroom that leaves.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "drivers/openhab/event.hpp"
#include "drivers/openhab/mapping.hpp"
#include "drivers/openhab/sse_parser.hpp"
#include "drivers/openhab/state.hpp"

namespace oh = carehub::openhab;

namespace {

// Realistic frames as openHAB 4.x writes them (one `event: message` frame per envelope).
const std::vector<std::string>& envelopes() {
  static const std::vector<std::string> e = {
      R"({"topic":"openhab/items/LivingRoom_Temperature/statechanged","payload":"{\"type\":\"Quantity\",\"value\":\"21.5 °C\",\"oldType\":\"Quantity\",\"oldValue\":\"21.4 °C\"}","type":"ItemStateChangedEvent"})",
      R"({"topic":"openhab/items/Bathroom_Humidity/stateupdated","payload":"{\"type\":\"Quantity\",\"value\":\"64 %\"}","type":"ItemStateUpdatedEvent"})",
      R"({"topic":"openhab/items/Hall_Motion/statechanged","payload":"{\"type\":\"OnOff\",\"value\":\"ON\",\"oldType\":\"OnOff\",\"oldValue\":\"OFF\"}","type":"ItemStateChangedEvent"})",
      R"({"topic":"openhab/items/gTemperatures/LivingRoom_Temperature/statechanged","payload":"{\"type\":\"Quantity\",\"value\":\"20.7 °C\",\"oldType\":\"Quantity\",\"oldValue\":\"20.6 °C\"}","type":"GroupItemStateChangedEvent"})",
      R"({"topic":"openhab/items/Kitchen_Lux/stateupdated","payload":"{\"type\":\"Quantity\",\"value\":\"312 lx\"}","type":"ItemStateUpdatedEvent"})",
      R"({"topic":"openhab/items/TV_Power/command","payload":"{\"type\":\"OnOff\",\"value\":\"ON\"}","type":"ItemCommandEvent"})",
  };
  return e;
}

std::string stream_of(std::size_t frames) {
  std::string s;
  for (std::size_t i = 0; i < frames; ++i) {
    s += "event: message\ndata: ";
    s += envelopes()[i % envelopes().size()];
    s += "\n\n";
  }
  return s;
}

// Framing and decoding, fed in 1400-byte reads (one TCP segment's worth).
void BM_SseFramesDecoded(benchmark::State& state) {
  const std::string stream = stream_of(600);
  std::size_t frames = 0;
  oh::SseOutput out;
  for (auto _ : state) {
    oh::SseParser parser;
    for (std::size_t pos = 0; pos < stream.size(); pos += 1400) {
      out.clear();
      parser.feed(std::string_view(stream).substr(pos, 1400), out);
      for (const auto& event : out.events) {
        auto decoded = oh::decode_event(event);
        benchmark::DoNotOptimize(decoded);
        ++frames;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.SetBytesProcessed(static_cast<std::int64_t>(stream.size() * state.iterations()));
}
BENCHMARK(BM_SseFramesDecoded);

// Framing alone: where the decoding time goes.
void BM_SseFramingOnly(benchmark::State& state) {
  const std::string stream = stream_of(600);
  std::size_t frames = 0;
  oh::SseOutput out;
  for (auto _ : state) {
    oh::SseParser parser;
    for (std::size_t pos = 0; pos < stream.size(); pos += 1400) {
      out.clear();
      parser.feed(std::string_view(stream).substr(pos, 1400), out);
      frames += out.events.size();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.SetBytesProcessed(static_cast<std::int64_t>(stream.size() * state.iterations()));
}
BENCHMARK(BM_SseFramingOnly);

void BM_StatesParsed(benchmark::State& state) {
  const std::vector<std::pair<std::string, std::string>> states = {
      {"Quantity", "21.5 °C"}, {"Quantity", "3.5E-4 mm"}, {"Decimal", "-0.125"},
      {"Percent", "45"},       {"OnOff", "ON"},           {"OpenClosed", "CLOSED"},
      {"DateTime", "2024-11-11T20:39:00.000+0100"},       {"UnDef", "NULL"},
      {"Quantity", "12 µg/m³"}, {"Quantity", "1013.2 hPa"},
  };
  std::size_t parsed = 0;
  for (auto _ : state) {
    for (const auto& [type, value] : states) {
      auto s = oh::parse_state(type, value);
      benchmark::DoNotOptimize(s);
      ++parsed;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(parsed));
}
BENCHMARK(BM_StatesParsed);

// Decoded event to canonical reading: lookup, state parse, unit conversion.
void BM_EventsMapped(benchmark::State& state) {
  auto parsed = oh::parse_mapping(nlohmann::json::parse(R"({
    "items": [{"name": "LivingRoom_Temperature", "kind": "room-temperature"},
              {"name": "Bathroom_Humidity", "kind": "room-humidity"},
              {"name": "Kitchen_Lux", "kind": "illuminance"}],
    "tags": [{"tag": "Motion", "kind": "motion"}]})"));
  const oh::ItemMapping mapping = parsed ? *parsed : oh::ItemMapping{};
  std::vector<oh::StateEvent> events;
  for (const auto& e : envelopes()) {
    auto d = oh::decode_envelope(e);
    if (d && std::holds_alternative<oh::StateEvent>(*d)) events.push_back(std::get<oh::StateEvent>(*d));
  }
  const oh::ItemContext motion{"Hall_Motion", {"Motion"}, {}, std::nullopt};
  std::size_t mapped = 0;
  for (auto _ : state) {
    for (const auto& e : events) {
      auto outcome = oh::map_event(mapping, e, e.item == "Hall_Motion" ? &motion : nullptr);
      benchmark::DoNotOptimize(outcome);
      ++mapped;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(mapped));
}
BENCHMARK(BM_EventsMapped);

}  // namespace
