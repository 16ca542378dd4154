// Fuzzes the MQTT packet decoder as the subscriber uses it: bytes from the broker, split anywhere, with a
// small payload limit so the oversize path (skip without buffering) is reached too. Input: one byte that
// chooses the split point and the limit, then the stream. Every packet that decodes must re-encode and
// decode to itself; every error must say what was wrong; a crash, a leak or unbounded buffering is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "drivers/mqtt/packet.hpp"

namespace packet = carehub::mqtt::packet;

namespace {

void round_trip(const packet::Packet& p) {
  if (const auto* pub = std::get_if<packet::Publish>(&p); pub && pub->dropped_payload_bytes > 0) {
    if (!pub->payload.empty()) __builtin_trap();  // a dropped payload is never kept
    return;
  }
  auto wire = packet::encode(p);
  if (!wire) __builtin_trap();  // whatever decodes is valid, so it encodes
  packet::Decoder again(1 << 20);
  again.feed(*wire);
  auto back = again.next();
  if (!back || !*back || !(**back == p) || again.buffered() != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t split = stream.empty() ? 0 : control % (stream.size() + 1);
  const std::size_t limit = (control & 0x80) ? 16 : 4096;

  packet::Decoder d(limit);
  for (const auto piece : {stream.substr(0, split), stream.substr(split)}) {
    d.feed(piece);
    for (int guard = 0; guard < 100000; ++guard) {
      auto r = d.next();
      if (!r) {
        if (r.error().message.empty()) __builtin_trap();
        if (d.next()) __builtin_trap();  // a failed stream stays failed
        return 0;
      }
      if (!*r) break;
      round_trip(**r);
    }
    // Bounded memory: never more than one control packet's worth (plus what the piece added) is held.
    if (d.buffered() > d.max_control_bytes() + piece.size() + 5) __builtin_trap();
  }
  // The one-shot decoder on the same bytes: a result or an error with a message, nothing else.
  if (stream.size() >= 1) {
    auto one = packet::decode(data[1], stream.substr(1));
    if (!one && one.error().message.empty()) __builtin_trap();
  }
  return 0;
}
