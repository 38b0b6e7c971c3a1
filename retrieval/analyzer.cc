#include "retrieval/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::retrieval {
namespace {

constexpr char32_t kApostrophe = 0x27;
constexpr char32_t kRightSingleQuote = 0x2019;

enum class CharClass { kSeparator, kLetter, kNumber, kMark };

CharClass Classify(utf8proc_int32_t code_point) {
  if (code_point < 0x80) {
    if (absl::ascii_isalpha(static_cast<unsigned char>(code_point))) return CharClass::kLetter;
    if (absl::ascii_isdigit(static_cast<unsigned char>(code_point))) return CharClass::kNumber;
    return CharClass::kSeparator;
  }
  switch (utf8proc_category(code_point)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::kMark;
    default:
      return CharClass::kSeparator;
  }
}

bool IsAscii(absl::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Copies `text`, turning each invalid UTF-8 byte into a space.
std::string ReplaceInvalidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < size) {
    utf8proc_int32_t code_point;
    const utf8proc_ssize_t length = utf8proc_iterate(bytes + pos, size - pos, &code_point);
    if (length <= 0) {
      out.push_back(' ');
      ++pos;
    } else {
      out.append(text.data() + pos, length);
      pos += length;
    }
  }
  return out;
}

}  // namespace

const std::vector<std::string>& Analyzer::DefaultEnglishStopWords() {
  static const auto* const kWords = new std::vector<std::string>{
      "a",    "an",    "and",   "are",  "as",   "at",    "be",   "but",   "by",
      "for",  "if",    "in",    "into", "is",   "it",    "no",   "not",   "of",
      "on",   "or",    "such",  "that", "the",  "their", "then", "there", "these",
      "they", "this",  "to",    "was",  "will", "with"};
  return *kWords;
}

absl::StatusOr<std::unique_ptr<Analyzer>> Analyzer::Create(AnalyzerOptions options) {
  if (options.max_token_bytes == 0) {
    return absl::InvalidArgumentError("max_token_bytes must be positive");
  }
  std::unique_ptr<Analyzer> analyzer(new Analyzer(std::move(options)));
  const AnalyzerOptions& opts = analyzer->options_;
  if (analyzer->stemming_) {
    sb_stemmer* stemmer = sb_stemmer_new(opts.language.c_str(), "UTF_8");
    if (stemmer == nullptr) {
      std::vector<std::string> known;
      for (const char** name = sb_stemmer_list(); *name != nullptr; ++name) known.push_back(*name);
      return absl::InvalidArgumentError(absl::StrCat("unknown stemming language '", opts.language,
                                                     "'; known: ", absl::StrJoin(known, ", ")));
    }
    analyzer->ReleaseStemmer(stemmer);
  }
  if (opts.remove_stop_words) {
    const std::vector<std::string>* words = nullptr;
    if (opts.stop_words.has_value()) {
      words = &*opts.stop_words;
    } else if (opts.language == "english" || !analyzer->stemming_) {
      words = &DefaultEnglishStopWords();
    }
    if (words != nullptr) {
      std::string folded;
      for (const std::string& word : *words) {
        if (!analyzer->Normalize(word, &folded)) {
          return absl::InvalidArgumentError(absl::StrCat("stop word is not UTF-8: ", word));
        }
        analyzer->stop_words_.insert(folded);
      }
    }
  }
  return analyzer;
}

Analyzer::Analyzer(AnalyzerOptions options) : options_(std::move(options)) {
  stemming_ = !options_.language.empty() && options_.language != "none";
  utf8proc_options_ = UTF8PROC_STABLE | UTF8PROC_IGNORE;
  utf8proc_options_ |= options_.strip_accents ? (UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK)
                                              : UTF8PROC_COMPOSE;
  if (options_.case_fold) utf8proc_options_ |= UTF8PROC_CASEFOLD;
}

Analyzer::~Analyzer() {
  absl::MutexLock lock(&pool_mutex_);
  for (sb_stemmer* stemmer : idle_stemmers_) sb_stemmer_delete(stemmer);
}

