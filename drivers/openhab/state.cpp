#include "drivers/openhab/state.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "drivers/openhab/text.hpp"

namespace carehub::openhab {
namespace {

// A unit symbol longer than this is not a unit ("µg/m³" is 8 bytes, "Bq/m³" 6).
constexpr std::size_t kMaxUnitBytes = 32;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the longest prefix of `text` shaped like a decimal number: [+-]digits[.digits][(e|E)[+-]digits],
// with at least one mantissa digit. 0 when there is none. An "e" not followed by digits is not consumed.
std::size_t number_prefix(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < n && is_digit(text[i])) {
    ++i;
    ++digits;
  }
  if (i < n && text[i] == '.') {
    ++i;
    while (i < n && is_digit(text[i])) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) return 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < n && (text[j] == '+' || text[j] == '-')) ++j;
    const std::size_t exp_start = j;
    while (j < n && is_digit(text[j])) ++j;
    if (j > exp_start) i = j;
  }
  return i;
}

// Converts a token already known to match number_prefix() exactly.
Result<double> convert_number(std::string_view token, std::string_view whole) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);  // from_chars takes no '+'
  double value = 0;
  const char* last = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), last, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range || !std::isfinite(value)) {
    return make_error("number out of range: " + in_quotes(whole));
  }
  if (ec != std::errc() || ptr != last) return make_error("expected a number, found " + in_quotes(whole));
  return value;
}

Error prefixed(std::string_view label, std::string_view value, const Error& inner) {
  return make_error(std::string(label) + " state " + in_quotes(value) + ": " + inner.message);
}

Result<State> no_value(std::string_view label, std::string_view value) {
  if (value == "NULL") return State{NoValue{false}};
  if (value == "UNDEF") return State{NoValue{true}};
  return make_error(std::string(label) + " state " + in_quotes(value) + ": expected NULL or UNDEF");
}

Result<State> on_off(std::string_view label, std::string_view value) {
  if (value == "ON") return State{OnOff{true}};
  if (value == "OFF") return State{OnOff{false}};
  return make_error(std::string(label) + " state " + in_quotes(value) + ": expected ON or OFF");
}

Result<State> open_closed(std::string_view label, std::string_view value) {
  if (value == "OPEN") return State{OpenClosed{true}};
  if (value == "CLOSED") return State{OpenClosed{false}};
  return make_error(std::string(label) + " state " + in_quotes(value) + ": expected OPEN or CLOSED");
}

Result<State> decimal(std::string_view label, std::string_view value) {
  auto number = parse_number(value);
  if (!number) return prefixed(label, value, number.error());
  return State{Decimal{*number}};
}

Result<State> number_with_unit(std::string_view label, std::string_view value) {
  auto state = parse_number_with_unit(value);
  if (!state) return prefixed(label, value, state.error());
  return state;
}

Result<State> percent(std::string_view label, std::string_view value) {
  auto number = parse_number(value);
  if (!number) return prefixed(label, value, number.error());
  if (*number < 0 || *number > 100) {
    return make_error(std::string(label) + " state " + in_quotes(value) + ": outside 0..100");
  }
  return State{Percent{*number}};
}

Result<State> date_time(std::string_view label, std::string_view value) {
  auto parsed = parse_date_time(value);
  if (!parsed) return prefixed(label, value, parsed.error());
  return State{*parsed};
}

// Reads exactly `count` digits at `pos`; false when they are not all there.
bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const char c = text[pos + k];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool looks_like_date_time(std::string_view text) {
  return text.size() >= 16 && is_digit(text[0]) && is_digit(text[3]) && text[4] == '-' && text[7] == '-' &&
         (text[10] == 'T' || text[10] == ' ');
}

std::string format_number(double value) {
  std::array<char, 32> buf{};
  const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) return "?";
  return std::string(buf.data(), ptr);
}

// "2024-11-11T19:39:00.000000Z"
std::string format_utc(std::chrono::sys_time<std::chrono::microseconds> t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  std::array<char, 48> buf{};
  const auto n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<int>(ymd.year()),
                               static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                               static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                               static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return std::string(buf.data(), n > 0 ? std::min(static_cast<std::size_t>(n), buf.size() - 1) : 0);
}

}  // namespace

Result<double> parse_number(std::string_view text) {
  if (text.empty()) return make_error("expected a number, found empty text");
  const std::size_t len = number_prefix(text);
  if (len == 0) return make_error("expected a number, found " + in_quotes(text));
  if (len != text.size()) {
    return make_error("trailing characters " + in_quotes(text.substr(len)) + " after the number");
  }
  return convert_number(text, text);
}

Result<State> parse_number_with_unit(std::string_view text) {
  if (text.empty()) return make_error("expected a number, found empty text");
  const std::size_t len = number_prefix(text);
  if (len == 0) return make_error("expected a number, found " + in_quotes(text));
  auto number = convert_number(text.substr(0, len), text);
  if (!number) return number.error();
  std::string_view unit = text.substr(len);
  if (unit.empty()) return State{Decimal{*number}};
  // openHAB writes "21.5 °C"; it also reads "21.5°C", so the space is optional.
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (unit.empty()) return make_error("trailing space after the number");
  const char first = unit.front();
  if (is_digit(first) || first == '.' || first == ',' || first == '+' || first == '-') {
    return make_error("trailing characters " + in_quotes(text.substr(len)) + " after the number");
  }
  if (unit.size() > kMaxUnitBytes) return make_error("unit " + in_quotes(unit) + " is too long to be a unit");
  for (const char c : unit) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return make_error("unit " + in_quotes(unit) + " contains a space or control character");
  }
  if (!is_valid_utf8(unit)) return make_error("unit " + in_quotes(unit) + " is not valid UTF-8");
  return State{Quantity{*number, std::string(unit)}};
}

