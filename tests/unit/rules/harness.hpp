#pragma once
// A store, an engine and a ManualClock wired the way the pipeline wires them, without its thread: each
// add() is one transaction holding the reading, the rule state and the alerts, exactly as in carehubd.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "store/store.hpp"
#include "rules/engine.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::rules::test {

using namespace std::chrono_literals;

inline const TimePoint kT0 = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

inline RuleSet rules_from(const std::string& json) {
  auto r = parse_rules(json, "test-rules.json");
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return r.has_value() ? std::move(r).value() : RuleSet{};
}

inline Reading bp(double sys, double dia, TimePoint t, std::string patient = "Patient/a", std::string device = "cuff-1") {
  Reading r;
  r.kind = Kind::blood_pressure;
  r.device = std::move(device);
  r.patient = std::move(patient);
  r.time = t;
  r.received = t;
  r.source = "test";
  r.values = {{"systolic", sys}, {"diastolic", dia}};
  return r;
}

inline Reading single(Kind kind, double v, TimePoint t, std::string patient = "Patient/a", std::string device = "dev-1") {
  Reading r;
  r.kind = kind;
  r.device = std::move(device);
  r.patient = std::move(patient);
  r.time = t;
  r.received = t;
  r.source = "test";
  r.values = {{"value", v}};
  return r;
}

class Harness {
 public:
  explicit Harness(const std::string& rules_json) : clock(kT0) {
    open();
    engine = std::make_unique<Engine>(rules_from(rules_json), log, counters);
  }
  // Closes the store and the engine and opens both again: what a restart does.
  void restart(const std::string& rules_json) {
    engine.reset();
    store.reset();
    open();
    engine = std::make_unique<Engine>(rules_from(rules_json), log, counters);
  }

  // Stores the readings (one transaction) and returns the events their rules produced.
  std::vector<AlertEvent> add(std::vector<Reading> readings) {
    return in_tx([&]() -> Result<std::vector<AlertEvent>> {
      std::vector<StoredReading> inserted;
      for (auto& r : readings) {
        auto uid = reading_uid(r);
        auto ok = store->insert_reading(r, uid);
        if (!ok) return ok.error();
        if (*ok) inserted.push_back({0, uid, r, SyncState::pending, 0, {}, {}});
        last_uid = uid;
      }
      if (inserted.empty()) return std::vector<AlertEvent>{};
      return engine->in_transaction(*store, inserted, clock.now());
    });
  }
  std::vector<AlertEvent> add(Reading r) { return add(std::vector<Reading>{std::move(r)}); }
  // Arrival: the clock moves to the reading's time first (never backwards).
  std::vector<AlertEvent> arrive(Reading r) {
    if (r.time > clock.now()) clock.set(r.time);
    return add(std::move(r));
  }

  std::vector<AlertEvent> tick_at(TimePoint t) {
    clock.set(t);
    return in_tx([&] { return engine->tick(*store, clock.now()); });
  }
  std::vector<AlertEvent> ack(const std::string& id) {
    return in_tx([&] { return engine->acknowledge(*store, id, clock.now()); });
  }

  std::optional<Alert> alert(const std::string& id) {
    auto a = store->find_alert(id);
    EXPECT_TRUE(a.has_value());
    return a.has_value() ? *a : std::nullopt;
  }

  carehub::test::TempDir dir;
  Logger log{LogLevel::error};
  Counters counters;
  ManualClock clock;
  std::unique_ptr<StoreWriter> store;
  std::unique_ptr<Engine> engine;
  std::string last_uid;

 private:
  void open() {
    auto w = StoreWriter::open({dir.file("buffer.db")});
    ASSERT_TRUE(w.has_value()) << w.error().message;
    store = std::move(*w);
  }
  template <class F>
  std::vector<AlertEvent> in_tx(F&& body) {
    auto tx = store->begin();
    EXPECT_TRUE(tx.has_value());
    auto events = body();
    EXPECT_TRUE(events.has_value()) << events.error().message;
    EXPECT_TRUE(tx->commit().has_value());
    return events.has_value() ? *events : std::vector<AlertEvent>{};
  }
};

inline std::vector<std::string> names(const std::vector<AlertEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.event + "/" + std::string(to_string(e.alert.severity)));
  return out;
}

}  // namespace carehub::rules::test
