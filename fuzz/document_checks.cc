#include "fuzz/document_checks.h"

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/utf8.h"
#include "fuzz/fuzz_util.h"
#include "ingest/parse/parse.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::fuzz {
namespace {

void CheckSpan(const ingest::CharSpan& span, int64_t length) {
  TESSERA_FUZZ_CHECK(span.start >= 0 && span.start <= span.end && span.end <= length);
}

void CheckSortedDisjoint(const std::vector<ingest::CharSpan>& spans, int64_t length) {
  for (size_t i = 0; i < spans.size(); ++i) {
    CheckSpan(spans[i], length);
    if (i > 0) TESSERA_FUZZ_CHECK(spans[i - 1].end <= spans[i].start);
  }
}

}  // namespace

void FuzzDocument(common::v1::DocumentFormat format, const uint8_t* data, size_t size) {
  const absl::string_view bytes = AsStringView(data, size);
  (void)ingest::GuessFormat("", bytes);
  absl::StatusOr<ingest::ParsedDocument> document = ingest::ParseDocument(format, bytes);
  if (!document.ok()) {
    TESSERA_FUZZ_CHECK(!document.status().message().empty());
    return;
  }
  TESSERA_FUZZ_CHECK(ValidateUtf8(document->text, "text").ok());
  TESSERA_FUZZ_CHECK(ValidateUtf8(document->title, "title").ok());
  TESSERA_FUZZ_CHECK(document->text.find('\r') == std::string::npos);
  const int64_t length = static_cast<int64_t>(CodePointCount(document->text));
  std::vector<ingest::CharSpan> sections;
  for (const ingest::Section& section : document->sections) {
    TESSERA_FUZZ_CHECK(!section.heading_path.empty());
    sections.push_back(section.span);
  }
  CheckSortedDisjoint(sections, length);
  CheckSortedDisjoint(document->paragraphs, length);
  for (size_t i = 0; i < document->pages.size(); ++i) {
    CheckSpan(document->pages[i].span, length);
    if (i > 0) TESSERA_FUZZ_CHECK(document->pages[i - 1].number < document->pages[i].number);
  }
}

}  // namespace tessera::fuzz
