#include "engine/tokenizer/sentencepiece_bpe.h"

#include <cmath>
#include <queue>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "common/utf8.h"
#include "engine/tokenizer/unicode_text.h"

namespace tessera::tokenizer {
namespace {

constexpr absl::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581
constexpr absl::string_view kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ "

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0x41>" -> 0x41; -1 when `piece` is not a byte piece.
int ParseBytePiece(absl::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int high = HexDigit(piece[3]);
  const int low = HexDigit(piece[4]);
  if (high < 0 || low < 0) return -1;
  return high * 16 + low;
}

struct Symbol {
  uint32_t begin;
  uint32_t length;  // 0 once merged into its left neighbour.
  int32_t prev;
  int32_t next;
  bool frozen;  // User-defined pieces never merge.
};

struct MergeCandidate {
  float score;
  int32_t left;
  int32_t right;
  uint32_t length;  // Combined length when queued; a mismatch marks it stale.
};

// Highest score first; on ties the leftmost pair, as SentencePiece does.
struct LowerPriority {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  }
};

}  // namespace

SentencePieceBpeTokenizer::SentencePieceBpeTokenizer(SentencePieceVocab vocab,
                                                     SentencePieceOptions options)
    : vocab_(std::move(vocab)), options_(options) {
  byte_ids_.fill(-1);
}

absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> SentencePieceBpeTokenizer::Create(
    SentencePieceVocab vocab, SentencePieceOptions options) {
  const size_t size = vocab.pieces.size();
  if (size == 0) return absl::InvalidArgumentError("SentencePiece: empty vocabulary");
  if (vocab.scores.size() != size || vocab.types.size() != size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SentencePiece: ", size, " pieces but ", vocab.scores.size(), " scores and ",
        vocab.types.size(), " types"));
  }
  if (size > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("SentencePiece: vocabulary too large");
  }
  std::unique_ptr<SentencePieceBpeTokenizer> tokenizer(
      new SentencePieceBpeTokenizer(std::move(vocab), options));
  const SentencePieceVocab& v = tokenizer->vocab_;
  int32_t first_unknown = -1;
  for (size_t i = 0; i < size; ++i) {
    const int32_t id = static_cast<int32_t>(i);
    const std::string& piece = v.pieces[i];
    const int32_t type = static_cast<int32_t>(v.types[i]);
    if (type < 1 || type > 6) {
      return absl::InvalidArgumentError(
          absl::StrCat("SentencePiece: piece ", i, " has unknown type ", type));
    }
    if (std::isnan(v.scores[i])) {
      return absl::InvalidArgumentError(absl::StrCat("SentencePiece: piece ", i, " has NaN score"));
    }
    tokenizer->all_ids_.emplace(piece, id);
    switch (v.types[i]) {
      case PieceType::kNormal:
      case PieceType::kUserDefined:
      case PieceType::kUnused:
        if (piece.empty()) {
          return absl::InvalidArgumentError(absl::StrCat("SentencePiece: piece ", i, " is empty"));
        }
        tokenizer->mergeable_ids_.emplace(piece, id);
        if (v.types[i] == PieceType::kUserDefined) {
          tokenizer->user_defined_.push_back(piece);
          tokenizer->max_user_defined_length_ =
              std::max(tokenizer->max_user_defined_length_, piece.size());
        }
        break;
      case PieceType::kByte: {
        const int byte = ParseBytePiece(piece);
        if (byte < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "SentencePiece: byte piece ", i, " is '", piece, "', expected <0xNN>"));
        }
        if (tokenizer->byte_ids_[byte] < 0) tokenizer->byte_ids_[byte] = id;
        break;
      }
      case PieceType::kUnknown:
        if (first_unknown < 0) first_unknown = id;
        break;
      case PieceType::kControl:
        break;
    }
  }
  // Word starts are safe split points when no mergeable piece has a non-space
  // character followed by U+2581 (true for vocabularies trained with
  // split_by_whitespace, like Llama's).
  tokenizer->split_at_word_starts_ = tokenizer->options_.escape_whitespaces;
  for (const auto& entry : tokenizer->mergeable_ids_) {
    const absl::string_view piece = entry.first;
    for (size_t pos = piece.find(kSpaceSymbol, 1); pos != absl::string_view::npos;
         pos = piece.find(kSpaceSymbol, pos + 1)) {
      const bool after_space = pos >= kSpaceSymbol.size() &&
                               piece.substr(pos - kSpaceSymbol.size(), kSpaceSymbol.size()) ==
                                   kSpaceSymbol;
      if (!after_space) tokenizer->split_at_word_starts_ = false;
    }
    if (!tokenizer->split_at_word_starts_) break;
  }
  auto resolve = [&](int32_t given, absl::string_view name,
                     absl::string_view default_piece, int32_t* out) -> absl::Status {
    if (given >= static_cast<int32_t>(size)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SentencePiece: ", name, " id ", given, " out of range"));
    }
    if (given >= 0) {
      *out = given;
    } else if (!default_piece.empty()) {
      auto it = tokenizer->all_ids_.find(default_piece);
      *out = it == tokenizer->all_ids_.end() ? -1 : it->second;
    }
    return absl::OkStatus();
  };
  SpecialTokenIds& special = tokenizer->special_;
  special.unk = first_unknown;
  if (absl::Status s = resolve(options.unk_id, "unk", "", &special.unk); !s.ok()) return s;
  if (absl::Status s = resolve(options.bos_id, "bos", "<s>", &special.bos); !s.ok()) return s;
  if (absl::Status s = resolve(options.eos_id, "eos", "</s>", &special.eos); !s.ok()) return s;
  if (absl::Status s = resolve(options.pad_id, "pad", "<pad>", &special.pad); !s.ok()) return s;
  if (special.unk < 0) {
    return absl::InvalidArgumentError("SentencePiece: vocabulary has no unknown piece");
  }
  return tokenizer;
}

