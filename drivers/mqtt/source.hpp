#pragma once
// The mqtt source ("mqtt" under /sources in carehubd.json): subscribes to the configured topics, turns each
// message into a reading (number, openHAB state or reading JSON) and returns from Paho's message callback
// only once the reading is committed (see connection.hpp for what that means for the PUBACK). It also
// publishes the hub's own status, retained, with a retained "offline" last will, for home displays.
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/source.hpp"
#include "drivers/mqtt/config.hpp"
#include "drivers/mqtt/connection.hpp"

namespace carehub::mqtt {

// The SourceFactory for daemon/sources.cpp: validates `config` (at `path`), no I/O.
carehub::Result<std::unique_ptr<Source>> make_source(const nlohmann::json& config, const std::string& path,
                                                     const SourceContext& context);

// The retained status document: {"state":"online"|"offline","hub":…,"time":…}.
[[nodiscard]] std::string status_payload(std::string_view state, std::string_view hub_id, TimePoint now);

class MqttSource final : public Source {
 public:
  MqttSource(SourceConfig config, const SourceContext& context);
  ~MqttSource() override;

  std::string name() const override { return "mqtt"; }
  carehub::Result<void> start() override;
  void stop() override;
  nlohmann::json status() const override;

 private:
  carehub::Result<void> connected(Connection& c);
  void on_message(const Message& message);  // not handle(): that is Source::handle for commands
  void bad(std::string_view counter, const std::string& key, const std::string& message);

  SourceConfig config_;
  SourceContext context_;
  std::unique_ptr<Connection> connection_;

  mutable std::mutex mu_;
  std::optional<TimePoint> last_message_;
  std::optional<TimePoint> last_reading_;
  std::string last_error_;
  std::uint64_t messages_ = 0;
  std::uint64_t readings_ = 0;
};

}  // namespace carehub::mqtt
