#include "ingest/parse/document_builder.h"

#include <algorithm>
#include <utility>

#include "common/utf8.h"
#include "ingest/parse/text_offsets.h"

namespace tessera::ingest {
namespace {

// Whether NFC of the text split at `pos` equals NFC of the whole: nothing composes
// with or reorders across an ASCII starter, nor after ASCII whitespace.
bool IsSafeCut(absl::string_view text, size_t pos) {
  if (pos == 0 || pos >= text.size()) return true;
  if (static_cast<unsigned char>(text[pos]) < 0x80) return true;
  return IsAsciiSpace(text[pos - 1]);
}

size_t NextSafeCut(absl::string_view text, size_t pos) {
  while (!IsSafeCut(text, pos)) {
    pos += Utf8SequenceLength(static_cast<unsigned char>(text[pos]));
  }
  return std::min(pos, text.size());
}

}  // namespace

void DocumentBuilder::Append(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsAsciiSpace(text[i])) continue;
    if (!paragraph_open_) {
      paragraph_open_ = true;
      paragraph_start_ = static_cast<int64_t>(raw_.size() + i);
    }
    break;
  }
  size_t last = text.size();
  while (last > 0 && IsAsciiSpace(text[last - 1])) --last;
  if (last > 0) content_end_ = static_cast<int64_t>(raw_.size() + last);
  raw_.append(text.data(), text.size());
}

void DocumentBuilder::EndParagraph() {
  if (!paragraph_open_) return;
  paragraph_open_ = false;
  paragraphs_.push_back({paragraph_start_, content_end_});
}

void DocumentBuilder::EndBlock(int count) {
  EndParagraph();
  if (raw_.empty()) return;
  int trailing = 0;
  for (auto it = raw_.rbegin(); it != raw_.rend() && *it == '\n' && trailing < count; ++it) {
    ++trailing;
  }
  raw_.append(count - trailing, '\n');
}

void DocumentBuilder::StartSection(std::vector<std::string> heading_path) {
  sections_.push_back({std::move(heading_path), static_cast<int64_t>(raw_.size())});
}

void DocumentBuilder::StartPage(int32_t number) {
  pages_.push_back({number, static_cast<int64_t>(raw_.size())});
}

bool DocumentBuilder::EndsWithSpace() const { return raw_.empty() || IsAsciiSpace(raw_.back()); }

absl::StatusOr<ParsedDocument> DocumentBuilder::Finish() {
  EndParagraph();
  absl::Status valid = ValidateUtf8(raw_, "document text");
  if (!valid.ok()) return valid;

  ParsedDocument doc;
  auto title = NormalizeNfc(title_, "document title");
  if (!title.ok()) return title.status();
  doc.title = std::move(*title);

  const int64_t raw_size = static_cast<int64_t>(raw_.size());
  // Every structural offset, as a pointer, so one sorted pass rewrites them all.
  std::vector<int64_t*> offsets;
  for (size_t i = 0; i < sections_.size(); ++i) {
    int64_t end = i + 1 < sections_.size() ? sections_[i + 1].start : raw_size;
    doc.sections.push_back({std::move(sections_[i].heading_path), {sections_[i].start, end}});
  }
  for (size_t i = 0; i < pages_.size(); ++i) {
    int64_t end = i + 1 < pages_.size() ? pages_[i + 1].start : raw_size;
    doc.pages.push_back({pages_[i].number, {pages_[i].start, end}});
  }
  for (const CharSpan& span : paragraphs_) {
    if (span.end > span.start) doc.paragraphs.push_back(span);
  }
  for (Section& s : doc.sections) {
    offsets.push_back(&s.span.start);
    offsets.push_back(&s.span.end);
  }
  for (Page& p : doc.pages) {
    offsets.push_back(&p.span.start);
    offsets.push_back(&p.span.end);
  }
  for (CharSpan& p : doc.paragraphs) {
    offsets.push_back(&p.start);
    offsets.push_back(&p.end);
  }
  for (int64_t* offset : offsets) {
    *offset = static_cast<int64_t>(NextSafeCut(raw_, static_cast<size_t>(*offset)));
  }
  std::stable_sort(offsets.begin(), offsets.end(),
                   [](const int64_t* a, const int64_t* b) { return *a < *b; });

  std::string& out = doc.text;
  out.reserve(raw_.size());
  int64_t out_chars = 0;
  size_t segment_start = 0;
  auto flush_to = [&](size_t end) -> absl::Status {
    if (end <= segment_start) return absl::OkStatus();
    absl::string_view segment(raw_.data() + segment_start, end - segment_start);
    auto normalized = NormalizeNfc(segment, "document text");
    if (!normalized.ok()) return normalized.status();
    out += *normalized;
    out_chars += static_cast<int64_t>(CodePointCount(*normalized));
    segment_start = end;
    return absl::OkStatus();
  };
  for (int64_t* offset : offsets) {
    absl::Status status = flush_to(static_cast<size_t>(*offset));
    if (!status.ok()) return status;
    *offset = out_chars;
  }
  absl::Status status = flush_to(raw_.size());
  if (!status.ok()) return status;

  // Snapping can empty a span; drop paragraphs that became empty.
  doc.paragraphs.erase(std::remove_if(doc.paragraphs.begin(), doc.paragraphs.end(),
                                      [](const CharSpan& s) { return s.end <= s.start; }),
                       doc.paragraphs.end());
  raw_.clear();
  sections_.clear();
  pages_.clear();
  paragraphs_.clear();
  paragraph_open_ = false;
  content_end_ = 0;
  return doc;
}

}  // namespace tessera::ingest
