#include "engine/tokenizer/byte_level_bpe.h"

#include <re2/re2.h>

#include <optional>
#include <queue>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "engine/tokenizer/unicode_text.h"

namespace tessera::tokenizer {
namespace {

// GPT-2's pattern without its "\s+(?!\S)" look-ahead, which RE2 lacks; the
// look-ahead is emulated in PreTokenize. "\s" is spelled out to cover Unicode
// spaces as Python's `regex` does.
constexpr char kGpt2Pattern[] =
    "('s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\t\\n\\x0B\\f\\r \\x{85}\\p{Z}\\p{L}\\p{N}]+"
    "|[\\t\\n\\x0B\\f\\r \\x{85}\\p{Z}]+)";

bool IsPatternSpace(char32_t cp) {
  if (cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85) return true;
  // \p{Z}: Zs, Zl, Zp.
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
         static_cast<uint32_t>(right);
}

struct Symbol {
  int32_t id;  // -1 once merged into its left neighbour.
  int32_t prev;
  int32_t next;
};

struct MergeCandidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t merged_id;
};

// Lowest rank first; leftmost on ties.
struct LowerPriority {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.left > b.left;
  }
};

}  // namespace

char32_t ByteToUnicode(uint8_t byte) {
  const bool printable = (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) ||
                         (byte >= 0xAE);
  if (printable) return byte;
  // The unprintable bytes, in increasing order, take U+0100 onwards.
  char32_t next = 0x100;
  for (int b = 0; b < byte; ++b) {
    const bool b_printable =
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    if (!b_printable) ++next;
  }
  return next;
}

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(ByteLevelBpeConfig config)
    : config_(std::move(config)) {
  byte_ids_.fill(-1);
}

ByteLevelBpeTokenizer::~ByteLevelBpeTokenizer() = default;

absl::StatusOr<std::unique_ptr<ByteLevelBpeTokenizer>> ByteLevelBpeTokenizer::Create(
    ByteLevelBpeConfig config) {
  if (config.vocab.empty()) return absl::InvalidArgumentError("byte-level BPE: empty vocabulary");
  if (config.vocab.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("byte-level BPE: vocabulary too large");
  }
  std::unique_ptr<ByteLevelBpeTokenizer> tokenizer(new ByteLevelBpeTokenizer(std::move(config)));
  ByteLevelBpeConfig& c = tokenizer->config_;
  const int32_t size = static_cast<int32_t>(c.vocab.size());
  for (int32_t id = 0; id < size; ++id) {
    if (c.vocab[id].empty()) continue;
    if (!tokenizer->piece_ids_.emplace(c.vocab[id], id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("byte-level BPE: duplicate piece '", c.vocab[id], "' at id ", id));
    }
  }
  for (int byte = 0; byte < 256; ++byte) {
    const char32_t cp = ByteToUnicode(static_cast<uint8_t>(byte));
    tokenizer->unicode_to_byte_[cp] = static_cast<uint8_t>(byte);
    std::string piece;
    AppendUtf8(cp, &piece);
    auto it = tokenizer->piece_ids_.find(piece);
    if (it != tokenizer->piece_ids_.end()) tokenizer->byte_ids_[byte] = it->second;
  }
  for (size_t rank = 0; rank < c.merges.size(); ++rank) {
    const auto& [left, right] = c.merges[rank];
    auto left_it = tokenizer->piece_ids_.find(left);
    auto right_it = tokenizer->piece_ids_.find(right);
    auto merged_it = tokenizer->piece_ids_.find(absl::StrCat(left, right));
    if (left_it == tokenizer->piece_ids_.end() || right_it == tokenizer->piece_ids_.end() ||
        merged_it == tokenizer->piece_ids_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("byte-level BPE: merge ", rank, " ('", left,
                                                     "' '", right, "') uses unknown pieces"));
    }
    // The first (best) rank of a repeated rule wins.
    tokenizer->merges_.emplace(PairKey(left_it->second, right_it->second),
                               std::make_pair(static_cast<int32_t>(rank), merged_it->second));
  }
  tokenizer->is_special_.assign(size, false);
  tokenizer->is_added_.assign(size, false);
  for (const AddedToken& added : c.added_tokens) {
    if (added.id < 0 || added.id >= size || added.content.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("byte-level BPE: added token '",
                                                     added.content, "' has bad id ", added.id));
    }
    tokenizer->is_added_[added.id] = true;
    if (added.special) tokenizer->is_special_[added.id] = true;
  }
  for (const std::vector<int32_t>* list : {&c.prefix_ids, &c.suffix_ids}) {
    for (int32_t id : *list) {
      if (id < 0 || id >= size) {
        return absl::InvalidArgumentError(
            absl::StrCat("byte-level BPE: special token id ", id, " out of range"));
      }
    }
  }
  tokenizer->pattern_ = std::make_unique<re2::RE2>(kGpt2Pattern);
  if (!tokenizer->pattern_->ok()) {
    return absl::InternalError(
        absl::StrCat("byte-level BPE: bad pre-tokenizer pattern: ", tokenizer->pattern_->error()));
  }
  return tokenizer;
}

