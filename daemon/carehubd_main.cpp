// carehubd: the gateway daemon. Parses the command line, loads the config, starts the Daemon, and turns
// signals into lifecycle calls. Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <iostream>
#include <unistd.h>

#include "daemon/daemon.hpp"

int main(int argc, char** argv) {
  using namespace carehub;
  CLI::App app{"carehubd - home hub gateway: health devices -> durable buffer -> FHIR"};
  std::string config_path = "/etc/carehub/carehubd.json";
  app.add_option("-c,--config", config_path, "configuration file (JSON, comments allowed)")->capture_default_str();
  bool check_only = false;
  app.add_flag("--check", check_only, "validate the configuration and exit (0 valid, 2 invalid)");
  CLI11_PARSE(app, argc, argv);

  // Signals are taken synchronously by this thread (sigwait); every thread started later inherits the
  // mask, so no handler ever runs on a worker.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the daemon

  Logger log;
  auto config = daemon::load_config(config_path);
  if (!config) {
    // One event per problem: a multi-line message would split into several journal entries.
    for_each_line(config.error().message, [&](std::string_view problem) {
      log.error("carehubd", "config-invalid", {{"file", config_path}, {"problem", problem}});
    });
    return 2;
  }
  if (check_only) {
    log.notice("carehubd", "config-valid", {{"file", config_path}});
    return 0;
  }
  log.set_level(config->log_level);
  SystemClock clock;
  auto d = daemon::Daemon::start(std::move(*config), log, clock);
  if (!d) {
    for_each_line(d.error().message, [&](std::string_view problem) {
      log.error("carehubd", "start-failed", {{"error", problem}});
    });
    return d.error().code == Errc::invalid_argument ? 2 : 1;
  }
  for (;;) {
    // Wake at least every 10 s to refresh STATUS= here, off the pipeline's writer thread.
    const timespec status_interval{10, 0};
    siginfo_t info{};
    const int sig = sigtimedwait(&signals, &info, &status_interval);
    if (sig < 0) {
      if (errno == EAGAIN) (*d)->refresh_status();
      continue;
    }
    if (sig == SIGHUP) {
      log.notice("carehubd", "reload-requested", {{"signal", "SIGHUP"}, {"file", config_path}});
      // From carehubd itself: `carehubctl config reload`, whose command recorded who asked.
      const bool from_outside = info.si_pid != ::getpid();
      const daemon::PeerCred sender{info.si_pid, info.si_uid, 0};
      auto reloaded = daemon::load_config(config_path);
      if (!reloaded) {
        (*d)->reload_rejected(reloaded.error().message);
        if (from_outside) (*d)->audit_signal_reload(sender, reloaded.error().message);
        continue;
      }
      (*d)->reload(std::move(*reloaded));
      if (from_outside) (*d)->audit_signal_reload(sender, "");
      continue;
    }
    log.notice("carehubd", "stop-requested", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    (*d)->stop();
    return 0;
  }
}
