// Any bytes as a control-socket request line, as a response line for the client, and as an alert
// acknowledgement from the display over MQTT.
#include <cstdint>
#include <string_view>

#include "daemon/control_protocol.hpp"
#include "daemon/mqtt_acks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto r = carehub::daemon::parse_request(line)) {
    (void)carehub::daemon::encode_request(*r);
    (void)carehub::daemon::ok_response(r->id, r->args);
  } else {
    (void)carehub::daemon::error_response(nullptr, r.error());
  }
  (void)carehub::daemon::parse_response(line);
  (void)carehub::daemon::ack_alert_id(line);
  return 0;
}
