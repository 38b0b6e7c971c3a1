#include "ingest/parse/pdf_parser.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>
#include <utf8proc.h>

#include <climits>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "ingest/parse/document_builder.h"
#include "ingest/parse/text_parser.h"

namespace tessera::ingest {
namespace {

std::string ToUtf8(const poppler::ustring& text) {
  poppler::byte_array bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

// Poppler converts from UTF-16 and can pass on lone surrogates: replace anything
// that is not valid UTF-8 with U+FFFD rather than reject a whole document for it.
std::string ReplaceInvalidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t offset = 0;
  const utf8proc_ssize_t size = static_cast<utf8proc_ssize_t>(text.size());
  while (offset < size) {
    utf8proc_int32_t code_point;
    utf8proc_ssize_t n = utf8proc_iterate(bytes + offset, size - offset, &code_point);
    if (n < 0 || code_point < 0) {
      out += "\xEF\xBF\xBD";
      ++offset;
      continue;
    }
    out.append(text.data() + offset, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

// Appends one page: lines without trailing blanks, form feeds dropped, blank
// lines closing paragraphs.
void AppendPageText(absl::string_view page_text, DocumentBuilder* builder) {
  std::string text = NormalizeLineEnds(page_text);
  absl::string_view rest(text);
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    absl::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == absl::string_view::npos ? rest.size() : newline + 1);
    std::string cleaned;
    for (char c : line) {
      if (c != '\f') cleaned.push_back(c);
    }
    absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(cleaned);
    if (trimmed.empty()) {
      builder->EndParagraph();
      continue;
    }
    if (!builder->AtLineStart()) builder->Append("\n");
    builder->Append(trimmed);
  }
}

}  // namespace

absl::StatusOr<ParsedDocument> PdfParser::Parse(absl::string_view bytes) const {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("pdf: file larger than 2 GiB");
  }
  std::unique_ptr<poppler::document> document(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (document == nullptr) {
    return absl::InvalidArgumentError("pdf: cannot open the document (not a PDF, or damaged)");
  }
  if (document->is_locked()) {
    return absl::FailedPreconditionError(
        "pdf: the document is encrypted and needs a password to open");
  }
  DocumentBuilder builder;
  const int page_count = document->pages();
  for (int i = 0; i < page_count; ++i) {
    builder.EndBlock(2);
    builder.StartPage(i + 1);
    std::unique_ptr<poppler::page> page(document->create_page(i));
    if (page == nullptr) continue;  // an unreadable page contributes no text
    std::string text = ReplaceInvalidUtf8(
        ToUtf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
    AppendPageText(text, &builder);
  }
  builder.EndParagraph();
  builder.set_title(std::string(
      absl::StripAsciiWhitespace(ReplaceInvalidUtf8(ToUtf8(document->get_title())))));
  auto parsed = builder.Finish();
  if (!parsed.ok()) return parsed.status();
  std::string author =
      std::string(absl::StripAsciiWhitespace(ReplaceInvalidUtf8(ToUtf8(document->get_author()))));
  if (auto nfc_author = NormalizeNfc(author, "pdf author"); nfc_author.ok() && !author.empty()) {
    parsed->metadata["author"].set_string_value(*nfc_author);
  }
  parsed->metadata["page_count"].set_int_value(page_count);
  return parsed;
}

}  // namespace tessera::ingest