std::string SentencePieceBpeTokenizer::Normalize(absl::string_view text) const {
  if (options_.remove_extra_whitespaces) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  }
  std::string normalized;
  if (text.empty()) return normalized;
  normalized.reserve(text.size() + text.size() / 2 + 3);
  const absl::string_view space = options_.escape_whitespaces ? kSpaceSymbol : " ";
  if (options_.add_dummy_prefix) normalized.append(space.data(), space.size());
  bool previous_space = false;
  for (char c : text) {
    if (c == ' ') {
      if (options_.remove_extra_whitespaces && previous_space) continue;
      normalized.append(space.data(), space.size());
      previous_space = true;
    } else {
      normalized.push_back(c);
      previous_space = false;
    }
  }
  return normalized;
}

size_t SentencePieceBpeTokenizer::MatchUserDefined(absl::string_view text) const {
  size_t best = 0;
  for (const std::string& piece : user_defined_) {
    if (piece.size() > best && text.substr(0, piece.size()) == piece) best = piece.size();
  }
  return best;
}

void SentencePieceBpeTokenizer::EncodeNormalized(absl::string_view normalized,
                                                 std::vector<int32_t>* ids) const {
  if (!split_at_word_starts_) {
    EncodeSegment(normalized, ids);
    return;
  }
  // No piece spans a word start (see split_at_word_starts_), so each word merges
  // independently with the same result; short heaps keep this fast on long texts.
  size_t segment_start = 0;
  for (size_t pos = 1; pos + kSpaceSymbol.size() <= normalized.size(); ++pos) {
    if (normalized.substr(pos, kSpaceSymbol.size()) != kSpaceSymbol) continue;
    if (pos >= kSpaceSymbol.size() &&
        normalized.substr(pos - kSpaceSymbol.size(), kSpaceSymbol.size()) == kSpaceSymbol) {
      continue;  // Inside a run of spaces, which whitespace-only pieces may cover.
    }
    EncodeSegment(normalized.substr(segment_start, pos - segment_start), ids);
    segment_start = pos;
    pos += kSpaceSymbol.size() - 1;
  }
  EncodeSegment(normalized.substr(segment_start), ids);
}

