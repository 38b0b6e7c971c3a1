#include "ingest/chunk/chunking.h"

#include "absl/strings/str_cat.h"
#include "ingest/chunk/fixed_token_chunker.h"
#include "ingest/chunk/recursive_chunker.h"
#include "ingest/chunk/whole_document_chunker.h"

namespace tessera::ingest {

using ingest::v1::ChunkingConfig;

ChunkingConfig DefaultChunkingConfig() {
  ChunkingConfig config;
  config.set_strategy(ChunkingConfig::RECURSIVE);
  config.set_max_tokens(kDefaultMaxTokens);
  config.set_overlap_tokens(kDefaultOverlapTokens);
  return config;
}

absl::StatusOr<ChunkingConfig> ResolveChunkingConfig(const ChunkingConfig& config) {
  ChunkingConfig resolved = config;
  if (!ChunkingConfig::Strategy_IsValid(config.strategy())) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunking.strategy: unknown value ", static_cast<int>(config.strategy())));
  }
  if (config.strategy() == ChunkingConfig::STRATEGY_UNSPECIFIED) {
    resolved.set_strategy(ChunkingConfig::RECURSIVE);
  }
  if (config.max_tokens() < 0 || config.overlap_tokens() < 0) {
    return absl::InvalidArgumentError("chunking: max_tokens and overlap_tokens must not be negative");
  }
  if (config.max_tokens() > kMaxChunkTokens) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunking.max_tokens: at most ", kMaxChunkTokens, ", got ", config.max_tokens()));
  }
  if (config.max_tokens() == 0) {
    resolved.set_max_tokens(kDefaultMaxTokens);
    if (config.overlap_tokens() == 0) resolved.set_overlap_tokens(kDefaultOverlapTokens);
  }
  if (resolved.overlap_tokens() >= resolved.max_tokens()) {
    if (config.max_tokens() == 0) {
      resolved.set_overlap_tokens(resolved.max_tokens() / 8);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "chunking.overlap_tokens (", config.overlap_tokens(),
          ") must be smaller than max_tokens (", config.max_tokens(), ")"));
    }
  }
  return resolved;
}

absl::StatusOr<std::unique_ptr<Chunker>> MakeChunker(const ChunkingConfig& config,
                                                     const TokenCounter* counter) {
  auto resolved = ResolveChunkingConfig(config);
  if (!resolved.ok()) return resolved.status();
  const TokenCounter& tokens = counter != nullptr ? *counter : DefaultTokenCounter();
  switch (resolved->strategy()) {
    case ChunkingConfig::FIXED_TOKENS:
      return std::make_unique<FixedTokenChunker>(resolved->max_tokens(),
                                                 resolved->overlap_tokens(), tokens);
    case ChunkingConfig::NONE:
      return std::make_unique<WholeDocumentChunker>(tokens);
    default:
      return std::make_unique<RecursiveChunker>(resolved->max_tokens(),
                                                resolved->overlap_tokens(), tokens);
  }
}

absl::StatusOr<std::vector<common::v1::Chunk>> ChunkDocument(
    const ParsedDocument& document, const ChunkingConfig& config, absl::string_view document_id,
    absl::string_view collection, const TokenCounter* counter) {
  auto chunker = MakeChunker(config, counter);
  if (!chunker.ok()) return chunker.status();
  auto chunks = (*chunker)->Chunk(document);
  if (!chunks.ok()) return chunks.status();
  SetChunkIdentity(document_id, collection, &*chunks);
  return chunks;
}

}  // namespace tessera::ingest
