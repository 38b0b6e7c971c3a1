// LLaMA decoder throughput: prefill and decode tokens per second for a model
// file, or for a random model of a named shape written on the fly, at each
// thread count, with the active kernels and (decode) the scalar fallbacks.
// Decode is also reported as GB/s of weights streamed (each decoded token reads
// every weight matrix once) against the memory bandwidth measured in the same
// run with the same number of threads: the roofline of batch-1 decode.
//
//   bazel run //bench:llama_bench -- --shape=tinyllama-1.1b --dtype=q8_0
//   bazel run //bench:llama_bench -- --model=/path/model.gguf --json
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/memory_bandwidth.h"
#include "engine/llama/kernels.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "engine/model/tensor.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "", "GGUF file or HF directory; empty: a random model");
ABSL_FLAG(std::string, shape, "tiny-llama", "shape of the random model");
ABSL_FLAG(std::string, dtype, "q8_0", "weight type of the random model (f32, f16, q8_0, q4_0)");
ABSL_FLAG(std::string, format, "gguf", "random model format (gguf, safetensors)");
ABSL_FLAG(std::string, threads, "1,2", "comma-separated thread counts");
ABSL_FLAG(int, prompt_tokens, 64, "prompt length");
ABSL_FLAG(int, gen_tokens, 32, "tokens generated per run");
ABSL_FLAG(int, repeats, 1, "runs per thread count; the best is reported (noisy machines)");
ABSL_FLAG(bool, scalar, true, "also measure decode with the scalar kernels");
ABSL_FLAG(bool, bandwidth, true, "measure memory bandwidth and report decode against it");
ABSL_FLAG(int, bandwidth_mib, 1024, "buffer size for the bandwidth measurement");
ABSL_FLAG(bool, json, false, "print one JSON object per figure instead of text");

// OpenBLAS runs the batched (prefill) products; keep it to the thread count measured.
extern "C" void openblas_set_num_threads(int threads);

