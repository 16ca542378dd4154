#pragma once
// The technician's decisions on unassigned readings (design.md invariant 7, issue 14), over the control
// socket: `readings.unassigned` lists them, `readings.assign` gives them to a patient (the pipeline then
// judges them by that patient's rules in measurement order and queues them for upload), and
// `readings.discard` keeps them as belonging to nobody on this hub, with who, when and why.
//
//   readings.unassigned {"limit"?: 1..10000, "discarded"?: bool}
//       -> {"readings": [{uid, kind, time, device, user, values, received, reason, ...}], "unassigned": N}
//   readings.assign {"uids": [...], "patient": "Patient/…", "by"?: "…"}
//       -> {"patient": …, "assigned": [{"old_uid", "uid", "already_stored"}], "by": …}
//   readings.discard {"uids": [...], "reason"?: "…", "by"?: "…"} -> {"discarded": N, "by": …}
//
// Who decided is the socket's peer (SO_PEERCRED) plus the optional --by name (daemon/command_args.hpp).
// Assign and discard are all or nothing: one unknown uid changes nothing and names the uid.
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/counters.hpp"
#include "core/log.hpp"
#include "store/pipeline.hpp"
#include "store/store.hpp"
#include "daemon/control_server.hpp"

namespace carehub::daemon {

class ReadingsCommands {
 public:
  // `reader` is shared with the daemon's other control commands; `reader_mu` guards it.
  ReadingsCommands(Pipeline& pipeline, StoreReader& reader, std::mutex& reader_mu, Logger& log, Counters& counters)
      : pipeline_(pipeline), reader_(reader), reader_mu_(reader_mu), log_(log), counters_(counters) {}

  static bool handles(std::string_view cmd);
  Result<nlohmann::json> handle(const std::string& cmd, const nlohmann::json& args, const PeerCred& peer);

 private:
  Result<nlohmann::json> unassigned(const nlohmann::json& args);
  Result<nlohmann::json> assign(const nlohmann::json& args, const PeerCred& peer);
  Result<nlohmann::json> discard(const nlohmann::json& args, const PeerCred& peer);
  Error refused(const std::string& message);  // bad arguments: counted, then answered

  Pipeline& pipeline_;
  StoreReader& reader_;
  std::mutex& reader_mu_;
  Logger& log_;
  Counters& counters_;
};

}  // namespace carehub::daemon
