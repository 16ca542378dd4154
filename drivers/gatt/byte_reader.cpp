#include "drivers/gatt/byte_reader.hpp"

#include <string>

namespace carehub::gatt {

ByteReader::ByteReader(std::span<const std::uint8_t> bytes, std::string_view what) : bytes_(bytes), what_(what) {}

bool ByteReader::need(std::size_t n, std::string_view field) {
  if (error_) {
    return false;
  }
  if (remaining() >= n) {
    return true;
  }
  std::string detail;
  detail.reserve(96);
  detail.append(what_).append(": ").append(field).append(" needs ").append(std::to_string(n));
  detail.append(n == 1 ? " byte" : " bytes").append(" at offset ").append(std::to_string(offset_));
  detail.append(", only ").append(std::to_string(remaining())).append(remaining() == 1 ? " remains" : " remain");
  detail.append(" (packet is ").append(std::to_string(bytes_.size())).append(bytes_.size() == 1 ? " byte)" : " bytes)");
  error_ = DecodeError{ErrorKind::truncated, std::move(detail)};
  return false;
}

void ByteReader::fail(ErrorKind kind, std::string_view detail) {
  if (!error_) {
    error_ = DecodeError{kind, std::string(what_).append(": ").append(detail)};
  }
}

std::uint8_t ByteReader::u8(std::string_view field) {
  if (!need(1, field)) {
    return 0;
  }
  return bytes_[offset_++];
}

std::uint16_t ByteReader::u16(std::string_view field) {
  if (!need(2, field)) {
    return 0;
  }
  const auto v = static_cast<std::uint16_t>(bytes_[offset_] | (bytes_[offset_ + 1] << 8));
  offset_ += 2;
  return v;
}

std::int16_t ByteReader::s16(std::string_view field) { return static_cast<std::int16_t>(u16(field)); }

std::uint32_t ByteReader::u24(std::string_view field) {
  if (!need(3, field)) {
    return 0;
  }
  const std::uint32_t v = std::uint32_t{bytes_[offset_]} | (std::uint32_t{bytes_[offset_ + 1]} << 8) |
                          (std::uint32_t{bytes_[offset_ + 2]} << 16);
  offset_ += 3;
  return v;
}

std::uint32_t ByteReader::u32(std::string_view field) {
  if (!need(4, field)) {
    return 0;
  }
  const std::uint32_t v = std::uint32_t{bytes_[offset_]} | (std::uint32_t{bytes_[offset_ + 1]} << 8) |
                          (std::uint32_t{bytes_[offset_ + 2]} << 16) | (std::uint32_t{bytes_[offset_ + 3]} << 24);
  offset_ += 4;
  return v;
}

std::span<const std::uint8_t> ByteReader::take(std::size_t n, std::string_view field) {
  if (!need(n, field)) {
    return {};
  }
  auto out = bytes_.subspan(offset_, n);
  offset_ += n;
  return out;
}

}  // namespace carehub::gatt
