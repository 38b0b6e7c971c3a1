// Compressed approximate index through FAISS's IndexIVFPQ: inverted lists
// over k-means clusters, vectors stored as product-quantised codes.
#ifndef TESSERA_RETRIEVAL_DENSE_FAISS_IVFPQ_VECTOR_INDEX_H_
#define TESSERA_RETRIEVAL_DENSE_FAISS_IVFPQ_VECTOR_INDEX_H_

#include <faiss/IndexIVFPQ.h>

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

// IVF-PQ needs training data, so vectors are buffered (and searched exactly)
// until `train_size` of them are present; the index is then trained once on
// that buffer and everything moves into it. Filters are applied while the
// inverted lists are scanned; if a filtered (or tiny) search finds fewer than
// k hits, nprobe doubles until every list has been scanned, so top-k is full
// whenever k live ids pass. Ids are found through FAISS's hash-table direct
// map, so MarkDeleted and upserts remove entries at once and Rebuild() has
// nothing to do.
//
// Concurrency: searches share a lock; writers take it exclusively.
class FaissIvfPqVectorIndex : public VectorIndex {
 public:
  static absl::StatusOr<std::unique_ptr<FaissIvfPqVectorIndex>> Create(
      int dimension, Metric metric, const IvfPqParams& params);
  ~FaissIvfPqVectorIndex() override;

  absl::Status MarkDeleted(VectorId id) override;
  absl::Status Save(const std::string& dir) const override;
  absl::Status Load(const std::string& dir) override;
  absl::Status Rebuild() override { return absl::OkStatus(); }
  size_t size() const override;
  absl::string_view backend() const override { return "ivfpq"; }

  bool trained() const;
  // Vectors required before training (params.train_size or its default).
  size_t train_size() const { return train_size_; }

 protected:
  absl::Status AddPrepared(absl::Span<const VectorId> ids,
                           absl::Span<const float> vectors) override;
  absl::StatusOr<std::vector<SearchHit>> SearchPrepared(
      absl::Span<const float> query, size_t k,
      const SearchOptions& options) const override;

 private:
  FaissIvfPqVectorIndex(int dimension, Metric metric, const IvfPqParams& params);
  // Trains on the buffer and moves it into the index. Caller holds mutex_.
  absl::Status TrainFromPending();
  std::vector<SearchHit> SearchPending(absl::Span<const float> query, size_t k,
                                       const IdFilter* filter) const;
  void RemovePending(VectorId id);

  IvfPqParams params_;
  size_t train_size_;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<faiss::IndexIVFPQ> index_;  // Null until trained; owns its quantizer.
  absl::flat_hash_set<VectorId> indexed_ids_;  // Ids stored in index_.
  // Untrained buffer: row i of pending_vectors_ belongs to pending_ids_[i].
  std::vector<VectorId> pending_ids_;
  std::vector<float> pending_vectors_;
  absl::flat_hash_map<VectorId, size_t> pending_rows_;
};

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_FAISS_IVFPQ_VECTOR_INDEX_H_
