// Checks on the tensors a model-file reader returns.
#ifndef TESSERA_FUZZ_TENSOR_CHECKS_H_
#define TESSERA_FUZZ_TENSOR_CHECKS_H_

#include <vector>

#include "engine/model/tensor.h"

namespace tessera::fuzz {

// Readers reject overlapping tensors: no two byte ranges may share a byte.
void CheckTensorsDisjoint(const std::vector<model::TensorView>& tensors);

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_TENSOR_CHECKS_H_
