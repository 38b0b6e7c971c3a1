// HTML through libgumbo (an HTML5-conformant parser, so tag soup parses like a
// browser would): the visible text of <body>, with whitespace collapsed as a
// browser renders it, block elements on their own lines, <pre> kept verbatim and
// table cells separated by tabs. <script>, <style>, <noscript>, <template> and
// elements with the `hidden` attribute are dropped; entities are decoded. h1-h6
// become nested sections; the title is the <title> text.
#ifndef TESSERA_INGEST_PARSE_HTML_PARSER_H_
#define TESSERA_INGEST_PARSE_HTML_PARSER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::ingest {

class HtmlParser : public Parser {
 public:
  // The input must be UTF-8 (INVALID_ARGUMENT with the byte offset otherwise).
  absl::StatusOr<ParsedDocument> Parse(absl::string_view bytes) const override;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_HTML_PARSER_H_
