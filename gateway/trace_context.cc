#include "gateway/trace_context.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/json.h"

namespace tessera::gateway {
namespace {

bool IsLowerHex(absl::string_view text, size_t length) {
  if (text.size() != length) return false;
  bool nonzero = false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

std::string RandomHex(size_t digits) {
  thread_local absl::BitGen random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(digits, '0');
  do {
    for (char& c : out) c = kHex[absl::Uniform(random, 0, 16)];
  } while (out.find_first_not_of('0') == std::string::npos);
  return out;
}

std::string& ThreadTraceparent() {
  thread_local std::string traceparent;
  return traceparent;
}

}  // namespace

std::optional<TraceContext> ParseTraceparent(absl::string_view header) {
  std::vector<absl::string_view> parts = absl::StrSplit(absl::StripAsciiWhitespace(header), '-');
  if (parts.size() < 4 || parts[0].size() != 2 || parts[0] == "ff") return std::nullopt;
  if (parts[0] == "00" && parts.size() != 4) return std::nullopt;
  if (!IsLowerHex(parts[1], 32) || !IsLowerHex(parts[2], 16) || parts[3].size() != 2) {
    return std::nullopt;
  }
  if (!absl::ascii_isxdigit(static_cast<unsigned char>(parts[3][0])) ||
      !absl::ascii_isxdigit(static_cast<unsigned char>(parts[3][1]))) {
    return std::nullopt;
  }
  TraceContext context;
  context.trace_id = std::string(parts[1]);
  context.span_id = std::string(parts[2]);
  const int flags = std::stoi(std::string(parts[3]), nullptr, 16);
  context.sampled = (flags & 1) != 0;
  return context;
}

std::string FormatTraceparent(const TraceContext& context) {
  return absl::StrCat("00-", context.trace_id, "-", context.span_id, context.sampled ? "-01" : "-00");
}

Span::Span(std::string name, absl::string_view incoming)
    : name_(std::move(name)), start_(absl::Now()) {
  std::optional<TraceContext> parent = ParseTraceparent(incoming);
  if (parent.has_value()) {
    context_.trace_id = parent->trace_id;
    context_.sampled = parent->sampled;
    parent_span_id_ = parent->span_id;
  } else {
    context_.trace_id = RandomHex(32);
  }
  context_.span_id = RandomHex(16);
}

Span::~Span() {
  if (!context_.sampled || !spdlog::should_log(spdlog::level::info)) return;
  spdlog::info("{}", DumpJson({{"event", "span"},
                               {"trace_id", context_.trace_id},
                               {"span_id", context_.span_id},
                               {"parent_span_id", parent_span_id_},
                               {"name", name_},
                               {"start", absl::FormatTime(absl::RFC3339_full, start_,
                                                          absl::UTCTimeZone())},
                               {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - start_)},
                               {"status", status_}}));
}

const std::string& CurrentTraceparent() { return ThreadTraceparent(); }

ScopedTraceparent::ScopedTraceparent(std::string traceparent)
    : previous_(std::move(ThreadTraceparent())) {
  ThreadTraceparent() = std::move(traceparent);
}

ScopedTraceparent::~ScopedTraceparent() { ThreadTraceparent() = std::move(previous_); }

}  // namespace tessera::gateway
