// LLaMA decoder throughput: prefill and decode tokens per second for a model
// file, or for a random model of a named shape written on the fly, at each
// thread count, with the AVX2 kernels and (decode) the scalar fallbacks.
//
//   bazel run //bench:llama_bench -- --shape=tinyllama-1.1b --dtype=q8_0
//   bazel run //bench:llama_bench -- --model=/path/model.gguf
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/llama/kernels.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "engine/model/tensor.h"

ABSL_FLAG(std::string, model, "", "GGUF file or HF directory; empty: a random model");
ABSL_FLAG(std::string, shape, "tiny-llama", "shape of the random model");
ABSL_FLAG(std::string, dtype, "q8_0", "weight type of the random model (f32, f16, q8_0, q4_0)");
ABSL_FLAG(std::string, format, "gguf", "random model format (gguf, safetensors)");
ABSL_FLAG(std::string, threads, "1,2", "comma-separated thread counts");
ABSL_FLAG(int, prompt_tokens, 64, "prompt length");
ABSL_FLAG(int, gen_tokens, 32, "tokens generated per run");
ABSL_FLAG(bool, scalar, true, "also measure decode with the scalar kernels");

namespace tessera::llama {
namespace {

int Run() {
  std::string path = absl::GetFlag(FLAGS_model);
  if (path.empty()) {
    const std::string format = absl::GetFlag(FLAGS_format);
    path = "/tmp/tessera_llama_bench_" + absl::GetFlag(FLAGS_shape) + "_" +
           absl::GetFlag(FLAGS_dtype) + (format == "gguf" ? ".gguf" : "");
    std::printf("writing random model %s\n", path.c_str());
    auto written = model::MakeRandomModel("llama", absl::GetFlag(FLAGS_shape), format, path, 1,
                                          absl::GetFlag(FLAGS_dtype));
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.status().ToString().c_str());
      return 1;
    }
  }
  std::vector<int> thread_counts;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_threads), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1) {
      std::fprintf(stderr, "bad --threads\n");
      return 1;
    }
    thread_counts.push_back(n);
  }
  for (int threads : thread_counts) {
    LlamaLoadOptions options;
    options.num_threads = threads;
    auto model = LlamaModel::Load(path, options);
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
      return 1;
    }
    const LlamaHParams& h = (*model)->hparams();
    std::vector<int32_t> prompt;
    for (int i = 0; i < absl::GetFlag(FLAGS_prompt_tokens); ++i) {
      prompt.push_back(static_cast<int32_t>((i * 7919 + 3) % h.vocab_size));
    }
    SamplingOptions sampling;
    sampling.max_tokens = absl::GetFlag(FLAGS_gen_tokens);
    sampling.stop_at_eos = false;
    for (bool scalar : {false, true}) {
      if (scalar && !absl::GetFlag(FLAGS_scalar)) continue;
      ForceScalarKernels(scalar);
      auto result = (*model)->Generate(prompt, sampling);
      ForceScalarKernels(false);
      if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
        return 1;
      }
      std::printf(
          "model=%s weights=%s dim=%d layers=%d threads=%d kernels=%s prompt=%d gen=%d "
          "prefill=%.1f tok/s decode=%.2f tok/s\n",
          path.c_str(), std::string(model::DTypeName((*model)->weight_type())).c_str(), h.dim,
          h.num_layers, threads, scalar ? "scalar" : "avx2", result->timings.prompt_tokens,
          result->timings.generated_tokens, result->timings.prefill_tokens_per_second,
          result->timings.decode_tokens_per_second);
    }
  }
  return 0;
}

}  // namespace
}  // namespace tessera::llama

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tessera::llama::Run();
}
