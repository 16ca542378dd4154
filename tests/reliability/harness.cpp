#include "tests/reliability/harness.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/reading_json.hpp"
#include "store/sqlite.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::reliability {

int cycles(int fallback) {
  const char* v = std::getenv("CAREHUB_RELIABILITY_CYCLES");
  if (!v || !*v) return fallback;
  const int n = std::atoi(v);
  return n > 0 ? n : fallback;
}

std::uint64_t seed(const std::string& scenario) {
  std::uint64_t s = 0;
  if (const char* v = std::getenv("CAREHUB_RELIABILITY_SEED"); v && *v) {
    s = std::strtoull(v, nullptr, 10);
  } else {
    s = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  }
  std::cout << "[reliability] " << scenario << ": seed " << s << " (replay with CAREHUB_RELIABILITY_SEED=" << s
            << ")" << std::endl;
  ::testing::Test::RecordProperty("seed", std::to_string(s));
  return s;
}

std::int64_t now_epoch_ms() {
  return to_epoch_ms(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()));
}

nlohmann::json reading_line(const std::string& kind, std::int64_t epoch_ms, const nlohmann::json& values,
                            const std::string& device) {
  return {{"kind", kind}, {"time", format_rfc3339(from_epoch_ms(epoch_ms))}, {"device", device}, {"values", values}};
}

std::string uid_of_line(const nlohmann::json& line) {
  auto r = reading_from_json(line, from_epoch_ms(0));
  if (!r) throw std::runtime_error("bad reading line " + line.dump() + ": " + r.error().message);
  if (r->patient.empty()) r->patient = kPatient;
  // carehubd qualifies a hub-local device ("manual") by its hub: the id DaemonProcess configures.
  return reading_uid(*r, "hub-test");
}

std::vector<std::string> add_readings(test::DaemonProcess& d, const std::vector<nlohmann::json>& lines,
                                      std::string* error) {
  std::string input;
  for (const auto& l : lines) input += l.dump() + "\n";
  auto r = d.ctl({"measure", "add", "--json"}, input);
  std::vector<std::string> acked;
  std::size_t from = 0;
  for (auto nl = r.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = r.out.find('\n', from)) {
    auto j = nlohmann::json::parse(r.out.substr(from, nl - from), nullptr, false);
    if (j.is_object() && (j.value("status", "") == "stored" || j.value("status", "") == "duplicate")) {
      acked.push_back(j["uid"].get<std::string>());
    }
  }
  if (error && r.exit_code != 0) *error = r.err;
  return acked;
}

nlohmann::json status(test::DaemonProcess& d) {
  auto r = d.ctl({"status", "--json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

std::string ble_id(const std::string& address) {
  std::string out = "ble-";
  for (char c : address) out += c == ':' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

nlohmann::json ble_device(test::DaemonProcess& d, const std::string& address) {
  auto r = d.ctl({"devices", "list", "--json"});
  std::size_t from = 0;
  for (auto nl = r.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = r.out.find('\n', from)) {
    auto j = nlohmann::json::parse(r.out.substr(from, nl - from), nullptr, false);
    if (j.is_object() && j.value("address", "") == address) return j;
  }
  return nullptr;
}

bool ble_subscribed(test::DaemonProcess& d, const std::string& address, int sessions) {
  const auto dev = ble_device(d, address);
  return dev.is_object() && dev.value("state", "") == "subscribed" && dev.value("sessions", 0) >= sessions;
}

nlohmann::json ble_source() {
  return {{"adapter", "hci0"},
          {"reconnect", {{"base_ms", 50}, {"cap_ms", 500}}},
          {"resolve_timeout_ms", 5000},
          {"device_time", "utc"}};
}

BleStream::BleStream(const test::PrivateBus& bus, const std::string& address, std::int64_t epoch_s, int memory_from,
                     int first, int count, int interval_ms, const std::string& log_file)
    : process_(test::kit_process(bus,
                                 {"stream", address, std::to_string(epoch_s), std::to_string(memory_from),
                                  std::to_string(first), std::to_string(count), std::to_string(interval_ms)},
                                 log_file)),
      next_(first) {}

bool BleStream::read(std::chrono::milliseconds timeout) {
  auto line = process_->read_line(timeout);
  if (!line) return false;
  if (line->rfind("memory ", 0) == 0) memory_ = true;
  else if (line->rfind("sent ", 0) == 0) next_ = std::max(next_, std::stoi(line->substr(5)) + 1);
  else if (*line == "done") done_ = true;
  return true;
}

bool BleStream::wait_memory_resent(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!memory_ && std::chrono::steady_clock::now() < deadline) {
    if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()))) break;
  }
  return memory_;
}

