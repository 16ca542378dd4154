// carehub-web: the patient display and the technician console, served by the hub (issue 16). A separate
// process from carehubd (docs/architecture.md, "The web UI"): its own user, talking to carehubd only over
// the control socket. Exit codes: 0 clean stop, 1 runtime failure, 2 bad options.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <termios.h>
#include <unistd.h>

#include "core/json_check.hpp"
#include "daemon/control_protocol.hpp"
#include "daemon/systemd_notifier.hpp"
#include "web/server/secrets.hpp"
#include "web/tls/tls_cert.hpp"
#include "web/server/web_server.hpp"

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// Reads one line from stdin, without echo when it is a terminal.
std::string read_password() {
  termios old{};
  const bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::cerr << "technician password: " << std::flush;
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace carehub;
  CLI::App app{"carehub-web - the patient display and technician console of a carehub hub"};
  std::string socket = env_or("CAREHUB_SOCKET", std::string(daemon::kDefaultSocket));
  std::string listen = "127.0.0.1:8080", home, tls_cert, tls_key, tls_generate;
  std::string static_dir = "/usr/share/carehub/web", i18n_dir;
  // systemd sets $CREDENTIALS_DIRECTORY whenever the unit has LoadCredential=, and skips a credential whose
  // file is missing: a hub without the technician's password hash still serves the display (login off).
  // A --password-hash-file given explicitly and missing stays an error.
  const std::string credentials = env_or("CREDENTIALS_DIRECTORY", "");
  std::string hash_file = !credentials.empty() && std::filesystem::exists(credentials + "/technician-password-hash")
                              ? credentials + "/technician-password-hash"
                              : "";
  std::string state_dir = env_or("STATE_DIRECTORY", "");
  web::WebOptions o;
  bool hash_only = false, fingerprint_only = false;
  app.add_option("--socket", socket, "carehubd's control socket")->capture_default_str();
  app.add_option("--listen", listen, "plain HTTP listener; loopback only is served")->capture_default_str();
  app.add_option("--home-network", home, "serve the home network on ADDRESS:PORT over TLS (off by default)");
  app.add_option("--tls-cert", tls_cert, "certificate (PEM) for --home-network");
  app.add_option("--tls-key", tls_key, "private key (PEM) for --home-network");
  app.add_option("--tls-generate", tls_generate, "make (once) a self-signed certificate in this directory");
  app.add_option("--static", static_dir, "the pages (web/static in a source tree)")->capture_default_str();
  app.add_option("--i18n", i18n_dir, "the translation catalogs (default: <static>/i18n)");
  std::string uplot_dir;
  app.add_option("--uplot", uplot_dir, "the chart library's dist/ (default: <static>/vendor/uplot)");
  app.add_option("--password-hash-file", hash_file, "the technician's password hash (a systemd credential)");
  app.add_option("--technician", o.technician, "the technician's login name")->capture_default_str();
  app.add_option("--language", o.language, "the hub's language (en, it, es)")->capture_default_str();
  app.add_option("--state-dir", state_dir, "where paired displays are kept (default $STATE_DIRECTORY)");
  app.add_flag("--hash-password", hash_only, "read a password on stdin, print its hash for the credential, exit");
  app.add_flag("--fingerprint", fingerprint_only, "print the SHA-256 fingerprint of the home-network certificate, exit");
  CLI11_PARSE(app, argc, argv);

  if (hash_only) {
    auto h = web::hash_password(read_password());
    if (!h) {
      std::cerr << "carehub-web: " << h.error().message << "\n";
      return 2;
    }
    std::cout << *h << "\n";
    return 0;
  }
  if (!tls_generate.empty() && tls_cert.empty()) {
    auto made = web::ensure_self_signed(tls_generate, "carehub hub");
    if (!made) {
      std::cerr << "carehub-web: " << made.error().message << "\n";
      return 1;
    }
    tls_cert = made->cert;
    tls_key = made->key;
  }
  if (fingerprint_only) {
    auto fp = web::certificate_fingerprint(tls_cert.empty() ? state_dir + "/home-tls.crt" : tls_cert);
    if (!fp) {
      std::cerr << "carehub-web: " << fp.error().message << "\n";
      return 1;
    }
    std::cout << "SHA-256 " << *fp << "\n";
    return 0;
  }

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Logger log;
  // One event name for every start-up refusal: the log's event names are compile-time constants.
  auto fail = [&](const std::string& what, const std::string& message, int code) {
    log.error("web", "cannot-start", {{"what", what}, {"problem", message}});
    return code;
  };
  auto plain = web::parse_host_port(listen);
  if (!plain) return fail("bad-option", "--listen " + plain.error().message, 2);
  o.listen_host = plain->host;
  o.listen_port = plain->port;
  if (!home.empty()) {
    auto h = web::parse_host_port(home);
    if (!h) return fail("bad-option", "--home-network " + h.error().message, 2);
    o.home_host = h->host;
    o.home_port = h->port;
    o.tls_cert = tls_cert;
    o.tls_key = tls_key;
  }
  o.static_dir = static_dir;
  o.i18n_dir = i18n_dir.empty() ? static_dir + "/i18n" : i18n_dir;
  o.uplot_dir = uplot_dir.empty() ? static_dir + "/vendor/uplot" : uplot_dir;
  if (!state_dir.empty()) o.displays_file = state_dir + "/displays.json";
  if (!hash_file.empty()) {
    auto h = read_text_file(hash_file);
    if (!h) return fail("bad-credential", h.error().message, 2);
    o.password_hash = h->substr(0, h->find_first_of("\r\n"));
  } else {
    log.warning("web", "technician-login-off", {{"reason", "no password hash (--password-hash-file or credential technician-password-hash)"}});
  }

  SystemClock clock;
  Counters counters;
  web::EventHub hub(clock, 256, 200, o.max_streams);
  web::DaemonBridge bridge({socket}, hub, clock, log, counters);
  auto server = web::WebServer::create(o, {clock, log, counters, hub, bridge});
  if (!server) return fail("bad-option", server.error().message, 2);
  if (auto bound = (*server)->bind(); !bound) return fail("listen-failed", bound.error().message, 1);
  bridge.start();
  (*server)->start();
  const std::string url = "http://" + (o.listen_host.find(':') != std::string::npos ? "[" + o.listen_host + "]" : o.listen_host) +
                          ":" + std::to_string((*server)->plain_port()) + "/";
  log.notice("web", "listening", {{"url", url}, {"socket", socket}});
  if (!o.home_host.empty()) {
    auto fp = web::certificate_fingerprint(o.tls_cert);
    log.notice("web", "home-network", {{"url", "https://" + home + "/"}, {"port", (*server)->tls_port()},
                                        {"sha256", fp ? *fp : fp.error().message}});
  }
  daemon::SystemdNotifier systemd;
  systemd.ready("serving on " + url);
  int sig = 0;
  sigwait(&signals, &sig);
  systemd.stopping();
  log.notice("web", "stopping", {{"signal", sig}});
  (*server)->stop();
  bridge.stop();
  return 0;
}
