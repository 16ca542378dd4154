#pragma once
// Does the server hold the Patient a reading is uploaded under?
//
// HAPI JPA enforces referential integrity on write: with a wrong /hub/patient (or a Patient not yet
// registered, or expunged) it refuses every Observation and DetectedIssue, each entry on its own. Taken
// as per-entry refusals that would dead-letter the whole buffer. So each distinct patient is looked up
// once (GET Patient/<id>) before anything is sent under it: a missing one is a configuration error that
// keeps its readings pending, and is looked up again on the next attempt (after backoff, on reload).
#include <functional>
#include <set>
#include <string>

#include "core/result.hpp"
#include "sync/http_client.hpp"

namespace carehub::sync {

class PatientCheck {
 public:
  using Send = std::function<Result<HttpResponse>(HttpRequest)>;
  explicit PatientCheck(std::string base_url) : base_url_(std::move(base_url)) {}

  // True: the server has it (remembered for this uploader's life). False: it answered 404 or 410
  // (remembered until forget_missing(), so one pass asks once). An error: the server could not say
  // (transport, 5xx, 401...): the caller backs off, as for any failed request.
  Result<bool> exists(const std::string& patient, const Send& send);

  // A new attempt (after backoff): look up the missing ones again.
  void forget_missing() { missing_.clear(); }
  // The server said a referenced resource is gone: believe nothing remembered.
  void forget_all() {
    known_.clear();
    missing_.clear();
  }
  const std::set<std::string>& missing() const { return missing_; }

 private:
  std::string base_url_;
  std::set<std::string> known_;
  std::set<std::string> missing_;
};

// The configuration-error text for missing patients, for status, log and last_error.
std::string missing_patients_error(const std::set<std::string>& missing);

}  // namespace carehub::sync