void SentencePieceBpeTokenizer::EncodeSegment(absl::string_view normalized,
                                              std::vector<int32_t>* ids) const {
  if (normalized.empty()) return;
  std::vector<Symbol> symbols;
  symbols.reserve(normalized.size());
  for (size_t pos = 0; pos < normalized.size();) {
    size_t length = user_defined_.empty() ? 0 : MatchUserDefined(normalized.substr(pos));
    const bool frozen = length > 0;
    if (!frozen) {
      length = std::min(Utf8SequenceLength(normalized[pos]), normalized.size() - pos);
    }
    const int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(length), index - 1,
                       index + 1, frozen});
    pos += length;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::vector<MergeCandidate> storage;
  storage.reserve(symbols.size());
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, LowerPriority> agenda(
      LowerPriority(), std::move(storage));
  auto maybe_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    if (l.frozen || r.frozen) return;
    const absl::string_view merged = normalized.substr(l.begin, l.length + r.length);
    auto it = mergeable_ids_.find(merged);
    if (it == mergeable_ids_.end()) return;
    agenda.push({vocab_.scores[it->second], left, right, l.length + r.length});
  };
  for (size_t i = 1; i < symbols.size(); ++i) {
    maybe_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  }
  while (!agenda.empty()) {
    const MergeCandidate top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    // Lengths only grow, so a changed neighbour shows as a different total.
    if (left.length == 0 || right.length == 0 || left.length + right.length != top.length) {
      continue;
    }
    left.length += right.length;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.length = 0;
    maybe_add(left.prev, top.left);
    maybe_add(top.left, left.next);
  }

  for (int32_t index = 0; index >= 0; index = symbols[index].next) {
    const Symbol& symbol = symbols[index];
    const absl::string_view piece = normalized.substr(symbol.begin, symbol.length);
    auto it = mergeable_ids_.find(piece);
    if (it != mergeable_ids_.end()) {
      ids->push_back(it->second);
      continue;
    }
    if (options_.byte_fallback) {
      for (unsigned char byte : piece) {
        const int32_t byte_id = byte_ids_[byte];
        ids->push_back(byte_id >= 0 ? byte_id : special_.unk);
      }
      continue;
    }
    ids->push_back(special_.unk);
  }
}

absl::StatusOr<std::vector<int32_t>> SentencePieceBpeTokenizer::Encode(
    absl::string_view text, bool add_special_tokens) const {
  if (absl::Status valid = ValidateUtf8(text, "text"); !valid.ok()) return valid;
  if (text.size() >= UINT32_MAX / 4) {
    return absl::InvalidArgumentError("SentencePiece: text too long (limit 1 GiB)");
  }
  std::vector<int32_t> ids;
  if (add_special_tokens && special_.bos >= 0) ids.push_back(special_.bos);
  const std::string normalized = Normalize(text);
  ids.reserve(ids.size() + normalized.size() / 3 + 1);
  EncodeNormalized(normalized, &ids);
  return ids;
}

absl::StatusOr<std::string> SentencePieceBpeTokenizer::Decode(
    absl::Span<const int32_t> ids) const {
  std::string text;
  std::string pending_bytes;
  bool at_start = true;  // The first piece carries the dummy prefix space.
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat("SentencePiece: id ", id, " out of range"));
    }
    const PieceType type = vocab_.types[id];
    if (type == PieceType::kByte) {
      pending_bytes.push_back(static_cast<char>(ParseBytePiece(vocab_.pieces[id])));
      at_start = false;
      continue;
    }
    if (!pending_bytes.empty()) {
      AppendUtf8Lossy(pending_bytes, &text);
      pending_bytes.clear();
    }
    if (type == PieceType::kControl) continue;
    if (type == PieceType::kUnknown) {
      text.append(kUnknownSurface.data(), kUnknownSurface.size());
      at_start = false;
      continue;
    }
    absl::string_view piece = vocab_.pieces[id];
    if (at_start && options_.add_dummy_prefix && absl::StartsWith(piece, kSpaceSymbol)) {
      piece.remove_prefix(kSpaceSymbol.size());
    }
    at_start = false;
    text.append(absl::StrReplaceAll(piece, {{kSpaceSymbol, " "}}));
  }
  if (!pending_bytes.empty()) AppendUtf8Lossy(pending_bytes, &text);
  return text;
}

absl::StatusOr<std::string> SentencePieceBpeTokenizer::IdToPiece(int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat("SentencePiece: id ", id, " out of range"));
  }
  return vocab_.pieces[id];
}

std::optional<int32_t> SentencePieceBpeTokenizer::PieceToId(absl::string_view piece) const {
  auto it = all_ids_.find(piece);
  if (it == all_ids_.end()) return std::nullopt;
  return it->second;
}

bool SentencePieceBpeTokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && id < vocab_size() && vocab_.types[id] == PieceType::kControl;
}

}  // namespace tessera::tokenizer