std::vector<absl::string_view> ByteLevelBpeTokenizer::PreTokenize(absl::string_view text) const {
  std::vector<absl::string_view> words;
  absl::string_view rest = text;
  while (!rest.empty()) {
    re2::StringPiece input(rest.data(), rest.size());
    re2::StringPiece matched;
    const bool consumed = re2::RE2::Consume(&input, *pattern_, &matched);
    absl::string_view match(matched.data(), matched.size());
    if (consumed) rest = absl::string_view(input.data(), input.size());
    if (!consumed || match.empty()) {
      // Unreachable for valid UTF-8 (the alternatives cover every character);
      // advance one character rather than loop.
      const size_t length = std::min(Utf8SequenceLength(rest[0]), rest.size());
      words.push_back(rest.substr(0, length));
      rest.remove_prefix(length);
      continue;
    }
    // Emulates "\s+(?!\S)": a run of two or more spaces followed by text leaves
    // its last space to start the next word (" world").
    if (!rest.empty()) {
      const std::vector<char32_t> cps = ToCodePoints(match);
      bool all_space = cps.size() >= 2;
      for (char32_t cp : cps) all_space = all_space && IsPatternSpace(cp);
      if (all_space) {
        std::string last;
        AppendUtf8(cps.back(), &last);
        const size_t keep = match.size() - last.size();
        // Consume left `rest` right after `match`; step back over the space.
        rest = absl::string_view(match.data() + keep, rest.size() + last.size());
        match = match.substr(0, keep);
      }
    }
    words.push_back(match);
  }
  return words;
}

absl::Status ByteLevelBpeTokenizer::EncodeWord(absl::string_view word,
                                               std::vector<int32_t>* ids) const {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (unsigned char byte : word) {
    int32_t id = byte_ids_[byte];
    if (id < 0) {
      if (config_.special.unk < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "byte-level BPE: vocabulary has no piece for byte ", static_cast<int>(byte),
            " and no unknown token"));
      }
      id = config_.special.unk;
    }
    const int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, index + 1});
  }
  if (symbols.empty()) return absl::OkStatus();
  symbols.back().next = -1;
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, LowerPriority> agenda;
  auto maybe_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    auto it = merges_.find(PairKey(symbols[left].id, symbols[right].id));
    if (it == merges_.end()) return;
    agenda.push({it->second.first, left, right, symbols[left].id, symbols[right].id,
                 it->second.second});
  };
  for (size_t i = 1; i < symbols.size(); ++i) {
    maybe_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  }
  while (!agenda.empty()) {
    const MergeCandidate top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.id != top.left_id || right.id != top.right_id || left.next != top.right) continue;
    left.id = top.merged_id;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.id = -1;
    maybe_add(left.prev, top.left);
    maybe_add(top.left, left.next);
  }
  for (int32_t index = 0; index >= 0; index = symbols[index].next) {
    ids->push_back(symbols[index].id);
  }
  return absl::OkStatus();
}

absl::Status ByteLevelBpeTokenizer::EncodeSegment(absl::string_view segment,
                                                  std::vector<int32_t>* ids) const {
  std::string with_prefix;
  if (config_.add_prefix_space && !segment.empty() && segment.front() != ' ') {
    with_prefix = absl::StrCat(" ", segment);
    segment = with_prefix;
  }
  for (absl::string_view word : PreTokenize(segment)) {
    if (absl::Status s = EncodeWord(word, ids); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> ByteLevelBpeTokenizer::Encode(absl::string_view text,
                                                                   bool add_special_tokens) const {
  if (absl::Status valid = ValidateUtf8(text, "text"); !valid.ok()) return valid;
  std::vector<int32_t> ids;
  if (add_special_tokens) ids = config_.prefix_ids;
  absl::string_view rest = text;
  while (!rest.empty()) {
    const std::optional<AddedTokenMatch> match =
        FindAddedToken(rest, config_.added_tokens.size(),
                       [&](size_t i) -> absl::string_view { return config_.added_tokens[i].content; });
    if (!match) {
      if (absl::Status s = EncodeSegment(rest, &ids); !s.ok()) return s;
      break;
    }
    if (absl::Status s = EncodeSegment(rest.substr(0, match->position), &ids); !s.ok()) return s;
    const AddedToken& added = config_.added_tokens[match->index];
    ids.push_back(added.id);
    rest.remove_prefix(match->position + added.content.size());
  }
  if (add_special_tokens) ids.insert(ids.end(), config_.suffix_ids.begin(), config_.suffix_ids.end());
  return ids;
}

absl::StatusOr<std::string> ByteLevelBpeTokenizer::Decode(absl::Span<const int32_t> ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat("byte-level BPE: id ", id, " out of range"));
    }
    if (is_special_[id]) continue;
    const std::string& piece = config_.vocab[id];
    if (is_added_[id]) {
      bytes.append(piece);
      continue;
    }
    for (char32_t cp : ToCodePoints(piece)) {
      auto it = unicode_to_byte_.find(cp);
      if (it != unicode_to_byte_.end()) {
        bytes.push_back(static_cast<char>(it->second));
      } else {
        AppendUtf8(cp, &bytes);
      }
    }
  }
  std::string text;
  AppendUtf8Lossy(bytes, &text);
  return text;
}

absl::StatusOr<std::string> ByteLevelBpeTokenizer::IdToPiece(int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat("byte-level BPE: id ", id, " out of range"));
  }
  return config_.vocab[id];
}

std::optional<int32_t> ByteLevelBpeTokenizer::PieceToId(absl::string_view piece) const {
  auto it = piece_ids_.find(piece);
  if (it == piece_ids_.end()) return std::nullopt;
  return it->second;
}

bool ByteLevelBpeTokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && id < vocab_size() && is_special_[id];
}

}  // namespace tessera::tokenizer
