#pragma once
// Alert delivery after the commit (design.md: durable first, then published). The daemon hands every
// committed AlertEvent to each publisher, on the pipeline's writer thread: a publisher must not block
// (queue and return). Implementations: control-socket watchers (daemon/alert_watchers.hpp, for
// `carehubctl alerts watch`) and the MQTT binding (daemon/mqtt_alerts.hpp: retained topics for the display).
#include "core/alert.hpp"

namespace carehub::rules {

class AlertPublisher {
 public:
  virtual ~AlertPublisher() = default;
  virtual void publish(const AlertEvent& event) = 0;
};

}  // namespace carehub::rules
