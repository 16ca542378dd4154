#include "daemon/metrics_textfile.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <filesystem>
#include <regex>
#include <sstream>

#include "daemon/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Restores the C locale even when an assertion returns early.
class ScopedLocale {
 public:
  explicit ScopedLocale(const char* name) : ok_(std::setlocale(LC_ALL, name) != nullptr) {}
  ~ScopedLocale() { std::setlocale(LC_ALL, "C"); }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

TEST(PrometheusText, ExportsEachCounterAsATotalWithHelpAndType) {
  MetricsSnapshot s;
  s.counters = {{"readings_rejected", 3}, {"control_requests", 12}};
  const auto text = render_prometheus(s);
  EXPECT_NE(text.find("# TYPE carehub_readings_rejected_total counter\ncarehub_readings_rejected_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP carehub_control_requests_total "), std::string::npos) << text;
  EXPECT_NE(text.find("\ncarehub_control_requests_total 12\n"), std::string::npos) << text;
}

TEST(PrometheusText, ExportsGaugesWithTheirHelpText) {
  MetricsSnapshot s;
  s.gauges = {{"buffer_pending_readings", "readings waiting", 42}, {"sync_last_success_timestamp_seconds", "t", 1763726400.5}};
  const auto text = render_prometheus(s);
  EXPECT_NE(text.find("# HELP carehub_buffer_pending_readings readings waiting\n"
                      "# TYPE carehub_buffer_pending_readings gauge\n"
                      "carehub_buffer_pending_readings 42\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("carehub_sync_last_success_timestamp_seconds 1763726400.5\n"), std::string::npos) << text;
}

TEST(PrometheusText, ReplacesCharactersAMetricNameCannotHold) {
  EXPECT_EQ(metric_name("ble:AA-BB.malformed"), "carehub_ble_AA_BB_malformed");
  EXPECT_EQ(metric_name("9lives"), "carehub_9lives");
}

TEST(PrometheusText, KeepsOneFamilyWhenTwoNamesSanitizeAlike) {
  MetricsSnapshot s;
  s.counters = {{"a-b", 1}, {"a.b", 2}};
  const auto text = render_prometheus(s);
  EXPECT_EQ(text.find("# TYPE carehub_a_b_total"), text.rfind("# TYPE carehub_a_b_total")) << text;
}

TEST(PrometheusText, EscapesNewlinesAndBackslashesInHelp) {
  MetricsSnapshot s;
  s.gauges = {{"g", "two\nlines \\ here", 1}};
  EXPECT_NE(render_prometheus(s).find("# HELP carehub_g two\\nlines \\\\ here\n"), std::string::npos);
}

TEST(PrometheusText, EveryLineFollowsTheExpositionFormat) {
  MetricsSnapshot s;
  s.counters = {{"x", 1}, {"weird name!", 7}};
  s.gauges = {{"frac", "f", 0.25}, {"neg", "n", -3}, {"big", "b", 1e20}};
  const std::regex help(R"(# HELP [a-zA-Z_][a-zA-Z0-9_]* .*)");
  const std::regex type(R"(# TYPE [a-zA-Z_][a-zA-Z0-9_]* (counter|gauge))");
  const std::regex sample(R"([a-zA-Z_][a-zA-Z0-9_]* -?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?)");
  const auto all = lines(render_prometheus(s));
  ASSERT_EQ(all.size(), 15u);
  for (const auto& line : all) {
    EXPECT_TRUE(std::regex_match(line, help) || std::regex_match(line, type) || std::regex_match(line, sample)) << line;
  }
}

TEST(PrometheusText, WritesADecimalPointWhateverTheLocale) {
  ScopedLocale german("de_DE.UTF-8");
  if (!german.ok()) GTEST_SKIP() << "de_DE.UTF-8 locale not installed (scripts/install-deps.sh installs it)";
  MetricsSnapshot s;
  s.gauges = {{"frac", "f", 1.5}};
  EXPECT_NE(render_prometheus(s).find("carehub_frac 1.5\n"), std::string::npos) << render_prometheus(s);
}

class AnAtomicWrite : public ::testing::Test {
 protected:
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) out.push_back(e.path().filename().string());
    return out;
  }
  test::TempDir dir_;
};

TEST_F(AnAtomicWrite, CreatesTheFileReadableByTheCollector) {
  const auto path = dir_.file("carehub.prom");
  ASSERT_TRUE(write_file_atomically(path, "carehub_x 1\n"));
  EXPECT_EQ(test::read_file(path), "carehub_x 1\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(entries(), std::vector<std::string>{"carehub.prom"});  // no temporary file left behind
}

TEST_F(AnAtomicWrite, ReplacesTheFileByRenameSoAReaderNeverSeesHalfOfIt) {
  const auto path = dir_.file("carehub.prom");
  ASSERT_TRUE(write_file_atomically(path, "old 1\n"));
  // A collector that opened the old file keeps reading the whole old file: it was replaced, not rewritten.
  const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(write_file_atomically(path, "new 2\n"));
  char buf[64] = {};
  const auto n = ::read(reader, buf, sizeof buf - 1);
  ::close(reader);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "old 1\n");
  EXPECT_EQ(test::read_file(path), "new 2\n");
  EXPECT_EQ(entries().size(), 1u);
}

TEST_F(AnAtomicWrite, FailsNamingThePathWhenTheDirectoryIsMissing) {
  const auto path = dir_.file("no-such-dir/carehub.prom");
  auto r = write_file_atomically(path, "x 1\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos) << r.error().message;
}

TEST_F(AnAtomicWrite, LeavesNoTemporaryFileWhenTheRenameFails) {
  // The target is a non-empty directory: rename(2) refuses, after the temporary file was written.
  const auto path = dir_.file("taken.prom");
  std::filesystem::create_directory(path);
  test::write_file(path + "/keep", "x");
  auto r = write_file_atomically(path, "x 1\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("rename"), std::string::npos) << r.error().message;
  EXPECT_EQ(entries(), std::vector<std::string>{"taken.prom"});
}

Result<Config> with_metrics(const std::string& section) {
  return parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},"metrics":)" + section + "}",
                      "m.json");
}

TEST(MetricsConfig, IsOffByDefault) {
  auto c = parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"}})", "m.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.textfile, "");
  EXPECT_EQ(c->metrics.interval, std::chrono::seconds(30));
}

TEST(MetricsConfig, ReadsThePathAndTheInterval) {
  auto c = with_metrics(R"({"textfile":"/var/lib/prometheus/node-exporter/carehub.prom","interval_s":60})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.textfile, "/var/lib/prometheus/node-exporter/carehub.prom");
  EXPECT_EQ(c->metrics.interval, std::chrono::seconds(60));
}

TEST(MetricsConfig, RefusesWhatTheCollectorWouldNotRead) {
  auto relative = with_metrics(R"({"textfile":"carehub.prom"})");
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("m.json: /metrics/textfile: expected an absolute file path"), std::string::npos)
      << relative.error().message;
  auto suffix = with_metrics(R"({"textfile":"/tmp/carehub.txt"})");
  ASSERT_FALSE(suffix);
  EXPECT_NE(suffix.error().message.find("/metrics/textfile: must end in .prom"), std::string::npos) << suffix.error().message;
  auto fast = with_metrics(R"({"interval_s":1})");
  ASSERT_FALSE(fast);
  EXPECT_NE(fast.error().message.find("/metrics/interval_s"), std::string::npos) << fast.error().message;
  auto unknown = with_metrics(R"({"path":"/x.prom"})");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("/metrics/path: unknown key"), std::string::npos) << unknown.error().message;
}

}  // namespace
}  // namespace carehub::daemon
