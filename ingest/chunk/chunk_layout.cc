#include "ingest/chunk/chunk_layout.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace tessera::ingest {
namespace {

bool IsBlankByte(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

absl::Status CheckSpan(const CharSpan& span, int64_t previous_end, int64_t size,
                       absl::string_view kind, size_t index) {
  if (span.start < previous_end || span.start > span.end || span.end > size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parsed document: ", kind, " ", index, " has span [", span.start, ", ", span.end,
        ") outside the text (", size, " code points) or out of order"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DocumentLayout> BuildLayout(const ParsedDocument& doc) {
  DocumentLayout layout;
  layout.text = doc.text;
  const int64_t size = static_cast<int64_t>(CodePointCount(doc.text));
  {
    OffsetCursor cursor(doc.text);
    int64_t previous_end = 0;
    for (size_t i = 0; i < doc.sections.size(); ++i) {
      const Section& s = doc.sections[i];
      absl::Status status = CheckSpan(s.span, previous_end, size, "section", i);
      if (!status.ok()) return status;
      previous_end = s.span.end;
      size_t begin = cursor.CharToByte(s.span.start);
      size_t end = cursor.CharToByte(s.span.end);
      layout.sections.push_back({&s.heading_path, {begin, end}});
    }
  }
  {
    OffsetCursor cursor(doc.text);
    int64_t previous_end = 0;
    for (size_t i = 0; i < doc.pages.size(); ++i) {
      const Page& p = doc.pages[i];
      absl::Status status = CheckSpan(p.span, previous_end, size, "page", i);
      if (!status.ok()) return status;
      previous_end = p.span.end;
      size_t begin = cursor.CharToByte(p.span.start);
      size_t end = cursor.CharToByte(p.span.end);
      layout.pages.push_back({p.number, {begin, end}});
    }
  }
  {
    OffsetCursor cursor(doc.text);
    int64_t previous_end = 0;
    for (size_t i = 0; i < doc.paragraphs.size(); ++i) {
      const CharSpan& p = doc.paragraphs[i];
      absl::Status status = CheckSpan(p, previous_end, size, "paragraph", i);
      if (!status.ok()) return status;
      previous_end = p.end;
      size_t begin = cursor.CharToByte(p.start);
      size_t end = cursor.CharToByte(p.end);
      layout.paragraphs.push_back({begin, end});
    }
  }
  return layout;
}

const std::vector<std::string>* StructureCursor::SectionPathAt(size_t byte) {
  const auto& sections = layout_.sections;
  if (sections.empty()) return nullptr;
  if (section_ >= sections.size()) section_ = sections.size() - 1;
  while (section_ > 0 && sections[section_].span.begin > byte) --section_;
  while (section_ + 1 < sections.size() && sections[section_ + 1].span.begin <= byte) ++section_;
  const auto& s = sections[section_];
  if (s.span.begin <= byte && byte < s.span.end) return s.heading_path;
  return nullptr;
}

int32_t StructureCursor::PageAt(size_t byte) {
  const auto& pages = layout_.pages;
  if (pages.empty()) return 0;
  if (page_ >= pages.size()) page_ = pages.size() - 1;
  while (page_ > 0 && pages[page_].span.begin > byte) --page_;
  while (page_ + 1 < pages.size() && pages[page_ + 1].span.begin <= byte) ++page_;
  const auto& p = pages[page_];
  if (p.span.begin <= byte && byte < p.span.end) return p.number;
  return 0;
}

void ChunkEmitter::Emit(ByteSpan span, int64_t token_count,
                        const std::vector<std::string>* section_path, int32_t page) {
  common::v1::Chunk& chunk = out_->emplace_back();
  chunk.set_ordinal(static_cast<int32_t>(out_->size() - 1));
  chunk.set_text(std::string(text_.substr(span.begin, span.end - span.begin)));
  chunk.set_char_start(cursor_.ByteToChar(span.begin));
  chunk.set_char_end(cursor_.ByteToChar(span.end));
  if (section_path != nullptr) {
    for (const std::string& heading : *section_path) chunk.add_section_path(heading);
  }
  chunk.set_page(page);
  chunk.set_token_count(static_cast<int32_t>(token_count));
}

ByteSpan TrimSpan(absl::string_view text, ByteSpan span) {
  while (span.begin < span.end && IsBlankByte(text[span.begin])) ++span.begin;
  while (span.end > span.begin && IsBlankByte(text[span.end - 1])) --span.end;
  return span;
}

}  // namespace tessera::ingest
