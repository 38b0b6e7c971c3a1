// Sentence boundaries through ICU's BreakIterator (Unicode UAX #29 rules plus
// ICU's English abbreviation list, so "Dr. Smith" stays one sentence). Line
// breaks inside a paragraph are not sentence ends: hard-wrapped prose keeps its
// sentences whole.
#ifndef TESSERA_INGEST_CHUNK_SENTENCE_SPLITTER_H_
#define TESSERA_INGEST_CHUNK_SENTENCE_SPLITTER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <unicode/brkiter.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::ingest {

// Not thread-safe: use one per thread (creating one is cheap after the first).
class SentenceSplitter {
 public:
  static absl::StatusOr<std::unique_ptr<SentenceSplitter>> Create();
  ~SentenceSplitter();

  // Byte offsets where sentences of `text` (valid UTF-8) end, ascending; the
  // last one is text.size(). Each sentence keeps its trailing white space.
  std::vector<size_t> SentenceEnds(absl::string_view text);

 private:
  explicit SentenceSplitter(std::unique_ptr<icu::BreakIterator> iterator);

  std::unique_ptr<icu::BreakIterator> iterator_;
  std::string scratch_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_SENTENCE_SPLITTER_H_
