// Deterministic random data and recall measurement for dense index tests.
#ifndef TESSERA_RETRIEVAL_DENSE_TEST_VECTORS_H_
#define TESSERA_RETRIEVAL_DENSE_TEST_VECTORS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

// `count` rows of `dimension` i.i.d. standard normal floats, row-major.
std::vector<float> RandomVectors(size_t count, int dimension, uint64_t seed);
// Same, each row scaled to unit length (uniform on the sphere).
std::vector<float> RandomUnitVectors(size_t count, int dimension, uint64_t seed);

inline absl::Span<const float> Row(const std::vector<float>& rows, size_t row,
                                   int dimension) {
  return absl::MakeConstSpan(rows).subspan(row * dimension, dimension);
}

// |ids(approximate) ∩ ids(exact)| / |exact|; 1 when exact is empty.
double Recall(const std::vector<SearchHit>& approximate,
              const std::vector<SearchHit>& exact);

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_TEST_VECTORS_H_
