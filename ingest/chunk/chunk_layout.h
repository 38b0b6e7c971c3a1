// Shared machinery of the chunkers: the document structure in byte offsets, and
// turning byte spans into Chunk messages (code-point offsets, ordinals).
#ifndef TESSERA_INGEST_CHUNK_CHUNK_LAYOUT_H_
#define TESSERA_INGEST_CHUNK_CHUNK_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"
#include "ingest/parse/text_offsets.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

struct ByteSpan {
  size_t begin = 0;
  size_t end = 0;
};

// A ParsedDocument's structure with offsets in bytes of its text.
struct DocumentLayout {
  struct SectionBytes {
    const std::vector<std::string>* heading_path;  // points into the ParsedDocument
    ByteSpan span;
  };
  struct PageBytes {
    int32_t number;
    ByteSpan span;
  };
  absl::string_view text;
  std::vector<SectionBytes> sections;
  std::vector<PageBytes> pages;
  std::vector<ByteSpan> paragraphs;
};

// INVALID_ARGUMENT when a span lies outside the text, is reversed, or spans of one
// kind are unsorted or overlap. `doc` must outlive the layout.
absl::StatusOr<DocumentLayout> BuildLayout(const ParsedDocument& doc);

// The section and page at a byte offset. Lookups should move mostly forward
// (then the total cost is linear in the number of sections and pages).
class StructureCursor {
 public:
  explicit StructureCursor(const DocumentLayout& layout) : layout_(layout) {}
  // nullptr outside every section.
  const std::vector<std::string>* SectionPathAt(size_t byte);
  // 0 outside every page.
  int32_t PageAt(size_t byte);

 private:
  const DocumentLayout& layout_;
  size_t section_ = 0;
  size_t page_ = 0;
};

// Appends chunks with consecutive ordinals from 0.
class ChunkEmitter {
 public:
  ChunkEmitter(absl::string_view text, std::vector<common::v1::Chunk>* out)
      : text_(text), cursor_(text), out_(out) {}

  void Emit(ByteSpan span, int64_t token_count, const std::vector<std::string>* section_path,
            int32_t page);

 private:
  absl::string_view text_;
  OffsetCursor cursor_;
  std::vector<common::v1::Chunk>* out_;
};

// `span` without leading and trailing ASCII white space (empty if all blank).
ByteSpan TrimSpan(absl::string_view text, ByteSpan span);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_CHUNK_LAYOUT_H_
