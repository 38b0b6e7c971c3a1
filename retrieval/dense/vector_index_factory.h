// Builds a VectorIndex from configuration or from a saved directory.
#ifndef TESSERA_RETRIEVAL_DENSE_VECTOR_INDEX_FACTORY_H_
#define TESSERA_RETRIEVAL_DENSE_VECTOR_INDEX_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

// An empty index of config.backend ("hnsw", "flat" or "ivfpq");
// InvalidArgument for bad configurations.
absl::StatusOr<std::unique_ptr<VectorIndex>> CreateVectorIndex(
    const VectorIndexConfig& config);

// Opens an index directory written by VectorIndex::Save, whatever its backend
// (read from the manifest, as are dimension, metric and parameters).
absl::StatusOr<std::unique_ptr<VectorIndex>> LoadVectorIndex(const std::string& dir);

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_VECTOR_INDEX_FACTORY_H_
