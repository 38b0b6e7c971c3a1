// Random-weight tiny LLaMA models for the serving tests, written once per
// test process under TEST_TMPDIR.
#ifndef TESSERA_ENGINE_SERVING_TEST_MODELS_H_
#define TESSERA_ENGINE_SERVING_TEST_MODELS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/llama/llama_model.h"

namespace tessera::serving {

// format: "gguf" or "safetensors"; dtype as make-random takes it ("f32", "q8_0").
absl::StatusOr<std::unique_ptr<llama::LlamaModel>> LoadRandomTinyLlama(
    const std::string& format, const std::string& dtype = "f32", int num_threads = 2,
    uint64_t seed = 7);

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_TEST_MODELS_H_
