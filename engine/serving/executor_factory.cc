#include "engine/serving/executor_factory.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "engine/cuda/cuda_executor.h"
#include "engine/cuda/device.h"
#include "engine/serving/cpu_executor.h"

namespace tessera::serving {

absl::StatusOr<std::unique_ptr<ModelExecutor>> NewExecutor(const llama::LlamaModel& model,
                                                           KvCacheGeometry geometry,
                                                           absl::string_view device) {
  if (device != "auto" && device != "cpu" && device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown device \"", device, "\" (auto, cpu or cuda)"));
  }
  // "cuda" returns the CUDA executor or its error (UNAVAILABLE without a GPU);
  // "auto" uses it when a GPU is present and falls back to the CPU otherwise.
  if (device == "cuda" || (device == "auto" && cuda::CudaAvailable())) {
    auto executor = cuda::NewCudaExecutor(model, geometry);
    if (executor.ok() || device == "cuda") return executor;
    spdlog::warn("CUDA executor unavailable, using the CPU: {}", executor.status().ToString());
  }
  return NewCpuExecutor(model, geometry);
}

}  // namespace tessera::serving
