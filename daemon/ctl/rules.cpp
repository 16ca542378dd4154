// carehubctl rules: check a rule file, and replay readings through it offline (no daemon, no network).
#include <fstream>
#include <iostream>

#include "daemon/ctl/ctl.hpp"
#include "rules/simulator.hpp"

namespace carehub::ctl {

Runner add_rules_commands(CLI::App& app, Context&) {
  auto* rules = app.add_subcommand("rules", "decision-support rule files")->require_subcommand(1);
  auto* check = rules->add_subcommand("check", "validate a rule file (no daemon needed)");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "rule file")->required();

  auto* simulate = rules->add_subcommand(
      "simulate", "replay reading lines through a rule file on a virtual clock; one JSON line per event");
  auto rules_file = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  auto until = std::make_shared<std::string>();
  auto options = std::make_shared<carehub::rules::SimulateOptions>();
  simulate->add_option("--rules", *rules_file, "rule file")->required();
  simulate->add_option("--input", *input, "reading lines (JSONL; - for stdin)")->required();
  simulate->add_option("--until", *until, "run the clock on to this time (RFC 3339) after the last line");
  simulate->add_option("--patient", options->patient, "patient of readings that name none")->capture_default_str();
  simulate->add_flag("--all-events", options->all_events, "also print the internal \"closed\" events");

  return [=]() -> int {
    if (*check) {
      auto set = carehub::rules::load_rules(*file);
      if (!set) return fail(set.error());
      std::cout << *file << ": OK, " << set->rules.size() << " rule(s):";
      for (const auto& r : set->rules) std::cout << " " << r.id << (r.patient ? "(" + *r.patient + ")" : "");
      std::cout << "\n";
      return 0;
    }
    if (!*simulate) return -1;
    auto set = carehub::rules::load_rules(*rules_file);
    if (!set) return fail(set.error());
    if (!until->empty()) {
      options->until = parse_rfc3339(*until);
      if (!options->until) {
        return fail(make_error(Errc::invalid_argument, "--until: expected an RFC 3339 time with a zone, found \"" + *until + "\""));
      }
    }
    std::ifstream file_in;
    if (*input != "-") {
      file_in.open(*input);
      if (!file_in) return fail(make_error(Errc::invalid_argument, *input + ": cannot open"));
    }
    std::istream& in = *input == "-" ? std::cin : file_in;
    Logger log(LogLevel::warning);
    auto r = carehub::rules::simulate(*set, in, *options,
                                      [](const nlohmann::ordered_json& line) { std::cout << line.dump() << "\n"; }, log);
    if (!r) return fail(make_error(r.error().code, (*input == "-" ? std::string("stdin") : *input) + ": " + r.error().message));
    return 0;
  };
}

}  // namespace carehub::ctl
