#include "ingest/parse/text_parser.h"

#include "absl/strings/match.h"
#include "common/utf8.h"
#include "ingest/parse/document_builder.h"

namespace tessera::ingest {

std::string NormalizeLineEnds(absl::string_view text) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out.push_back(text[i]);
    } else {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    }
  }
  return out;
}

absl::StatusOr<ParsedDocument> TextParser::Parse(absl::string_view bytes) const {
  absl::Status valid = ValidateUtf8(bytes, "text");
  if (!valid.ok()) return valid;
  std::string text = NormalizeLineEnds(bytes);
  DocumentBuilder builder;
  absl::string_view rest(text);
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    size_t length = newline == absl::string_view::npos ? rest.size() : newline + 1;
    absl::string_view line = rest.substr(0, length);
    bool blank = true;
    for (char c : line) {
      if (!IsAsciiSpace(c)) {
        blank = false;
        break;
      }
    }
    if (blank) builder.EndParagraph();
    builder.Append(line);
    rest.remove_prefix(length);
  }
  return builder.Finish();
}

}  // namespace tessera::ingest