namespace tessera::llama {
namespace {

// Bytes of the weight matrices one decode step reads (the embedding contributes
// one row, which is negligible and left out).
double WeightBytesPerToken(const LlamaHParams& h, model::DType dtype) {
  const int64_t kv_dim = static_cast<int64_t>(h.num_kv_heads) * h.head_dim;
  auto bytes = [&](int64_t rows, int64_t cols) {
    absl::StatusOr<uint64_t> size = model::TensorByteSize(dtype, {rows, cols});
    return size.ok() ? static_cast<double>(*size) : 0.0;
  };
  const double layer = 2 * bytes(h.dim, h.dim) + 2 * bytes(kv_dim, h.dim) +
                       3 * bytes(h.ffn_dim, h.dim);
  return h.num_layers * layer + bytes(h.vocab_size, h.dim);
}

int Run() {
  const bool json = absl::GetFlag(FLAGS_json);
  std::string path = absl::GetFlag(FLAGS_model);
  if (path.empty()) {
    const std::string format = absl::GetFlag(FLAGS_format);
    path = "/tmp/tessera_llama_bench_" + absl::GetFlag(FLAGS_shape) + "_" +
           absl::GetFlag(FLAGS_dtype) + (format == "gguf" ? ".gguf" : "");
    if (!json) std::printf("writing random model %s\n", path.c_str());
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
    bench::MemoryBandwidth bandwidth;
    if (absl::GetFlag(FLAGS_bandwidth)) {
      bandwidth = bench::MeasureMemoryBandwidth(
          static_cast<size_t>(absl::GetFlag(FLAGS_bandwidth_mib)) << 20, threads);
      if (json) {
        std::printf("%s\n", nlohmann::json({{"impl", "ours"},
                                            {"bench", "memory_bandwidth"},
                                            {"threads", threads},
                                            {"read_gb_s", bandwidth.read_gb_per_s},
                                            {"copy_gb_s", bandwidth.copy_gb_per_s}})
                                .dump()
                                .c_str());
      } else {
        std::printf("memory bandwidth, %d thread(s): read %.1f GB/s, copy %.1f GB/s\n", threads,
                    bandwidth.read_gb_per_s, bandwidth.copy_gb_per_s);
      }
    }
    openblas_set_num_threads(threads);
    LlamaLoadOptions options;
    options.num_threads = threads;
    auto model = LlamaModel::Load(path, options);
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
      return 1;
    }
    const LlamaHParams& h = (*model)->hparams();
    const std::string dtype(model::DTypeName((*model)->weight_type()));
    const double weight_bytes = WeightBytesPerToken(h, (*model)->weight_type());
    std::vector<int32_t> prompt;
    for (int i = 0; i < absl::GetFlag(FLAGS_prompt_tokens); ++i) {
      prompt.push_back(static_cast<int32_t>((i * 7919 + 3) % h.vocab_size));
    }
    SamplingOptions sampling;
    sampling.max_tokens = absl::GetFlag(FLAGS_gen_tokens);
    sampling.stop_at_eos = false;
    // Warm-up: touches the memory-mapped weights once, so page faults are not timed.
    {
      SamplingOptions warm = sampling;
      warm.max_tokens = 2;
      auto warm_result = (*model)->Generate(absl::MakeConstSpan(prompt.data(), 1), warm);
      if (!warm_result.ok()) {
        std::fprintf(stderr, "%s\n", warm_result.status().ToString().c_str());
        return 1;
      }
    }
    for (bool scalar : {false, true}) {
      if (scalar && !absl::GetFlag(FLAGS_scalar)) continue;
      ForceScalarKernels(scalar);
      GenerationTimings best;
      for (int r = 0; r < (scalar ? 1 : std::max(1, absl::GetFlag(FLAGS_repeats))); ++r) {
        auto result = (*model)->Generate(prompt, sampling);
        if (!result.ok()) {
          ForceScalarKernels(false);
          std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
          return 1;
        }
        const GenerationTimings& t = result->timings;
        if (t.prefill_tokens_per_second > best.prefill_tokens_per_second) {
          best.prefill_tokens_per_second = t.prefill_tokens_per_second;
          best.prompt_tokens = t.prompt_tokens;
        }
        if (t.decode_tokens_per_second > best.decode_tokens_per_second) {
          best.decode_tokens_per_second = t.decode_tokens_per_second;
          best.generated_tokens = t.generated_tokens;
        }
      }
      ForceScalarKernels(false);
      const std::string kernels =
          scalar ? "scalar" : (ActiveKernelIsa() == KernelIsa::kAvx512 ? "avx512" : "avx2");
      const double streamed_gb_s = weight_bytes * best.decode_tokens_per_second / 1e9;
      if (json) {
        nlohmann::json common = {{"impl", "ours"},    {"model", path},     {"dtype", dtype},
                                 {"threads", threads}, {"kernels", kernels}};
        nlohmann::json prefill = common;
        prefill.update({{"bench", "prefill"},
                        {"tokens", best.prompt_tokens},
                        {"tok_s", best.prefill_tokens_per_second}});
        nlohmann::json decode = common;
        decode.update({{"bench", "decode"},
                       {"tokens", best.generated_tokens},
                       {"tok_s", best.decode_tokens_per_second},
                       {"weight_gb_per_token", weight_bytes / 1e9},
                       {"streamed_gb_s", streamed_gb_s},
                       {"read_gb_s", bandwidth.read_gb_per_s}});
        if (!scalar) std::printf("%s\n", prefill.dump().c_str());
        std::printf("%s\n", decode.dump().c_str());
      } else {
        std::printf(
            "model=%s weights=%s dim=%d layers=%d threads=%d kernels=%s prompt=%d gen=%d "
            "prefill=%.1f tok/s decode=%.2f tok/s (%.1f GB/s of weights",
            path.c_str(), dtype.c_str(), h.dim, h.num_layers, threads, kernels.c_str(),
            best.prompt_tokens, best.generated_tokens, best.prefill_tokens_per_second,
            best.decode_tokens_per_second, streamed_gb_s);
        if (bandwidth.read_gb_per_s > 0) {
          std::printf(", %.0f%% of the measured read bandwidth",
                      100 * streamed_gb_s / bandwidth.read_gb_per_s);
        }
        std::printf(")\n");
      }
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
