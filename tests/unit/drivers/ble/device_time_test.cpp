// The clock-and-time matrix: device clocks reset, skewed by years, running in local time across both
// DST switches of Europe/Berlin and America/New_York, record sequences that wrap or restart. Every case
// drives the Manager's record path (fake BlueZ notifications, reconnects) into a sink that stores like
// the pipeline (one row per reading_uid) and asserts that each reading is stored exactly once, at the
// right time, and that a device resending its memory after a reconnect stores nothing twice.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <set>

#include "drivers/ble/manager.hpp"
#include "tests/unit/drivers/ble/fakes.hpp"

namespace carehub::ble {
namespace {

using namespace carehub::ble::fakes;

constexpr const char* kMeter = "A4:C1:38:00:00:03";
constexpr std::uint16_t kBloodPressure = 0x2A35;
constexpr std::uint16_t kGlucose = 0x2A18;

// Stores like the pipeline: attributed to the kit's patient, de-duplicated by reading_uid, and able to
// answer what it holds from a device at a device time (the driver's evidence of a resend).
class StoringSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading> batch) override {
    IngestResult out;
    for (auto& r : batch) {
      r.patient = "Patient/kit";
      const auto uid = reading_uid(r);
      const bool fresh = uids.insert(uid).second;
      out.uids.push_back(uid);
      out.status.push_back(fresh ? IngestStatus::stored : IngestStatus::duplicate);
      out.errors.emplace_back();
      if (fresh) stored.push_back(r);
    }
    return ready<IngestResult>(std::move(out));
  }
  std::future<Result<void>> upsert_device(Device d) override {
    devices.push_back(std::move(d));
    return ready<void>({});
  }
  std::future<Result<bool>> remove_device(std::string) override { return ready<bool>(true); }

  std::vector<Reading> at(const std::string& device, TimePoint device_time) const {
    std::vector<Reading> out;
    for (const auto& r : stored) {
      if (r.device == device && r.device_time == device_time) out.push_back(r);
    }
    return out;
  }

  std::set<std::string> uids;
  std::vector<Reading> stored;
  std::vector<Device> devices;
};

