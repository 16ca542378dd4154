#include "drivers/ble/convert.hpp"

#include <algorithm>
#include <ctime>
#include <type_traits>

#include "core/units.hpp"

namespace carehub::ble {
namespace {

// A component in the device's unit, converted; empty when the device sent a special value (NaN, NRes,
// INF): a special never becomes a number.
std::optional<double> canonical(const gatt::Number& n, std::string_view unit, std::string_view canonical_unit) {
  const auto v = n.value();
  if (!v) return std::nullopt;
  auto c = to_canonical(*v, unit, canonical_unit);
  if (!c) return std::nullopt;
  return *c;
}

struct Builder {
  const std::string& device;
  TimePoint received;
  const TimeOptions& options;
  Converted out;

  // Whether the clock is believed is the record guard's call: here only what the stamp can mean.
  void stamp(const std::optional<gatt::DateTime>& t) {
    if (t) out.device_times = device_instants(*t, options.device_time_utc);
  }

  void add(Kind kind, std::map<std::string, double> values, std::optional<std::uint8_t> user = std::nullopt) {
    Reading r;
    // 0xFF is "unknown user" on the wire and kUnknownUserSlot here: the same number, kept on purpose.
    if (user) r.user = *user == gatt::kUnknownUser ? kUnknownUserSlot : static_cast<int>(*user);
    r.kind = kind;
    r.device = device;
    r.received = received;
    r.time = received;  // until the record guard places it
    r.source = "ble";
    r.values = std::move(values);
    out.readings.push_back(std::move(r));
  }

