#include "drivers/openhab/http.hpp"

#include <curl/curl.h>

#include <mutex>

#include "net/curl_global.hpp"

namespace carehub::openhab {
namespace {

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiFree {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyFree>;
using MultiPtr = std::unique_ptr<CURLM, MultiFree>;
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

constexpr std::size_t kMaxErrorBody = 512;  // what of a non-200 answer goes into the error message

// One transfer: the stream or the snapshot.
struct Transfer {
  EasyPtr easy;
  SlistPtr headers;
  long status = 0;
  bool opened = false;   // the stream's 200 headers arrived
  bool stopped = false;  // a handler ended it: not a transport error
  bool too_big = false;
  std::size_t limit = 0;
  std::string body;      // the snapshot's body, or the start of an error answer
  const StreamHandlers* handlers = nullptr;
  bool is_stream = false;
  char error[CURL_ERROR_SIZE] = {};
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (line == "\r\n" || line == "\n") {  // end of a header block
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &t->status);
    if (t->is_stream && t->status == 200 && !t->opened) {
      t->opened = true;
      if (t->handlers->on_open) t->handlers->on_open();
    }
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view bytes(data, size * n);
  if (t->is_stream && t->opened) {
    if (!t->handlers->on_data(bytes)) {
      t->stopped = true;
      return 0;  // aborts with CURLE_WRITE_ERROR, which run() reports as the handler's reason
    }
    return bytes.size();
  }
  if (t->is_stream) {  // the body of an error answer: keep the start for the message
    t->body.append(bytes.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, t->body.size())));
    return bytes.size();
  }
  if (t->body.size() + bytes.size() > t->limit) {
    t->too_big = true;
    return 0;
  }
  t->body.append(bytes);
  return bytes.size();
}

void configure(Transfer& t, const std::string& url, const HttpSettings& s) {
  CURL* c = t.easy.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t.error);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout.count()));
  if (!t.is_stream) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(s.request_timeout.count()));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s.verify_tls ? 2L : 0L);
  if (!s.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, s.ca_file.c_str());
  if (!s.userpwd.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, s.userpwd.c_str());
  }
  for (const auto& h : s.headers) t.headers.reset(curl_slist_append(t.headers.release(), h.c_str()));
  t.headers.reset(curl_slist_append(t.headers.release(),
                                    t.is_stream ? "Accept: text/event-stream" : "Accept: application/json"));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t.headers.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip for the item list when offered
  // A dead peer behind a silent NAT is found by the keep-alive deadline; TCP keep-alive helps the kernel.
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
}

// A transport failure in words, with libcurl's detail when it has one. Credentials never appear: libcurl's
// messages name hosts and ports, not headers.
std::string describe(CURLcode rc, const Transfer& t) {
  std::string out = curl_easy_strerror(rc);
  if (t.error[0]) out += std::string(": ") + t.error;
  return out;
}

std::string status_error(const Transfer& t, std::string_view what) {
  std::string out = "HTTP " + std::to_string(t.status) + " from " + std::string(what);
  if (t.status == 401 || t.status == 403) out += " (check the credentials in the auth settings)";
  if (!t.body.empty()) {
    std::string body = t.body.substr(0, 200);
    for (auto& ch : body) {
      if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    }
    out += ": " + body;
  }
  return out;
}

}  // namespace

struct HttpStream::Impl {
  MultiPtr multi;
};

HttpStream::HttpStream() : impl_(std::make_unique<Impl>()) {
  static_cast<void>(net::CurlGlobal{});  // libcurl initialised (once per process) before the multi handle
  impl_->multi.reset(curl_multi_init());
}

HttpStream::~HttpStream() = default;

void HttpStream::wake() {
  if (impl_->multi) curl_multi_wakeup(impl_->multi.get());
}

carehub::Result<void> HttpStream::run(const std::string& url, const std::string& snapshot_url,
                                      const HttpSettings& settings, std::size_t max_snapshot_bytes,
                                      const StreamHandlers& handlers, std::chrono::milliseconds tick) {
  CURLM* multi = impl_->multi.get();
  if (!multi) return carehub::make_error(Errc::internal, "curl: cannot create a multi handle");
  Transfer stream;
  stream.is_stream = true;
  stream.handlers = &handlers;
  stream.easy.reset(curl_easy_init());
  Transfer snapshot;
  snapshot.handlers = &handlers;
  snapshot.limit = max_snapshot_bytes;
  if (!stream.easy) return carehub::make_error(Errc::internal, "curl: cannot create a handle");
  configure(stream, url, settings);

  // Every handle added here is removed before the function returns, whatever path it takes.
  struct Attached {
    CURLM* multi;
    std::vector<CURL*> handles;
    ~Attached() {
      for (auto* h : handles) curl_multi_remove_handle(multi, h);
    }
    void add(CURL* h) {
      curl_multi_add_handle(multi, h);
      handles.push_back(h);
    }
    void remove(CURL* h) {
      curl_multi_remove_handle(multi, h);
      std::erase(handles, h);
    }
  } attached{multi, {}};
  attached.add(stream.easy.get());

  bool snapshot_started = false;
  for (;;) {
    int running = 0;
    if (const CURLMcode mc = curl_multi_perform(multi, &running); mc != CURLM_OK) {
      return carehub::make_error(Errc::internal, std::string("curl: ") + curl_multi_strerror(mc));
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      const CURLcode rc = msg->data.result;
      if (msg->easy_handle == snapshot.easy.get()) {
        attached.remove(snapshot.easy.get());
        if (snapshot.too_big) {
          handlers.on_snapshot(carehub::make_error(
              Errc::full, "GET /rest/items: the answer is larger than " + std::to_string(max_snapshot_bytes) + " bytes"));
        } else if (rc != CURLE_OK) {
          handlers.on_snapshot(carehub::make_error(Errc::unavailable, "GET /rest/items: " + describe(rc, snapshot)));
        } else if (snapshot.status != 200) {
          handlers.on_snapshot(carehub::make_error(Errc::unavailable, status_error(snapshot, "GET /rest/items")));
        } else {
          handlers.on_snapshot(std::move(snapshot.body));
        }
        continue;
      }
      // The stream itself ended.
      if (stream.stopped) return carehub::make_error(Errc::unavailable, "stream ended by the client");
      if (rc != CURLE_OK) return carehub::make_error(Errc::unavailable, describe(rc, stream));
      if (!stream.opened) return carehub::make_error(Errc::unavailable, status_error(stream, "GET /rest/events"));
      return carehub::make_error(Errc::unavailable, "the server closed the event stream");
    }
    if (stream.opened && !snapshot_started && !snapshot_url.empty()) {
      snapshot_started = true;
      snapshot.easy.reset(curl_easy_init());
      if (!snapshot.easy) return carehub::make_error(Errc::internal, "curl: cannot create a handle");
      configure(snapshot, snapshot_url, settings);
      attached.add(snapshot.easy.get());
      continue;  // start it at once
    }
    if (!handlers.keep_going()) return carehub::make_error(Errc::unavailable, "stream ended by the client");
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(tick.count()), nullptr);
  }
}

}  // namespace carehub::openhab
