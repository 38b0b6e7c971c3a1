// The chunker interface: a ParsedDocument in, its chunks out.
#ifndef TESSERA_INGEST_CHUNK_CHUNKER_H_
#define TESSERA_INGEST_CHUNK_CHUNKER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

class Chunker {
 public:
  virtual ~Chunker() = default;

  // Chunks in document order with ordinal (from 0), text, char_start/char_end
  // (code points; text is exactly document.text at that span, never starting or
  // ending with white space), section_path, page and token_count set. Identity
  // fields (document_id, collection, id) are left to SetChunkIdentity. An empty
  // or blank document has no chunks. INVALID_ARGUMENT when the document's
  // structure is inconsistent with its text. Thread-safe.
  virtual absl::StatusOr<std::vector<common::v1::Chunk>> Chunk(
      const ParsedDocument& document) const = 0;
};

// Sets document_id, collection and id = "<document_id>#<ordinal>" on every chunk.
void SetChunkIdentity(absl::string_view document_id, absl::string_view collection,
                      std::vector<common::v1::Chunk>* chunks);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_CHUNKER_H_
