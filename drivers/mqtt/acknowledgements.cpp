#include "drivers/mqtt/acknowledgements.hpp"

#include "drivers/mqtt/packet.hpp"

namespace carehub::mqtt {

void Acknowledgements::add(std::shared_ptr<Outstanding> outstanding, std::uint16_t packet_id, int qos,
                           std::string topic, bool resent) {
  inflight_.push_back(Pending{std::move(outstanding), packet_id, qos, std::move(topic), resent});
}

Settled Acknowledgements::settle() {
  Settled out;
  while (!inflight_.empty() && inflight_.front().outstanding->ready.load()) {
    auto done = std::move(inflight_.front());
    inflight_.pop_front();
    auto outcome = done.outstanding->delivery.finish();
    if (!outcome) {
      if (done.qos == 0) continue;  // nothing to acknowledge and nothing the broker could resend
      ++failures_;
      std::string also;
      if (!inflight_.empty()) also = " (nor the " + std::to_string(inflight_.size()) + " received after it)";
      out.failure = make_error(outcome.error().code, "the message on " + done.topic + " is not durable (" +
                                                         outcome.error().message + "): not acknowledged" + also +
                                                         "; reconnecting so that the broker redelivers it");
      return out;
    }
    if (!done.resent) failures_ = 0;
    if (done.qos == 0) continue;
    // A PUBACK or PUBREC cannot fail to encode (a fixed header and an id); were it to, the message stays
    // unacknowledged and the connection ends, as on any failure.
    auto bytes = done.qos == 1 ? packet::encode(packet::Puback{done.packet_id})
                               : packet::encode(packet::Pubrec{done.packet_id});
    if (!bytes) {
      out.failure = make_error(Errc::internal, "cannot encode an acknowledgement: " + bytes.error().message);
      return out;
    }
    out.acknowledgements += *bytes;
    if (done.resent) continue;  // a PUBREC again, for a message counted the first time
    ++out.acknowledged;
    // Durable: a redelivery of it (our PUBREC lost) is answered with the PUBREC alone, never handed over again.
    if (done.qos == 2) awaiting_pubrel_.insert(done.packet_id);
  }
  return out;
}

}  // namespace carehub::mqtt
