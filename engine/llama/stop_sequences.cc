#include "engine/llama/stop_sequences.h"

#include <algorithm>

namespace tessera::llama {
namespace {

// The replacement character U+FFFD, which the decoder emits for bytes that do
// not (yet) form a complete character; a later token may complete them.
constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

StopSequenceMatcher::Result StopSequenceMatcher::Check(absl::string_view text, bool final) const {
  Result result;
  size_t first_stop = absl::string_view::npos;
  for (const std::string& stop : stops_) {
    const size_t at = text.find(stop);
    if (at != absl::string_view::npos) first_stop = std::min(first_stop, at);
  }
  if (first_stop != absl::string_view::npos) {
    result.stopped = true;
    result.safe_length = first_stop;
    return result;
  }
  if (final) {
    result.safe_length = text.size();
    return result;
  }
  size_t hold = 0;
  for (const std::string& stop : stops_) {
    // The longest suffix of `text` that is a proper prefix of `stop`.
    for (size_t len = std::min(stop.size() - 1, text.size()); len > hold; --len) {
      if (text.substr(text.size() - len) == absl::string_view(stop).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  size_t safe = text.size() - hold;
  while (safe >= kReplacement.size() &&
         text.substr(safe - kReplacement.size(), kReplacement.size()) == kReplacement) {
    safe -= kReplacement.size();
  }
  result.safe_length = safe;
  return result;
}

}  // namespace tessera::llama
