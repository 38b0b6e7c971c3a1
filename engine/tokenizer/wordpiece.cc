#include "engine/tokenizer/wordpiece.h"

#include <utf8proc.h>

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/utf8.h"
#include "engine/tokenizer/unicode_text.h"

namespace tessera::tokenizer {
namespace {

utf8proc_category_t Category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool IsBertWhitespace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         Category(cp) == UTF8PROC_CATEGORY_ZS;
}

// Unassigned code points (Cn) stay: the library keeps them (Python BERT drops them).
bool IsBertControl(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return true;
    default:
      return false;
  }
}

bool IsBertPunctuation(char32_t cp) {
  // BERT treats every non-alphanumeric ASCII symbol as punctuation ("$", "^", "`").
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// The CJK Unified Ideograph blocks BERT splits into single characters (not
// Hiragana/Katakana/Hangul, which are written with spaces or handled by WordPiece).
// The library's table starts the last block at U+2B920 where Python BERT has
// U+2B820, so U+2B820..U+2B91F stay inside words, as the library leaves them.
bool IsCjkIdeograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Separators of Python's str.split() (what BERT's whitespace_tokenize uses).
bool IsSplitSpace(char32_t cp) {
  if (cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85) {
    return true;
  }
  const utf8proc_category_t category = Category(cp);
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
         category == UTF8PROC_CATEGORY_ZP;
}

// Lower-cases character by character like the library (Rust's char::to_lowercase):
// no final-sigma rule (Python's str.lower() gives "ς" at a word's end, the library
// "σ"), and "İ" becomes "i" + U+0307.
void LowerCase(std::vector<char32_t>* word) {
  std::vector<char32_t> lowered;
  lowered.reserve(word->size());
  for (char32_t cp : *word) {
    if (cp == 0x130) {
      lowered.push_back('i');
      lowered.push_back(0x307);
      continue;
    }
    lowered.push_back(
        static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
  word->swap(lowered);
}

// NFD, then drops non-spacing marks ("é" -> "e").
void StripAccents(std::vector<char32_t>* word) {
  std::vector<char32_t> stripped;
  stripped.reserve(word->size());
  utf8proc_int32_t decomposed[32];
  for (char32_t cp : *word) {
    if (cp < 0x80) {
      stripped.push_back(cp);
      continue;
    }
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(cp), decomposed, 32, UTF8PROC_DECOMPOSE, &boundclass);
    if (n < 0 || n > 32) {
      stripped.push_back(cp);
      continue;
    }
    for (utf8proc_ssize_t i = 0; i < n; ++i) {
      if (utf8proc_category(decomposed[i]) != UTF8PROC_CATEGORY_MN) {
        stripped.push_back(static_cast<char32_t>(decomposed[i]));
      }
    }
  }
  word->swap(stripped);
}

std::string ToUtf8(const std::vector<char32_t>& code_points, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) AppendUtf8(code_points[i], &out);
  return out;
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)),
      options_(std::move(options)),
      strip_accents_(options_.strip_accents.value_or(options_.do_lower_case)) {}

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::Create(
    std::vector<std::string> vocab, WordPieceOptions options) {
  if (vocab.empty()) return absl::InvalidArgumentError("WordPiece: empty vocabulary");
  if (vocab.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("WordPiece: vocabulary too large");
  }
  if (options.max_input_chars_per_word <= 0) {
    return absl::InvalidArgumentError("WordPiece: max_input_chars_per_word must be positive");
  }
  std::unique_ptr<WordPieceTokenizer> tokenizer(
      new WordPieceTokenizer(std::move(vocab), std::move(options)));
  const std::string& prefix = tokenizer->options_.continuing_subword_prefix;
  for (size_t id = 0; id < tokenizer->vocab_.size(); ++id) {
    const std::string& piece = tokenizer->vocab_[id];
    if (piece.empty()) continue;  // Blank lines never match a word.
    if (!tokenizer->word_start_ids_.emplace(piece, static_cast<int32_t>(id)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("WordPiece: duplicate piece '", piece, "' at id ", id));
    }
    if (!prefix.empty() && absl::StartsWith(piece, prefix) && piece.size() > prefix.size()) {
      tokenizer->continuation_ids_.emplace(piece.substr(prefix.size()), static_cast<int32_t>(id));
    }
  }
  auto find = [&](const std::string& piece) -> int32_t {
    auto it = tokenizer->word_start_ids_.find(piece);
    return it == tokenizer->word_start_ids_.end() ? -1 : it->second;
  };
  const WordPieceOptions& o = tokenizer->options_;
  tokenizer->special_.unk = find(o.unk_token);
  tokenizer->special_.cls = find(o.cls_token);
  tokenizer->special_.sep = find(o.sep_token);
  tokenizer->special_.pad = find(o.pad_token);
  tokenizer->special_.mask = find(o.mask_token);
  if (tokenizer->special_.unk < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("WordPiece: vocabulary lacks the unknown token '", o.unk_token, "'"));
  }
  const std::vector<std::string> added = o.added_tokens.value_or(std::vector<std::string>{
      o.unk_token, o.cls_token, o.sep_token, o.pad_token, o.mask_token});
  for (const std::string& content : added) {
    const int32_t id = content.empty() ? -1 : find(content);
    if (id >= 0) tokenizer->added_tokens_.emplace_back(content, id);
  }
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::FromVocabText(
    absl::string_view vocab_text, WordPieceOptions options) {
  if (absl::Status valid = ValidateUtf8(vocab_text, "vocab.txt"); !valid.ok()) return valid;
  std::vector<std::string> vocab = absl::StrSplit(vocab_text, '\n');
  // A final newline does not start another piece.
  if (!vocab.empty() && vocab.back().empty()) vocab.pop_back();
  for (std::string& piece : vocab) {
    if (!piece.empty() && piece.back() == '\r') piece.pop_back();
  }
  return Create(std::move(vocab), std::move(options));
}

