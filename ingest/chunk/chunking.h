// Entry points: a chunker from a ChunkingConfig, and one-call chunking.
#ifndef TESSERA_INGEST_CHUNK_CHUNKING_H_
#define TESSERA_INGEST_CHUNK_CHUNKING_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/chunk/chunker.h"
#include "ingest/chunk/token_counter.h"
#include "ingest/parse/parsed_document.h"
#include "tessera/common/v1/common.pb.h"
#include "tessera/ingest/v1/ingest.pb.h"

namespace tessera::ingest {

inline constexpr int kDefaultMaxTokens = 256;
inline constexpr int kDefaultOverlapTokens = 32;
inline constexpr int kMaxChunkTokens = 1 << 20;

// RECURSIVE, 256 tokens, 32 overlap.
ingest::v1::ChunkingConfig DefaultChunkingConfig();

// Fills unset fields with defaults and validates. Proto3 cannot tell an unset
// field from 0, so: strategy UNSPECIFIED -> RECURSIVE; max_tokens 0 -> 256;
// overlap_tokens 0 -> 32 only when max_tokens is also 0 (an explicit window with
// overlap 0 means no overlap); an overlap the default window cannot hold is
// reduced to max_tokens / 8. INVALID_ARGUMENT for negative sizes, max_tokens over
// kMaxChunkTokens, overlap_tokens >= max_tokens or an unknown strategy.
absl::StatusOr<ingest::v1::ChunkingConfig> ResolveChunkingConfig(
    const ingest::v1::ChunkingConfig& config);

// The chunker for `config` (resolved as above). `counter` defaults to
// DefaultTokenCounter(); it must outlive the chunker.
absl::StatusOr<std::unique_ptr<Chunker>> MakeChunker(const ingest::v1::ChunkingConfig& config,
                                                     const TokenCounter* counter = nullptr);

// Chunks `document` with `config` and sets the chunks' identity fields.
absl::StatusOr<std::vector<common::v1::Chunk>> ChunkDocument(
    const ParsedDocument& document, const ingest::v1::ChunkingConfig& config,
    absl::string_view document_id, absl::string_view collection,
    const TokenCounter* counter = nullptr);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_CHUNKING_H_
