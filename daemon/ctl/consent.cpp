// carehubctl consent: per patient, which kinds of readings may leave the hub (issue 18). A kind without
// consent is kept and judged by the hub's rules, never uploaded. carehubd checks every argument (a wrong
// kind or patient is named in its answer); this file builds the requests and prints the answers.
#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

struct ConsentOptions {
  std::string patient, kind, decision, reason, by;
  bool json = false, is_default = false, release = false;
};

std::string where_from(const nlohmann::json& k) {
  const auto source = text(k["source"]);
  if (source == "built-in") return "built-in";
  return source + ", " + text(k["since"]) + " by " + text(k["by"]);
}

void print_kinds(const nlohmann::json& kinds, const nlohmann::json& withheld) {
  for (const auto& [name, k] : kinds.items()) {
    const auto n = withheld.is_object() && withheld.contains(name) ? withheld[name].get<std::int64_t>() : 0;
    std::printf("  %-17s %-5s (%s)%s\n", name.c_str(), k["allowed"] == true ? "allow" : "deny", where_from(k).c_str(),
                n > 0 ? (", " + std::to_string(n) + " withheld").c_str() : "");
  }
}

int show(const Context& ctx, const ConsentOptions& o) {
  nlohmann::json args = nlohmann::json::object();
  if (!o.patient.empty()) args["patient"] = o.patient;
  auto r = ctx.call("consent.show", args);
  if (!r) return fail(r.error());
  if (o.json) {
    std::cout << r->dump() << "\n";
    return 0;
  }
  std::printf("default (patients without a record of their own):\n");
  print_kinds((*r)["default"], nlohmann::json::object());
  for (const auto& p : (*r)["patients"]) {
    std::printf("%s:\n", text(p["patient"]).c_str());
    print_kinds(p["kinds"], p["withheld"]);
  }
  std::printf("%s reading(s) withheld: kept on the hub and judged by its rules, never uploaded\n",
              text((*r)["withheld"]).c_str());
  return 0;
}

int set(const Context& ctx, const ConsentOptions& o) {
  nlohmann::json args = {{"kind", o.kind}, {"allow", o.decision == "allow"}};
  if (o.is_default) args["default"] = true;
  if (!o.patient.empty()) args["patient"] = o.patient;
  if (o.release) args["release_withheld"] = true;
  if (!o.reason.empty()) args["reason"] = o.reason;
  if (!o.by.empty()) args["by"] = o.by;
  auto r = ctx.call("consent.set", args);
  if (!r) return fail(r.error());
  std::string kinds;
  for (const auto& k : (*r)["kinds"]) kinds += (kinds.empty() ? "" : ", ") + text(k);
  const auto whom = (*r)["default"] == true ? std::string("the default") : text((*r)["patient"]);
  std::printf("%s %s for %s from %s, by %s\n", (*r)["allowed"] == true ? "allowed" : "denied", kinds.c_str(), whom.c_str(),
              text((*r)["since"]).c_str(), text((*r)["by"]).c_str());
  if ((*r)["withheld"] != 0) std::printf("%s reading(s) not yet uploaded are now withheld\n", text((*r)["withheld"]).c_str());
  if ((*r)["released"] != 0) std::printf("%s withheld reading(s) released for upload\n", text((*r)["released"]).c_str());
  return 0;
}

}  // namespace

Runner add_consent_commands(CLI::App& app, Context& ctx) {
  auto* consent = app.add_subcommand("consent", "which kinds of a patient's readings may leave the hub")->require_subcommand(1);
  auto o = std::make_shared<ConsentOptions>();
  auto* show_cmd = consent->add_subcommand("show", "consent per patient and kind, and how many readings are withheld");
  show_cmd->add_option("--patient", o->patient, "only this patient (FHIR reference, e.g. Patient/123)");
  show_cmd->add_flag("--json", o->json, "the answer as JSON");
  auto* set_cmd = consent->add_subcommand(
      "set", "allow or deny a kind leaving the hub; denied readings are kept and judged locally, never uploaded");
  auto* patient = set_cmd->add_option("--patient", o->patient, "FHIR reference, e.g. Patient/123");
  auto* is_default = set_cmd->add_flag("--default", o->is_default, "the default for patients without a record of their own");
  patient->excludes(is_default);
  set_cmd->add_option("--kind", o->kind, "a kind (blood-pressure, heart-rate, ...) or a category: all, vitals, environment")
      ->required();
  set_cmd->add_option("decision", o->decision, "allow or deny")->required()->check(CLI::IsMember({"allow", "deny"}));
  set_cmd->add_flag("--release-withheld", o->release,
                    "with allow: also upload the readings withheld so far (only if the patient consents to those too)");
  set_cmd->add_option("--reason", o->reason, "why, for the record (e.g. \"patient's written request of 2026-12-01\")");
  set_cmd->add_option("--by", o->by, "your name for the record (your login is recorded anyway)");

  return [=, &ctx]() -> int {
    if (!*consent) return -1;
    if (*show_cmd) return show(ctx, *o);
    if (*set_cmd) {
      if (o->patient.empty() && !o->is_default) return fail({Errc::invalid_argument, "consent set: give --patient or --default"});
      return set(ctx, *o);
    }
    return -1;
  };
}

}  // namespace carehub::ctl