std::vector<std::string> WordPieceTokenizer::BasicTokenize(absl::string_view valid_utf8) const {
  std::vector<char32_t> text;
  text.reserve(valid_utf8.size() + 16);
  for (char32_t cp : ToCodePoints(valid_utf8)) {
    if (options_.clean_text) {
      if (cp == 0 || cp == 0xFFFD || IsBertControl(cp)) continue;
      if (IsBertWhitespace(cp)) cp = ' ';
    }
    if (options_.tokenize_chinese_chars && IsCjkIdeograph(cp)) {
      text.push_back(' ');
      text.push_back(cp);
      text.push_back(' ');
    } else {
      text.push_back(cp);
    }
  }
  std::vector<std::string> tokens;
  std::vector<char32_t> word;
  auto flush_word = [&]() {
    if (word.empty()) return;
    // The library's order: accents go before lower-casing.
    if (strip_accents_) StripAccents(&word);
    if (options_.do_lower_case) LowerCase(&word);
    size_t start = 0;
    for (size_t i = 0; i < word.size(); ++i) {
      if (!IsBertPunctuation(word[i])) continue;
      if (i > start) tokens.push_back(ToUtf8(word, start, i));
      tokens.push_back(ToUtf8(word, i, i + 1));
      start = i + 1;
    }
    if (start < word.size()) tokens.push_back(ToUtf8(word, start, word.size()));
    word.clear();
  };
  for (char32_t cp : text) {
    if (IsSplitSpace(cp)) {
      flush_word();
    } else {
      word.push_back(cp);
    }
  }
  flush_word();
  return tokens;
}

