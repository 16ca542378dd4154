// The resources of a real run, checked by something other than the FHIR peer: carehubd with readings of every
// kind (typed in, room sensors from the openHAB stand-in, MQTT from a real mosquitto), a wearable's aggregated stream and an acknowledged
// red alert uploads to the local FHIR peer; every Observation, Device and DetectedIssue the server then holds is
// exported by plain FHIR search and run through tests/conformance/check.mjs (R4 invariants on the fhirpath R4
// engine, vital-signs profiles, PHD IG profiles). Zero failures expected: it is how issue 13's conformance is
// proven end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "core/time.hpp"
#include "tests/integration/upload_steps.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/openhab_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const char* kRules = R"({"categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

std::string line(const std::string& kind, TimePoint t, json values, const std::string& device = "manual") {
  return json{{"kind", kind}, {"time", format_rfc3339(t)}, {"device", device}, {"values", std::move(values)}}.dump() + "\n";
}

json home_items() {
  return json::array({
      {{"name", "LivingRoom_Temperature"}, {"type", "Number:Temperature"}, {"state", "21.5 °C"},
       {"tags", json::array()}, {"groupNames", json::array()}},
      {{"name", "Bathroom_Humidity"}, {"type", "Number:Dimensionless"}, {"state", "55 %"},
       {"tags", json::array()}, {"groupNames", json::array()}},
      {{"name", "Hall_Motion"}, {"type", "Switch"}, {"state", "ON"}, {"tags", {"Motion"}},
       {"groupNames", json::array()}},
      {{"name", "Kitchen_Lux"}, {"type", "Number:Illuminance"}, {"state", "320 lx"}, {"tags", json::array()},
       {"groupNames", json::array()}},
  });
}

json openhab_config(const std::string& url) {
  return {{"url", url},
          {"items",
           {{{"name", "LivingRoom_Temperature"}, {"kind", "room-temperature"}},
            {{"name", "Bathroom_Humidity"}, {"kind", "room-humidity"}},
            {{"name", "Kitchen_Lux"}, {"kind", "illuminance"}}}},
          {"tags", {{{"tag", "Motion"}, {"kind", "motion"}}}}};
}

// A bare number on a topic (the device is mqtt-<topic>) and a reading-json publisher naming its own device.
json mqtt_config(const MosquittoPeer& broker) {
  return {{"broker", broker.url()},
          {"client_id", "carehub-conformance"},
          {"retry_base_ms", 50},
          {"retry_cap_ms", 500},
          {"subscriptions",
           {{{"topic", "home/kitchen/humidity"}, {"qos", 1}, {"format", "number"}, {"kind", "room-humidity"}},
            {{"topic", "home/readings"}, {"qos", 1}, {"format", "reading-json"}}}}};
}

