// The incremental Decoder: bytes split anywhere in, whole packets out, memory bounded (an oversize payload is
// skipped as it streams past).
#include "drivers/mqtt/packet.hpp"

#include <algorithm>

#include "drivers/mqtt/packet_detail.hpp"

namespace carehub::mqtt::packet {

using detail::malformed;
using detail::str;

Decoder::Decoder(std::size_t max_payload_bytes) : max_payload_bytes_(max_payload_bytes) {}

void Decoder::feed(std::string_view bytes) {
  if (failed_) return;
  if (skip_ > 0) {  // the rest of an oversize payload: discard without buffering
    const auto n = std::min(skip_, bytes.size());
    skip_ -= n;
    bytes.remove_prefix(n);
  }
  compact();
  buffer_.append(bytes);
}

void Decoder::compact() {
  // Consumed bytes are dropped in bulk, not per packet, so a burst of small packets costs linear time.
  if (pos_ > 0 && (pos_ == buffer_.size() || pos_ >= 64 * 1024)) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

Result<std::optional<Packet>> Decoder::fail(Error e) {
  failed_ = e;
  buffer_.clear();
  pos_ = 0;
  return e;
}

Result<std::optional<Packet>> Decoder::next() {
  if (failed_) return *failed_;
  if (skip_ > 0) {
    const auto n = std::min(skip_, buffered());
    skip_ -= n;
    pos_ += n;
    if (skip_ > 0) return std::optional<Packet>{};
  }
  const std::string_view avail = std::string_view(buffer_).substr(pos_);
  if (avail.size() < 2) return std::optional<Packet>{};
  const auto first = static_cast<std::uint8_t>(avail[0]);
  // Remaining length (2.2.3): 7 bits a byte, least significant first, at most four bytes.
  std::size_t remaining = 0;
  std::size_t header = 1;
  for (std::size_t multiplier = 1;; multiplier *= 128) {
    if (header >= avail.size()) return std::optional<Packet>{};
    const auto byte = static_cast<std::uint8_t>(avail[header]);
    remaining += (byte & 0x7Fu) * multiplier;
    ++header;
    if ((byte & 0x80) == 0) break;
    if (header == 5) {
      const auto raw_type = static_cast<std::uint8_t>(first >> 4);
      return fail(make_error(Errc::invalid_argument,
                             (raw_type == 0 || raw_type == 15 ? std::string("packet type ") + std::to_string(raw_type)
                                                              : str(static_cast<Type>(raw_type))) +
                                 ": remaining length: longer than 4 bytes"));
    }
  }
  const auto type = static_cast<Type>(first >> 4);
  if (type == Type::publish && remaining > max_control_bytes()) {
    // Too big to buffer: decode the variable header (bounded), skip the payload as it streams past.
    if (avail.size() < header + 2) return std::optional<Packet>{};
    const auto topic_len = (static_cast<std::size_t>(static_cast<unsigned char>(avail[header])) << 8) |
                           static_cast<unsigned char>(avail[header + 1]);
    const std::size_t var = 2 + topic_len + (((first >> 1) & 0x3) != 0 ? 2 : 0);
    if (var > remaining) {
      return fail(malformed(Type::publish, "topic name",
                            "length " + std::to_string(topic_len) + " runs past the end of the packet"));
    }
    if (avail.size() < header + var) return std::optional<Packet>{};
    auto decoded = decode(first, avail.substr(header, var));
    if (!decoded) return fail(decoded.error());
    auto& p = std::get<Publish>(*decoded);
    p.dropped_payload_bytes = remaining - var;
    pos_ += header + var;
    skip_ = remaining - var;
    const auto n = std::min(skip_, buffered());
    skip_ -= n;
    pos_ += n;
    compact();
    return std::optional<Packet>(std::move(*decoded));
  }
  if (type != Type::publish && remaining > max_control_bytes()) {
    const auto raw_type = static_cast<std::uint8_t>(first >> 4);
    return fail(make_error(Errc::invalid_argument,
                           (raw_type == 0 || raw_type == 15 ? std::string("packet type ") + std::to_string(raw_type)
                                                            : str(type)) +
                               ": remaining length: " + std::to_string(remaining) + " bytes is over the limit of " +
                               std::to_string(max_control_bytes())));
  }
  if (avail.size() < header + remaining) return std::optional<Packet>{};
  auto decoded = decode(first, avail.substr(header, remaining));
  pos_ += header + remaining;
  if (!decoded) return fail(decoded.error());
  if (auto* p = std::get_if<Publish>(&*decoded); p && p->payload.size() > max_payload_bytes_) {
    p->dropped_payload_bytes = p->payload.size();
    p->payload.clear();
    p->payload.shrink_to_fit();
  }
  compact();
  return std::optional<Packet>(std::move(*decoded));
}

}  // namespace carehub::mqtt::packet
