#pragma once
// carehubctl as a technician types it, without a daemon: the command line runs in this process against a
// transport that answers instead of connecting, and stdout and stderr are captured. carehubd's side of each
// command is tested on its own (tests/unit/daemon/*_commands_test.cpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/ctl/ctl.hpp"

namespace carehub::test {

struct CtlRun {
  int rc = 0;
  std::string out, err;
};

// Runs `carehubctl args...` with `transport` answering each request.
inline CtlRun run_carehubctl(std::vector<std::string> args, ctl::Context::Transport transport) {
  args.insert(args.begin(), "carehubctl");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  ctl::Context ctx;
  ctx.transport = std::move(transport);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  CtlRun ran;
  ran.rc = ctl::run(static_cast<int>(argv.size()), argv.data(), ctx);
  std::fflush(stdout);
  ran.out = ::testing::internal::GetCapturedStdout();
  ran.err = ::testing::internal::GetCapturedStderr();
  return ran;
}

// A fixture for a group of commands: run() records every request in `sent_` and answers it from
// `answers_` by command name ({} for a command without an answer there).
class CommandLine : public ::testing::Test {
 protected:
  struct Sent {
    std::string cmd;
    nlohmann::json args;
  };

  int run(std::vector<std::string> args) {
    auto ran = run_carehubctl(std::move(args), [this](const std::string& cmd, const nlohmann::json& a) -> Result<nlohmann::json> {
      sent_.push_back({cmd, a});
      if (auto it = answers_.find(cmd); it != answers_.end()) return it->second;
      return nlohmann::json::object();
    });
    out_ = std::move(ran.out);
    err_ = std::move(ran.err);
    return ran.rc;
  }

  std::vector<Sent> sent_;
  std::map<std::string, Result<nlohmann::json>> answers_;
  std::string out_, err_;
};

}  // namespace carehub::test
