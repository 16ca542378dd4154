// Any bytes as what a browser sends carehub-web: a JSON body, a Cookie header, a listen address, a
// query integer, a path id, a peer address; and the display's view of whatever carehubd answered.
#include <cstdint>
#include <string_view>

#include "web/server/access.hpp"
#include "web/server/home_view.hpp"
#include "web/server/request_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carehub::web;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto body = parse_json_body(text, "application/json")) {
    // A body that parsed is also fed to the view builders, which must take any shape without throwing.
    (void)alert_view((*body)["alerts"], "Patient/p1", carehub::TimePoint{});
    (void)latest_reading((*body)["readings"], "Patient/p1");
    (void)series_points((*body)["readings"], "");
    (void)devices_needing_attention((*body)["devices"], carehub::TimePoint{});
    (void)body->dump();
  }
  (void)cookie_value(text, "carehub_session");
  (void)parse_host_port(text);
  (void)query_integer("days", text, true, 1, 90, 30);
  (void)valid_id(text);
  (void)is_loopback(text);
  (void)origin_allowed(text, "127.0.0.1:8080", false);
  return 0;
}
