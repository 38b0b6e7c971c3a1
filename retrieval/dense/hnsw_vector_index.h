// Approximate nearest-neighbour index on an HNSW graph (hnswlib).
#ifndef TESSERA_RETRIEVAL_DENSE_HNSW_VECTOR_INDEX_H_
#define TESSERA_RETRIEVAL_DENSE_HNSW_VECTOR_INDEX_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

// hnswlib's HierarchicalNSW stores the graph and the vectors; this class adds
// growth, filtered search, validated persistence and compaction.
//
// Search walks the graph itself (using hnswlib's public layout accessors)
// rather than calling searchKnn, because the Debian hnswlib (0.6.2) has
// neither per-query ef nor filters: the filter and the deleted marks are
// tested on each visited node, non-matching nodes are still expanded, and the
// walk continues until ef matching nodes are found. If the graph cannot reach
// k matching nodes (tiny or disconnected pass sets), an exact scan of the
// matching nodes fills the result, so top-k is always full when possible.
//
// Concurrency: searches hold a shared lock and run concurrently with each
// other and with Add of new ids. Writers (Add, MarkDeleted, Rebuild, Load)
// are serialised among themselves, because hnswlib's level generator and
// update path are not thread-safe; Add of a new id keeps the shared lock,
// relying on hnswlib's documented support for addPoint concurrent with
// searches (per-node link-list locks; a reader may see a link list mid-update,
// which only ever names fully written nodes). Growing the capacity, upserts,
// MarkDeleted and installing a rebuilt or loaded graph take the lock
// exclusively for their duration. Rebuild builds the new graph while searches
// continue on the old one.
class HnswVectorIndex : public VectorIndex {
 public:
  static absl::StatusOr<std::unique_ptr<HnswVectorIndex>> Create(
      int dimension, Metric metric, const HnswParams& params);
  ~HnswVectorIndex() override;

  absl::Status MarkDeleted(VectorId id) override;
  absl::Status Save(const std::string& dir) const override;
  absl::Status Load(const std::string& dir) override;
  absl::Status Rebuild() override;
  size_t size() const override;
  absl::string_view backend() const override { return "hnsw"; }

  // Entries still occupying graph slots after MarkDeleted (0 after Rebuild).
  size_t deleted_count() const;
  // Allocated slots; grows by doubling.
  size_t capacity() const;

 protected:
  absl::Status AddPrepared(absl::Span<const VectorId> ids,
                           absl::Span<const float> vectors) override;
  absl::StatusOr<std::vector<SearchHit>> SearchPrepared(
      absl::Span<const float> query, size_t k,
      const SearchOptions& options) const override;

 private:
  class Graph;  // Wraps hnswlib types, kept out of this header (see hnswlib_include.h).

  HnswVectorIndex(int dimension, Metric metric, const HnswParams& params,
                  std::unique_ptr<Graph> graph);
  absl::Status AddOne(VectorId id, const float* vector);

  HnswParams params_;
  // Serialises writers; always taken before mutex_.
  mutable std::mutex writer_mutex_;
  // Shared: searches and adds of new ids. Exclusive: structural changes.
  mutable std::shared_mutex mutex_;
  std::unique_ptr<Graph> graph_;
};

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_HNSW_VECTOR_INDEX_H_