  void operator()(const gatt::BloodPressureMeasurement& m) {
    stamp(m.timestamp);
    const auto unit = m.unit == gatt::PressureUnit::kPa ? "kPa" : "mm[Hg]";
    auto sys = canonical(m.systolic, unit, "mm[Hg]");
    auto dia = canonical(m.diastolic, unit, "mm[Hg]");
    if (!sys || !dia) {
      out.skipped = "blood pressure without a systolic/diastolic value (" + m.systolic.to_string() + "/" +
                    m.diastolic.to_string() + ")";
      return;
    }
    std::map<std::string, double> v{{"systolic", *sys}, {"diastolic", *dia}};
    if (auto mean = canonical(m.mean_arterial, unit, "mm[Hg]")) v["mean"] = *mean;
    if (m.pulse_rate) {
      if (auto p = canonical(*m.pulse_rate, "/min", "/min")) v["pulse"] = *p;
    }
    add(Kind::blood_pressure, std::move(v), m.user_id);
  }
  void operator()(const gatt::IntermediateCuffPressure&) { out.skipped = "intermediate cuff pressure (not a result)"; }
  void operator()(const gatt::HeartRateMeasurement& m) {
    add(Kind::heart_rate, {{"value", static_cast<double>(m.heart_rate_bpm)}});
  }
  void operator()(const gatt::TemperatureMeasurement& m) {
    stamp(m.timestamp);
    const auto unit = m.unit == gatt::TemperatureUnit::fahrenheit ? "[degF]" : "Cel";
    auto t = canonical(m.temperature, unit, "Cel");
    if (!t) {
      out.skipped = "temperature " + m.temperature.to_string();
      return;
    }
    add(Kind::body_temperature, {{"value", *t}});
  }
  void operator()(const gatt::WeightMeasurement& m) {
    stamp(m.timestamp);
    const bool si = m.unit == gatt::WeightUnit::si;
    auto w = canonical(m.weight, si ? "kg" : "lb", "kg");
    if (!w) {
      out.skipped = m.measurement_unsuccessful ? "weight: measurement unsuccessful" : "weight " + m.weight.to_string();
      return;
    }
    std::map<std::string, double> v{{"value", *w}};
    if (m.bmi) {
      if (auto b = canonical(*m.bmi, "kg/m2", "kg/m2")) v["bmi"] = *b;
    }
    if (m.height) {
      if (auto h = canonical(*m.height, si ? "m" : "in", "m")) v["height"] = *h;
    }
    add(Kind::body_weight, std::move(v), m.user_id);
  }
  void spo2(const gatt::Number& spo2, const gatt::Number& pulse) {
    auto s = canonical(spo2, "%", "%");
    if (!s) {
      out.skipped = "SpO2 " + spo2.to_string();
      return;
    }
    std::map<std::string, double> v{{"value", *s}};
    if (auto p = canonical(pulse, "/min", "/min")) v["pulse"] = *p;
    add(Kind::spo2, std::move(v));
  }
  void operator()(const gatt::PlxSpotCheckMeasurement& m) {
    stamp(m.trusted_timestamp());
    spo2(m.spo2, m.pulse_rate);
  }
  void operator()(const gatt::PlxContinuousMeasurement& m) { spo2(m.spo2, m.pulse_rate); }
  void operator()(const gatt::GlucoseMeasurement& m) {
    out.sequence = m.sequence_number;
    stamp(m.measurement_time());
    if (!m.concentration) {
      out.skipped = "glucose record without a concentration";
      return;
    }
    const auto raw = m.concentration->value.value();
    std::optional<double> mgdl;
    if (raw) {
      // kg/L -> mg/dL is 1e5; mol/L -> mmol/L is 1e3, then core's glucose molar mass.
      auto c = m.concentration->unit == gatt::GlucoseUnit::kg_per_L ? to_canonical(*raw * 1e5, "mg/dL", "mg/dL")
                                                                     : to_canonical(*raw * 1e3, "mmol/L", "mg/dL");
      if (c) mgdl = *c;
    }
    if (!mgdl) {
      out.skipped = "glucose " + m.concentration->value.to_string();
      return;
    }
    add(Kind::glucose, {{"value", *mgdl}});
  }
  void operator()(const gatt::RacpNumberOfRecords&) { out.skipped = "record access response"; }
  void operator()(const gatt::RacpResponseCode&) { out.skipped = "record access response"; }
  void operator()(const gatt::DateTime&) { out.skipped = "date time"; }
};

}  // namespace

namespace {

std::tm wall_fields(const gatt::DateTime& t) {
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.month - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hours;
  tm.tm_min = t.minutes;
  tm.tm_sec = t.seconds;
  return tm;
}

bool same_wall(const std::tm& a, const std::tm& b) {
  return a.tm_year == b.tm_year && a.tm_mon == b.tm_mon && a.tm_mday == b.tm_mday && a.tm_hour == b.tm_hour &&
         a.tm_min == b.tm_min && a.tm_sec == b.tm_sec;
}

}  // namespace

std::vector<TimePoint> device_instants(const gatt::DateTime& t, bool utc) {
  if (!t.is_valid()) return {};
  const std::tm wall = wall_fields(t);
  if (utc) {
    std::tm tm = wall;
    return {from_epoch_ms(static_cast<std::int64_t>(timegm(&tm)) * 1000)};
  }
  // tm_isdst = -1 lets mktime guess, and its guess for a repeated hour depends on what it was asked
  // before: not deterministic. Ask for standard time and for summer time, and keep each answer that
  // names this very wall time (mktime normalises a wall time that does not exist into another one).
  std::vector<TimePoint> valid;
  std::vector<std::time_t> any;
  for (int isdst : {0, 1}) {
    std::tm tm = wall;
    tm.tm_isdst = isdst;
    const std::time_t secs = std::mktime(&tm);
    if (secs == static_cast<std::time_t>(-1)) continue;
    any.push_back(secs);
    std::tm back{};
    if (localtime_r(&secs, &back) && same_wall(back, wall)) valid.push_back(from_epoch_ms(static_cast<std::int64_t>(secs) * 1000));
  }
  if (valid.empty()) {
    // The spring gap. Read with the smaller offset, the one before the clocks went forward: the larger
    // of the two instants (true for zones whose "summer" offset is the smaller one too, since a gap
    // only ever opens where the offset grows).
    if (any.empty()) return {};
    return {from_epoch_ms(static_cast<std::int64_t>(*std::max_element(any.begin(), any.end())) * 1000)};
  }
  std::sort(valid.begin(), valid.end());
  valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
  return valid;
}

Converted convert(const gatt::Decoded& decoded, const std::string& device, TimePoint received,
                  const TimeOptions& options) {
  Builder b{device, received, options, {}};
  std::visit(b, decoded);
  return std::move(b.out);
}

}  // namespace carehub::ble
