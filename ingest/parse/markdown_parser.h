// Markdown (CommonMark block structure, simplified): ATX ("## Title") and setext
// (underlined with === or ---) headings become sections and appear in the text as
// their plain heading text; fenced code blocks (``` or ~~~) are kept verbatim,
// fences included, and nothing inside them is a heading; paragraphs, lists, block
// quotes and indented code are kept as written (inline markup untouched); thematic
// breaks are dropped; a leading YAML front-matter block is kept verbatim.
// The title is the first level-1 heading.
#ifndef TESSERA_INGEST_PARSE_MARKDOWN_PARSER_H_
#define TESSERA_INGEST_PARSE_MARKDOWN_PARSER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::ingest {

class MarkdownParser : public Parser {
 public:
  absl::StatusOr<ParsedDocument> Parse(absl::string_view bytes) const override;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_MARKDOWN_PARSER_H_
