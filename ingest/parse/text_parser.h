// Plain text: kept verbatim apart from line ends ('\r\n' and '\r' become '\n'),
// a leading byte-order mark (dropped) and NFC; blank lines separate paragraphs.
#ifndef TESSERA_INGEST_PARSE_TEXT_PARSER_H_
#define TESSERA_INGEST_PARSE_TEXT_PARSER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::ingest {

class TextParser : public Parser {
 public:
  absl::StatusOr<ParsedDocument> Parse(absl::string_view bytes) const override;
};

// Drops a leading UTF-8 byte-order mark and turns "\r\n" and lone '\r' into '\n'.
std::string NormalizeLineEnds(absl::string_view text);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_TEXT_PARSER_H_
