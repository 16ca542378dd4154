// Consent over the control socket (issue 18): per patient, which kinds of readings may leave the hub. The
// semantics are in store/store.hpp (ConsentChange): a kind without consent is kept and judged by the rules,
// never uploaded (SyncState::withheld).
//
//   consent.show {"patient"?: "Patient/…"}
//       -> {"default": {kind: {allowed, source, since?, by?}}, "patients": [{"patient", "kinds": {…},
//           "withheld": {kind: N}}], "withheld": N}
//   consent.set {"patient": "Patient/…" | "default": true, "kind": "<kind>|all|vitals|environment",
//                "allow": bool, "release_withheld"?: bool, "reason"?: "…", "by"?: "…"}
//       -> {"patient", "kinds": [...], "allowed", "withheld": N, "released": N, "by"}
//
// A patient must be one this hub knows (its own, a device's, a user slot's, or one with a record): a typo
// would leave the real patient's readings leaving the hub against their wish. The change, what it does to
// the stored readings and its audit record are one transaction.
#include <map>
#include <set>

#include "core/json_check.hpp"
#include "core/time_json.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

Error refused(const Context& ctx, const std::string& message) {  // bad arguments: counted, then answered
  ctx.counters.add("control_bad_requests");
  return {Errc::invalid_argument, message};
}

// The kinds a --kind value names: one kind, or a category (all, vitals: the patient's own measurements,
// environment: the room's).
std::optional<std::vector<Kind>> kinds_named(const std::string& name) {
  std::vector<Kind> out;
  if (auto k = kind_from_string(name)) return std::vector<Kind>{*k};
  for (const auto& info : all_kinds()) {
    if (name == "all" || (name == "vitals" && !info.environmental) || (name == "environment" && info.environmental)) {
      out.push_back(info.kind);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string kind_names() {
  std::string out;
  for (const auto& info : all_kinds()) out += std::string(out.empty() ? "" : ", ") + std::string(info.name);
  return out + "; or a category: all, vitals, environment";
}

// Everyone this hub has readings for or may have: the hub's patient, devices' and user slots', and anyone
// with a consent record or withheld readings.
Result<std::set<std::string>> known_patients(const Context& ctx) {
  std::set<std::string> out;
  if (const auto config = ctx.config(); config && !config->patient.empty()) out.insert(config->patient);
  std::lock_guard lock(ctx.reader_mu);
  auto devices = ctx.reader.devices();
  if (!devices) return devices.error();
  for (const auto& d : *devices) {
    if (!d.patient.empty()) out.insert(d.patient);
  }
  auto bindings = ctx.reader.bindings();
  if (!bindings) return bindings.error();
  for (const auto& b : *bindings) out.insert(b.patient);
  auto records = ctx.reader.consent();
  if (!records) return records.error();
  for (const auto& c : *records) {
    if (c.patient != kConsentDefault) out.insert(c.patient);
  }
  return out;
}

// What consent.show and the status summary both read: the hub's patients (with those that have withheld
// readings), every consent record, and the withheld counts.
struct ConsentState {
  std::set<std::string> known;
  std::vector<ConsentChange> records;
  std::vector<WithheldCount> withheld;
};

Result<ConsentState> read_consent(const Context& ctx) {
  auto known = known_patients(ctx);
  if (!known) return known.error();
  std::lock_guard lock(ctx.reader_mu);
  auto records = ctx.reader.consent();
  if (!records) return records.error();
  auto withheld = ctx.reader.withheld_counts();
  if (!withheld) return withheld.error();
  for (const auto& w : *withheld) known->insert(w.patient);
  return ConsentState{std::move(*known), std::move(*records), std::move(*withheld)};
}

nlohmann::json record_json(const ConsentChange& c, std::string_view source) {
  return {{"allowed", c.allowed}, {"source", source}, {"since", format_rfc3339(c.since)}, {"by", c.by}, {"reason", c.reason}};
}

// The kinds denied to `who` now: its own newest record per kind, else the default's.
std::vector<std::string> denied(const std::map<std::pair<std::string, Kind>, const ConsentChange*>& current,
                                const std::string& who) {
  std::vector<std::string> out;
  for (const auto& info : all_kinds()) {
    auto it = current.find({who, info.kind});
    if (it == current.end()) it = current.find({std::string(kConsentDefault), info.kind});
    if (it != current.end() && !it->second->allowed) out.emplace_back(info.name);
  }
  return out;
}

Result<nlohmann::json> show(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"patient"});
  auto patient = patient_arg(in, args, "/args", "patient", false);
  if (!in.ok()) return refused(ctx, in.joined(""));
  auto state = read_consent(ctx);
  if (!state) return state.error();
  auto* known = &state->known;
  const auto* records = &state->records;
  const auto* withheld = &state->withheld;
  if (patient && !known->contains(*patient)) {
    return refused(ctx, "/args/patient: " + *patient + " is not a patient of this hub");
  }
  std::map<std::pair<std::string, Kind>, const ConsentChange*> current;
  for (const auto& c : *records) current[{c.patient, c.kind}] = &c;
  auto kinds_of = [&](const std::string& who, bool is_default) {
    nlohmann::json kinds = nlohmann::json::object();
    for (const auto& info : all_kinds()) {
      if (auto it = current.find({who, info.kind}); it != current.end()) {
        kinds[info.name] = record_json(*it->second, is_default ? "default" : "patient");
      } else if (auto d = current.find({std::string(kConsentDefault), info.kind}); !is_default && d != current.end()) {
        kinds[info.name] = record_json(*d->second, "default");
      } else {
        // No record: allowed, as every hub did before consent was kept (an upgrade changes nothing).
        kinds[info.name] = {{"allowed", true}, {"source", "built-in"}};
      }
    }
    return kinds;
  };
  nlohmann::json patients = nlohmann::json::array();
  std::int64_t total = 0;
  for (const auto& who : *known) {
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& w : *withheld) {
      if (w.patient == who) counts[std::string(to_string(w.kind))] = w.count;
    }
    for (const auto& [kind, n] : counts.items()) total += n.get<std::int64_t>();
    if (patient && who != *patient) continue;
    patients.push_back({{"patient", who}, {"kinds", kinds_of(who, false)}, {"withheld", std::move(counts)}});
  }
  return nlohmann::json{{"default", kinds_of(std::string(kConsentDefault), true)}, {"patients", std::move(patients)},
                        {"withheld", total}};
}

