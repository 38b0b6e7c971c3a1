// Server-Sent Events (text/event-stream) parsing, incremental: bytes arrive in
// arbitrary pieces (network reads) and complete events come out.
#ifndef TESSERA_GATEWAY_SSE_H_
#define TESSERA_GATEWAY_SSE_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace tessera::gateway {

struct SseEvent {
  std::string event;  // the "event:" field; empty means "message"
  std::string data;   // "data:" lines joined with '\n'
  std::string id;
};

class SseParser {
 public:
  // Called for each complete event; return false to stop parsing.
  using EventHandler = std::function<bool(const SseEvent&)>;

  explicit SseParser(EventHandler on_event) : on_event_(std::move(on_event)) {}

  // Feeds bytes; false once the handler asked to stop.
  bool Feed(absl::string_view bytes);
  // Dispatches a final event not followed by a blank line (a closed stream).
  bool Finish();

 private:
  bool ProcessLine(absl::string_view line);
  bool Dispatch();

  EventHandler on_event_;
  std::string buffer_;
  SseEvent pending_;
  bool has_data_ = false;
  bool stopped_ = false;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_SSE_H_
