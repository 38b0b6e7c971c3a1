// Load generator for the serving engine: replays N generation requests of
// mixed prompt and output lengths at a given concurrency (closed loop: each of
// C clients sends its next request when the last one returns) against a
// ServingEngine on a random-weight model, then the same load under static
// batching (fixed batches of C that wait for their longest member). Prints
// throughput, TTFT and TPOT p50/p99 and the KV memory wasted, and the ratio of
// continuous to static throughput.
//
//   bazel run -c opt //bench:serving_bench -- --requests=32 --concurrency=8
//   bazel run //bench:serving_bench -- --shape=tinyllama-1.1b --dtype=q4_0 --device=cuda
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "engine/serving/executor_factory.h"
#include "engine/serving/serving_engine.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "", "GGUF file or HF directory; empty: a random model");
ABSL_FLAG(std::string, shape, "llama-100m", "shape of the random model (llama-100m, tinyllama-1.1b, ...)");
ABSL_FLAG(std::string, dtype, "q8_0", "weight type of the random model (f32, f16, q8_0, q4_0)");
ABSL_FLAG(std::string, device, "auto", "executor: auto, cpu or cuda");
ABSL_FLAG(int, threads, 0, "CPU threads (0 = all cores)");
ABSL_FLAG(int, requests, 32, "requests per run");
ABSL_FLAG(int, concurrency, 8, "clients sending requests at once (and the static batch size)");
ABSL_FLAG(int, prompt_min, 16, "shortest prompt");
ABSL_FLAG(int, prompt_max, 160, "longest prompt");
ABSL_FLAG(int, output_min, 4, "fewest generated tokens");
ABSL_FLAG(int, output_max, 128, "most generated tokens");
ABSL_FLAG(int, kv_block_size, 16, "positions per KV block");
ABSL_FLAG(int, max_batch_tokens, 256, "tokens per step");
ABSL_FLAG(int, speculative_tokens, 0, "n-gram speculative tokens per step");
ABSL_FLAG(bool, static_batching, true, "also run the static-batching baseline");
ABSL_FLAG(uint64_t, seed, 1, "load seed");

