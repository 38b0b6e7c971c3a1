// Test helpers: substring of a document by code-point span, and a check of the
// invariants every ParsedDocument must hold.
#ifndef TESSERA_INGEST_PARSE_TEST_UTIL_H_
#define TESSERA_INGEST_PARSE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::ingest {

// The code points [span.start, span.end) of `text`.
std::string SpanText(absl::string_view text, CharSpan span);

// The text of every paragraph, in order.
std::vector<std::string> ParagraphTexts(const ParsedDocument& doc);

// Fails the current test (gtest ADD_FAILURE) unless: text is valid NFC UTF-8;
// spans lie within the text, sorted and non-overlapping; paragraphs start and end
// on non-whitespace; sections and pages are contiguous.
void ExpectWellFormed(const ParsedDocument& doc);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_TEST_UTIL_H_
