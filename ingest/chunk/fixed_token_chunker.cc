#include "ingest/chunk/fixed_token_chunker.h"

#include <algorithm>

#include "ingest/chunk/chunk_layout.h"
#include "ingest/parse/text_offsets.h"

namespace tessera::ingest {
namespace {

// Tokenizes the text a slice at a time so memory stays bounded for large
// documents. Slices end at a line break or space when there is one, so no token
// of a whitespace-respecting tokenizer is cut.
class TokenStream {
 public:
  TokenStream(absl::string_view text, const TokenCounter& counter)
      : text_(text), counter_(counter) {}

  bool Next(TokenSpan* token) {
    while (index_ >= buffer_.size()) {
      if (position_ >= text_.size()) return false;
      const size_t end = SliceEnd();
      buffer_.clear();
      index_ = 0;
      counter_.Tokenize(text_.substr(position_, end - position_), &buffer_);
      for (TokenSpan& t : buffer_) {
        t.begin += static_cast<int64_t>(position_);
        t.end += static_cast<int64_t>(position_);
      }
      position_ = end;
    }
    *token = buffer_[index_++];
    return true;
  }

 private:
  static constexpr size_t kSliceBytes = 1 << 16;

  size_t SliceEnd() const {
    const size_t target = position_ + kSliceBytes;
    if (target >= text_.size()) return text_.size();
    for (char separator : {'\n', ' '}) {
      size_t at = text_.rfind(separator, target);
      if (at != absl::string_view::npos && at > position_) return at + 1;
    }
    // No white space in a whole slice: cut at a code-point boundary.
    size_t end = target;
    while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    return end;
  }

  absl::string_view text_;
  const TokenCounter& counter_;
  size_t position_ = 0;
  std::vector<TokenSpan> buffer_;
  size_t index_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<common::v1::Chunk>> FixedTokenChunker::Chunk(
    const ParsedDocument& document) const {
  auto layout = BuildLayout(document);
  if (!layout.ok()) return layout.status();
  std::vector<common::v1::Chunk> chunks;
  ChunkEmitter emitter(document.text, &chunks);
  StructureCursor structure(*layout);
  TokenStream stream(document.text, counter_);

  std::vector<TokenSpan> window;
  window.reserve(max_tokens_);
  size_t fresh = 0;  // tokens in the window not yet part of an emitted chunk
  auto emit = [&]() {
    const size_t begin = static_cast<size_t>(window.front().begin);
    const size_t end = static_cast<size_t>(window.back().end);
    emitter.Emit({begin, end}, static_cast<int64_t>(window.size()),
                 structure.SectionPathAt(begin), structure.PageAt(begin));
    const size_t keep = std::min<size_t>(overlap_tokens_, window.size());
    window.erase(window.begin(), window.end() - keep);
    fresh = 0;
  };
  TokenSpan token;
  while (stream.Next(&token)) {
    window.push_back(token);
    ++fresh;
    if (window.size() == static_cast<size_t>(max_tokens_)) emit();
  }
  if (fresh > 0) emit();
  return chunks;
}

}  // namespace tessera::ingest
