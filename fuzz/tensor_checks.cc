#include "fuzz/tensor_checks.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "fuzz/fuzz_util.h"

namespace tessera::fuzz {

void CheckTensorsDisjoint(const std::vector<model::TensorView>& tensors) {
  std::vector<std::pair<uintptr_t, uint64_t>> ranges;
  for (const model::TensorView& tensor : tensors) {
    if (tensor.num_bytes > 0) {
      ranges.emplace_back(reinterpret_cast<uintptr_t>(tensor.data), tensor.num_bytes);
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    TESSERA_FUZZ_CHECK(ranges[i - 1].first + ranges[i - 1].second <= ranges[i].first);
  }
}

}  // namespace tessera::fuzz
