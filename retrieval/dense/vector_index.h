// Dense (vector) indexes for Tessera's retrieval service: one interface over
// HNSW (hnswlib) and FAISS (exact flat, IVF-PQ) backends.
#ifndef TESSERA_RETRIEVAL_DENSE_VECTOR_INDEX_H_
#define TESSERA_RETRIEVAL_DENSE_VECTOR_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tessera::dense {

// Caller-chosen id of a vector (e.g. a chunk id). Dense ids (0..n-1) work best
// with BitsetIdFilter. Limited to [0, kMaxVectorId] because FAISS stores ids as
// signed 64-bit integers.
using VectorId = uint64_t;
inline constexpr VectorId kMaxVectorId = static_cast<VectorId>(INT64_MAX);

// How similarity is measured. Scores are always "higher is better".
enum class Metric {
  // Raw inner product of the vectors as given: score = <q, v>.
  kInnerProduct,
  // Vectors and queries are L2-normalised on the way in, then inner product:
  // score = cosine similarity in [-1, 1]. Zero vectors are rejected.
  kCosine,
  // Euclidean: score = -||q - v||^2 (negated so that higher is better).
  kL2,
};

// "ip", "cosine", "l2".
absl::string_view MetricName(Metric metric);
absl::StatusOr<Metric> ParseMetric(absl::string_view name);

struct SearchHit {
  VectorId id = 0;
  float score = 0;  // Higher is better; see Metric.

  friend bool operator==(const SearchHit& a, const SearchHit& b) {
    return a.id == b.id && a.score == b.score;
  }
};

// Restricts a search to a subset of ids. Backends test it inside the traversal
// (graph walk, inverted-list scan), so a selective filter still yields a full
// top-k whenever at least k live ids pass. Implementations must be safe to
// call concurrently from several threads (all the ones below are).
class IdFilter {
 public:
  virtual ~IdFilter() = default;
  virtual bool Contains(VectorId id) const = 0;
};

// One bit per dense id; ids beyond the bitset are excluded.
class BitsetIdFilter : public IdFilter {
 public:
  explicit BitsetIdFilter(size_t num_ids) : bits_(num_ids, false) {}
  void Set(VectorId id) {
    if (id < bits_.size()) bits_[id] = true;
  }
  bool Contains(VectorId id) const override {
    return id < bits_.size() && bits_[id];
  }

 private:
  std::vector<bool> bits_;
};

// An explicit set of (possibly sparse) ids.
class IdSetFilter : public IdFilter {
 public:
  explicit IdSetFilter(absl::flat_hash_set<VectorId> ids) : ids_(std::move(ids)) {}
  bool Contains(VectorId id) const override { return ids_.contains(id); }

 private:
  absl::flat_hash_set<VectorId> ids_;
};

// Any predicate, e.g. a metadata lookup. It must be thread-safe.
class PredicateIdFilter : public IdFilter {
 public:
  explicit PredicateIdFilter(std::function<bool(VectorId)> predicate)
      : predicate_(std::move(predicate)) {}
  bool Contains(VectorId id) const override { return predicate_(id); }

 private:
  std::function<bool(VectorId)> predicate_;
};

// Per-query knobs. Zero means "use the index's configured default".
struct SearchOptions {
  const IdFilter* filter = nullptr;  // Not owned; nullptr = all ids.
  int ef_search = 0;                 // HNSW beam width (raised to k if smaller).
  int nprobe = 0;                    // IVF lists to scan.
};

struct HnswParams {
  int m = 16;                 // Graph degree (2*m on the bottom layer).
  int ef_construction = 200;  // Beam width while inserting.
  int ef_search = 64;         // Default beam width while searching.
  size_t initial_capacity = 1024;  // Grows by doubling.
  uint64_t random_seed = 100;      // Level assignment; fixed = reproducible.
};

