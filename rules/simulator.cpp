#include "rules/simulator.hpp"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/json_check.hpp"
#include "core/reading_json.hpp"
#include "store/store.hpp"
#include "rules/alert_json.hpp"
#include "rules/engine.hpp"

namespace carehub::rules {
namespace {

// The scratch store: a fresh directory, removed with the database and its WAL files.
class ScratchDir {
 public:
  ScratchDir() {
    std::error_code ec;
    auto base = std::filesystem::temp_directory_path(ec);
    std::string pattern = (ec ? std::filesystem::path("/tmp") : base).string() + "/carehub-simulate-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Run {
 public:
  Run(const RuleSet& rules, StoreWriter& store, const SimulateOptions& options,
      const std::function<void(const nlohmann::ordered_json&)>& emit, Logger& log)
      : store_(store), options_(options), emit_(emit), engine_(rules, log, counters_), clock_(TimePoint{}) {}

  // Moves the virtual clock to `t`, firing everything due on the way at its own time.
  Result<void> advance_to(TimePoint t) {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      auto next = store_.next_due();
      if (!next) return next.error();
      if (!*next || **next > t) break;
      if (**next > clock_.now()) clock_.set(**next);
      auto r = in_tx([&] { return engine_.tick(store_, clock_.now()); });
      if (!r) return r;
    }
    if (t > clock_.now()) clock_.set(t);
    return {};
  }

  Result<void> reading(Reading r) {
    if (r.patient.empty()) r.patient = options_.patient;
    auto uid = reading_uid(r);
    return in_tx([&]() -> Result<std::vector<AlertEvent>> {
      auto inserted = store_.insert_reading(r, uid);
      if (!inserted) return inserted.error();
      if (!*inserted) return std::vector<AlertEvent>{};  // a duplicate line: stored once, judged once
      return engine_.in_transaction(store_, {{0, uid, r, SyncState::pending, 0, {}, {}}}, clock_.now());
    });
  }

  Result<void> action(const std::string& what, const std::string& which) {
    std::string id = which;
    if (which == "last") {
      id = last_awaiting_ack_.empty() ? last_open_ : last_awaiting_ack_;
      if (id.empty()) return make_error(Errc::invalid_argument, "there is no open alert to " + what);
    }
    return in_tx([&] {
      return what == "ack" ? engine_.acknowledge(store_, id, clock_.now()) : engine_.close(store_, id, clock_.now());
    });
  }

  TimePoint now() const { return clock_.now(); }

 private:
  template <class F>
  Result<void> in_tx(F&& body) {
    auto tx = store_.begin();
    if (!tx) return tx.error();
    auto events = body();
    if (!events) return events.error();
    if (auto c = tx->commit(); !c) return c;
    for (const auto& e : *events) {
      track(e.alert);
      if (e.event == "closed" && !options_.all_events) continue;
      emit_(event_line(e));
    }
    return {};
  }

  void track(const Alert& a) {
    const bool open = a.state == AlertState::open;
    if (open && a.requires_ack) last_awaiting_ack_ = a.id;
    else if (a.id == last_awaiting_ack_) last_awaiting_ack_.clear();
    if (open) last_open_ = a.id;
    else if (a.id == last_open_) last_open_.clear();
  }

  StoreWriter& store_;
  const SimulateOptions& options_;
  const std::function<void(const nlohmann::ordered_json&)>& emit_;
  Counters counters_;
  Engine engine_;
  ManualClock clock_;
  std::string last_awaiting_ack_, last_open_;
};

}  // namespace

Result<void> simulate(const RuleSet& rules, std::istream& input, const SimulateOptions& options,
                      const std::function<void(const nlohmann::ordered_json&)>& emit, Logger& log) {
  ScratchDir dir;
  if (dir.path().empty()) return make_error(Errc::io, "cannot create a scratch directory for the simulation store");
  // NORMAL: the scratch store need not survive a power cut.
  auto store = StoreWriter::open({dir.path() + "/simulate.db", Synchronous::normal});
  if (!store) return store.error();
  Run run(rules, **store, options, emit, log);
  std::string line;
  std::size_t n = 0;
  bool started = false;
  while (std::getline(input, line)) {
    ++n;
    const auto where = "input line " + std::to_string(n) + ": ";
    if (line.find_first_not_of(" \t\r") == std::string::npos || line.front() == '#') continue;
    // Exported readings or a hand-written scenario: as untrusted as any peer, so the one safe parse.
    auto parsed = parse_peer_json(line, "input line " + std::to_string(n));
    if (!parsed) return parsed.error();
    const nlohmann::json doc = std::move(*parsed);
    if (!doc.is_object()) {
      return make_error(Errc::invalid_argument, where + "not a JSON object");
    }
    if (doc.contains("action")) {
      JsonReader in;
      in.only_keys(doc, "", {"time", "action", "alert"});
      auto time_text = in.string(doc, "", "time", true);
      auto action = in.string(doc, "", "action", true);
      auto alert = in.string(doc, "", "alert", true);
      if (action && *action != "ack" && *action != "close") {
        in.fail("/action", "expected \"ack\" or \"close\", found \"" + *action + "\"");
      }
      std::optional<TimePoint> t = time_text ? parse_rfc3339(*time_text) : std::nullopt;
      if (time_text && !t) in.fail("/time", "expected an RFC 3339 time with a zone, found \"" + *time_text + "\"");
      if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(where.substr(0, where.size() - 2)));
      if (auto r = run.advance_to(*t); !r) return r;
      if (auto r = run.action(*action, *alert); !r) return make_error(r.error().code, where + r.error().message);
      continue;
    }
    auto reading = reading_from_json(doc, TimePoint{});
    if (!reading) return make_error(Errc::invalid_argument, where + reading.error().message);
    reading->received = std::max(run.now(), reading->time);
    if (reading->source.empty()) reading->source = "simulate";
    // Arrival order is line order: the clock never runs back for an out-of-order line.
    if (!started || reading->time > run.now()) {
      if (auto r = run.advance_to(reading->time); !r) return r;
      started = true;
    }
    if (auto r = run.reading(std::move(*reading)); !r) return make_error(r.error().code, where + r.error().message);
  }
  if (options.until) {
    if (auto r = run.advance_to(*options.until); !r) return r;
  }
  return {};
}

}  // namespace carehub::rules
