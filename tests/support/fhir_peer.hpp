#pragma once
// The local FHIR server (tests/peers/fhir) on a free loopback port, started for one test and stopped
// with it, plus the look-ups tests make against it.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/child_process.hpp"

namespace carehub::test {

class FhirPeer {
 public:
  // Starts the server with port 0 and reads the port it prints. Throws with the server's log on failure.
  // `port` = 0 picks a free one; a fixed port lets a test restart the peer where carehubd expects it.
  explicit FhirPeer(const std::string& log_file, int port = 0);
  ~FhirPeer();

  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:<port>/fhir/R4
  void stop();

  nlohmann::json get(const std::string& path_and_query);  // GET <base>/<path>, parsed
  // How many resources of `type` carry identifier `system|value`.
  std::size_t count_by_identifier(const std::string& type, const std::string& system, const std::string& value);
  std::size_t count(const std::string& type);
  void put(const std::string& path, const nlohmann::json& resource);

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace carehub::test