struct IvfPqParams {
  int nlist = 256;  // Coarse clusters.
  int m = 16;       // PQ sub-quantizers; must divide the dimension.
  int nbits = 8;    // Bits per sub-quantizer code.
  int nprobe = 16;  // Default clusters scanned per query.
  // Vectors buffered (and searched exactly) before training on them; 0 means
  // 39 * max(nlist, 2^nbits), FAISS's minimum for well-trained k-means.
  size_t train_size = 0;
};

struct VectorIndexConfig {
  std::string backend = "hnsw";  // "hnsw" | "flat" | "ivfpq".
  int dimension = 0;
  Metric metric = Metric::kCosine;
  HnswParams hnsw;
  IvfPqParams ivfpq;
};

// Checks ranges and backend-specific constraints (e.g. ivfpq.m | dimension).
absl::Status ValidateConfig(const VectorIndexConfig& config);

// A mutable collection of fixed-dimension float vectors keyed by VectorId.
//
// Thread safety: every method may be called from any thread. Searches run
// concurrently with each other; how writers interact with searches is
// documented per backend (HNSW lets Add run concurrently with searches).
//
// Errors: wrong dimension, non-finite values, zero vectors under kCosine and
// out-of-range ids are InvalidArgument; unknown ids are NotFound.
class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Inserts `vector` under `id`. An id that is already present (live or
  // deleted) gets the new vector and becomes live again (upsert).
  absl::Status Add(VectorId id, absl::Span<const float> vector);
  // Same for ids.size() vectors stored row-major in `vectors`. Ids in one
  // batch must be distinct. Cheaper per vector than Add for FAISS backends.
  absl::Status AddBatch(absl::Span<const VectorId> ids,
                        absl::Span<const float> vectors);

  // Hides `id` from all later searches. NotFound when it is absent or already
  // deleted. Space is reclaimed by Rebuild() (HNSW) or immediately (FAISS).
  virtual absl::Status MarkDeleted(VectorId id) = 0;

  // Top-`k` live ids by score, best first (ties by ascending id). Returns
  // fewer than k only when fewer than k live ids pass the filter.
  absl::StatusOr<std::vector<SearchHit>> Search(
      absl::Span<const float> query, size_t k,
      const SearchOptions& options = SearchOptions()) const;

  // Writes the index into directory `dir` (created if missing): a manifest
  // with checksums plus backend files. Load() replaces this index's contents
  // with what Save() wrote; the saved backend, dimension and metric must
  // match this index (FailedPrecondition otherwise). Corrupt or truncated
  // files give DataLoss/InvalidArgument, never a crash.
  virtual absl::Status Save(const std::string& dir) const = 0;
  virtual absl::Status Load(const std::string& dir) = 0;

  // Rewrites the index without deleted entries, reclaiming their memory.
  virtual absl::Status Rebuild() = 0;

  virtual size_t size() const = 0;  // Live (not deleted) vectors.
  int dimension() const { return dimension_; }
  Metric metric() const { return metric_; }
  virtual absl::string_view backend() const = 0;

 protected:
  VectorIndex(int dimension, Metric metric)
      : dimension_(dimension), metric_(metric) {}

  // Backends receive validated input; under kCosine the vectors are already
  // normalised. `vectors` holds ids.size() rows of dimension() floats.
  virtual absl::Status AddPrepared(absl::Span<const VectorId> ids,
                                   absl::Span<const float> vectors) = 0;
  // `k` >= 1; the query is validated (and normalised under kCosine).
  virtual absl::StatusOr<std::vector<SearchHit>> SearchPrepared(
      absl::Span<const float> query, size_t k,
      const SearchOptions& options) const = 0;

 private:
  // Checks one row (of `id`, or the query when nullptr) and copies it to
  // `out`, normalised under kCosine.
  absl::Status PrepareVector(absl::Span<const float> vector, const VectorId* id,
                             float* out) const;

  const int dimension_;
  const Metric metric_;
};

// Sorts hits best first (score descending, then id ascending) and keeps k.
void SortAndTruncateHits(size_t k, std::vector<SearchHit>* hits);

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_VECTOR_INDEX_H_
