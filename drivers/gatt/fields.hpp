#pragma once
// Field readers shared by the characteristic decoders (internal to drivers/gatt).
#include <string_view>

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/number.hpp"

namespace carehub::gatt {

inline Number read_sfloat(ByteReader& reader, std::string_view field) {
  return Number::from_sfloat(reader.u16(field));
}

inline Number read_float(ByteReader& reader, std::string_view field) { return Number::from_float(reader.u32(field)); }

inline bool has(unsigned flags, unsigned bit) { return (flags & bit) != 0; }

}  // namespace carehub::gatt
