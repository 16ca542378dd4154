#include "daemon/metrics_textfile.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "daemon/unique_fd.hpp"

namespace carehub::daemon {
namespace {

// Every name starts with "carehub_", so a digit is never first. No ':': it is reserved for recording rules.
bool allowed_in_name(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// HELP text escapes only backslash and newline (exposition format 0.0.4).
std::string escape_help(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Locale-independent: snprintf with %g would write "1,5" under a decimal-comma locale.
std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string out(buf);
  for (char& c : out) {
    if (c == ',') c = '.';
  }
  return out;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string metric_name(std::string_view name) {
  std::string out = "carehub_";
  for (char c : name) out += allowed_in_name(c) ? c : '_';
  return out;
}

std::string render_prometheus(const MetricsSnapshot& snapshot) {
  std::string out;
  std::set<std::string> seen;
  for (const auto& [name, value] : snapshot.counters) {
    const auto full = metric_name(name) + "_total";
    if (!seen.insert(full).second) continue;
    out += "# HELP " + full + " carehub counter " + escape_help(name) + " since carehubd started\n";
    out += "# TYPE " + full + " counter\n";
    out += full + " " + std::to_string(value) + "\n";
  }
  for (const auto& g : snapshot.gauges) {
    const auto full = metric_name(g.name);
    if (!seen.insert(full).second) continue;
    out += "# HELP " + full + " " + escape_help(g.help) + "\n";
    out += "# TYPE " + full + " gauge\n";
    out += full + " " + format_value(g.value) + "\n";
  }
  return out;
}

Result<void> write_file_atomically(const std::string& path, std::string_view content) {
  if (path.empty()) return make_error(Errc::invalid_argument, "metrics textfile: empty path");
  std::string temp = path + ".XXXXXX";
  UniqueFd fd(::mkstemp(temp.data()));
  if (!fd) return make_error(Errc::io, "metrics textfile " + path + ": cannot create " + temp + ": " + errno_text());
  // From here on a failure removes the temporary file: the directory must not fill with them.
  auto fail = [&temp](const std::string& what) {
    const auto message = what + ": " + errno_text();
    ::unlink(temp.c_str());
    return make_error(Errc::io, message);
  };
  if (::fchmod(fd.get(), 0644) != 0) return fail("metrics textfile " + path + ": chmod " + temp);
  std::string_view rest = content;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("metrics textfile " + path + ": write " + temp);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  // No fsync: the file is rewritten every interval and only ever describes the present, so losing
  // the last one in a power cut costs nothing, while a sync every 30 s would wear the hub's SD card.
  fd.reset();  // a local file's write errors surfaced in write(); close adds nothing without fsync
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("metrics textfile " + path + ": rename " + temp);
  return {};
}

}  // namespace carehub::daemon
