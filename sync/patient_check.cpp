#include "sync/patient_check.hpp"

#include "sync/fhir_mapping.hpp"

namespace carehub::sync {

Result<bool> PatientCheck::exists(const std::string& patient, const Send& send) {
  if (known_.contains(patient)) return true;
  if (missing_.contains(patient)) return false;
  // Only "Patient/<id>" is ever configured (config.cpp checks it); the id goes into a URL path, so it
  // is escaped like a search value (an id has no characters that need it; a hostile one cannot escape).
  const auto slash = patient.find('/');
  if (slash == std::string::npos || patient.compare(0, slash, "Patient") != 0) {
    return make_error(Errc::invalid_argument, "not a Patient reference: \"" + patient + "\"");
  }
  HttpRequest req;
  req.method = "GET";
  req.url = base_url_ + "/Patient/" + fhir::search_value(patient.substr(slash + 1));
  req.headers = {{"Accept", "application/fhir+json"}};
  auto resp = send(std::move(req));
  if (!resp) return resp.error();
  if (resp->status >= 200 && resp->status < 300) {
    known_.insert(patient);
    return true;
  }
  if (resp->status == 404 || resp->status == 410) {
    missing_.insert(patient);
    return false;
  }
  return make_error(Errc::unavailable, "looking up " + patient + ": HTTP " + std::to_string(resp->status) + " " +
                                           resp->body.substr(0, 200));
}

std::string missing_patients_error(const std::set<std::string>& missing) {
  std::string list;
  for (const auto& p : missing) list += (list.empty() ? "" : ", ") + p;
  return "configuration error: the FHIR server has no " + list +
         " (check /hub/patient and the device bindings, or register the patient on the server);"
         " its readings and alerts stay pending and are sent once it exists";
}

}  // namespace carehub::sync