Result<DateTime> parse_date_time(std::string_view text) {
  const auto shape = [&] {
    return make_error("expected yyyy-MM-ddTHH:mm[:ss[.fraction]] followed by Z, +HH:MM or +HHMM, found " +
                      in_quotes(text));
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 16 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
      text[7] != '-' || !read_digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != ' ') ||
      !read_digits(text, 11, 2, hour) || text[13] != ':' || !read_digits(text, 14, 2, minute)) {
    return shape();
  }
  std::size_t i = 16;
  std::int64_t micros = 0;
  if (i < text.size() && text[i] == ':') {
    if (!read_digits(text, i + 1, 2, second)) return shape();
    i += 3;
    if (i < text.size() && text[i] == '.') {
      ++i;
      const std::size_t start = i;
      while (i < text.size() && is_digit(text[i])) ++i;
      const std::size_t digits = i - start;
      if (digits == 0 || digits > 9) return shape();
      for (std::size_t k = 0; k < 6; ++k) {
        micros = micros * 10 + (k < digits ? text[start + k] - '0' : 0);
      }
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return make_error("no such date " + in_quotes(text.substr(0, 10)));
  if (hour > 23 || minute > 59 || second > 59) return make_error("no such time of day " + in_quotes(text.substr(11, i - 11)));

  if (i >= text.size()) return make_error("no UTC offset in " + in_quotes(text));
  int offset_minutes = 0;
  if (text[i] == 'Z') {
    ++i;
  } else if (text[i] == '+' || text[i] == '-') {
    const int sign = text[i] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!read_digits(text, i + 1, 2, oh)) return shape();
    i += 3;
    if (i < text.size() && text[i] == ':') {
      if (!read_digits(text, i + 1, 2, om)) return shape();
      i += 3;
    } else if (i < text.size() && is_digit(text[i])) {
      if (!read_digits(text, i, 2, om)) return shape();
      i += 2;
    }
    if (oh > 18 || om > 59 || oh * 60 + om > 18 * 60) return make_error("UTC offset out of range in " + in_quotes(text));
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return shape();
  }
  if (i != text.size()) return make_error("trailing characters " + in_quotes(text.substr(i)) + " after the date-time");

  DateTime out;
  out.offset = std::chrono::minutes(offset_minutes);
  out.instant = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                std::chrono::seconds(second) + std::chrono::microseconds(micros) - out.offset;
  return out;
}

Result<State> parse_state(std::string_view type, std::string_view value) {
  if (type == "Quantity") return number_with_unit(type, value);
  if (type == "Decimal") return decimal(type, value);
  if (type == "Percent") return percent(type, value);
  if (type == "OnOff") return on_off(type, value);
  if (type == "OpenClosed") return open_closed(type, value);
  if (type == "DateTime") return date_time(type, value);
  if (type == "UnDef") return no_value(type, value);
  if (type.empty()) return make_error("state " + in_quotes(value) + " has an empty type");
  return State{Text{std::string(type), std::string(value)}};
}

Result<State> parse_item_state(std::string_view item_type, std::string_view value) {
  if (value == "NULL") return State{NoValue{false}};
  if (value == "UNDEF") return State{NoValue{true}};
  const std::string_view base = item_type.substr(0, item_type.find(':'));
  const std::string label = std::string(item_type) + " item";
  if (base == "Number") return number_with_unit(label, value);
  if (base == "Switch") return on_off(label, value);
  if (base == "Contact") return open_closed(label, value);
  if (base == "Dimmer" || base == "Rollershutter") return percent(label, value);
  if (base == "DateTime") return date_time(label, value);
  if (base == "Group") return parse_untyped_state(value);
  if (base == "String") return State{Text{"String", std::string(value)}};
  if (base == "Color") return State{Text{"HSB", std::string(value)}};
  if (base == "Location") return State{Text{"Point", std::string(value)}};
  if (base.empty()) return make_error("state " + in_quotes(value) + " has an empty item type");
  return State{Text{std::string(item_type), std::string(value)}};
}

Result<State> parse_untyped_state(std::string_view value) {
  if (value == "NULL") return State{NoValue{false}};
  if (value == "UNDEF") return State{NoValue{true}};
  if (value == "ON" || value == "OFF") return State{OnOff{value == "ON"}};
  if (value == "OPEN" || value == "CLOSED") return State{OpenClosed{value == "OPEN"}};
  if (looks_like_date_time(value)) return date_time("DateTime", value);
  if (number_prefix(value) > 0) {
    auto number = parse_number_with_unit(value);
    if (number) return number;
  }
  return State{Text{"String", std::string(value)}};
}

std::string describe(const State& state) {
  struct Describe {
    std::string operator()(const NoValue& s) const { return s.undef ? "UnDef UNDEF" : "UnDef NULL"; }
    std::string operator()(const Decimal& s) const { return "Decimal " + format_number(s.value); }
    std::string operator()(const Quantity& s) const { return "Quantity " + format_number(s.value) + " " + s.unit; }
    std::string operator()(const Percent& s) const { return "Percent " + format_number(s.value); }
    std::string operator()(const OnOff& s) const { return s.on ? "OnOff ON" : "OnOff OFF"; }
    std::string operator()(const OpenClosed& s) const { return s.open ? "OpenClosed OPEN" : "OpenClosed CLOSED"; }
    std::string operator()(const DateTime& s) const { return "DateTime " + format_utc(s.instant); }
    std::string operator()(const Text& s) const { return s.type + " " + in_quotes(s.value); }
  };
  return std::visit(Describe{}, state);
}

}  // namespace carehub::openhab
