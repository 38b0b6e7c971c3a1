// Picks the ModelExecutor for a device: "cpu", "cuda", or "auto" (CUDA when a
// GPU is present, else the CPU).
#ifndef TESSERA_ENGINE_SERVING_EXECUTOR_FACTORY_H_
#define TESSERA_ENGINE_SERVING_EXECUTOR_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/llama/llama_model.h"
#include "engine/serving/model_executor.h"

namespace tessera::serving {

// INVALID_ARGUMENT for an unknown device name; UNAVAILABLE for "cuda" when no
// CUDA executor can run here.
absl::StatusOr<std::unique_ptr<ModelExecutor>> NewExecutor(const llama::LlamaModel& model,
                                                           KvCacheGeometry geometry,
                                                           absl::string_view device);

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_EXECUTOR_FACTORY_H_