bool BleStream::wait_sent(int index, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (next_ <= index && !done_ && std::chrono::steady_clock::now() < deadline) {
    if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()))) break;
  }
  return next_ > index;
}

bool BleStream::wait_done(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done_ && std::chrono::steady_clock::now() < deadline) {
    if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()))) break;
  }
  return done_;
}

void BleStream::stop() {
  process_->signal(SIGTERM);
  process_->wait(10s);
  // The exited device's pipe holds the rest of its lines, then EOF.
  while (read(5s)) {
  }
}

namespace {

// carehubd's buffer is encrypted at rest (issue 18): opened with the tests' key, which also proves it is
// (a plaintext buffer does not open with a key).
sqlite::Database open_db(const std::string& path) {
  const auto key = test::test_buffer_key();
  auto db = sqlite::Database::open(path, /*create=*/false, &key);
  if (!db) throw std::runtime_error(db.error().message);
  (void)db->exec("PRAGMA busy_timeout = 5000");
  return std::move(*db);
}

}  // namespace

std::vector<StoredRow> stored_rows(const std::string& db_path) {
  auto db = open_db(db_path);
  auto st = db.prepare("SELECT seq, uid, kind, device, sync_state, COALESCE(synced_ms, 0) FROM readings ORDER BY seq");
  if (!st) throw std::runtime_error(st.error().message);
  std::vector<StoredRow> out;
  for (;;) {
    auto row = st->step();
    if (!row) throw std::runtime_error(row.error().message);
    if (!*row) break;
    out.push_back({st->int64(0), st->text(1), st->text(2), st->text(3), static_cast<int>(st->int64(4)), st->int64(5)});
  }
  return out;
}

std::string integrity_check(const std::string& db_path) {
  auto db = open_db(db_path);
  auto r = db.query_text("PRAGMA integrity_check");
  return r ? *r : r.error().message;
}

std::vector<StoredAlert> stored_alerts(const std::string& db_path) {
  auto db = open_db(db_path);
  auto st = db.prepare("SELECT id, rule, readings_json FROM alerts ORDER BY raised_ms, id");
  if (!st) throw std::runtime_error(st.error().message);
  std::vector<StoredAlert> out;
  for (;;) {
    auto row = st->step();
    if (!row) throw std::runtime_error(row.error().message);
    if (!*row) break;
    StoredAlert a{st->text(0), st->text(1), {}};
    for (const auto& u : nlohmann::json::parse(st->text(2))) a.readings.push_back(u.get<std::string>());
    out.push_back(std::move(a));
  }
  return out;
}

Memory memory_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  Memory m;
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") in >> m.rss_kib;
    else if (key == "VmHWM:") in >> m.hwm_kib;
    else in.ignore(4096, '\n');
  }
  return m;
}

SmallFilesystem::SmallFilesystem(std::string path, std::int64_t bytes) : path_(std::move(path)) {
  std::filesystem::create_directories(path_);
  const std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
  if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
    mounted_ = true;
  } else {
    why_not_ = std::string("cannot mount a tmpfs at ") + path_ + ": " + std::strerror(errno);
  }
}

SmallFilesystem::~SmallFilesystem() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
}

bool SmallFilesystem::resize(std::int64_t bytes) {
  const std::string opts = "size=" + std::to_string(bytes);
  return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
}

}  // namespace carehub::reliability
