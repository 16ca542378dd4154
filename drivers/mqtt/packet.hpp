#pragma once
// MQTT 3.1.1 packets (OASIS standard, 29 October 2014) as values, and their wire form. Pure: no I/O, no
// clock, no allocation beyond the values themselves. The subscriber (session.hpp) needs only part of the
// protocol, but the decoder accepts every packet a client or a server may send (except UNSUBSCRIBE and
// UNSUBACK, which carehub never sends, so never receives), so tests and the fuzzer can round-trip all of
// them. Every malformed input is an Errc::invalid_argument whose message names the packet and the field
// ("PUBLISH: topic name: ..."): the session drops the connection and logs it, it never crashes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace carehub::mqtt::packet {

// The four high bits of the first byte (MQTT 3.1.1, 2.2.1).
enum class Type : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

[[nodiscard]] std::string_view to_string(Type type);  // "CONNECT", "PUBLISH", ... ("type 0" when reserved)

struct Will {
  std::string topic;
  std::string payload;  // binary
  int qos = 0;
  bool retain = false;
  friend bool operator==(const Will&, const Will&) = default;
};

struct Connect {
  std::string client_id;
  bool clean_session = false;
  std::uint16_t keepalive_s = 0;  // 0 turns keepalive off
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary; 3.1.1 allows it only with a username
  friend bool operator==(const Connect&, const Connect&) = default;
};

// CONNACK return codes (3.2.2.3). 1..5 refuse the connection; 6..255 are reserved (a decode error).
enum class ConnackCode : std::uint8_t {
  accepted = 0,
  bad_protocol_version = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_username_or_password = 4,
  not_authorized = 5,
};
[[nodiscard]] std::string_view to_string(ConnackCode code);

struct Connack {
  bool session_present = false;
  ConnackCode code = ConnackCode::accepted;
  friend bool operator==(const Connack&, const Connack&) = default;
};

struct Publish {
  std::string topic;
  std::string payload;  // binary
  int qos = 0;
  bool retain = false;
  bool dup = false;                 // the sender delivered it before and saw no acknowledgement
  std::uint16_t packet_id = 0;      // non-zero for QoS 1 and 2, absent (0) for QoS 0
  // Set by the Decoder when the payload was over its limit: the payload was skipped, never buffered, and
  // `payload` is empty. The session still acknowledges it (counted as oversize), or the broker would
  // redeliver it forever.
  std::size_t dropped_payload_bytes = 0;
  friend bool operator==(const Publish&, const Publish&) = default;
};

// The four packets that are just a packet identifier.
struct Puback {
  std::uint16_t packet_id = 0;
  friend bool operator==(const Puback&, const Puback&) = default;
};
struct Pubrec {
  std::uint16_t packet_id = 0;
  friend bool operator==(const Pubrec&, const Pubrec&) = default;
};
struct Pubrel {
  std::uint16_t packet_id = 0;
  friend bool operator==(const Pubrel&, const Pubrel&) = default;
};
struct Pubcomp {
  std::uint16_t packet_id = 0;
  friend bool operator==(const Pubcomp&, const Pubcomp&) = default;
};

struct TopicRequest {
  std::string filter;
  int qos = 1;
  friend bool operator==(const TopicRequest&, const TopicRequest&) = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<TopicRequest> topics;  // at least one
  friend bool operator==(const Subscribe&, const Subscribe&) = default;
};

inline constexpr std::uint8_t kSubackFailure = 0x80;

struct Suback {
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> codes;  // per requested filter: granted QoS 0, 1, 2 or kSubackFailure
  friend bool operator==(const Suback&, const Suback&) = default;
};

struct Pingreq {
  friend bool operator==(const Pingreq&, const Pingreq&) = default;
};
struct Pingresp {
  friend bool operator==(const Pingresp&, const Pingresp&) = default;
};
struct Disconnect {
  friend bool operator==(const Disconnect&, const Disconnect&) = default;
};

using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe, Suback, Pingreq,
                            Pingresp, Disconnect>;

[[nodiscard]] Type type_of(const Packet& p);

// The largest remaining length the 4-byte varint can express (2.2.3).
inline constexpr std::size_t kMaxRemainingLength = 268'435'455;

// Appends the remaining-length varint of `n` (n <= kMaxRemainingLength) to `out`.
void append_remaining_length(std::string& out, std::size_t n);

// The wire form. Fails (naming the packet and field) for what cannot be encoded: a string over 65535
// bytes, QoS outside 0..2, a packet id of 0 where one is required, a password without a username, a
// packet over kMaxRemainingLength.
[[nodiscard]] carehub::Result<std::string> encode(const Packet& p);

// Decodes one whole packet: `first` is the first byte of the fixed header, `body` the `remaining length`
// bytes after it.
[[nodiscard]] carehub::Result<Packet> decode(std::uint8_t first, std::string_view body);

// Incremental decoding of a byte stream split anywhere (TCP and TLS hand over whatever arrived).
// Memory is bounded: a PUBLISH payload over `max_payload_bytes` is skipped as it streams past (the packet
// comes out with dropped_payload_bytes set), and any other packet longer than `max_control_bytes()` is an
// error. After an error the decoder is spent: every later next() repeats it (drop the connection).
class Decoder {
 public:
  explicit Decoder(std::size_t max_payload_bytes);

  void feed(std::string_view bytes);
  // A packet, nothing yet (more bytes needed), or the error that made the stream unusable.
  [[nodiscard]] carehub::Result<std::optional<Packet>> next();

  // Bytes fed and not yet returned as packets (or skipped).
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - pos_; }
  [[nodiscard]] std::size_t max_control_bytes() const { return max_payload_bytes_ + kMaxVariableHeader; }

 private:
  // The longest PUBLISH variable header: a topic of 65535 bytes, its length, a packet id.
  static constexpr std::size_t kMaxVariableHeader = 2 + 65535 + 2;

  carehub::Result<std::optional<Packet>> fail(Error e);
  void compact();

  std::size_t max_payload_bytes_;
  std::string buffer_;
  std::size_t pos_ = 0;          // start of the unconsumed bytes in buffer_
  std::size_t skip_ = 0;         // payload bytes of an oversize PUBLISH still to discard
  std::optional<Error> failed_;  // sticky
};

}  // namespace carehub::mqtt::packet
