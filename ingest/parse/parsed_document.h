// What a parser extracts from a document: NFC-normalised text plus its structure
// (sections, pages, paragraphs), title and metadata. Chunkers work from this.
#ifndef TESSERA_INGEST_PARSE_PARSED_DOCUMENT_H_
#define TESSERA_INGEST_PARSE_PARSED_DOCUMENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

// A half-open range [start, end) of Unicode code points of ParsedDocument::text.
struct CharSpan {
  int64_t start = 0;
  int64_t end = 0;

  bool operator==(const CharSpan& other) const {
    return start == other.start && end == other.end;
  }
};

// The text from one heading up to the next heading (of any level), or to the end.
// Sections partition the text from the first heading on; text before the first
// heading belongs to no section.
struct Section {
  // Enclosing headings, outermost first; the last entry is this section's heading.
  std::vector<std::string> heading_path;
  CharSpan span;
};

// One page of a paged format (PDF). Pages partition the whole text.
struct Page {
  int32_t number = 0;  // 1-based
  CharSpan span;
};

struct ParsedDocument {
  // Valid, NFC-normalised UTF-8 with '\n' line ends.
  std::string text;
  // From <title>, PDF info or a JSON record; empty when the source has none.
  std::string title;
  // Sorted by start, non-overlapping.
  std::vector<Section> sections;
  // Sorted by number; empty for unpaged formats.
  std::vector<Page> pages;
  // Blocks of text (paragraphs, headings, list items, code blocks), sorted and
  // non-overlapping; each starts and ends on non-whitespace.
  std::vector<CharSpan> paragraphs;
  // From a JSON record ("metadata" plus other top-level scalars) or PDF info.
  std::map<std::string, common::v1::MetadataValue> metadata;
  // The record id of a JSON document ("_id" or "id"); empty otherwise.
  std::string id;
};

// Turns raw bytes of one format into a ParsedDocument. Implementations are
// stateless and thread-safe.
class Parser {
 public:
  virtual ~Parser() = default;
  // INVALID_ARGUMENT for input that is not valid in the parser's format.
  virtual absl::StatusOr<ParsedDocument> Parse(absl::string_view bytes) const = 0;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_PARSED_DOCUMENT_H_
