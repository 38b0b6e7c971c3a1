#include "engine/serving/test_models.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/model/make_random.h"

namespace tessera::serving {

absl::StatusOr<std::unique_ptr<llama::LlamaModel>> LoadRandomTinyLlama(const std::string& format,
                                                                       const std::string& dtype,
                                                                       int num_threads,
                                                                       uint64_t seed) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/serving_tiny_", seed, "_",
                                        dtype, format == "gguf" ? ".gguf" : "_hf");
  absl::StatusOr<std::string> written =
      model::MakeRandomModel("llama", "tiny-llama", format, path, seed, dtype);
  if (!written.ok()) return written.status();
  llama::LlamaLoadOptions options;
  options.num_threads = num_threads;
  return llama::LlamaModel::Load(*written, options);
}

}  // namespace tessera::serving
