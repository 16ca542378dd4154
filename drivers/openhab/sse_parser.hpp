#pragma once
// Incremental parser for the text/event-stream format ("Parsing an event stream" in the WHATWG HTML
// standard's server-sent events section). Feed it the response body in whatever pieces the socket hands
// over: frames split across reads, several frames in one read, CRLF, LF or CR line endings, a CR at the
// end of one read and its LF at the start of the next. The output never depends on how the bytes were cut.
//
// Memory is bounded: a line longer than SseLimits::max_line_bytes, or an event whose type and data grow
// past max_event_bytes, is dropped up to the next blank line, reported once as an SseError and counted;
// the parser then carries on with the next event. The parser does no I/O and is not thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carehub::openhab {

struct SseEvent {
  std::string type;  // the `event:` field; "message" when the event had none
  std::string data;  // the `data:` lines joined with "\n"
  std::string id;    // the last event ID in force when the event was dispatched ("" when none)

  bool operator==(const SseEvent&) const = default;
};

struct SseLimits {
  std::size_t max_line_bytes = 64 * 1024;   // one line, its terminator excluded
  std::size_t max_event_bytes = 64 * 1024;  // one event's type plus data
};

struct SseError {
  enum class Code { line_too_long, event_too_long };
  Code code = Code::line_too_long;
  std::string message;

  bool operator==(const SseError&) const = default;
};

// What one feed() produced, appended in stream order. Reuse one across calls and clear() it to avoid
// reallocating.
struct SseOutput {
  std::vector<SseEvent> events;
  std::vector<SseError> errors;

  void clear() {
    events.clear();
    errors.clear();
  }
};

struct SseStats {
  std::uint64_t bytes = 0;             // fed in
  std::uint64_t events = 0;            // dispatched
  std::uint64_t comments = 0;          // ":" lines; servers use them as keep-alives
  std::uint64_t discarded_events = 0;  // dropped for exceeding a limit (one SseError each)
};

class SseParser {
 public:
  explicit SseParser(SseLimits limits = {});

  // Parses the next piece of the stream, appending every event completed by it (and every error) to `out`.
  void feed(std::string_view chunk, SseOutput& out);

  // The connection closed. A half-received event is dropped, as the standard says, and the parser expects
  // a fresh stream (which may start with a BOM again). The last event ID and retry survive: a reconnecting
  // client sends the ID back in Last-Event-ID and waits `retry` before reconnecting.
  void end_of_stream();

  [[nodiscard]] const std::string& last_event_id() const { return last_event_id_; }
  // The server's `retry:` reconnection time, if it sent one.
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry() const { return retry_; }
  [[nodiscard]] const SseStats& stats() const { return stats_; }
  [[nodiscard]] const SseLimits& limits() const { return limits_; }

 private:
  void feed_body(std::string_view bytes, SseOutput& out);
  void append_to_line(std::string_view piece, SseOutput& out);
  void finish_line(std::string_view line, SseOutput& out);
  void process_field(std::string_view field, std::string_view value, SseOutput& out);
  void dispatch(SseOutput& out);
  void discard_event(SseError::Code code, SseOutput& out);

  SseLimits limits_;
  std::string line_;             // the start of a line whose end has not arrived yet
  std::string data_;             // data buffer
  std::string type_;             // event type buffer
  std::string id_buffer_;        // last event ID buffer (set by `id:`)
  std::string last_event_id_;    // promoted from id_buffer_ at each blank line
  std::optional<std::chrono::milliseconds> retry_;
  std::size_t bom_matched_ = 0;  // bytes of a UTF-8 BOM seen so far at the start of the stream
  bool at_stream_start_ = true;
  bool after_cr_ = false;        // the previous byte was a CR, so an LF next is part of the same line end
  bool skipping_line_ = false;   // the current line overflowed: drop bytes up to its end
  bool discarding_ = false;      // the current event overflowed: drop lines up to the next blank line
  SseStats stats_;
};

}  // namespace carehub::openhab
