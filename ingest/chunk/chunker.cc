#include "ingest/chunk/chunker.h"

#include "absl/strings/str_cat.h"

namespace tessera::ingest {

void SetChunkIdentity(absl::string_view document_id, absl::string_view collection,
                      std::vector<common::v1::Chunk>* chunks) {
  for (common::v1::Chunk& chunk : *chunks) {
    chunk.set_document_id(std::string(document_id));
    chunk.set_collection(std::string(collection));
    chunk.set_id(absl::StrCat(document_id, "#", chunk.ordinal()));
  }
}

}  // namespace tessera::ingest
