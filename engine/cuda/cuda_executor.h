// The serving engine's model executor on a CUDA GPU (see
// engine/serving/model_executor.h): weights converted to f16 on the device
// (Q8_0 / Q4_0 / bf16 / f32 are dequantised once at load; the embedding table
// stays in its file type and rows are dequantised as they are looked up),
// cuBLAS GemmEx f16 x f16 with f32 accumulation for the projections, the
// kernels of kernels.h for the rest, and an f16 KV pool on the device. Logits
// come back to the host as f32.
#ifndef TESSERA_ENGINE_CUDA_CUDA_EXECUTOR_H_
#define TESSERA_ENGINE_CUDA_CUDA_EXECUTOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "engine/llama/llama_model.h"
#include "engine/serving/model_executor.h"

namespace tessera::cuda {

// UNAVAILABLE (with the reason) when there is no usable GPU, driver or
// cuBLAS; INVALID_ARGUMENT for a bad geometry or device index, or weights of
// a type the kernels do not read; RESOURCE_EXHAUSTED when the weights or the
// KV pool do not fit. geometry.num_blocks == 0 sizes the pool from the
// device's free memory after the weights are loaded (90% of it, less room for
// the activations of 2048 tokens). `model` must outlive the executor only
// until this returns (everything is copied to the device).
absl::StatusOr<std::unique_ptr<serving::ModelExecutor>> NewCudaExecutor(
    const llama::LlamaModel& model, serving::KvCacheGeometry geometry, int device = 0);

}  // namespace tessera::cuda

#endif  // TESSERA_ENGINE_CUDA_CUDA_EXECUTOR_H_