void WordPieceTokenizer::AppendWordPieces(absl::string_view word,
                                          std::vector<int32_t>* ids) const {
  // Code point boundaries: candidates shrink one character at a time.
  std::vector<size_t> boundaries;
  boundaries.reserve(word.size() + 1);
  for (size_t i = 0; i < word.size(); i += Utf8SequenceLength(word[i])) boundaries.push_back(i);
  const size_t char_count = boundaries.size();
  boundaries.push_back(word.size());
  if (char_count > static_cast<size_t>(options_.max_input_chars_per_word)) {
    ids->push_back(special_.unk);
    return;
  }
  const size_t first_piece = ids->size();
  size_t start = 0;
  while (start < char_count) {
    int32_t found = -1;
    size_t end = char_count;
    const auto& table = start == 0 ? word_start_ids_ : continuation_ids_;
    for (; end > start; --end) {
      const absl::string_view candidate =
          word.substr(boundaries[start], boundaries[end] - boundaries[start]);
      auto it = table.find(candidate);
      if (it != table.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      // One unmatched remainder makes the whole word unknown (BERT's rule).
      ids->resize(first_piece);
      ids->push_back(special_.unk);
      return;
    }
    ids->push_back(found);
    start = end;
  }
}

absl::StatusOr<std::vector<int32_t>> WordPieceTokenizer::Encode(absl::string_view text,
                                                                bool add_special_tokens) const {
  if (absl::Status valid = ValidateUtf8(text, "text"); !valid.ok()) return valid;
  std::vector<int32_t> ids;
  if (add_special_tokens) {
    if (special_.cls < 0 || special_.sep < 0) {
      return absl::FailedPreconditionError("WordPiece: vocabulary lacks [CLS]/[SEP]");
    }
    ids.push_back(special_.cls);
  }
  AppendText(text, &ids);
  if (add_special_tokens) ids.push_back(special_.sep);
  return ids;
}

void WordPieceTokenizer::AppendText(absl::string_view text, std::vector<int32_t>* ids) const {
  absl::string_view rest = text;
  while (!rest.empty()) {
    const std::optional<AddedTokenMatch> match =
        FindAddedToken(rest, added_tokens_.size(),
                       [&](size_t i) -> absl::string_view { return added_tokens_[i].first; });
    const absl::string_view plain = rest.substr(0, match ? match->position : rest.size());
    for (const std::string& word : BasicTokenize(plain)) AppendWordPieces(word, ids);
    if (!match) break;
    const auto& [content, id] = added_tokens_[match->index];
    ids->push_back(id);
    rest.remove_prefix(match->position + content.size());
  }
}

absl::StatusOr<std::string> WordPieceTokenizer::Decode(absl::Span<const int32_t> ids) const {
  std::string text;
  const std::string& prefix = options_.continuing_subword_prefix;
  bool first = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat("WordPiece: id ", id, " out of range"));
    }
    // [UNK] is one of the library's special tokens, so skip_special_tokens drops it.
    if (IsSpecial(id) || id == special_.unk) continue;
    const std::string& piece = vocab_[id];
    std::string token;
    if (first) {
      token = piece;
    } else if (!prefix.empty() && absl::StartsWith(piece, prefix)) {
      token = piece.substr(prefix.size());
    } else {
      token = absl::StrCat(" ", piece);
    }
    first = false;
    // The library's clean-up, applied to each token alone (not to the joined
    // text as transformers' clean_up_tokenization is): "you ' re" stays.
    static const std::pair<const char*, const char*> kCleanups[] = {
        {" .", "."},     {" ?", "?"},     {" !", "!"},            {" ,", ","},
        {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"},          {" do not", " don't"},
        {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kCleanups) token = absl::StrReplaceAll(token, {{from, to}});
    text.append(token);
  }
  return text;
}

absl::StatusOr<std::string> WordPieceTokenizer::IdToPiece(int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat("WordPiece: id ", id, " out of range"));
  }
  return vocab_[id];
}

std::optional<int32_t> WordPieceTokenizer::PieceToId(absl::string_view piece) const {
  auto it = word_start_ids_.find(piece);
  if (it == word_start_ids_.end()) return std::nullopt;
  return it->second;
}

bool WordPieceTokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && (id == special_.cls || id == special_.sep || id == special_.pad ||
                     id == special_.mask);
}

}  // namespace tessera::tokenizer
