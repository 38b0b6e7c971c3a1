#include "retrieval/dense/test_vectors.h"

#include <cmath>
#include <random>

#include "absl/container/flat_hash_set.h"

namespace tessera::dense {

std::vector<float> RandomVectors(size_t count, int dimension, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> rows(count * dimension);
  for (float& value : rows) value = normal(generator);
  return rows;
}

std::vector<float> RandomUnitVectors(size_t count, int dimension, uint64_t seed) {
  std::vector<float> rows = RandomVectors(count, dimension, seed);
  for (size_t row = 0; row < count; ++row) {
    float* begin = rows.data() + row * dimension;
    double norm_squared = 0;
    for (int i = 0; i < dimension; ++i) norm_squared += begin[i] * begin[i];
    const float inverse = static_cast<float>(1.0 / std::sqrt(norm_squared));
    for (int i = 0; i < dimension; ++i) begin[i] *= inverse;
  }
  return rows;
}

double Recall(const std::vector<SearchHit>& approximate,
              const std::vector<SearchHit>& exact) {
  if (exact.empty()) return 1.0;
  absl::flat_hash_set<VectorId> truth;
  for (const SearchHit& hit : exact) truth.insert(hit.id);
  size_t found = 0;
  for (const SearchHit& hit : approximate) found += truth.contains(hit.id) ? 1 : 0;
  return static_cast<double>(found) / exact.size();
}

}  // namespace tessera::dense
