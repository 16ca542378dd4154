// carehubctl decode: one characteristic value through drivers/gatt, printed as JSON. Needs no daemon:
// a technician pastes the bytes from btmon or a log line.
#include <iostream>

#include "daemon/ctl/ctl.hpp"
#include "drivers/gatt/decode.hpp"
#include "drivers/gatt/json.hpp"
#include "drivers/gatt/parse.hpp"

namespace carehub::ctl {

Runner add_decode_commands(CLI::App& app, Context&) {
  auto* decode = app.add_subcommand("decode", "decode a GATT health characteristic value (no daemon needed)");
  auto uuid = std::make_shared<std::string>();
  auto hex = std::make_shared<std::string>();
  decode->add_option("--uuid", *uuid, "characteristic UUID, e.g. 2A35")->required();
  decode->add_option("--hex", *hex, "the value's bytes in hex, e.g. 00780050005d00")->required();
  return [decode, uuid, hex]() -> int {
    if (!*decode) return -1;
    auto u = gatt::parse_uuid(*uuid);
    if (!u) {
      std::cout << nlohmann::json{{"error", "malformed"}, {"detail", "--uuid: " + u.error().detail}}.dump() << "\n";
      return 2;
    }
    auto bytes = gatt::parse_hex(*hex);
    if (!bytes) {
      std::cout << nlohmann::json{{"error", "malformed"}, {"detail", "--hex: " + bytes.error().detail}}.dump() << "\n";
      return 2;
    }
    const auto result = gatt::decode(*u, *bytes);
    std::cout << gatt::to_json(result).dump() << "\n";
    return result ? 0 : 2;
  };
}

}  // namespace carehub::ctl
