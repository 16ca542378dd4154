// A fleet: several hubs, one FHIR repository (design.md invariant 9, issue 13). Three carehubd processes
// with the same configuration except /hub/id (each with its own store and socket), the same openHAB item
// names (one shared openHAB stand-in: every event reaches every hub at the same moment) and the very same
// manual readings (same values, same times, same patient reference: the worst case, e.g. a copied kit
// configuration) upload to one FHIR peer. What reaches the server must still tell the homes apart: no
// Device is used by two hubs, every Observation names its own hub as gateway, and each hub's readings are
// there exactly once.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "core/time.hpp"
#include "tests/integration/upload_steps.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/openhab_peer.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kHubs = 3;
constexpr const char* kPatient = "Patient/fleet-patient";
constexpr const char* kHubSystem = "urn:carehub:hub";
constexpr const char* kGateway = "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice";
constexpr const char* kAlertSystem = "urn:carehub:alert";
constexpr const char* kEui64System = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680";  // PhgDevice's SYSID
constexpr const char* kFirstHubEui64 = "02-00-5E-00-00-00-00-01";  // hub 1's /hub/system_id; the others derive theirs

// HF5 as in the pilot: an extreme blood pressure asks for a repeat; the confirming repeat raises a red alert.
constexpr const char* kRules = R"({"categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

// What every home has: two mapped openHAB items with a state (two readings on connect).
json items() {
  return json::array({
      {{"name", "LivingRoom_Temperature"}, {"type", "Number:Temperature"}, {"state", "21.5 °C"},
       {"tags", json::array()}, {"groupNames", json::array()}},
      {{"name", "Bathroom_Humidity"}, {"type", "Number:Dimensionless"}, {"state", "55 %"},
       {"tags", json::array()}, {"groupNames", json::array()}},
  });
}

json openhab_source(const std::string& url) {
  return {{"url", url},
          {"retry_base_ms", 50},
          {"retry_cap_ms", 400},
          {"items",
           {{{"name", "LivingRoom_Temperature"}, {"kind", "room-temperature"}},
            {{"name", "Bathroom_Humidity"}, {"kind", "room-humidity"}}}}};
}

// The same lines for every hub. No component that becomes an Observation of its own (pulse, height, BMI), so
// each reading is one Observation carrying the reading's uid. "mqtt-home/scale" is the id an MQTT `number`
// subscription gives a topic: the same string on every hub, like "manual" and "openhab-<Item>". The last two
// (at `recent`, within HF5's repeat window) are an extreme blood pressure and its confirming repeat.
std::string manual_readings(TimePoint t, TimePoint recent) {
  const auto line = [](const std::string& kind, TimePoint at, json values, const std::string& device) {
    return json{{"kind", kind}, {"time", format_rfc3339(at)}, {"device", device}, {"values", std::move(values)}}.dump() + "\n";
  };
  return line("blood-pressure", t, {{"systolic", 128}, {"diastolic", 82}}, "manual") +
         line("body-temperature", t + 1min, {{"value", 36.9}}, "manual") +
         line("body-weight", t + 2min, {{"value", 81.4}}, "mqtt-home/scale") +
         line("blood-pressure", recent, {{"systolic", 210}, {"diastolic", 135}}, "manual") +
         line("blood-pressure", recent + 2min, {{"systolic", 208}, {"diastolic", 133}}, "manual");
}

// The ids of every alert the hub holds, open or closed.
std::set<std::string> alert_ids(DaemonProcess& d) {
  auto r = d.ctl({"alerts", "--json", "--all"});
  std::set<std::string> out;
  std::size_t from = 0;
  for (auto nl = r.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = r.out.find('\n', from)) {
    out.insert(json::parse(r.out.substr(from, nl - from)).value("id", ""));
  }
  return out;
}

std::vector<json> readings(DaemonProcess& d) {
  auto r = d.ctl({"measurements", "--json", "--limit", "100000"});
  std::vector<json> out;
  std::size_t from = 0;
  while (from < r.out.size()) {
    auto nl = r.out.find('\n', from);
    if (nl == std::string::npos) nl = r.out.size();
    if (nl > from) out.push_back(json::parse(r.out.substr(from, nl - from)));
    from = nl + 1;
  }
  return out;
}

// Polls the buffer until it holds `n` readings (a condition with a deadline, never a fixed sleep).
std::vector<json> wait_readings(DaemonProcess& d, std::size_t n, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto rows = readings(d);
  while (rows.size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    rows = readings(d);
  }
  return rows;
}

