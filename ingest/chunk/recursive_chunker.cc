#include "ingest/chunk/recursive_chunker.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "ingest/chunk/chunk_layout.h"
#include "ingest/chunk/sentence_splitter.h"

namespace tessera::ingest {
namespace {

bool IsBlankByte(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// A piece of text that is never cut further, with its token count.
struct Piece {
  size_t begin;
  size_t end;
  int64_t tokens;
};

// Greedy packing of pieces into chunks of at most `max_tokens`, with overlap in
// whole pieces.
class Packer {
 public:
  Packer(int max_tokens, int overlap_tokens, ChunkEmitter* emitter)
      : max_tokens_(max_tokens), overlap_tokens_(overlap_tokens), emitter_(emitter) {}

  void StartUnit(const std::vector<std::string>* section_path, int32_t page) {
    Flush();
    section_path_ = section_path;
    page_ = page;
  }

  void Add(const Piece& piece) {
    if (!current_.empty() && current_tokens_ + piece.tokens > max_tokens_) {
      Emit();
      // Keep the trailing pieces that fit in the overlap (and leave room for `piece`).
      size_t keep_from = current_.size();
      int64_t kept_tokens = 0;
      while (keep_from > 0) {
        const int64_t tokens = current_[keep_from - 1].tokens;
        if (kept_tokens + tokens > overlap_tokens_ ||
            kept_tokens + tokens + piece.tokens > max_tokens_) {
          break;
        }
        kept_tokens += tokens;
        --keep_from;
      }
      current_.erase(current_.begin(), current_.begin() + keep_from);
      current_tokens_ = kept_tokens;
    }
    current_.push_back(piece);
    current_tokens_ += piece.tokens;
    has_new_piece_ = true;
  }

  void Flush() {
    if (has_new_piece_) Emit();
    current_.clear();
    current_tokens_ = 0;
  }

 private:
  void Emit() {
    emitter_->Emit({current_.front().begin, current_.back().end}, current_tokens_, section_path_,
                   page_);
    has_new_piece_ = false;
  }

  const int max_tokens_;
  const int overlap_tokens_;
  ChunkEmitter* emitter_;
  std::vector<Piece> current_;
  int64_t current_tokens_ = 0;
  bool has_new_piece_ = false;
  const std::vector<std::string>* section_path_ = nullptr;
  int32_t page_ = 0;
};

// Splits one block (paragraph) into pieces that fit, coarsest boundaries first.
class BlockSplitter {
 public:
  BlockSplitter(absl::string_view text, int max_tokens, const TokenCounter& counter,
                Packer* packer)
      : text_(text), max_tokens_(max_tokens), counter_(counter), packer_(packer) {}

  absl::Status AddBlock(ByteSpan block) {
    block = TrimSpan(text_, block);
    if (block.begin >= block.end) return absl::OkStatus();
    tokens_.clear();
    counter_.Tokenize(text_.substr(block.begin, block.end - block.begin), &tokens_);
    for (TokenSpan& t : tokens_) {
      t.begin += static_cast<int64_t>(block.begin);
      t.end += static_cast<int64_t>(block.begin);
    }
    const int64_t tokens = static_cast<int64_t>(tokens_.size());
    if (tokens <= max_tokens_) {
      packer_->Add({block.begin, block.end, tokens});
      return absl::OkStatus();
    }
    return SplitSentences(block);
  }

 private:
  // Tokens starting inside [begin, end) (the block's tokens are sorted).
  int64_t CountTokens(size_t begin, size_t end) const {
    auto by_begin = [](const TokenSpan& t, size_t offset) {
      return t.begin < static_cast<int64_t>(offset);
    };
    auto first = std::lower_bound(tokens_.begin(), tokens_.end(), begin, by_begin);
    auto last = std::lower_bound(first, tokens_.end(), end, by_begin);
    return last - first;
  }

  // Adds [begin, end) trimmed as one piece when it fits; otherwise hands it to `finer`.
  template <typename Finer>
  void AddOrSplit(size_t begin, size_t end, Finer finer) {
    ByteSpan span = TrimSpan(text_, {begin, end});
    if (span.begin >= span.end) return;
    const int64_t tokens = CountTokens(span.begin, span.end);
    if (tokens <= max_tokens_) {
      packer_->Add({span.begin, span.end, tokens});
    } else {
      finer(span);
    }
  }

  absl::Status SplitSentences(ByteSpan block) {
    if (splitter_ == nullptr) {
      auto splitter = SentenceSplitter::Create();
      if (!splitter.ok()) return splitter.status();
      splitter_ = std::move(*splitter);
    }
    size_t begin = block.begin;
    for (size_t end : splitter_->SentenceEnds(text_.substr(block.begin, block.end - block.begin))) {
      AddOrSplit(begin, block.begin + end, [this](ByteSpan s) { SplitLines(s); });
      begin = block.begin + end;
    }
    return absl::OkStatus();
  }

  void SplitLines(ByteSpan sentence) {
    size_t begin = sentence.begin;
    while (begin < sentence.end) {
      // Search only this sentence: a scan to the document's next newline would make
      // many long sentences quadratic.
      size_t newline = text_.substr(begin, sentence.end - begin).find('\n');
      size_t end = newline == absl::string_view::npos ? sentence.end : begin + newline + 1;
      AddOrSplit(begin, end, [this](ByteSpan s) { SplitWords(s); });
      begin = end;
    }
  }

  void SplitWords(ByteSpan line) {
    size_t begin = line.begin;
    while (begin < line.end) {
      while (begin < line.end && IsBlankByte(text_[begin])) ++begin;
      size_t end = begin;
      while (end < line.end && !IsBlankByte(text_[end])) ++end;
      AddOrSplit(begin, end, [this](ByteSpan s) { SplitWord(s); });
      begin = end;
    }
  }

  // A word longer than the window (a URL, base64, CJK text without spaces): runs
  // of `max_tokens` tokens, cut where the next run's first token starts.
  void SplitWord(ByteSpan word) {
    auto by_begin = [](const TokenSpan& t, size_t offset) {
      return t.begin < static_cast<int64_t>(offset);
    };
    auto first = std::lower_bound(tokens_.begin(), tokens_.end(), word.begin, by_begin);
    auto last = std::lower_bound(first, tokens_.end(), word.end, by_begin);
    size_t begin = word.begin;
    for (auto run = first; run < last; run += std::min<ptrdiff_t>(max_tokens_, last - run)) {
      const ptrdiff_t count = std::min<ptrdiff_t>(max_tokens_, last - run);
      const size_t end = run + count < last ? static_cast<size_t>((run + count)->begin) : word.end;
      packer_->Add({begin, end, count});
      begin = end;
    }
  }

  absl::string_view text_;
  const int max_tokens_;
  const TokenCounter& counter_;
  Packer* packer_;
  std::vector<TokenSpan> tokens_;
  std::unique_ptr<SentenceSplitter> splitter_;
};

}  // namespace

absl::StatusOr<std::vector<common::v1::Chunk>> RecursiveChunker::Chunk(
    const ParsedDocument& document) const {
  auto layout = BuildLayout(document);
  if (!layout.ok()) return layout.status();
  const absl::string_view text = document.text;
  std::vector<common::v1::Chunk> chunks;
  ChunkEmitter emitter(text, &chunks);
  Packer packer(max_tokens_, overlap_tokens_, &emitter);
  BlockSplitter splitter(text, max_tokens_, counter_, &packer);
  StructureCursor structure(*layout);

  // Units: the text cut at every section and page boundary.
  std::vector<size_t> cuts = {0, text.size()};
  for (const auto& s : layout->sections) {
    cuts.push_back(s.span.begin);
    cuts.push_back(s.span.end);
  }
  for (const auto& p : layout->pages) {
    cuts.push_back(p.span.begin);
    cuts.push_back(p.span.end);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  const std::vector<ByteSpan>& paragraphs = layout->paragraphs;
  size_t next_paragraph = 0;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const ByteSpan unit = {cuts[i], cuts[i + 1]};
    packer.StartUnit(structure.SectionPathAt(unit.begin), structure.PageAt(unit.begin));
    // Blocks: the paragraphs inside the unit, and any text between them.
    size_t cursor = unit.begin;
    while (next_paragraph < paragraphs.size() && paragraphs[next_paragraph].end <= unit.begin) {
      ++next_paragraph;
    }
    for (size_t p = next_paragraph; p < paragraphs.size() && paragraphs[p].begin < unit.end; ++p) {
      const size_t begin = std::max(paragraphs[p].begin, cursor);
      const size_t end = std::min(paragraphs[p].end, unit.end);
      absl::Status status = splitter.AddBlock({cursor, begin});
      if (status.ok()) status = splitter.AddBlock({begin, end});
      if (!status.ok()) return status;
      cursor = std::max(cursor, end);
    }
    absl::Status status = splitter.AddBlock({cursor, unit.end});
    if (!status.ok()) return status;
  }
  packer.Flush();
  return chunks;
}

}  // namespace tessera::ingest
