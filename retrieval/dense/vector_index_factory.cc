#include "retrieval/dense/vector_index_factory.h"

#include <utility>

#include "retrieval/dense/faiss_flat_vector_index.h"
#include "retrieval/dense/faiss_ivfpq_vector_index.h"
#include "retrieval/dense/hnsw_vector_index.h"
#include "retrieval/dense/index_manifest.h"

namespace tessera::dense {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<VectorIndex>> Upcast(absl::StatusOr<std::unique_ptr<T>> index) {
  if (!index.ok()) return index.status();
  return std::unique_ptr<VectorIndex>(*std::move(index));
}

}  // namespace

absl::StatusOr<std::unique_ptr<VectorIndex>> CreateVectorIndex(
    const VectorIndexConfig& config) {
  absl::Status status = ValidateConfig(config);
  if (!status.ok()) return status;
  if (config.backend == "hnsw") {
    return Upcast(HnswVectorIndex::Create(config.dimension, config.metric, config.hnsw));
  }
  if (config.backend == "flat") {
    return Upcast(FaissFlatVectorIndex::Create(config.dimension, config.metric));
  }
  return Upcast(FaissIvfPqVectorIndex::Create(config.dimension, config.metric, config.ivfpq));
}

absl::StatusOr<std::unique_ptr<VectorIndex>> LoadVectorIndex(const std::string& dir) {
  absl::StatusOr<IndexManifest> manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  VectorIndexConfig config;
  config.backend = manifest->backend;
  config.dimension = manifest->dimension;
  config.metric = manifest->metric;
  if (config.backend == "ivfpq") {
    // Any valid m works here; Load() installs the saved parameters.
    config.ivfpq.m = 1;
  }
  absl::StatusOr<std::unique_ptr<VectorIndex>> index = CreateVectorIndex(config);
  if (!index.ok()) return index.status();
  absl::Status status = (*index)->Load(dir);
  if (!status.ok()) return status;
  return index;
}

}  // namespace tessera::dense
