// The per-token view of a serving step that the CUDA kernels read: one int32
// array holding, in order, the token ids, their absolute positions, the offset
// of their sequence's block table, the flattened-token index of every logits
// row, and the block tables themselves. Built on the host, copied to the
// device in one transfer. Kept apart from the executor so that it is tested
// where there is no GPU.
#ifndef TESSERA_ENGINE_CUDA_STEP_LAYOUT_H_
#define TESSERA_ENGINE_CUDA_STEP_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "engine/serving/model_executor.h"

namespace tessera::cuda {

struct StepLayout {
  int tokens = 0;  // Tokens of the whole batch, sequence after sequence.
  int rows = 0;    // Logits rows (one a sequence, or one a token with all_logits).
  size_t ids_at = 0, positions_at = 0, table_offsets_at = 0, logit_rows_at = 0, tables_at = 0;
  std::vector<int32_t> values;
};

// Fills `*layout` (reusing its memory) for a batch that passed
// serving::ValidateStep.
void PackStep(absl::Span<const serving::SequenceStep> batch, StepLayout* layout);

}  // namespace tessera::cuda

#endif  // TESSERA_ENGINE_CUDA_STEP_LAYOUT_H_
