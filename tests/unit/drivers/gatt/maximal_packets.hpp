#pragma once
// One packet per characteristic with every optional field its flags can announce: the longest packet a
// device sends (for the heart rate, with a single RR interval). Shared by the truncation tests.
#include <cstdint>
#include <string_view>

namespace carehub::gatt::testing {

struct MaximalPacket {
  const char* name;
  std::uint16_t uuid;
  std::string_view hex;
  std::uint8_t reserved_flag_bits;  // 0 where the first byte is not a flags field
};

inline constexpr MaximalPacket kMaximalPackets[] = {
    {"BloodPressureMmHg", 0x2A35, "1E 78 00 50 00 5D 00 E8 07 03 0F 0A 1E 2D 48 00 02 04 00", 0xE0},
    {"BloodPressureKpa", 0x2A35, "1F A0 F0 6B F0 7D F0 E8 07 03 0F 0A 1E 2D 48 00 02 24 00", 0xE0},
    {"IntermediateCuffPressure", 0x2A36, "1E 8C 00 FF 07 FF 07 E8 07 03 0F 0A 1E 2D 48 00 02 04 00", 0xE0},
    {"HeartRate", 0x2A37, "1F 48 00 2C 01 00 04", 0xE0},
    {"Temperature", 0x2A1C, "06 6C 01 00 FF E8 07 03 0F 0A 1E 2D 03", 0xF8},
    {"WeightSi", 0x2A9D, "0E B0 36 E8 07 03 0F 0A 1E 2D 01 F0 00 C2 06", 0xF0},
    {"WeightImperial", 0x2A9D, "0F 5C 3A E8 07 03 0F 0A 1E 2D 01 F0 00 A6 02", 0xF0},
    {"PlxSpotCheck", 0x2A5E, "1F 61 00 48 00 E8 07 03 0F 0A 1E 2D 80 00 20 00 00 1E F0", 0xE0},
    {"PlxContinuous", 0x2A5F, "1F 62 00 4B 00 61 00 4C 00 62 00 4A 00 00 01 00 80 00 1E F0", 0xE0},
    {"Glucose", 0x2A18, "1F 05 00 E8 07 03 0F 0A 1E 2D F6 FF 43 C0 F2 01 00", 0xE0},
    {"RecordAccessResponseCode", 0x2A52, "06 00 01 01", 0x00},
    {"RecordAccessNumberOfRecords", 0x2A52, "05 00 0A 00", 0x00},
    {"DateTime", 0x2A08, "E8 07 03 0F 0A 1E 2D", 0x00},
};

}  // namespace carehub::gatt::testing
