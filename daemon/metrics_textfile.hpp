#pragma once
// Metrics for fleet monitoring, in the Prometheus text exposition format, written to a file that
// node_exporter's textfile collector picks up (--collector.textfile.directory, files ending in .prom).
// The file is replaced atomically (a temporary file in the same directory, then rename), so the
// collector never reads half a file. Metrics carry counts and times only, never patient data.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace carehub::daemon {

// /metrics in the configuration.
struct MetricsOptions {
  std::string textfile;                   // /metrics/textfile: empty means no metrics file
  std::chrono::seconds interval{30};      // /metrics/interval_s
};

struct Gauge {
  std::string name;  // without the "carehub_" prefix, e.g. "buffer_pending"
  std::string help;
  double value = 0;
};

struct MetricsSnapshot {
  std::map<std::string, std::uint64_t> counters;  // core/counters: each becomes carehub_<name>_total
  std::vector<Gauge> gauges;
};

// "carehub_" + name with every character Prometheus does not allow in a metric name replaced by '_'.
std::string metric_name(std::string_view name);

// The exposition text: "# HELP", "# TYPE" and one sample per metric, counters then gauges, each family
// once (the first of two names that sanitize alike wins, so the output always parses).
std::string render_prometheus(const MetricsSnapshot& snapshot);

// Replaces `path` with `content` atomically, mode 0644 (node_exporter runs as another user). The
// temporary file is "<path>.XXXXXX", which the collector ignores because it does not end in ".prom".
// Errors name the path and the step that failed; the temporary file never outlives a failure.
Result<void> write_file_atomically(const std::string& path, std::string_view content);

}  // namespace carehub::daemon
