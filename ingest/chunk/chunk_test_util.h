// Invariants every chunk list must satisfy, for the chunker tests.
#ifndef TESSERA_INGEST_CHUNK_CHUNK_TEST_UTIL_H_
#define TESSERA_INGEST_CHUNK_CHUNK_TEST_UTIL_H_

#include <vector>

#include "ingest/chunk/token_counter.h"
#include "ingest/parse/parsed_document.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

// Adds a gtest failure unless each chunk has ordinal == its index, text equal to
// the document text at [char_start, char_end) (code points), no surrounding white
// space, token_count == counter.Count(text) and, when max_tokens > 0,
// token_count <= max_tokens; chunk starts must not decrease.
void ExpectChunksConsistent(const ParsedDocument& document,
                            const std::vector<common::v1::Chunk>& chunks,
                            const TokenCounter& counter, int max_tokens);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_CHUNK_TEST_UTIL_H_
