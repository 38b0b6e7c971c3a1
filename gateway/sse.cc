#include "gateway/sse.h"

#include "absl/strings/match.h"

namespace tessera::gateway {

bool SseParser::Feed(absl::string_view bytes) {
  if (stopped_) return false;
  buffer_.append(bytes.data(), bytes.size());
  size_t start = 0;
  while (true) {
    size_t end = buffer_.find_first_of("\r\n", start);
    if (end == std::string::npos) break;
    // A lone '\r' at the end of the buffer may be the first half of "\r\n".
    if (buffer_[end] == '\r' && end + 1 == buffer_.size()) break;
    absl::string_view line(buffer_.data() + start, end - start);
    size_t next = end + 1;
    if (buffer_[end] == '\r' && buffer_[next] == '\n') ++next;
    if (!ProcessLine(line)) {
      stopped_ = true;
      buffer_.clear();
      return false;
    }
    start = next;
  }
  buffer_.erase(0, start);
  return true;
}

bool SseParser::Finish() {
  if (stopped_) return false;
  if (!buffer_.empty()) {
    std::string last = std::move(buffer_);
    buffer_.clear();
    if (!ProcessLine(last)) return false;
  }
  return Dispatch();
}

bool SseParser::ProcessLine(absl::string_view line) {
  if (line.empty()) return Dispatch();
  if (line[0] == ':') return true;  // comment / keep-alive
  absl::string_view field = line, value;
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (absl::StartsWith(value, " ")) value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_.data.push_back('\n');
    pending_.data.append(value.data(), value.size());
    has_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string(value);
  } else if (field == "id") {
    pending_.id = std::string(value);
  }
  // "retry" and unknown fields are ignored, as the spec says.
  return true;
}

bool SseParser::Dispatch() {
  if (!has_data_) {
    pending_ = SseEvent{};
    return true;
  }
  SseEvent event = std::move(pending_);
  pending_ = SseEvent{};
  has_data_ = false;
  return on_event_(event);
}

}  // namespace tessera::gateway
