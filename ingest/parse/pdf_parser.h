// PDF through libpoppler-cpp: the text of each page in reading order, one page
// after another separated by a blank line, with a Page span per page. Paragraphs
// are the blank-line separated blocks poppler reports within a page. The title and
// author come from the document information dictionary.
#ifndef TESSERA_INGEST_PARSE_PDF_PARSER_H_
#define TESSERA_INGEST_PARSE_PDF_PARSER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::ingest {

class PdfParser : public Parser {
 public:
  // INVALID_ARGUMENT when poppler cannot open the bytes (not a PDF, damaged) and
  // FAILED_PRECONDITION when the PDF is encrypted with a password we do not have.
  // (Files encrypted only to restrict printing or copying open without one and are
  // extracted.)
  absl::StatusOr<ParsedDocument> Parse(absl::string_view bytes) const override;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_PDF_PARSER_H_
