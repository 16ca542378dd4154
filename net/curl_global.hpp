#pragma once
// libcurl's process-wide initialisation, once, for every libcurl user in carehub: the FHIR uploader's
// client (sync/curl_http_client.cpp) and the openHAB driver (drivers/openhab/http.cpp). Each used to run
// its own curl_global_init.
//
// Why here, and header-only: core must not link curl, and a driver must not depend on sync, so neither
// can hold it; both already link CURL::libcurl. An inline function's static is one object in the whole
// program, so a header is enough, and it needs no library (nor a top-level CMake change) of its own.
#include <curl/curl.h>

namespace carehub::net {

// Hold one (a member declared before any CURL handle, or a local before the first handle is made):
// constructing it guarantees curl_global_init has run, exactly once per process. curl_global_init is
// not thread-safe before libcurl 7.84; a function-local static's initialisation is. There is no
// matching curl_global_cleanup: it is not thread-safe either, and would pull TLS out from under the
// other user; the process's exit reclaims what init took.
class CurlGlobal {
 public:
  CurlGlobal() : ok_(init() == CURLE_OK) {}
  // False when libcurl could not initialise; curl_easy_init then fails too, which each user reports.
  bool ok() const { return ok_; }

 private:
  static CURLcode init() {
    static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    return code;
  }
  bool ok_;
};

}  // namespace carehub::net
