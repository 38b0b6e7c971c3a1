// Strategy NONE: the whole document (trimmed of surrounding white space) as one
// chunk, for short records. Its section path and page are those at its start.
#ifndef TESSERA_INGEST_CHUNK_WHOLE_DOCUMENT_CHUNKER_H_
#define TESSERA_INGEST_CHUNK_WHOLE_DOCUMENT_CHUNKER_H_

#include "ingest/chunk/chunker.h"
#include "ingest/chunk/token_counter.h"

namespace tessera::ingest {

class WholeDocumentChunker : public Chunker {
 public:
  // `counter` (for token_count) must outlive the chunker.
  explicit WholeDocumentChunker(const TokenCounter& counter) : counter_(counter) {}

  absl::StatusOr<std::vector<common::v1::Chunk>> Chunk(
      const ParsedDocument& document) const override;

 private:
  const TokenCounter& counter_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_WHOLE_DOCUMENT_CHUNKER_H_
