#include "drivers/openhab/sse_parser.hpp"

#include <charconv>
#include <cstring>

namespace carehub::openhab {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Position of the first CR or LF in `s`, or npos.
std::size_t find_line_end(std::string_view s) {
  const void* lf = std::memchr(s.data(), '\n', s.size());
  const std::size_t limit = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - s.data()) : s.size();
  const void* cr = std::memchr(s.data(), '\r', limit);
  if (cr) return static_cast<std::size_t>(static_cast<const char*>(cr) - s.data());
  return lf ? limit : std::string_view::npos;
}

}  // namespace

SseParser::SseParser(SseLimits limits) : limits_(limits) {}

void SseParser::feed(std::string_view chunk, SseOutput& out) {
  stats_.bytes += chunk.size();
  if (at_stream_start_) {
    // A BOM is stripped only at the very start of the stream, and it may arrive split across chunks.
    while (!chunk.empty() && bom_matched_ < kBom.size() && chunk.front() == kBom[bom_matched_]) {
      ++bom_matched_;
      chunk.remove_prefix(1);
    }
    if (bom_matched_ == kBom.size()) {
      at_stream_start_ = false;
    } else if (!chunk.empty()) {
      // Not a BOM after all: the bytes held back are ordinary stream bytes.
      at_stream_start_ = false;
      feed_body(kBom.substr(0, bom_matched_), out);
    } else {
      return;  // the chunk ended inside what may still be a BOM
    }
  }
  feed_body(chunk, out);
}

void SseParser::feed_body(std::string_view s, SseOutput& out) {
  while (!s.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (s.front() == '\n') {
        s.remove_prefix(1);
        continue;
      }
    }
    const std::size_t end = find_line_end(s);
    if (end == std::string_view::npos) {
      append_to_line(s, out);
      return;
    }
    const std::string_view piece = s.substr(0, end);
    after_cr_ = s[end] == '\r';
    s.remove_prefix(end + 1);

    if (skipping_line_) {
      skipping_line_ = false;  // the overflowing line ends here; it was already reported
      line_.clear();
      continue;
    }
    if (line_.empty()) {
      // The common case: the whole line is inside this chunk, so parse it in place without copying.
      if (piece.size() > limits_.max_line_bytes) {
        discard_event(SseError::Code::line_too_long, out);
        continue;
      }
      finish_line(piece, out);
    } else {
      append_to_line(piece, out);
      if (skipping_line_) {
        skipping_line_ = false;
        line_.clear();
        continue;
      }
      finish_line(line_, out);
      line_.clear();
    }
  }
}

void SseParser::append_to_line(std::string_view piece, SseOutput& out) {
  if (skipping_line_) return;
  if (line_.size() + piece.size() > limits_.max_line_bytes) {
    line_.clear();
    skipping_line_ = true;
    discard_event(SseError::Code::line_too_long, out);
    return;
  }
  line_.append(piece);
}

void SseParser::finish_line(std::string_view line, SseOutput& out) {
  if (line.empty()) {
    if (discarding_) {
      // The blank line ends the oversize event: drop what was gathered and start afresh.
      discarding_ = false;
      data_.clear();
      type_.clear();
      return;
    }
    dispatch(out);
    return;
  }
  if (discarding_) return;
  if (line.front() == ':') {
    ++stats_.comments;
    return;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    process_field(line, {}, out);
    return;
  }
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  process_field(line.substr(0, colon), value, out);
}

void SseParser::process_field(std::string_view field, std::string_view value, SseOutput& out) {
  if (field == "data") {
    if (type_.size() + data_.size() + value.size() + 1 > limits_.max_event_bytes) {
      discard_event(SseError::Code::event_too_long, out);
      return;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    if (value.size() + data_.size() > limits_.max_event_bytes) {
      discard_event(SseError::Code::event_too_long, out);
      return;
    }
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  } else if (field == "retry") {
    // Only a value of ASCII digits counts; anything else (sign, space, overflow) is ignored.
    std::uint32_t ms = 0;
    const char* last = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), last, ms);
    if (!value.empty() && ec == std::errc() && ptr == last) retry_ = std::chrono::milliseconds(ms);
  }
  // Any other field name is ignored, as the standard requires.
}

void SseParser::dispatch(SseOutput& out) {
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    type_.clear();
    return;
  }
  data_.pop_back();  // the "\n" after the last data line
  SseEvent event;
  event.type = type_.empty() ? std::string("message") : std::move(type_);
  event.data = std::move(data_);
  event.id = last_event_id_;
  out.events.push_back(std::move(event));
  ++stats_.events;
  data_.clear();
  type_.clear();
}

void SseParser::discard_event(SseError::Code code, SseOutput& out) {
  data_.clear();
  type_.clear();
  if (discarding_) return;  // already reported for this event
  discarding_ = true;
  ++stats_.discarded_events;
  SseError error;
  error.code = code;
  if (code == SseError::Code::line_too_long) {
    error.message = "SSE line longer than " + std::to_string(limits_.max_line_bytes) +
                    " bytes: event discarded up to the next blank line";
  } else {
    error.message = "SSE event larger than " + std::to_string(limits_.max_event_bytes) +
                    " bytes: event discarded up to the next blank line";
  }
  out.errors.push_back(std::move(error));
}

void SseParser::end_of_stream() {
  line_.clear();
  data_.clear();
  type_.clear();
  bom_matched_ = 0;
  at_stream_start_ = true;
  after_cr_ = false;
  skipping_line_ = false;
  discarding_ = false;
}

}  // namespace carehub::openhab
