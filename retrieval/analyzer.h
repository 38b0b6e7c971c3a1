// Text analysis for lexical retrieval: text -> index/query terms.
//
// Pipeline: Unicode normalisation (case folding, canonical composition, removal of
// default-ignorable code points, optionally accent stripping) -> tokens made of
// runs of Unicode letters/numbers (an apostrophe between two letters stays inside
// the token, so "patient's" reaches the stemmer whole) -> stop-word removal ->
// Snowball stemming. Queries and documents must go through the same Analyzer.
#ifndef TESSERA_RETRIEVAL_ANALYZER_H_
#define TESSERA_RETRIEVAL_ANALYZER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

struct sb_stemmer;

namespace tessera::retrieval {

struct AnalyzerOptions {
  // Snowball algorithm name ("english", "french", ...); empty or "none" turns
  // stemming off.
  std::string language = "english";
  bool case_fold = true;
  // Removes combining marks after decomposition ("café" -> "cafe").
  bool strip_accents = false;
  bool remove_stop_words = true;
  // Replaces the built-in list (the Lucene English stop set, used when language
  // is "english" or stemming is off). Entries go through the same normalisation
  // as text.
  std::optional<std::vector<std::string>> stop_words;
  // Longer tokens (base64 blobs, URLs run together) are dropped, not indexed.
  size_t max_token_bytes = 64;
};

// Thread-safe: Analyze may run on many threads at once. Snowball stemmers are
// not thread-safe, so each call borrows one from a small pool.
class Analyzer {
 public:
  // InvalidArgument for an unknown stemming language.
  static absl::StatusOr<std::unique_ptr<Analyzer>> Create(AnalyzerOptions options = {});
  ~Analyzer();

  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Replaces *terms with the terms of `text`, in order, duplicates kept.
  // Invalid UTF-8 sequences act as separators.
  void Analyze(absl::string_view text, std::vector<std::string>* terms) const;
  std::vector<std::string> Analyze(absl::string_view text) const;

  const AnalyzerOptions& options() const { return options_; }

  // The default English stop words (Lucene's EnglishAnalyzer set).
  static const std::vector<std::string>& DefaultEnglishStopWords();

 private:
  explicit Analyzer(AnalyzerOptions options);

  // Normalises (folds) `text` into *out; false when text is not valid UTF-8.
  bool Normalize(absl::string_view text, std::string* out) const;
  void Tokenize(absl::string_view normalized, sb_stemmer* stemmer,
                std::vector<std::string>* terms) const;
  void EmitToken(absl::string_view token, sb_stemmer* stemmer,
                 std::vector<std::string>* terms) const;

  sb_stemmer* AcquireStemmer() const;
  void ReleaseStemmer(sb_stemmer* stemmer) const;

  AnalyzerOptions options_;
  bool stemming_ = false;
  int utf8proc_options_ = 0;
  absl::flat_hash_set<std::string> stop_words_;

  mutable absl::Mutex pool_mutex_;
  mutable std::vector<sb_stemmer*> idle_stemmers_ ABSL_GUARDED_BY(pool_mutex_);
};

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_ANALYZER_H_