namespace tessera::serving {
namespace {

struct Load {
  std::vector<std::vector<int32_t>> prompts;
  std::vector<int> outputs;
};

// Output lengths are skewed (most short, a few long), as in chat traffic:
// what makes static batches wait for their longest member.
Load MakeLoad(int vocab) {
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  Load load;
  const int pmin = absl::GetFlag(FLAGS_prompt_min), pmax = absl::GetFlag(FLAGS_prompt_max);
  const int omin = absl::GetFlag(FLAGS_output_min), omax = absl::GetFlag(FLAGS_output_max);
  for (int i = 0; i < absl::GetFlag(FLAGS_requests); ++i) {
    const int length = pmin + static_cast<int>(rng() % (pmax - pmin + 1));
    std::vector<int32_t> prompt = {1};
    while (static_cast<int>(prompt.size()) < length) prompt.push_back(3 + rng() % (vocab - 3));
    load.prompts.push_back(std::move(prompt));
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    load.outputs.push_back(omin + static_cast<int>((omax - omin) * u * u * u));
  }
  return load;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

struct RunResult {
  double seconds = 0;
  int64_t tokens = 0;
  std::vector<double> ttft_ms, tpot_ms;
  double kv_wasted = 0;
  int64_t preemptions = 0;
  std::string device;
};

RunResult Run(const llama::LlamaModel& model, const Load& load, bool static_batches) {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  KvCacheGeometry geometry;
  geometry.block_size = absl::GetFlag(FLAGS_kv_block_size);
  // Room for every client's longest request.
  const int longest = absl::GetFlag(FLAGS_prompt_max) + absl::GetFlag(FLAGS_output_max) + 1;
  geometry.num_blocks = concurrency * ((longest + geometry.block_size - 1) / geometry.block_size);
  auto executor = NewExecutor(model, geometry, absl::GetFlag(FLAGS_device));
  if (!executor.ok()) {
    std::fprintf(stderr, "%s\n", executor.status().ToString().c_str());
    std::exit(1);
  }
  ServingOptions options;
  options.max_batch_tokens = absl::GetFlag(FLAGS_max_batch_tokens);
  options.max_running = concurrency;
  options.prefix_caching = false;  // Random prompts share nothing; keep the runs equal.
  options.speculative_tokens = absl::GetFlag(FLAGS_speculative_tokens);
  options.export_metrics = false;
  auto engine = ServingEngine::Create(model, std::move(*executor), options);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  RunResult result;
  result.device = (*engine)->executor().device_name();
  absl::Mutex mu;
  auto submit = [&](size_t i) {
    llama::SamplingOptions sampling;
    sampling.max_tokens = load.outputs[i];
    sampling.stop_at_eos = false;  // Every request generates its full length.
    auto request = (*engine)->Submit(load.prompts[i], sampling);
    if (!request.ok()) {
      std::fprintf(stderr, "%s\n", request.status().ToString().c_str());
      std::exit(1);
    }
    return *request;
  };
  auto record = [&](const Completion& completion) {
    absl::MutexLock lock(&mu);
    result.tokens += static_cast<int64_t>(completion.result.tokens.size());
    result.ttft_ms.push_back(completion.ttft_ms);
    if (completion.result.tokens.size() > 1) result.tpot_ms.push_back(completion.tpot_ms);
  };
  const absl::Time start = absl::Now();
  if (static_batches) {
    for (size_t first = 0; first < load.prompts.size(); first += concurrency) {
      std::vector<std::shared_ptr<ServingRequest>> batch;
      for (size_t i = first; i < std::min(load.prompts.size(), first + concurrency); ++i) {
        batch.push_back(submit(i));
      }
      for (auto& request : batch) record(request->Wait());  // The batch waits for its longest.
    }
  } else {
    std::atomic<size_t> next{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < concurrency; ++c) {
      clients.emplace_back([&] {
        for (size_t i = next++; i < load.prompts.size(); i = next++) record(submit(i)->Wait());
      });
    }
    for (auto& client : clients) client.join();
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const ServingStats stats = (*engine)->stats();
  result.kv_wasted = stats.kv_wasted_fraction;
  result.preemptions = stats.preemptions;
  return result;
}

void Print(const char* name, const RunResult& r) {
  std::printf(
      "%-10s %7.1f tokens/s  (%lld tokens in %.1f s)  TTFT p50 %.0f ms p99 %.0f ms  TPOT p50 %.1f "
      "ms p99 %.1f ms  KV wasted %.2f%%  preemptions %lld\n",
      name, r.tokens / r.seconds, static_cast<long long>(r.tokens), r.seconds,
      Percentile(r.ttft_ms, 0.5), Percentile(r.ttft_ms, 0.99), Percentile(r.tpot_ms, 0.5),
      Percentile(r.tpot_ms, 0.99), 100 * r.kv_wasted, static_cast<long long>(r.preemptions));
  std::fflush(stdout);
}

nlohmann::json ToJson(const RunResult& r) {
  return {{"tokens_per_second", r.tokens / r.seconds},
          {"tokens", r.tokens},
          {"seconds", r.seconds},
          {"ttft_ms_p50", Percentile(r.ttft_ms, 0.5)},
          {"ttft_ms_p99", Percentile(r.ttft_ms, 0.99)},
          {"tpot_ms_p50", Percentile(r.tpot_ms, 0.5)},
          {"tpot_ms_p99", Percentile(r.tpot_ms, 0.99)},
          {"kv_wasted_percent", 100 * r.kv_wasted},
          {"preemptions", r.preemptions}};
}

int Main() {
  std::string path = absl::GetFlag(FLAGS_model);
  if (path.empty()) {
    const std::string shape = absl::GetFlag(FLAGS_shape), dtype = absl::GetFlag(FLAGS_dtype);
    path = absl::StrCat("/tmp/tessera_serving_bench_", shape, "_", dtype, ".gguf");
    std::printf("writing a random %s (%s) model to %s\n", shape.c_str(), dtype.c_str(), path.c_str());
    auto written = model::MakeRandomModel("llama", shape, "gguf", path, 42, dtype);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.status().ToString().c_str());
      return 1;
    }
  }
  llama::LlamaLoadOptions load_options;
  load_options.num_threads = absl::GetFlag(FLAGS_threads) > 0
                                 ? absl::GetFlag(FLAGS_threads)
                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto model = llama::LlamaModel::Load(path, load_options);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const Load load = MakeLoad((*model)->hparams().vocab_size);
  int64_t wanted = 0;
  for (int n : load.outputs) wanted += n;
  std::printf("%zu requests, concurrency %d, prompts %d-%d tokens, outputs %d-%d (%lld in all)\n",
              load.prompts.size(), absl::GetFlag(FLAGS_concurrency),
              absl::GetFlag(FLAGS_prompt_min), absl::GetFlag(FLAGS_prompt_max),
              absl::GetFlag(FLAGS_output_min), absl::GetFlag(FLAGS_output_max),
              static_cast<long long>(wanted));
  const RunResult continuous = Run(**model, load, /*static_batches=*/false);
  std::printf("device %s, %d threads\n", continuous.device.c_str(), (*model)->num_threads());
  Print("continuous", continuous);
  nlohmann::json json = {{"device", continuous.device}, {"continuous", ToJson(continuous)}};
  if (absl::GetFlag(FLAGS_static_batching)) {
    const RunResult fixed = Run(**model, load, /*static_batches=*/true);
    Print("static", fixed);
    const double ratio = (continuous.tokens / continuous.seconds) / (fixed.tokens / fixed.seconds);
    std::printf("continuous / static throughput: %.2fx\n", ratio);
    json["static"] = ToJson(fixed);
    json["continuous_over_static"] = ratio;
  }
  std::printf("%s\n", json.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace tessera::serving

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tessera::serving::Main();
}
