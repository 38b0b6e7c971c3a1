// The CPU ModelExecutor: the LLaMA forward pass of llama::LlamaModel over a
// paged KV pool. Each step gathers the new tokens of every sequence into one
// matrix, so each weight matrix streams from memory once per step whatever
// the batch size (the reason batching pays on the CPU as well); attention runs
// per sequence over its block table.
#ifndef TESSERA_ENGINE_SERVING_CPU_EXECUTOR_H_
#define TESSERA_ENGINE_SERVING_CPU_EXECUTOR_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "engine/llama/llama_model.h"
#include "engine/serving/model_executor.h"

namespace tessera::serving {

// The pool holds geometry.num_blocks blocks of K and V for every layer
// (2 * layers * block_size * kv_heads * head_dim floats a block). Uses the
// model's thread pool. INVALID_ARGUMENT for a geometry without blocks.
absl::StatusOr<std::unique_ptr<ModelExecutor>> NewCpuExecutor(const llama::LlamaModel& model,
                                                               KvCacheGeometry geometry);

// INVALID_ARGUMENT for a block copy whose source or destination lies outside
// the pool (checked for every pair before any is copied); shared by the
// executors.
absl::Status ValidateCopies(absl::Span<const std::pair<int32_t, int32_t>> copies,
                            const KvCacheGeometry& geometry);

// Checks a step against the model and pool (shared by every executor):
// INVALID_ARGUMENT as ModelExecutor::Execute documents.
absl::Status ValidateStep(absl::Span<const SequenceStep> batch, const llama::LlamaHParams& hparams,
                          KvCacheGeometry geometry);

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_CPU_EXECUTOR_H_
