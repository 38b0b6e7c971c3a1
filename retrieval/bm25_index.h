// BM25 inverted index over chunks: incremental adds and deletes, segment merges,
// persistence with memory-mapped reopening, and top-k search with dynamic
// pruning.
//
// Documents have external string ids (chunk ids) and dense uint32 internal ids:
// a segment's documents get consecutive ids after those of earlier segments.
// Internal ids are stable until Merge(), which renumbers the surviving
// documents; look them up again (InternalId) after a merge.
//
// Scoring (Robertson BM25 with Lucene's non-negative IDF):
//   score(q, d) = sum over query terms t of
//       qtf(t) * idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
//   idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
// |d| is the number of analysed terms of d. As in Lucene, N, avgdl and df
// include deleted documents until a merge drops them.
//
// Top-k uses MaxScore over block-max postings: query terms whose combined
// upper bound cannot lift a document above the current k-th score are only
// probed for documents found through the other terms, and blocks whose bound is
// too low are skipped. The filter and deletions are checked before a document is
// scored, so the k results are the best k accepted documents.
//
// Thread-safety: all methods may be called concurrently; searches share a
// reader lock, mutations take a writer lock.
#ifndef TESSERA_RETRIEVAL_BM25_INDEX_H_
#define TESSERA_RETRIEVAL_BM25_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "retrieval/analyzer.h"
#include "retrieval/bm25_segment.h"

namespace tessera::retrieval {

struct Bm25Params {
  float k1 = 0.9f;
  float b = 0.4f;
};

struct Bm25Options {
  Bm25Params params;
  AnalyzerOptions analyzer;
  // The in-memory buffer becomes an immutable segment at this many documents.
  uint32_t max_buffered_docs = 100000;
  // More immutable segments than this are merged into one after a flush.
  uint32_t max_segments = 16;
};

// Restricts a search to some internal doc ids: a bitset (bit d set = allowed;
// ids past its end are rejected) or a predicate. The bitset is borrowed.
class DocFilter {
 public:
  static DocFilter FromBitset(absl::Span<const uint64_t> allowed);
  static DocFilter FromPredicate(std::function<bool(uint32_t)> accepts);

  bool Accepts(uint32_t doc) const {
    if (predicate_) return predicate_(doc);
    const size_t word = doc >> 6;
    return word < bitset_.size() && ((bitset_[word] >> (doc & 63)) & 1) != 0;
  }

 private:
  absl::Span<const uint64_t> bitset_;
  std::function<bool(uint32_t)> predicate_;
};

struct Bm25Hit {
  std::string id;  // External id.
  uint32_t doc = 0;  // Internal id.
  float score = 0;
  int rank = 0;  // 1-based.
};

// BM25 statistics of a corpus: the documents counted as N, the sum of their
// lengths and the document frequency of analysed terms. A shard given the
// statistics of the whole corpus scores exactly as one index of it would.
struct Bm25CorpusStatistics {
  uint64_t doc_count = 0;
  uint64_t total_length = 0;
  absl::flat_hash_map<std::string, uint64_t> doc_frequencies;
};

struct Bm25SearchOptions {
  size_t top_k = 10;
  const DocFilter* filter = nullptr;  // Borrowed; null accepts every document.
  std::optional<Bm25Params> params;  // Overrides Bm25Options::params.
  // Scores every matching document (no pruning); for tests and diagnostics.
  bool exhaustive = false;
  // Borrowed; when set, IDF and the average length come from these statistics
  // (of a corpus this index is a shard of) instead of the index's own. A term
  // they lack keeps this index's document frequency.
  const Bm25CorpusStatistics* corpus = nullptr;
};

// Work done by one search, to observe pruning.
struct Bm25SearchStats {
  uint64_t candidates = 0;  // Documents reached through essential terms.
  uint64_t scored = 0;  // Documents whose full score was computed.
};

class Bm25Index {
 public:
  static absl::StatusOr<std::unique_ptr<Bm25Index>> Create(Bm25Options options = {});
  // Opens an index saved with Save(); segment files are memory-mapped and
  // validated. NotFound without a manifest; DataLoss or InvalidArgument for a
  // corrupt or truncated file (rebuild the index then).
  static absl::StatusOr<std::unique_ptr<Bm25Index>> Open(const std::string& directory,
                                                         Bm25Options options = {});

  // Indexes `text` under `id`, replacing a live document with the same id.
  absl::Status Add(absl::string_view id, absl::string_view text);
  // Same, with terms already analysed by analyzer().
  absl::Status AddTerms(absl::string_view id, absl::Span<const std::string> terms);
  // Marks the document deleted. NotFound for an unknown id.
  absl::Status Delete(absl::string_view id);
  // Turns buffered documents into an immutable segment.
  absl::Status Flush();
  // Merges all segments into one without deleted documents; renumbers ids.
  absl::Status Merge();
  // Writes the index under `directory` (created if needed): new segment files,
  // then a manifest replaced atomically; unreferenced segment files are removed.
  absl::Status Save(const std::string& directory);

  absl::StatusOr<std::vector<Bm25Hit>> Search(absl::string_view query,
                                              const Bm25SearchOptions& options,
                                              Bm25SearchStats* stats = nullptr) const;
  // Search with already analysed query terms (duplicates raise the weight).
  absl::StatusOr<std::vector<Bm25Hit>> SearchTerms(absl::Span<const std::string> terms,
                                                   const Bm25SearchOptions& options,
                                                   Bm25SearchStats* stats = nullptr) const;

  // This index's statistics for the analysed terms of `query` (counted as
  // Search counts them: deleted documents included until a merge).
  Bm25CorpusStatistics Statistics(absl::string_view query) const;

  std::optional<uint32_t> InternalId(absl::string_view id) const;
  // Empty for an id that is out of range or deleted.
  std::string ExternalId(uint32_t doc) const;
  // One past the largest internal id: the size a filter bitset must cover.
  uint32_t doc_id_limit() const;
  uint32_t live_doc_count() const;
  // Immutable segments plus the buffer when it holds documents.
  size_t segment_count() const;
  const Analyzer& analyzer() const { return *analyzer_; }

 private:
  struct FrozenSlot {
    std::unique_ptr<bm25::FrozenSegment> segment;
    uint32_t base = 0;
    std::string file_name;  // Set once written to / read from persisted_directory.
    std::string persisted_directory;
  };

  Bm25Index(Bm25Options options, std::unique_ptr<Analyzer> analyzer);

  absl::Status AddTermsLocked(absl::string_view id, absl::Span<const std::string> terms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status MergeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void MarkDeleted(uint32_t doc) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  bool IsDeleted(uint32_t doc) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  uint32_t buffer_base() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  std::string ExternalIdLocked(uint32_t doc) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  const Bm25Options options_;
  const std::unique_ptr<Analyzer> analyzer_;

  mutable absl::Mutex mutex_;
  std::vector<FrozenSlot> frozen_ ABSL_GUARDED_BY(mutex_);
  std::unique_ptr<bm25::MutableSegment> buffer_ ABSL_GUARDED_BY(mutex_);
  std::vector<uint64_t> deleted_ ABSL_GUARDED_BY(mutex_);  // Bitset over internal ids.
  absl::flat_hash_map<std::string, uint32_t> live_ids_ ABSL_GUARDED_BY(mutex_);
  uint64_t total_length_ ABSL_GUARDED_BY(mutex_) = 0;  // Including deleted documents.
  uint32_t doc_id_limit_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t next_segment_number_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_BM25_INDEX_H_
