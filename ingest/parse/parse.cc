#include "ingest/parse/parse.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ingest/parse/html_parser.h"
#include "ingest/parse/json_record.h"
#include "ingest/parse/markdown_parser.h"
#include "ingest/parse/pdf_parser.h"
#include "ingest/parse/text_parser.h"

namespace tessera::ingest {
namespace {

using common::v1::DocumentFormat;

absl::string_view Extension(absl::string_view file_name) {
  size_t slash = file_name.find_last_of("/\\");
  if (slash != absl::string_view::npos) file_name.remove_prefix(slash + 1);
  size_t dot = file_name.rfind('.');
  if (dot == absl::string_view::npos || dot == 0) return absl::string_view();
  return file_name.substr(dot + 1);
}

bool LooksLikeMarkdown(absl::string_view content) {
  absl::string_view rest = content.substr(0, 64 << 10);
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    absl::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == absl::string_view::npos ? rest.size() : newline + 1);
    if (absl::StartsWith(line, "```") || absl::StartsWith(line, "~~~")) return true;
    size_t hashes = 0;
    while (hashes < line.size() && line[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && hashes < line.size() && line[hashes] == ' ') return true;
  }
  return false;
}

}  // namespace

const Parser* ParserFor(DocumentFormat format) {
  static const TextParser* const text = new TextParser();
  static const MarkdownParser* const markdown = new MarkdownParser();
  static const HtmlParser* const html = new HtmlParser();
  static const PdfParser* const pdf = new PdfParser();
  static const JsonRecordParser* const json = new JsonRecordParser();
  switch (format) {
    case common::v1::DOCUMENT_FORMAT_UNSPECIFIED:
    case common::v1::DOCUMENT_FORMAT_TEXT:
      return text;
    case common::v1::DOCUMENT_FORMAT_MARKDOWN:
      return markdown;
    case common::v1::DOCUMENT_FORMAT_HTML:
      return html;
    case common::v1::DOCUMENT_FORMAT_PDF:
      return pdf;
    case common::v1::DOCUMENT_FORMAT_JSON:
      return json;
    default:
      return nullptr;
  }
}

absl::StatusOr<ParsedDocument> ParseDocument(DocumentFormat format, absl::string_view bytes) {
  const Parser* parser = ParserFor(format);
  if (parser == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown document format ", static_cast<int>(format)));
  }
  return parser->Parse(bytes);
}

DocumentFormat GuessFormat(absl::string_view file_name, absl::string_view content) {
  const std::string ext = absl::AsciiStrToLower(Extension(file_name));
  if (ext == "txt" || ext == "text") return common::v1::DOCUMENT_FORMAT_TEXT;
  if (ext == "md" || ext == "markdown") return common::v1::DOCUMENT_FORMAT_MARKDOWN;
  if (ext == "html" || ext == "htm" || ext == "xhtml") return common::v1::DOCUMENT_FORMAT_HTML;
  if (ext == "pdf") return common::v1::DOCUMENT_FORMAT_PDF;
  if (ext == "json" || ext == "jsonl" || ext == "ndjson") return common::v1::DOCUMENT_FORMAT_JSON;

  if (absl::StartsWith(content, "%PDF-")) return common::v1::DOCUMENT_FORMAT_PDF;
  absl::string_view head = content;
  if (absl::StartsWith(head, "\xEF\xBB\xBF")) head.remove_prefix(3);
  head = absl::StripLeadingAsciiWhitespace(head);
  const std::string lower = absl::AsciiStrToLower(head.substr(0, 64));
  for (const char* prefix : {"<!doctype html", "<html", "<head", "<body", "<p>", "<div", "<h1",
                             "<!--"}) {
    if (absl::StartsWith(lower, prefix)) return common::v1::DOCUMENT_FORMAT_HTML;
  }
  if (absl::StartsWith(head, "{")) return common::v1::DOCUMENT_FORMAT_JSON;
  if (LooksLikeMarkdown(head)) return common::v1::DOCUMENT_FORMAT_MARKDOWN;
  return common::v1::DOCUMENT_FORMAT_TEXT;
}

bool IsJsonLinesFileName(absl::string_view file_name) {
  const std::string ext = absl::AsciiStrToLower(Extension(file_name));
  return ext == "jsonl" || ext == "ndjson";
}

}  // namespace tessera::ingest