Result<nlohmann::json> set(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"patient", "default", "kind", "allow", "release_withheld", "reason", "by"});
  auto patient = patient_arg(in, args, "/args", "patient", false);
  const auto is_default = in.boolean(args, "/args", "default", false).value_or(false);
  auto kind = in.string(args, "/args", "kind", true);
  auto allow = in.boolean(args, "/args", "allow", true);
  const auto release = in.boolean(args, "/args", "release_withheld", false).value_or(false);
  auto reason = text_arg(in, args, "reason", kMaxReasonBytes);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  std::optional<std::vector<Kind>> kinds;
  if (kind) {
    kinds = kinds_named(*kind);
    if (!kinds) in.fail("/args/kind", "unknown kind " + nlohmann::json(kind->substr(0, 40)).dump() + ": expected " + kind_names());
  }
  if (is_default == args.contains("patient")) in.fail("/args", "expected exactly one of \"patient\" and \"default\": true");
  if (release && allow && !*allow) in.fail("/args/release_withheld", "releases withheld readings: only with allow");
  if (!in.ok()) return refused(ctx, in.joined(""));
  if (patient) {
    auto known = known_patients(ctx);
    if (!known) return known.error();
    if (!known->contains(*patient)) {
      std::string list;
      for (const auto& p : *known) list += (list.empty() ? "" : ", ") + p;
      return refused(ctx, "/args/patient: " + *patient + " is not a patient of this hub (it knows: " +
                              (list.empty() ? "none" : list) + "); pair its device or set /hub/patient first");
    }
  }
  const auto whom = is_default ? std::string(kConsentDefault) : *patient;
  const auto decided_by = who(peer, by.value_or(""));
  const auto now = ctx.clock.now();
  ConsentApplied total;
  auto done = ctx.pipeline
                  .apply([&](StoreWriter& w) -> Result<void> {
                    total = {};
                    for (const auto k : *kinds) {
                      auto applied = w.set_consent({whom, k, *allow, now, decided_by, reason.value_or("")}, release);
                      if (!applied) return applied.error();
                      total.withheld += applied->withheld;
                      total.released += applied->released;
                    }
                    // The audit record joins this transaction here (issue 18, store_audit.cpp).
                    return {};
                  })
                  .get();  // durable when it resolves
  if (!done) return done.error();
  nlohmann::json names = nlohmann::json::array();
  std::string joined;
  for (const auto k : *kinds) {
    names.push_back(to_string(k));
    joined += std::string(joined.empty() ? "" : ",") + std::string(to_string(k));
  }
  ctx.counters.add("consent_changes", kinds->size());
  // Who, what and how many at notice level; which patient only at debug (no patient data above debug).
  ctx.log.notice("consent", "consent-set",
                 {{"kinds", joined.c_str()}, {"allowed", *allow}, {"default", is_default}, {"withheld", total.withheld},
                  {"released", total.released}, {"by", decided_by.c_str()}});
  ctx.log.debug("consent", "consent-patient", {{"patient", whom}});
  return nlohmann::json{{"patient", is_default ? nlohmann::json(nullptr) : nlohmann::json(whom)},
                        {"default", is_default},
                        {"kinds", names},
                        {"allowed", *allow},
                        {"since", format_rfc3339(now)},
                        {"withheld", total.withheld},
                        {"released", total.released},
                        {"by", decided_by}};
}

}  // namespace

Result<nlohmann::json> consent_summary(const Context& ctx) {
  auto state = read_consent(ctx);
  if (!state) return state.error();
  auto* known = &state->known;
  const auto* records = &state->records;
  const auto* withheld = &state->withheld;
  std::map<std::pair<std::string, Kind>, const ConsentChange*> current;
  for (const auto& c : *records) current[{c.patient, c.kind}] = &c;
  std::map<std::string, std::int64_t> per_patient;
  std::int64_t total = 0;
  for (const auto& w : *withheld) {
    per_patient[w.patient] += w.count;
    total += w.count;
  }
  // References and kind names only, never values: `status --json` may leave the hub for remote diagnosis.
  nlohmann::json patients = nlohmann::json::array();
  for (const auto& who : *known) {
    patients.push_back({{"patient", who}, {"denied", denied(current, who)}, {"withheld", per_patient[who]}});
  }
  return nlohmann::json{{"default_denied", denied(current, std::string(kConsentDefault))},
                        {"patients", std::move(patients)},
                        {"withheld", total}};
}

namespace {

constexpr Command kCommands[] = {
    {"consent.show", show},
    {"consent.set", set},
};

}  // namespace

std::span<const Command> consent_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
