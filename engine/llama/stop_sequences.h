// Stop sequences on streamed text: finds the first stop string in the decoded
// text and decides how much text is safe to stream, holding back a tail that
// could still turn into a stop string (or an incomplete UTF-8 character).
#ifndef TESSERA_ENGINE_LLAMA_STOP_SEQUENCES_H_
#define TESSERA_ENGINE_LLAMA_STOP_SEQUENCES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tessera::llama {

class StopSequenceMatcher {
 public:
  explicit StopSequenceMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  struct Result {
    bool stopped = false;
    // Length of the text that is final: everything before the stop string when
    // `stopped`, else the text minus the held-back tail.
    size_t safe_length = 0;
  };

  // `text`: all generated text so far. `final`: no more text will come (flush).
  Result Check(absl::string_view text, bool final) const;

 private:
  std::vector<std::string> stops_;
};

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_STOP_SEQUENCES_H_