sb_stemmer* Analyzer::AcquireStemmer() const {
  if (!stemming_) return nullptr;
  {
    absl::MutexLock lock(&pool_mutex_);
    if (!idle_stemmers_.empty()) {
      sb_stemmer* stemmer = idle_stemmers_.back();
      idle_stemmers_.pop_back();
      return stemmer;
    }
  }
  // Validated in Create, so only allocation failure returns null here; terms
  // are then left unstemmed rather than failing the call.
  return sb_stemmer_new(options_.language.c_str(), "UTF_8");
}

void Analyzer::ReleaseStemmer(sb_stemmer* stemmer) const {
  if (stemmer == nullptr) return;
  absl::MutexLock lock(&pool_mutex_);
  idle_stemmers_.push_back(stemmer);
}

bool Analyzer::Normalize(absl::string_view text, std::string* out) const {
  out->clear();
  // ASCII needs no composition and has no ignorable code points or marks.
  if (IsAscii(text)) {
    out->assign(text.data(), text.size());
    if (options_.case_fold) absl::AsciiStrToLower(out);
    return true;
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                   static_cast<utf8proc_option_t>(utf8proc_options_));
  if (length < 0) {
    std::free(mapped);
    return false;
  }
  out->assign(reinterpret_cast<const char*>(mapped), length);
  std::free(mapped);
  return true;
}

void Analyzer::Analyze(absl::string_view text, std::vector<std::string>* terms) const {
  terms->clear();
  std::string normalized;
  if (!Normalize(text, &normalized)) {
    const std::string cleaned = ReplaceInvalidUtf8(text);
    if (!Normalize(cleaned, &normalized)) return;
  }
  sb_stemmer* stemmer = AcquireStemmer();
  Tokenize(normalized, stemmer, terms);
  ReleaseStemmer(stemmer);
}

std::vector<std::string> Analyzer::Analyze(absl::string_view text) const {
  std::vector<std::string> terms;
  Analyze(text, &terms);
  return terms;
}

void Analyzer::Tokenize(absl::string_view normalized, sb_stemmer* stemmer,
                        std::vector<std::string>* terms) const {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(normalized.data());
  const auto size = static_cast<utf8proc_ssize_t>(normalized.size());
  std::string token;
  CharClass previous = CharClass::kSeparator;
  utf8proc_ssize_t pos = 0;
  while (pos < size) {
    utf8proc_int32_t code_point;
    utf8proc_ssize_t length = 1;
    if (bytes[pos] < 0x80) {
      code_point = bytes[pos];
    } else {
      length = utf8proc_iterate(bytes + pos, size - pos, &code_point);
      if (length <= 0) {  // Normalised text is valid UTF-8; be safe anyway.
        code_point = ' ';
        length = 1;
      }
    }
    const CharClass current = Classify(code_point);
    if (current == CharClass::kLetter || current == CharClass::kNumber ||
        (current == CharClass::kMark && !token.empty())) {
      token.append(normalized.data() + pos, length);
      previous = current;
      pos += length;
      continue;
    }
    // An apostrophe joins two letters: "patient's", "o'brien".
    if ((code_point == kApostrophe || code_point == kRightSingleQuote) &&
        previous == CharClass::kLetter && pos + length < size) {
      utf8proc_int32_t next;
      const utf8proc_ssize_t next_length =
          utf8proc_iterate(bytes + pos + length, size - pos - length, &next);
      if (next_length > 0 && Classify(next) == CharClass::kLetter) {
        token.push_back('\'');
        previous = CharClass::kSeparator;
        pos += length;
        continue;
      }
    }
    if (!token.empty()) {
      EmitToken(token, stemmer, terms);
      token.clear();
    }
    previous = CharClass::kSeparator;
    pos += length;
  }
  if (!token.empty()) EmitToken(token, stemmer, terms);
}

void Analyzer::EmitToken(absl::string_view token, sb_stemmer* stemmer,
                         std::vector<std::string>* terms) const {
  if (token.size() > options_.max_token_bytes) return;
  if (!stop_words_.empty() && stop_words_.contains(token)) return;
  if (stemmer != nullptr) {
    const sb_symbol* stemmed = sb_stemmer_stem(
        stemmer, reinterpret_cast<const sb_symbol*>(token.data()), static_cast<int>(token.size()));
    if (stemmed != nullptr) {
      const int length = sb_stemmer_length(stemmer);
      if (length > 0) terms->emplace_back(reinterpret_cast<const char*>(stemmed), length);
      return;
    }
  }
  terms->emplace_back(token);
}

}  // namespace tessera::retrieval
