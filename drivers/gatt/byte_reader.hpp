#pragma once
// A bounds-checked little-endian reader over one GATT packet. Every read names its field; the first read
// that would pass the end records a `truncated` DecodeError (field, offset, bytes left) and every later
// read returns zero without moving. Decoders read all their fields, then check error() once: nothing can
// ever read past the end, and the error names the first field that did not fit.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

class ByteReader {
 public:
  // `what` prefixes every error detail: "blood pressure", "glucose"... Both views must outlive the reader
  // (decoders pass string literals).
  ByteReader(std::span<const std::uint8_t> bytes, std::string_view what);

  std::uint8_t u8(std::string_view field);
  std::uint16_t u16(std::string_view field);
  std::int16_t s16(std::string_view field);
  std::uint32_t u24(std::string_view field);
  std::uint32_t u32(std::string_view field);
  // The next `n` bytes as one field (e.g. a 7-byte Date Time): all of them or an error.
  std::span<const std::uint8_t> take(std::size_t n, std::string_view field);

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return bytes_.size() - offset_; }
  bool ok() const { return !error_.has_value(); }
  const std::optional<DecodeError>& error() const { return error_; }

  // A decoder's own semantic error (malformed), recorded only if no earlier error exists.
  void fail(ErrorKind kind, std::string_view detail);

 private:
  // True when `n` more bytes exist; otherwise records the truncation (once) and returns false.
  bool need(std::size_t n, std::string_view field);

  std::span<const std::uint8_t> bytes_;
  std::string_view what_;
  std::size_t offset_ = 0;
  std::optional<DecodeError> error_;
};

}  // namespace carehub::gatt
