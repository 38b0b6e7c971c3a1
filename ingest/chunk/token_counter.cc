#include "ingest/chunk/token_counter.h"

#include <utf8proc.h>

namespace tessera::ingest {
namespace {

enum class CharClass { kSpace, kWord, kSingle, kMark, kIgnored };

bool IsSpaceOrIgnoredAscii(unsigned char c) { return c <= 0x20 || c == 0x7F; }

bool IsCjkSingle(int32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) ||    // Hiragana, Katakana
         (cp >= 0x31F0 && cp <= 0x31FF) ||    // Katakana extensions
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // CJK extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK unified ideographs
         (cp >= 0xAC00 && cp <= 0xD7AF) ||    // Hangul syllables
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // CJK compatibility ideographs
         (cp >= 0x20000 && cp <= 0x3FFFF);    // CJK extensions B and later
}

CharClass Classify(int32_t cp) {
  if (cp < 0x80) {
    const unsigned char c = static_cast<unsigned char>(cp);
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return CharClass::kSpace;
    if (IsSpaceOrIgnoredAscii(c)) return CharClass::kIgnored;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      return CharClass::kWord;
    }
    return CharClass::kSingle;
  }
  if (IsCjkSingle(cp)) return CharClass::kSingle;
  if (cp == 0x85) return CharClass::kSpace;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::kSpace;
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kWord;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::kMark;
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return CharClass::kIgnored;
    default:  // punctuation, symbols (emoji included)
      return CharClass::kSingle;
  }
}

// Calls on_token(begin, end) for each token of `text`.
template <typename OnToken>
void ForEachToken(absl::string_view text, OnToken on_token) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const int64_t size = static_cast<int64_t>(text.size());
  int64_t pos = 0;
  // The open token: a word (counting its code points) or a single character that
  // following marks may extend.
  int64_t open_begin = -1;
  int64_t open_end = 0;
  int word_length = 0;  // code points in the open word piece; 0 for a single
  auto close = [&]() {
    if (open_begin >= 0) on_token(open_begin, open_end);
    open_begin = -1;
    word_length = 0;
  };
  while (pos < size) {
    int32_t cp;
    int64_t n;
    if (bytes[pos] < 0x80) {
      cp = bytes[pos];
      n = 1;
    } else {
      utf8proc_int32_t decoded;
      utf8proc_ssize_t len = utf8proc_iterate(bytes + pos, size - pos, &decoded);
      if (len <= 0) {  // not UTF-8: treat the byte as an ignored character
        close();
        ++pos;
        continue;
      }
      cp = decoded;
      n = len;
    }
    switch (Classify(cp)) {
      case CharClass::kSpace:
      case CharClass::kIgnored:
        close();
        break;
      case CharClass::kWord:
        if (open_begin >= 0 && word_length > 0 &&
            word_length < ApproximateTokenCounter::kMaxWordPieceCodePoints) {
          ++word_length;
          open_end = pos + n;
        } else {
          close();
          open_begin = pos;
          open_end = pos + n;
          word_length = 1;
        }
        break;
      case CharClass::kMark:
        if (open_begin >= 0) {
          open_end = pos + n;  // marks extend the open token without counting
        } else {
          open_begin = pos;
          open_end = pos + n;
          word_length = 0;
        }
        break;
      case CharClass::kSingle:
        close();
        open_begin = pos;
        open_end = pos + n;
        word_length = 0;
        break;
    }
    pos += n;
  }
  close();
}

}  // namespace

int64_t TokenCounter::Count(absl::string_view text) const {
  std::vector<TokenSpan> tokens;
  Tokenize(text, &tokens);
  return static_cast<int64_t>(tokens.size());
}

void ApproximateTokenCounter::Tokenize(absl::string_view text,
                                       std::vector<TokenSpan>* tokens) const {
  ForEachToken(text, [tokens](int64_t begin, int64_t end) { tokens->push_back({begin, end}); });
}

int64_t ApproximateTokenCounter::Count(absl::string_view text) const {
  int64_t count = 0;
  ForEachToken(text, [&count](int64_t, int64_t) { ++count; });
  return count;
}

const TokenCounter& DefaultTokenCounter() {
  static const ApproximateTokenCounter* const counter = new ApproximateTokenCounter();
  return *counter;
}

}  // namespace tessera::ingest
