#include "drivers/gatt/date_time.hpp"

#include <chrono>
#include <cstdio>

namespace carehub::gatt {

bool DateTime::is_valid() const {
  if (year < 1582 || year > 9999 || hours > 23 || minutes > 59 || seconds > 59) {
    return false;
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  return date.ok();
}

std::string DateTime::to_string() const {
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%04u-%02u-%02uT%02u:%02u:%02u", unsigned{year}, unsigned{month},
                              unsigned{day}, unsigned{hours}, unsigned{minutes}, unsigned{seconds});
  return std::string(text, n > 0 ? static_cast<std::size_t>(n) : 0);
}

DateTime read_date_time(ByteReader& reader, std::string_view field) {
  const auto bytes = reader.take(7, field);
  if (bytes.size() != 7) {
    return {};
  }
  DateTime t;
  t.year = static_cast<std::uint16_t>(bytes[0] | (bytes[1] << 8));
  t.month = bytes[2];
  t.day = bytes[3];
  t.hours = bytes[4];
  t.minutes = bytes[5];
  t.seconds = bytes[6];
  return t;
}

Result<DateTime> decode_date_time(std::span<const std::uint8_t> packet) {
  ByteReader reader(packet, "date time");
  const DateTime t = read_date_time(reader, "date time");
  if (!reader.ok()) {
    return *reader.error();
  }
  return t;
}

std::optional<DateTime> add_minutes(const DateTime& time, int minutes) {
  using namespace std::chrono;
  if (!time.is_valid()) {
    return std::nullopt;
  }
  const sys_days day_point{year_month_day{year{time.year}, month{time.month}, day{time.day}}};
  const sys_seconds instant = day_point + hours{time.hours} + std::chrono::minutes{time.minutes} +
                              std::chrono::seconds{time.seconds} + std::chrono::minutes{minutes};
  const sys_days new_day = floor<days>(instant);
  const year_month_day ymd{new_day};
  const hh_mm_ss<std::chrono::seconds> clock{instant - new_day};
  const int y = static_cast<int>(ymd.year());
  if (y < 1582 || y > 9999) {
    return std::nullopt;
  }
  DateTime out;
  out.year = static_cast<std::uint16_t>(y);
  out.month = static_cast<std::uint8_t>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<std::uint8_t>(static_cast<unsigned>(ymd.day()));
  out.hours = static_cast<std::uint8_t>(clock.hours().count());
  out.minutes = static_cast<std::uint8_t>(clock.minutes().count());
  out.seconds = static_cast<std::uint8_t>(clock.seconds().count());
  return out;
}

}  // namespace carehub::gatt
