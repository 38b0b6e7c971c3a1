// Exact (brute-force) index through FAISS: for small collections and as the
// ground truth that approximate indexes are measured against.
#ifndef TESSERA_RETRIEVAL_DENSE_FAISS_FLAT_VECTOR_INDEX_H_
#define TESSERA_RETRIEVAL_DENSE_FAISS_FLAT_VECTOR_INDEX_H_

#include <faiss/IndexIDMap.h>

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

// faiss::IndexFlatIP / IndexFlatL2 wrapped in IndexIDMap2 (which maps our ids
// to FAISS's sequential slots and back). Filters are applied during the scan.
// MarkDeleted removes the vector at once (an O(n) move, acceptable at the
// sizes an exact index serves), so Rebuild() has nothing to do.
//
// Concurrency: searches share a lock; Add, MarkDeleted and Load take it
// exclusively (FAISS indexes are not safe to modify while searched).
class FaissFlatVectorIndex : public VectorIndex {
 public:
  static absl::StatusOr<std::unique_ptr<FaissFlatVectorIndex>> Create(int dimension,
                                                                     Metric metric);
  ~FaissFlatVectorIndex() override;

  absl::Status MarkDeleted(VectorId id) override;
  absl::Status Save(const std::string& dir) const override;
  absl::Status Load(const std::string& dir) override;
  absl::Status Rebuild() override { return absl::OkStatus(); }
  size_t size() const override;
  absl::string_view backend() const override { return "flat"; }

 protected:
  absl::Status AddPrepared(absl::Span<const VectorId> ids,
                           absl::Span<const float> vectors) override;
  absl::StatusOr<std::vector<SearchHit>> SearchPrepared(
      absl::Span<const float> query, size_t k,
      const SearchOptions& options) const override;

 private:
  FaissFlatVectorIndex(int dimension, Metric metric,
                       std::unique_ptr<faiss::IndexIDMap2> index);

  mutable std::shared_mutex mutex_;
  std::unique_ptr<faiss::IndexIDMap2> index_;  // Owns its IndexFlat.
};

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_FAISS_FLAT_VECTOR_INDEX_H_
