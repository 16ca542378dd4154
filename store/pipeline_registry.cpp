// The pipeline's registry operations: devices, user-slot bindings, and the technician's decisions on
// unassigned readings. All run on the writer thread (which alone owns `attribution_`), each inside the
// group transaction under its own savepoint, so attribution changes exactly when the registry's commit does.
#include "store/pipeline.hpp"

namespace carehub {
namespace {

// Shared state between an operation and its completion, on the writer thread.
template <typename T>
std::future<Result<T>> promise_pair(std::shared_ptr<std::promise<Result<T>>>& promise) {
  promise = std::make_shared<std::promise<Result<T>>>();
  return promise->get_future();
}

}  // namespace

void Pipeline::load_devices(const std::vector<Device>& devices) {
  std::lock_guard lock(mu_);
  for (const auto& d : devices) attribution_.set_device(d);
}

std::future<Result<void>> Pipeline::upsert_device(Device device) {
  return apply([this, device = std::move(device)](StoreWriter& w) mutable -> Result<void> {
    device.bound_since = attribution_.bound_since_for(device, wall_now());
    if (auto r = w.upsert_device(device); !r) return r;
    // At once, so readings later in this batch already see it (as they did before). Only a failed commit
    // could leave attribution ahead of the store; the caller then hears of the failure and retries.
    attribution_.set_device(device);
    return {};
  });
}

std::future<Result<bool>> Pipeline::remove_device(std::string id) {
  std::shared_ptr<std::promise<Result<bool>>> promise;
  auto future = promise_pair(promise);
  auto removed = std::make_shared<bool>(false);
  enqueue({[this, id = std::move(id), removed](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             auto r = w.remove_device(id);
             if (!r) return r.error();
             *removed = *r;
             attribution_.forget_device(id);
             return std::vector<AlertEvent>{};
           },
           [promise, removed](Result<void> r) {
             if (r) promise->set_value(*removed);
             else promise->set_value(r.error());
           }});
  return future;
}

std::future<Result<void>> Pipeline::bind_user(UserBinding binding) {
  return apply([this, b = std::move(binding)](StoreWriter& w) mutable -> Result<void> {
    if (b.patient.empty() || b.user < 0 || b.user >= kUnknownUser || b.device.empty()) {
      return make_error(Errc::invalid_argument, "binding a user slot needs a device, a user slot 0..254 (255 is the "
                                                "device's \"unknown user\") and a patient");
    }
    // Pairing again to the same patient keeps the original since: readings between then and now stay hers.
    const auto known = attribution_.binding(b.device, b.user);
    b.since = known && known->patient == b.patient ? known->since : wall_now();
    if (auto r = w.put_binding(b); !r) return r;
    attribution_.set_binding(b);
    log_.notice("pipeline", "user-slot-bound", {{"device", b.device}, {"user", b.user}, {"by", b.by}});
    return {};
  });
}

std::future<Result<bool>> Pipeline::unbind_user(std::string device, int user) {
  std::shared_ptr<std::promise<Result<bool>>> promise;
  auto future = promise_pair(promise);
  auto removed = std::make_shared<bool>(false);
  enqueue({[this, device = std::move(device), user, removed](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             auto r = w.remove_binding(device, user);
             if (!r) return r.error();
             *removed = *r;
             attribution_.remove_binding(device, user);
             if (*r) log_.notice("pipeline", "user-slot-unbound", {{"device", device}, {"user", user}});
             return std::vector<AlertEvent>{};
           },
           [promise, removed](Result<void> r) {
             if (r) promise->set_value(*removed);
             else promise->set_value(r.error());
           }});
  return future;
}

std::future<Result<std::vector<AssignedReading>>> Pipeline::assign_readings(std::vector<std::string> uids,
                                                                            std::string patient, std::string who) {
  std::shared_ptr<std::promise<Result<std::vector<AssignedReading>>>> promise;
  auto future = promise_pair(promise);
  auto outcome = std::make_shared<std::vector<AssignedReading>>();
  enqueue({[this, uids = std::move(uids), patient = std::move(patient), who = std::move(who),
            outcome](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             const TimePoint now = wall_now();
             std::vector<StoredReading> judged;
             auto r = w.assign_readings(uids, patient, who, now, &judged, options_.hub_id);
             if (!r) return r.error();
             *outcome = std::move(*r);
             std::vector<AlertEvent> events;
             if (hook_ && !judged.empty()) {
               // Unlike new readings (stored even when a rule fails), an assignment whose readings cannot be
               // judged is undone whole: the technician retries, and nothing is left pending but unjudged.
               auto e = hook_->judge_assigned(w, judged, now);
               if (!e) {
                 log_.error("rules", "assigned-readings-not-judged", {{"error", e.error().message}});
                 counters_.add("rules_errors");
                 return make_error(e.error().code, "the rules could not judge the assigned readings, nothing was "
                                                   "assigned: " + e.error().message);
               }
               events = std::move(*e);
             }
             counters_.add("readings_assigned", outcome->size());
             log_.notice("pipeline", "readings-assigned", {{"readings", outcome->size()}, {"by", who}});
             return events;
           },
           [promise, outcome](Result<void> r) {
             if (r) promise->set_value(std::move(*outcome));
             else promise->set_value(r.error());
           }});
  return future;
}

std::future<Result<std::int64_t>> Pipeline::discard_readings(std::vector<std::string> uids, std::string who,
                                                             std::string reason) {
  std::shared_ptr<std::promise<Result<std::int64_t>>> promise;
  auto future = promise_pair(promise);
  auto changed = std::make_shared<std::int64_t>(0);
  enqueue({[this, uids = std::move(uids), who = std::move(who), reason = std::move(reason),
            changed](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             auto r = w.discard_readings(uids, who, reason, wall_now());
             if (!r) return r.error();
             *changed = *r;
             counters_.add("readings_discarded", static_cast<std::uint64_t>(*r));
             log_.notice("pipeline", "readings-discarded", {{"readings", *r}, {"by", who}});
             return std::vector<AlertEvent>{};
           },
           [promise, changed](Result<void> r) {
             if (r) promise->set_value(*changed);
             else promise->set_value(r.error());
           }});
  return future;
}

}  // namespace carehub
