#pragma once
// A child process for tests: spawned with extra environment, its stdout (and optionally stderr) read
// through pipes, killed and reaped when the object goes away so no test leaves a peer running.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace carehub::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the parent's environment plus `env`. stdout is a pipe readable with
  // read_line(); stderr goes to `stderr_file` when given (a log to show on failure), else inherited.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
               std::string stderr_file = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of stdout, waiting at most `timeout` for it (nullopt on timeout or EOF).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void signal(int sig);
  // Waits for the exit (at most `timeout`; then SIGKILL). Returns the exit code, -1 if killed by a signal.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  pid_t pid() const { return pid_; }
  bool running();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

// Runs a command to completion with stdin `input`, capturing stdout and stderr.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {},
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace carehub::test
