#pragma once
// carehubd's control commands: one table of {name, handler}. Each group of commands lives in
// daemon/commands/<group>.cpp, beside carehubctl's daemon/ctl/<group>.cpp that sends them, and lists its
// entries there; the table dispatches a request to its entry, hands a command no entry names to the source
// that answers it (devices.* of the BLE driver), and answers anything else "unknown command", naming the
// known ones from the same entries.
//
// Adding a command is one entry in its group's list (groups.hpp lists the groups). Handlers get a
// Context, the daemon's services they may use, never the daemon itself. A command that changes clinical
// state is dispatched through the audit hook (daemon/commands/audit.hpp): who, what, when and the outcome
// are recorded, with the change in its transaction.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "daemon/alert_watchers.hpp"
#include "daemon/config.hpp"
#include "daemon/control_server.hpp"
#include "daemon/snapshot.hpp"
#include "store/pipeline.hpp"
#include "store/store.hpp"
#include "sync/uploader.hpp"

namespace carehub::daemon::commands {

// What a handler may use. The store: writes go through the pipeline (so they take effect in the writer's
// order), reads through one connection shared by the control threads under `reader_mu`. The rest are
// the daemon's services as functions; a test sets only those its commands use.
struct Context {
  Pipeline& pipeline;
  StoreReader& reader;
  std::mutex& reader_mu;
  Logger& log;
  Counters& counters;
  const Clock& clock;
  // Snapshots: each command holds its own for as long as it uses it, so a reload never frees one under it.
  std::function<std::shared_ptr<const Config>()> config = {};
  std::function<std::shared_ptr<sync::Uploader>()> uploader = {};
  std::function<Result<Snapshot>()> gather = {};
  std::function<nlohmann::json()> sources = {};  // each source's own status, by name
  // Alerts: the acknowledgement every channel shares (durable before it returns), closing, watching.
  std::function<Result<Alert>(const std::string& id, const std::string& by)> acknowledge = {};
  std::function<Result<std::vector<AlertEvent>>(const std::string& id)> close_alert = {};
  std::function<std::unique_ptr<AlertWatchers::Subscription>()> watch = {};
  // A command a source answers (the BLE driver's devices.*); an error saying so when none does.
  std::function<Result<nlohmann::json>(const std::string& cmd, const nlohmann::json& args)> forward = {};
  // Set once stop() began: a command that waits (sync now --wait) answers stopping_error() instead.
  const std::atomic<bool>* stopping = nullptr;
  // The uid whose requests may name a carehub-web login ("web_user", daemon/commands/audit.hpp); unset: the
  // carehub-web account's, looked up when a request names one, and carehubd's own.
  std::optional<uid_t> web_uid = {};
};

using Handler = Result<nlohmann::json> (*)(const Context&, const nlohmann::json& args, const PeerCred& peer);
// A long-lived answer (alerts.watch): returns when the client hangs up or the server stops.
using StreamHandler = Result<void> (*)(const Context&, const Request& request, ControlStream& stream);

struct Command {
  std::string_view name;
  Handler handler = nullptr;        // exactly one of handler and stream
  StreamHandler stream = nullptr;
  // false: the name is shared with a source (devices.pair, devices.assign), and "unknown command" counts
  // it among the source's devices.* rather than naming it.
  bool listed = true;
};

// The answer to a command that arrives, or was waiting, once stop() has begun.
Error stopping_error();

class Table {
 public:
  explicit Table(Context context);

  // An entry's handler, else the source that answers `cmd` (Context::forward).
  Result<nlohmann::json> dispatch(const Request& request, const PeerCred& peer) const;
  // The stream entries, for ControlServer::listen.
  std::map<std::string, ControlServer::StreamHandler> streams() const;

  // For Context::forward when no source answers `cmd`: a devices.* command needs the BLE source; anything
  // else is unknown, and the error names every listed entry.
  static Error not_served(const std::string& cmd, Counters& counters);

 private:
  Context context_;
};

}  // namespace carehub::daemon::commands
