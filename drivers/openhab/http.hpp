#pragma once
// The openHAB client's only door to the network: libcurl behind a small interface, so a CURLcode never
// leaves http.cpp and the source's logic reads carehub errors. One HttpStream per source thread.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace carehub::openhab {

struct HttpSettings {
  std::vector<std::string> headers;  // "Authorization: Bearer …" etc.; never logged
  std::string userpwd;               // Basic credentials "user:password"; empty: none
  bool verify_tls = true;
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};  // the snapshot GET as a whole (not the stream)
};

struct StreamHandlers {
  // The stream answered 200: events flow from now on.
  std::function<void()> on_open;
  // A piece of the body. Return false to end the stream (the reason is set with fail()).
  std::function<bool(std::string_view)> on_data;
  // Once the stream is open, `snapshot_url` is fetched on the same event loop; this gets its body (at most
  // `max_snapshot_bytes`) or why it failed.
  std::function<void(carehub::Result<std::string>)> on_snapshot;
  // Asked every `tick` while waiting; false ends the stream (stop requested or the stream is dead).
  std::function<bool()> keep_going;
};

class HttpStream {
 public:
  HttpStream();
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Runs one streaming GET until the server closes it, an error, or a handler says stop. The error says
  // why it ended ("HTTP 401 …", "connection refused …", "server closed the stream"); it is never ok.
  carehub::Result<void> run(const std::string& url, const std::string& snapshot_url, const HttpSettings& settings,
                            std::size_t max_snapshot_bytes, const StreamHandlers& handlers,
                            std::chrono::milliseconds tick = std::chrono::milliseconds(100));

  // Thread-safe: wakes run() at once so it asks keep_going() again (used by stop()).
  void wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub::openhab