bool wait_connected(DaemonProcess& d, const std::string& source, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (d.status()["sources"][source]["state"] != "connected") {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

std::size_t buffered(DaemonProcess& d) {
  const auto out = d.ctl({"measurements", "--json", "--limit", "100000"}).out;
  return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n'));
}

// Polls the buffer until it holds `n` readings (a condition with a deadline, not a fixed sleep).
bool wait_buffered(DaemonProcess& d, std::size_t n, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffered(d) < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

TEST(ConformanceRun, EveryResourceTheServerHoldsAfterARealRunPassesTheConformanceChecker) {
  TempDir dir;
  FhirPeer peer(dir.file("fhir.log"));
  peer.put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
  OpenhabPeer openhab(dir.file("openhab.log"), home_items(), dir.file("items.json"), 1);
  std::filesystem::create_directories(dir.file("broker"));
  MosquittoPeer broker(dir.file("broker"));
  DaemonProcess d(dir, peer.base_url());
  write_file(dir.file("rules.json"), kRules);
  d.config()["rules"] = {{"file", "rules.json"}};
  d.config()["sources"]["openhab"] = openhab_config(openhab.url());
  d.config()["sources"]["mqtt"] = mqtt_config(broker);
  d.config()["fhir"]["aggregate"] = json::array({{{"kind", "heart-rate"}, {"period_s", 60}, {"devices", {"wearable-1"}}}});
  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_TRUE(wait_buffered(d, 4)) << "the four openHAB items' states\n" << d.log();
  ASSERT_TRUE(wait_connected(d, "mqtt")) << d.log();
  ASSERT_TRUE(broker.publish("home/kitchen/humidity", "48.5"));
  const auto hr = json{{"kind", "heart-rate"}, {"time", format_rfc3339(now_ms() - 3h)}, {"device", "watch-1"}, {"values", {{"value", 66}}}};
  ASSERT_TRUE(broker.publish("home/readings", hr.dump()));
  ASSERT_TRUE(wait_buffered(d, 6)) << "the two MQTT readings\n" << d.log();

  // Every kind once, typed in; a minute of a wearable's 1 Hz heart rate (one aggregate); an extreme blood
  // pressure and its confirming repeat (a red alert with evidence), then acknowledged (the amended revision).
  const auto t = now_ms() - 2h;
  const std::string spot =
      line("blood-pressure", t, {{"systolic", 128}, {"diastolic", 82}, {"mean", 97}, {"pulse", 64}}) +
      line("heart-rate", t, {{"value", 72}}) + line("body-temperature", t, {{"value", 36.9}}) +
      line("body-weight", t, {{"value", 81.4}, {"bmi", 26.6}, {"height", 1.75}}) +
      line("spo2", t, {{"value", 97}, {"pulse", 68}}) + line("glucose", t, {{"value", 104}}) +
      line("steps", t, {{"value", 5400}}) + line("room-temperature", t, {{"value", 21.5}}) +
      line("room-humidity", t, {{"value", 45}}) + line("illuminance", t, {{"value", 320}}) +
      line("motion", t, {{"value", 1}});
  ASSERT_EQ(add_stored(d, spot).size(), 11u);
  std::string stream;
  const auto minute = std::chrono::time_point_cast<std::chrono::minutes>(t - 30min);
  for (int s = 0; s < 60; ++s) stream += line("heart-rate", minute + std::chrono::seconds(s), {{"value", 60 + s % 20}}, "wearable-1");
  ASSERT_EQ(add_stored(d, stream).size(), 60u);
  const auto b = now_ms() - 4min;
  ASSERT_EQ(add_stored(d, line("blood-pressure", b, {{"systolic", 210}, {"diastolic", 135}}) +
                              line("blood-pressure", b + 2min, {{"systolic", 208}, {"diastolic", 133}}))
                .size(),
            2u);
  ASSERT_TRUE(sync_now(d));
  const auto alerts = d.ctl({"alerts", "--json", "--all"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
  std::string red;
  for (std::size_t from = 0, nl = alerts.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = alerts.out.find('\n', from)) {
    const auto a = json::parse(alerts.out.substr(from, nl - from));
    if (a["severity"] == "red" && a["event"] == "alert") red = a["id"];
  }
  ASSERT_FALSE(red.empty()) << alerts.out;
  ASSERT_EQ(d.ctl({"alerts", "ack", red}).exit_code, 0);
  ASSERT_TRUE(sync_now(d));
  const auto st = d.status();
  EXPECT_EQ(st["buffer"]["pending"], 0) << st.dump();
  EXPECT_EQ(st["buffer"]["dead"], 0) << st.dump();
  EXPECT_EQ(st["sync"]["pending_alerts"], 0) << st.dump();

  // Export what the server holds, by plain FHIR search, and make sure it is all of it.
  json exported = json::array();
  std::size_t resources = 0;
  for (const std::string type : {"Observation", "Device", "DetectedIssue"}) {
    auto page = peer.get(type + "?_count=1000");
    const auto n = page.value("entry", json::array()).size();
    EXPECT_EQ(n, peer.count(type)) << type << ": the export must hold every resource";
    EXPECT_GT(n, 0u) << type;
    resources += n;
    exported.push_back(std::move(page));
  }
  EXPECT_GE(resources, 11u + 4u + 2u + 1u + 2u + 2u + 1u) << "spot readings, openHAB, MQTT, aggregate, evidence, Devices, alert";
  // The alert's evidence is flagged as the rules judged it (systolic 210 and 208 >= 200: HH), so a dashboard
  // that knows nothing of the hub's rules still shows them; the ordinary 128/82 is not flagged.
  std::map<double, json> bp_by_systolic;
  for (const auto& e : exported[0]["entry"]) {
    const auto& o = e["resource"];
    for (const auto& c : o.value("component", json::array())) {
      if (c["code"]["coding"][0]["code"] == "8480-6") bp_by_systolic[c["valueQuantity"]["value"].get<double>()] = o;
    }
  }
  ASSERT_EQ(bp_by_systolic.count(210), 1u);
  ASSERT_EQ(bp_by_systolic.count(128), 1u);
  EXPECT_NE(bp_by_systolic[210].dump().find(R"("code":"HH")"), std::string::npos) << bp_by_systolic[210].dump();
  EXPECT_NE(bp_by_systolic[208].dump().find(R"("code":"HH")"), std::string::npos) << bp_by_systolic[208].dump();
  EXPECT_EQ(bp_by_systolic[128].dump().find("interpretation"), std::string::npos) << bp_by_systolic[128].dump();
  write_file(dir.file("export.json"), exported.dump(1));

  const auto checker = source_dir() / "tests" / "conformance" / "check.mjs";
  const auto r = run_process({"/usr/bin/env", "node", checker.string(), "--strict", dir.file("export.json")}, {}, {}, 60s);
  EXPECT_NE(r.err.find("conformance: " + std::to_string(resources) + " resource(s) checked"), std::string::npos) << r.err;
  EXPECT_EQ(r.exit_code, 0) << "conformance failures:\n" << r.out << r.err;
  std::cout << r.err;  // "conformance: N resource(s) checked, 0 with errors" and what could not be evaluated
}

}  // namespace
}  // namespace carehub::test
