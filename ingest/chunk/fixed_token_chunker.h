// Fixed windows of `max_tokens` tokens, each starting `max_tokens - overlap_tokens`
// tokens after the previous one, regardless of document structure. A chunk's
// section path and page are those at its first token.
#ifndef TESSERA_INGEST_CHUNK_FIXED_TOKEN_CHUNKER_H_
#define TESSERA_INGEST_CHUNK_FIXED_TOKEN_CHUNKER_H_

#include "ingest/chunk/chunker.h"
#include "ingest/chunk/token_counter.h"

namespace tessera::ingest {

class FixedTokenChunker : public Chunker {
 public:
  // Requires 0 < max_tokens and 0 <= overlap_tokens < max_tokens (ChunkingConfig
  // validation enforces it). `counter` must outlive the chunker.
  FixedTokenChunker(int max_tokens, int overlap_tokens, const TokenCounter& counter)
      : max_tokens_(max_tokens), overlap_tokens_(overlap_tokens), counter_(counter) {}

  absl::StatusOr<std::vector<common::v1::Chunk>> Chunk(
      const ParsedDocument& document) const override;

 private:
  int max_tokens_;
  int overlap_tokens_;
  const TokenCounter& counter_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_FIXED_TOKEN_CHUNKER_H_
