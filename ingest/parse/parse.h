// Entry points: pick the parser for a document format, and guess a format from a
// file name or the content itself (for the CLI).
#ifndef TESSERA_INGEST_PARSE_PARSE_H_
#define TESSERA_INGEST_PARSE_PARSE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

// The parser for `format` (UNSPECIFIED means TEXT); nullptr for an unknown value.
// The returned parsers are process-wide singletons and thread-safe.
const Parser* ParserFor(common::v1::DocumentFormat format);

// Parses `bytes` as `format`. INVALID_ARGUMENT for an unknown format or bad input.
absl::StatusOr<ParsedDocument> ParseDocument(common::v1::DocumentFormat format,
                                             absl::string_view bytes);

// The format for a file: by extension first (.txt .text, .md .markdown, .html .htm
// .xhtml, .pdf, .json .jsonl .ndjson; case-insensitive), else by sniffing `content`
// (a prefix is enough): "%PDF-" -> PDF; "<!doctype html", "<html" or a leading
// block tag -> HTML; "{" -> JSON; an ATX heading or code fence line -> MARKDOWN;
// anything else -> TEXT.
common::v1::DocumentFormat GuessFormat(absl::string_view file_name, absl::string_view content);

// True for .jsonl / .ndjson names: many JSON records, one per line (JsonlReader).
bool IsJsonLinesFileName(absl::string_view file_name);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_PARSE_H_
