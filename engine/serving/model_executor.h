// The model executor of the serving engine: runs one forward step for a batch
// of sequences whose KV caches live in fixed-size blocks of a shared pool
// (PagedAttention). The scheduler decides which sequences run and with which
// tokens, the block manager decides which physical blocks they own; the
// executor only computes. One implementation runs on the CPU
// (cpu_executor.h), one on a CUDA GPU (engine/cuda/cuda_executor.h); both give
// the same logits for the same model within float tolerance.
#ifndef TESSERA_ENGINE_SERVING_MODEL_EXECUTOR_H_
#define TESSERA_ENGINE_SERVING_MODEL_EXECUTOR_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/llama/llama_model.h"

namespace tessera::serving {

// The KV pool's geometry, fixed when the executor is made.
struct KvCacheGeometry {
  int num_blocks = 0;  // Physical blocks in the pool.
  int block_size = 16; // Token positions per block.
};

// One sequence's work in a step.
struct SequenceStep {
  // Tokens to run now, at positions [start_position, start_position + size).
  // Several tokens: a (chunk of a) prefill or a speculative verification.
  absl::Span<const int32_t> tokens;
  int start_position = 0;
  // Physical block ids covering positions [0, start_position + tokens.size()):
  // position p lives in block block_table[p / block_size] at slot
  // p % block_size. The executor writes the new tokens' K/V there and reads
  // the earlier positions from there.
  absl::Span<const int32_t> block_table;
  // false: one logits row (the last token's); true: one row per token.
  bool all_logits = false;
};

class ModelExecutor {
 public:
  virtual ~ModelExecutor() = default;

  virtual const llama::LlamaHParams& hparams() const = 0;
  virtual KvCacheGeometry geometry() const = 0;
  // For logs and metrics: "cpu (2 threads)", "cuda:0 NVIDIA H200".
  virtual std::string device_name() const = 0;

  // Runs one step for every sequence of `batch` and replaces `*logits` with
  // their logits rows, sequence after sequence (vocab_size floats a row).
  // INVALID_ARGUMENT for an empty step, a token outside the vocabulary, a
  // block id outside the pool or a block table too short for the positions.
  virtual absl::Status Execute(absl::Span<const SequenceStep> batch,
                               std::vector<float>* logits) = 0;

  // Copies whole blocks (source, destination): copy-on-write when a sequence
  // must write into a block it shares with another (prefix caching).
  virtual absl::Status CopyBlocks(absl::Span<const std::pair<int32_t, int32_t>> copies) = 0;
};

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_MODEL_EXECUTOR_H_