// Sets TZ for one test and puts the previous value back: conversions of local device time follow the
// hub's zone rules, so every case names its zone instead of inheriting the machine's.
class ZoneForTest {
 public:
  explicit ZoneForTest(const std::string& zone) {
    if (const char* old = std::getenv("TZ")) previous_ = old;
    setenv("TZ", zone.c_str(), 1);
    tzset();
  }
  ~ZoneForTest() {
    if (previous_) setenv("TZ", previous_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  ZoneForTest(const ZoneForTest&) = delete;
  ZoneForTest& operator=(const ZoneForTest&) = delete;

 private:
  std::optional<std::string> previous_;
};

// One record as the device sends it: its own clock's wall time (local or UTC as configured), when the
// hub receives it, and what must become of it.
struct Record {
  std::string wall;      // "2024-01-01T00:02:00": the device's Date Time fields
  std::string received;  // the hub's clock when it arrives (RFC 3339)
  int value = 0;         // systolic (blood pressure) or mg/dL (glucose)
  std::optional<int> sequence{};  // glucose records only
  bool reconnect = false;         // the device disconnects and reconnects before sending it
  std::optional<std::string> stored_at{};  // the effective time it must be stored at; empty: not stored again
};

struct Case {
  std::string name;
  std::string zone;  // TZ for the hub; "UTC" when the device runs on UTC
  bool device_time_utc = true;
  std::uint16_t measurement = kBloodPressure;
  std::optional<std::string> newest_record{};  // the registry's marks, as stored before this test
  std::optional<std::int64_t> newest_sequence{};
  std::vector<Record> records;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

struct Wall {
  int year, month, day, hour, minute, second;
};
Wall parse_wall(const std::string& s) {
  Wall w{};
  EXPECT_EQ(std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &w.year, &w.month, &w.day, &w.hour, &w.minute, &w.second), 6) << s;
  return w;
}
void put_date_time(std::vector<std::uint8_t>& p, const Wall& w) {
  p.insert(p.end(), {static_cast<std::uint8_t>(w.year & 0xFF), static_cast<std::uint8_t>(w.year >> 8),
                     static_cast<std::uint8_t>(w.month), static_cast<std::uint8_t>(w.day),
                     static_cast<std::uint8_t>(w.hour), static_cast<std::uint8_t>(w.minute),
                     static_cast<std::uint8_t>(w.second)});
}

// Blood pressure: flags 0x02 (time stamp, mmHg), systolic/diastolic/mean as SFLOAT with exponent 0.
std::vector<std::uint8_t> bp(const Record& r) {
  std::vector<std::uint8_t> p{0x02, static_cast<std::uint8_t>(r.value & 0xFF), static_cast<std::uint8_t>(r.value >> 8),
                              80, 0x00, 93, 0x00};
  put_date_time(p, parse_wall(r.wall));
  return p;
}

// Glucose: flags 0x02 (concentration in kg/L + type/location), sequence, base time, concentration as
// SFLOAT with exponent -5 (so the mantissa is mg/dL), capillary whole blood from a finger (0x11).
std::vector<std::uint8_t> glucose(const Record& r) {
  const auto seq = static_cast<std::uint16_t>(r.sequence.value_or(0));
  std::vector<std::uint8_t> p{0x02, static_cast<std::uint8_t>(seq & 0xFF), static_cast<std::uint8_t>(seq >> 8)};
  put_date_time(p, parse_wall(r.wall));
  p.insert(p.end(), {static_cast<std::uint8_t>(r.value & 0xFF), static_cast<std::uint8_t>(0xB0 | ((r.value >> 8) & 0x0F)),
                     0x11});
  return p;
}

class TheBleClockMatrix : public ::testing::TestWithParam<Case> {
 protected:
  TheBleClockMatrix()
      : zone_(GetParam().zone),
        clock_(*parse_rfc3339("2026-01-01T00:00:00Z")),
        log_(LogLevel::debug,
             [this](LogLevel level, std::string_view, std::string_view m) { lines_.emplace_back(level, std::string(m)); }),
        context_{sink_, clock_, log_, counters_, "hub", "Patient/kit"} {
    context_.stored_at = [this](const std::string& device, TimePoint device_time) -> Result<std::vector<Reading>> {
      return sink_.at(device, device_time);
    };
    config_.time.device_time_utc = GetParam().device_time_utc;
    bluez_.add_adapter();
    bluez_.add_device(kMeter, "Meter", /*with_cts=*/false, GetParam().measurement);
  }

  void start() {
    auto dev = registered(kMeter);
    if (GetParam().newest_record) dev.newest_record = *parse_rfc3339(*GetParam().newest_record);
    dev.newest_sequence = GetParam().newest_sequence;
    manager_ = std::make_unique<Manager>(bluez_, config_, context_, top_of_jitter());
    ASSERT_TRUE(manager_->start({dev}));
    connect();
  }
  void connect() {
    auto done = std::move(bluez_.pending_connect.at(dev_path(kMeter)));
    bluez_.pending_connect.erase(dev_path(kMeter));
    done(Result<void>{});
    manager_->on_properties_changed(dev_path(kMeter), std::string(kDeviceInterface),
                                    {{"Connected", true}, {"ServicesResolved", true}});
  }
  void reconnect() {
    manager_->on_properties_changed(dev_path(kMeter), std::string(kDeviceInterface), {{"Connected", false}});
    manager_->on_properties_changed(dev_path(kMeter), std::string(kDeviceInterface), {{"RSSI", std::int64_t{-60}}});
    connect();
  }
  void send(const Record& r) {
    clock_.set(*parse_rfc3339(r.received));
    if (r.reconnect) reconnect();
    auto packet = GetParam().measurement == kGlucose ? glucose(r) : bp(r);
    manager_->on_properties_changed(char_path(kMeter), std::string(kCharacteristicInterface), {{"Value", packet}});
    manager_->tick(clock_.monotonic());
  }
  static double value_of(const Reading& r) { return r.values.count("systolic") ? r.values.at("systolic") : r.values.at("value"); }

  ZoneForTest zone_;
  BleConfig config_;
  FakeBluez bluez_;
  StoringSink sink_;
  ManualClock clock_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
  Logger log_;
  Counters counters_;
  SourceContext context_;
  std::unique_ptr<Manager> manager_;
};

TEST_P(TheBleClockMatrix, StoresEachReadingOnceAtTheRightTime) {
  start();
  std::vector<std::pair<std::string, double>> expected;
  for (const auto& r : GetParam().records) {
    send(r);
    if (r.stored_at) expected.emplace_back(*r.stored_at, r.value);
  }
  std::vector<std::pair<std::string, double>> stored;
  for (const auto& r : sink_.stored) stored.emplace_back(format_rfc3339(r.time), value_of(r));
  EXPECT_EQ(stored, expected);
  for (const auto& r : sink_.stored) {
    EXPECT_TRUE(r.device_time) << "the device's own time is kept as evidence: " << format_rfc3339(r.time);
    EXPECT_LE(r.time, r.received + std::chrono::minutes(60)) << "never after the receive time";
  }
}

// UTC devices: the hub's zone must not matter, so these run in a zone with DST.
const Case kCases[] = {
    {"ClockResetTo2024ByABatteryChange", "Europe/Berlin", true, kBloodPressure, "2026-12-04T08:00:00Z", {},
     {
         {"2024-01-01T00:02:00", "2026-12-04T20:00:30Z", 212, {}, false, "2026-12-04T20:00:30Z"},
         {"2024-01-01T00:02:00", "2026-12-04T21:00:00Z", 212, {}, true, {}},  // resent from memory
         {"2024-01-01T01:12:00", "2026-12-04T21:10:30Z", 150, {}, false, "2026-12-04T21:10:30Z"},
         {"2024-01-01T00:02:00", "2026-12-05T08:00:00Z", 212, {}, true, {}},
         {"2024-01-01T01:12:00", "2026-12-05T08:00:00Z", 150, {}, false, {}},
     }},
    {"ClockTwoYearsBehind", "Europe/Berlin", true, kBloodPressure, {}, {},
     {
         {"2024-12-04T09:00:00", "2026-12-04T09:00:30Z", 131, {}, false, "2026-12-04T09:00:30Z"},
         {"2024-12-04T18:00:00", "2026-12-04T18:00:30Z", 135, {}, false, "2026-12-04T18:00:30Z"},
         {"2024-12-04T09:00:00", "2026-12-05T08:00:00Z", 131, {}, true, {}},
         {"2024-12-04T18:00:00", "2026-12-05T08:00:00Z", 135, {}, false, {}},
     }},
    {"ClockTwoYearsAhead", "Europe/Berlin", true, kBloodPressure, {}, {},
     {
         {"2028-12-03T09:00:00", "2026-12-04T09:00:30Z", 131, {}, false, "2026-12-04T09:00:30Z"},
         {"2028-12-03T18:00:00", "2026-12-04T18:00:30Z", 135, {}, false, "2026-12-04T18:00:30Z"},
         {"2028-12-03T09:00:00", "2026-12-05T08:00:00Z", 131, {}, true, {}},
         {"2028-12-03T18:00:00", "2026-12-05T08:00:00Z", 135, {}, false, {}},
     }},
    {"AMemoryResentAfterEveryReconnect", "Europe/Berlin", true, kBloodPressure, {}, {},
     {
         {"2026-12-04T09:00:00", "2026-12-04T09:00:30Z", 121, {}, false, "2026-12-04T09:00:00Z"},
         {"2026-12-04T10:00:00", "2026-12-04T10:00:30Z", 122, {}, false, "2026-12-04T10:00:00Z"},
         {"2026-12-04T09:00:00", "2026-12-04T11:00:30Z", 121, {}, true, {}},
         {"2026-12-04T10:00:00", "2026-12-04T11:00:30Z", 122, {}, false, {}},
         {"2026-12-04T11:00:00", "2026-12-04T11:00:30Z", 123, {}, false, "2026-12-04T11:00:00Z"},
         {"2026-12-04T09:00:00", "2026-12-04T12:00:30Z", 121, {}, true, {}},
         {"2026-12-04T10:00:00", "2026-12-04T12:00:30Z", 122, {}, false, {}},
         {"2026-12-04T11:00:00", "2026-12-04T12:00:30Z", 123, {}, false, {}},
     }},
    // Local time, Europe/Berlin, autumn: 03:00 CEST becomes 02:00 CET at 01:00Z, 02:00-03:00 happens twice.
    {"BerlinAutumnLocalTime", "Europe/Berlin", false, kBloodPressure, {}, {},
     {
         {"2026-10-25T01:30:00", "2026-10-24T23:30:30Z", 141, {}, false, "2026-10-24T23:30:00Z"},
         {"2026-10-25T02:20:00", "2026-10-25T00:20:30Z", 142, {}, false, "2026-10-25T00:20:00Z"},
         {"2026-10-25T02:50:00", "2026-10-25T00:50:30Z", 143, {}, false, "2026-10-25T00:50:00Z"},
         {"2026-10-25T02:10:00", "2026-10-25T01:10:30Z", 144, {}, false, "2026-10-25T01:10:00Z"},
         {"2026-10-25T02:40:00", "2026-10-25T01:40:30Z", 145, {}, false, "2026-10-25T01:40:00Z"},
         {"2026-10-25T03:05:00", "2026-10-25T02:05:30Z", 146, {}, false, "2026-10-25T02:05:00Z"},
         {"2026-10-25T01:30:00", "2026-10-25T08:00:00Z", 141, {}, true, {}},
         {"2026-10-25T02:20:00", "2026-10-25T08:00:00Z", 142, {}, false, {}},
         {"2026-10-25T02:50:00", "2026-10-25T08:00:00Z", 143, {}, false, {}},
         {"2026-10-25T02:10:00", "2026-10-25T08:00:00Z", 144, {}, false, {}},
         {"2026-10-25T02:40:00", "2026-10-25T08:00:00Z", 145, {}, false, {}},
         {"2026-10-25T03:05:00", "2026-10-25T08:00:00Z", 146, {}, false, {}},
     }},
    // The first reading of the night is taken in the repeated hour and sent at once: the second 02:30.
    {"BerlinAutumnLiveReadingInTheRepeatedHour", "Europe/Berlin", false, kBloodPressure, "2026-10-24T18:00:00Z", {},
     {
         {"2026-10-25T02:30:00", "2026-10-25T01:30:30Z", 151, {}, false, "2026-10-25T01:30:00Z"},
         {"2026-10-25T02:45:00", "2026-10-25T01:45:30Z", 152, {}, false, "2026-10-25T01:45:00Z"},
         {"2026-10-25T02:30:00", "2026-10-25T07:00:00Z", 151, {}, true, {}},
         {"2026-10-25T02:45:00", "2026-10-25T07:00:00Z", 152, {}, false, {}},
     }},
    // A memory read the next morning: the repeated hour's readings arrive hours later, in device order.
    {"BerlinAutumnMemoryReadTheNextMorning", "Europe/Berlin", false, kBloodPressure, "2026-10-24T18:00:00Z", {},
     {
         {"2026-10-25T02:20:00", "2026-10-25T07:00:00Z", 142, {}, true, "2026-10-25T00:20:00Z"},
         {"2026-10-25T02:50:00", "2026-10-25T07:00:00Z", 143, {}, false, "2026-10-25T00:50:00Z"},
         {"2026-10-25T02:10:00", "2026-10-25T07:00:00Z", 144, {}, false, "2026-10-25T01:10:00Z"},
         {"2026-10-25T02:40:00", "2026-10-25T07:00:00Z", 145, {}, false, "2026-10-25T01:40:00Z"},
     }},
    // Spring: 02:00 CET becomes 03:00 CEST at 01:00Z. A device clock not yet put forward says 02:30.
    {"BerlinSpringLocalTime", "Europe/Berlin", false, kBloodPressure, {}, {},
     {
         {"2026-03-29T01:50:00", "2026-03-29T00:50:30Z", 131, {}, false, "2026-03-29T00:50:00Z"},
         {"2026-03-29T02:30:00", "2026-03-29T01:30:30Z", 132, {}, false, "2026-03-29T01:30:00Z"},
         {"2026-03-29T03:50:00", "2026-03-29T01:50:30Z", 133, {}, false, "2026-03-29T01:50:00Z"},
         {"2026-03-29T01:50:00", "2026-03-29T08:00:00Z", 131, {}, true, {}},
         {"2026-03-29T02:30:00", "2026-03-29T08:00:00Z", 132, {}, false, {}},
         {"2026-03-29T03:50:00", "2026-03-29T08:00:00Z", 133, {}, false, {}},
     }},
    // Local time, America/New_York, autumn: 02:00 EDT becomes 01:00 EST at 06:00Z.
    {"NewYorkAutumnLocalTime", "America/New_York", false, kBloodPressure, {}, {},
     {
         {"2026-11-01T01:20:00", "2026-11-01T05:20:30Z", 161, {}, false, "2026-11-01T05:20:00Z"},
         {"2026-11-01T01:50:00", "2026-11-01T05:50:30Z", 162, {}, false, "2026-11-01T05:50:00Z"},
         {"2026-11-01T01:10:00", "2026-11-01T06:10:30Z", 163, {}, false, "2026-11-01T06:10:00Z"},
         {"2026-11-01T01:40:00", "2026-11-01T06:40:30Z", 164, {}, false, "2026-11-01T06:40:00Z"},
         {"2026-11-01T02:05:00", "2026-11-01T07:05:30Z", 165, {}, false, "2026-11-01T07:05:00Z"},
         {"2026-11-01T01:20:00", "2026-11-01T12:00:00Z", 161, {}, true, {}},
         {"2026-11-01T01:50:00", "2026-11-01T12:00:00Z", 162, {}, false, {}},
         {"2026-11-01T01:10:00", "2026-11-01T12:00:00Z", 163, {}, false, {}},
         {"2026-11-01T01:40:00", "2026-11-01T12:00:00Z", 164, {}, false, {}},
         {"2026-11-01T02:05:00", "2026-11-01T12:00:00Z", 165, {}, false, {}},
     }},
    // Spring: 02:00 EST becomes 03:00 EDT at 07:00Z; 02:15 never happens.
    {"NewYorkSpringLocalTime", "America/New_York", false, kBloodPressure, {}, {},
     {
         {"2026-03-08T01:50:00", "2026-03-08T06:50:30Z", 171, {}, false, "2026-03-08T06:50:00Z"},
         {"2026-03-08T02:15:00", "2026-03-08T07:15:30Z", 172, {}, false, "2026-03-08T07:15:00Z"},
         {"2026-03-08T03:30:00", "2026-03-08T07:30:30Z", 173, {}, false, "2026-03-08T07:30:00Z"},
         {"2026-03-08T01:50:00", "2026-03-08T12:00:00Z", 171, {}, true, {}},
         {"2026-03-08T02:15:00", "2026-03-08T12:00:00Z", 172, {}, false, {}},
         {"2026-03-08T03:30:00", "2026-03-08T12:00:00Z", 173, {}, false, {}},
     }},
    // Glucose record sequence numbers are uint16: 65535 is followed by 0.
    {"GlucoseSequenceWraps", "Europe/Berlin", true, kGlucose, "2026-12-04T07:00:00Z", 65534,
     {
         {"2026-12-04T08:00:00", "2026-12-04T08:00:30Z", 101, 65535, false, "2026-12-04T08:00:00Z"},
         {"2026-12-04T09:00:00", "2026-12-04T09:00:30Z", 102, 0, false, "2026-12-04T09:00:00Z"},
         {"2026-12-04T10:00:00", "2026-12-04T10:00:30Z", 103, 1, false, "2026-12-04T10:00:00Z"},
         {"2026-12-04T08:00:00", "2026-12-04T11:00:00Z", 101, 65535, true, {}},
         {"2026-12-04T09:00:00", "2026-12-04T11:00:00Z", 102, 0, false, {}},
         {"2026-12-04T10:00:00", "2026-12-04T11:00:00Z", 103, 1, false, {}},
     }},
    // A meter reset (or replaced under the same address) numbers its records from 1 again.
    {"GlucoseSequenceRestartsAtOne", "Europe/Berlin", true, kGlucose, "2026-12-04T07:00:00Z", 250,
     {
         {"2026-12-04T08:00:00", "2026-12-04T08:00:30Z", 111, 1, false, "2026-12-04T08:00:00Z"},
         {"2026-12-04T09:00:00", "2026-12-04T09:00:30Z", 112, 2, false, "2026-12-04T09:00:00Z"},
         {"2026-12-04T08:00:00", "2026-12-04T11:00:00Z", 111, 1, true, {}},
         {"2026-12-04T09:00:00", "2026-12-04T11:00:00Z", 112, 2, false, {}},
         {"2026-12-04T10:00:00", "2026-12-04T11:00:30Z", 113, 3, false, "2026-12-04T10:00:00Z"},
     }},
    // Both at once: the battery change reset the meter's clock and its numbering.
    {"GlucoseClockAndSequenceReset", "Europe/Berlin", true, kGlucose, "2026-12-04T07:00:00Z", 250,
     {
         {"2024-01-01T00:05:00", "2026-12-04T08:00:30Z", 121, 1, false, "2026-12-04T08:00:30Z"},
         {"2024-01-01T00:05:00", "2026-12-04T11:00:00Z", 121, 1, true, {}},
         {"2024-01-01T03:05:00", "2026-12-04T11:00:30Z", 122, 2, false, "2026-12-04T11:00:30Z"},
     }},
};

INSTANTIATE_TEST_SUITE_P(Cases, TheBleClockMatrix, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

}  // namespace
}  // namespace carehub::ble
