// Structure-aware chunking. The text is cut into units at section and page
// boundaries (a chunk never spans two sections or two pages, so its section path
// and page are exact). Within a unit, each paragraph that fits in `max_tokens`
// is one piece; a larger one is split into sentences (ICU), a sentence that is
// still too large into lines, a line into words, and a word longer than the
// window into runs of `max_tokens` tokens. Consecutive pieces are packed
// greedily into chunks of at most `max_tokens`, so chunks end on the coarsest
// boundary that fits: a sentence is only cut when it alone exceeds the window.
// Overlap: a new chunk starts with the trailing pieces of the previous chunk of
// the same unit, as many whole pieces as fit in `overlap_tokens`.
#ifndef TESSERA_INGEST_CHUNK_RECURSIVE_CHUNKER_H_
#define TESSERA_INGEST_CHUNK_RECURSIVE_CHUNKER_H_

#include "ingest/chunk/chunker.h"
#include "ingest/chunk/token_counter.h"

namespace tessera::ingest {

class RecursiveChunker : public Chunker {
 public:
  // Requires 0 < max_tokens and 0 <= overlap_tokens < max_tokens. `counter` must
  // outlive the chunker.
  RecursiveChunker(int max_tokens, int overlap_tokens, const TokenCounter& counter)
      : max_tokens_(max_tokens), overlap_tokens_(overlap_tokens), counter_(counter) {}

  absl::StatusOr<std::vector<common::v1::Chunk>> Chunk(
      const ParsedDocument& document) const override;

 private:
  int max_tokens_;
  int overlap_tokens_;
  const TokenCounter& counter_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_RECURSIVE_CHUNKER_H_
