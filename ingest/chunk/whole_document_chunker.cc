#include "ingest/chunk/whole_document_chunker.h"

#include "ingest/chunk/chunk_layout.h"

namespace tessera::ingest {

absl::StatusOr<std::vector<common::v1::Chunk>> WholeDocumentChunker::Chunk(
    const ParsedDocument& document) const {
  auto layout = BuildLayout(document);
  if (!layout.ok()) return layout.status();
  std::vector<common::v1::Chunk> chunks;
  const ByteSpan span = TrimSpan(document.text, {0, document.text.size()});
  if (span.begin >= span.end) return chunks;
  ChunkEmitter emitter(document.text, &chunks);
  StructureCursor structure(*layout);
  const absl::string_view text(document.text);
  emitter.Emit(span, counter_.Count(text.substr(span.begin, span.end - span.begin)),
               structure.SectionPathAt(span.begin), structure.PageAt(span.begin));
  return chunks;
}

}  // namespace tessera::ingest