// Every resource of a type (the peer answers up to 1000 per page; the test makes far fewer).
std::vector<json> all(FhirPeer& peer, const std::string& type) {
  auto bundle = peer.get(type + "?_count=1000");
  std::vector<json> out;
  for (const auto& e : bundle.value("entry", json::array())) out.push_back(e["resource"]);
  return out;
}

std::string gateway_of(const json& obs) {
  for (const auto& ext : obs.value("extension", json::array())) {
    if (ext.value("url", "") == kGateway) return ext["valueReference"].value("reference", "");
  }
  return {};
}

std::vector<std::string> identifier_values(const json& resource, const std::string& system) {
  std::vector<std::string> out;
  for (const auto& id : resource.value("identifier", json::array())) {
    if (id.value("system", "") == system) out.push_back(id.value("value", ""));
  }
  return out;
}

struct Hub {
  std::string id;
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  std::unique_ptr<DaemonProcess> daemon;
  std::set<std::string> uids;  // of the readings it holds
  std::set<std::string> alerts;  // ids of the alerts it raised
  std::string device_ref;      // "Device/<id>" of its hub Device on the server
};

TEST(Fleet, HubsWithTheSameConfigurationShareNoDeviceAndEachReadingArrivesOnceUnderItsOwnHub) {
  const auto started = std::chrono::steady_clock::now();
  TempDir shared;
  FhirPeer fhir(shared.file("fhir.log"));
  fhir.put(std::string(kPatient), {{"resourceType", "Patient"}, {"id", "fleet-patient"}});
  OpenhabPeer openhab(shared.file("openhab.log"), items(), shared.file("items.json"), 1);
  write_file(shared.file("rules.json"), kRules);

  std::vector<Hub> hubs(kHubs);
  for (int i = 0; i < kHubs; ++i) {
    auto& h = hubs[static_cast<std::size_t>(i)];
    h.id = "fleet-hub-" + std::to_string(i + 1);
    h.daemon = std::make_unique<DaemonProcess>(*h.dir, fhir.base_url());
    h.daemon->config()["hub"] = {{"id", h.id}, {"patient", kPatient}};
    if (i == 0) h.daemon->config()["hub"]["system_id"] = kFirstHubEui64;
    h.daemon->config()["sources"]["openhab"] = openhab_source(openhab.url());
    h.daemon->config()["rules"] = {{"file", shared.file("rules.json")}};
    ASSERT_TRUE(h.daemon->start()) << h.id << "\n" << h.daemon->log();
  }
  ASSERT_TRUE(openhab.wait_connections(kHubs));
  for (auto& h : hubs) ASSERT_EQ(wait_readings(*h.daemon, 2).size(), 2u) << h.id << "\n" << h.daemon->log();
  // One change, broadcast: every home's living room reports the same value at (nearly) the same moment.
  openhab.update("LivingRoom_Temperature", "22.5 °C");
  for (auto& h : hubs) ASSERT_EQ(wait_readings(*h.daemon, 3).size(), 3u) << h.id << "\n" << h.daemon->log();

  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto t = std::chrono::time_point_cast<std::chrono::minutes>(now - 2h);
  for (auto& h : hubs) ASSERT_EQ(add_stored(*h.daemon, manual_readings(t, now - 4min)).size(), 5u) << h.id;
  for (auto& h : hubs) ASSERT_TRUE(sync_now(*h.daemon)) << h.id;

  std::size_t total_readings = 0;
  for (auto& h : hubs) {
    for (const auto& r : readings(*h.daemon)) {
      EXPECT_EQ(r.value("sync", ""), "synced") << h.id << " " << r.dump();
      h.uids.insert(r.value("uid", ""));
    }
    EXPECT_EQ(h.uids.size(), 8u) << h.id;
    total_readings += h.uids.size();
    h.alerts = alert_ids(*h.daemon);
    EXPECT_EQ(h.alerts.size(), 2u) << h.id << ": HF5's repeat request and red alert";
  }
  // The identities themselves: a reading of one home is never the "same measurement" as another home's.
  for (std::size_t a = 0; a < hubs.size(); ++a) {
    for (std::size_t b = a + 1; b < hubs.size(); ++b) {
      for (const auto& uid : hubs[a].uids) {
        EXPECT_FALSE(hubs[b].uids.contains(uid)) << hubs[a].id << " and " << hubs[b].id << " both hold reading " << uid;
      }
      for (const auto& id : hubs[a].alerts) {
        EXPECT_FALSE(hubs[b].alerts.contains(id)) << hubs[a].id << " and " << hubs[b].id << " both raised alert " << id;
      }
    }
  }

  // Each hub is one Device, found by its own identifier.
  const auto devices = all(fhir, "Device");
  std::map<std::string, const Hub*> hub_by_ref;
  for (auto& h : hubs) {
    for (const auto& d : devices) {
      const auto ids = identifier_values(d, kHubSystem);
      if (std::find(ids.begin(), ids.end(), h.id) == ids.end()) continue;
      EXPECT_TRUE(h.device_ref.empty()) << "two Devices carry " << kHubSystem << "|" << h.id;
      h.device_ref = "Device/" + d.value("id", "");
    }
    ASSERT_FALSE(h.device_ref.empty()) << "no hub Device for " << h.id;
    hub_by_ref[h.device_ref] = &h;
  }
  // Each hub Device carries its own EUI-64 (PhgDevice): the configured one, or one derived from its id.
  std::set<std::string> eui64s;
  for (const auto& d : devices) {
    for (const auto& eui : identifier_values(d, kEui64System)) {
      if (identifier_values(d, kHubSystem).empty()) continue;
      EXPECT_TRUE(eui64s.insert(eui).second) << "two hubs share system id " << eui;
      EXPECT_EQ(eui.size(), 23u) << eui;
    }
  }
  EXPECT_EQ(eui64s.size(), hubs.size());
  EXPECT_TRUE(eui64s.contains(kFirstHubEui64));

  // Every Observation: its gateway is a hub of the fleet, the reading it carries is that hub's, and its
  // sensor Device is used by that hub alone.
  const auto observations = all(fhir, "Observation");
  std::map<std::string, std::set<std::string>> hubs_of_device;  // "Device/<id>" -> hub ids whose Observations cite it
  std::map<std::string, std::size_t> arrived;                    // hub id -> Observations carrying one of its uids
  std::map<std::string, std::size_t> seen_uid;                   // uid -> Observations carrying it
  for (const auto& obs : observations) {
    const auto gateway = gateway_of(obs);
    const auto owner = hub_by_ref.find(gateway);
    if (owner == hub_by_ref.end()) {
      ADD_FAILURE() << "gatewayDevice \"" << gateway << "\" is no hub of the fleet: " << obs.dump();
      continue;
    }
    const Hub& hub = *owner->second;
    for (const auto& value : identifier_values(obs, "urn:ietf:rfc:3986")) {
      if (!value.starts_with("urn:uuid:")) continue;
      const auto uid = value.substr(9);
      ++seen_uid[uid];
      for (const auto& other : hubs) {
        if (!other.uids.contains(uid)) continue;
        if (&other == &hub) ++arrived[hub.id];
        else ADD_FAILURE() << "reading " << uid << " of " << other.id << " arrived with gateway " << hub.id;
      }
    }
    if (obs.contains("device")) {
      const auto device = obs["device"].value("reference", "");
      EXPECT_FALSE(hub_by_ref.contains(device)) << "a hub Device used as a sensor: " << obs.dump();
      hubs_of_device[device].insert(hub.id);
    }
  }
  for (const auto& [device, users] : hubs_of_device) {
    EXPECT_EQ(users.size(), 1u) << device << " is shared by " << users.size() << " hubs: "
                                << fhir.get(device).dump();
  }
  // Every sensor Device on the server belongs to exactly one hub: no other Device exists.
  EXPECT_EQ(devices.size(), hubs.size() + hubs_of_device.size());
  for (const auto& h : hubs) {
    EXPECT_EQ(arrived[h.id], h.uids.size()) << h.id << ": its readings did not all arrive under its own gateway";
    for (const auto& uid : h.uids) EXPECT_EQ(seen_uid[uid], 1u) << h.id << " reading " << uid;
  }
  std::size_t reading_observations = 0;
  for (const auto& [uid, n] : seen_uid) reading_observations += n;
  EXPECT_EQ(reading_observations, total_readings) << "each hub's readings, each exactly once";

  // Each hub's alerts: one DetectedIssue each, authored by that hub.
  std::size_t total_alerts = 0;
  for (const auto& h : hubs) {
    total_alerts += h.alerts.size();
    for (const auto& id : h.alerts) {
      const auto found = fhir.get(std::string("DetectedIssue?identifier=") + kAlertSystem + "%7C" + id);
      ASSERT_EQ(found.value("entry", json::array()).size(), 1u) << h.id << " alert " << id << ": " << found.dump();
      const auto& issue = found["entry"][0]["resource"];
      EXPECT_EQ(issue.value("author", json::object()).value("reference", ""), h.device_ref) << h.id << " alert " << id;
    }
  }
  EXPECT_EQ(all(fhir, "DetectedIssue").size(), total_alerts) << "each hub's alerts, each exactly once";

  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  RecordProperty("fleet_ms", static_cast<int>(took.count()));
  std::printf("fleet of %d hubs: %lld ms\n", kHubs, static_cast<long long>(took.count()));
}

}  // namespace
}  // namespace carehub::test
