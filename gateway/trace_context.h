// W3C Trace Context (traceparent) for the router's hops: parse the caller's
// header or start a trace, give each hop its own span id, and log every
// finished span as one JSON line through spdlog:
//   {"event":"span","trace_id":..,"span_id":..,"parent_span_id":..,"name":..,
//    "start":"<RFC 3339>","duration_ms":..,"status":..}
// Outgoing calls carry "00-<trace id>-<span id of the current hop>-<flags>", so
// the next hop's span names this one as its parent.
#ifndef TESSERA_GATEWAY_TRACE_CONTEXT_H_
#define TESSERA_GATEWAY_TRACE_CONTEXT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tessera::gateway {

inline constexpr char kTraceparentHeader[] = "traceparent";

struct TraceContext {
  std::string trace_id;  // 32 lower-case hex digits, not all zero
  std::string span_id;   // 16 lower-case hex digits, not all zero
  bool sampled = true;
};

// Version 00 (and later versions' first four fields); nullopt when malformed.
std::optional<TraceContext> ParseTraceparent(absl::string_view header);
std::string FormatTraceparent(const TraceContext& context);

// One hop: a child of `incoming` (a traceparent header; empty or malformed
// starts a new trace). Logs itself when destroyed.
class Span {
 public:
  Span(std::string name, absl::string_view incoming);
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  void set_status(std::string status) { status_ = std::move(status); }
  // The header for calls this hop makes.
  std::string traceparent() const { return FormatTraceparent(context_); }
  const TraceContext& context() const { return context_; }
  const std::string& parent_span_id() const { return parent_span_id_; }

 private:
  std::string name_;
  TraceContext context_;
  std::string parent_span_id_;
  std::string status_ = "OK";
  absl::Time start_;
};

// The traceparent of the hop this thread is serving, for clients without a
// per-call header API (the OpenAI HTTP client). Set with ScopedTraceparent.
const std::string& CurrentTraceparent();

class ScopedTraceparent {
 public:
  explicit ScopedTraceparent(std::string traceparent);
  ~ScopedTraceparent();

 private:
  std::string previous_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_TRACE_CONTEXT_H_
