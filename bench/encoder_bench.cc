// BERT encoder throughput: sentence embeddings (passages/s) and cross-encoder
// scores (pairs/s) at batch 32 x 128 tokens, on model directories or on random
// MiniLM-L6-shape models written on the fly. The batch is the one
// bench/pytorch_anchor.py builds, so the two time the same work.
//
//   bazel run //bench:encoder_bench -- --json
//   bazel run //bench:encoder_bench -- --embedder=DIR --reranker=DIR --threads=1,2
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/bert/bert_encoder.h"
#include "engine/model/make_random.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, embedder, "", "BERT sentence-embedding directory; empty: random");
ABSL_FLAG(std::string, reranker, "", "BERT cross-encoder directory; empty: random");
ABSL_FLAG(std::string, shape, "minilm-l6", "shape of the random models");
ABSL_FLAG(std::string, threads, "1,2", "comma-separated thread counts");
ABSL_FLAG(int, batch, 32, "sequences per call");
ABSL_FLAG(int, seq, 128, "tokens per sequence ([CLS] and [SEP] included)");
ABSL_FLAG(int, min_batches, 3, "timed calls at least");
ABSL_FLAG(double, min_seconds, 3.0, "timed seconds at least");
ABSL_FLAG(bool, json, false, "print one JSON object per figure instead of text");

extern "C" void openblas_set_num_threads(int threads);

namespace tessera::bert {
namespace {

using Clock = std::chrono::steady_clock;

// [CLS] ids [SEP], every sequence `seq` tokens; pairs: a 16-token query, [SEP],
// the passage (token type 1), [SEP]. Same ids as pytorch_anchor.py.
std::vector<EncoderInput> MakeBatch(int vocab, int batch, int seq, bool pairs) {
  std::vector<EncoderInput> inputs(batch);
  for (int b = 0; b < batch; ++b) {
    EncoderInput& input = inputs[b];
    input.ids.push_back(101);
    for (int i = 0; i < seq - 2; ++i) {
      input.ids.push_back(1000 + static_cast<int32_t>((int64_t{b} * 7919 + int64_t{i} * 104729) %
                                                      (vocab - 1000)));
    }
    input.ids.push_back(102);
    if (pairs) {
      constexpr int kQueryTokens = 16;
      input.ids[kQueryTokens + 1] = 102;
      input.token_type_ids.assign(seq, 0);
      for (int i = kQueryTokens + 2; i < seq; ++i) input.token_type_ids[i] = 1;
    }
  }
  return inputs;
}

std::string RandomModel(const std::string& flag, const std::string& arch, bool json) {
  if (!flag.empty()) return flag;
  const std::string dir = "/tmp/tessera_encoder_bench_" + arch + "_" + absl::GetFlag(FLAGS_shape);
  if (!json) std::printf("writing random model %s\n", dir.c_str());
  absl::StatusOr<std::string> written =
      model::MakeRandomModel(arch, absl::GetFlag(FLAGS_shape), "safetensors", dir, 1, "f32");
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.status().ToString().c_str());
    return "";
  }
  return *written;
}

int Run() {
  const bool json = absl::GetFlag(FLAGS_json);
  std::vector<int> thread_counts;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_threads), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1) {
      std::fprintf(stderr, "bad --threads\n");
      return 1;
    }
    thread_counts.push_back(n);
  }
  const int batch = absl::GetFlag(FLAGS_batch), seq = absl::GetFlag(FLAGS_seq);
  for (const std::string kind : {"embed", "rerank"}) {
    const std::string dir = kind == "embed"
                                ? RandomModel(absl::GetFlag(FLAGS_embedder), "bert", json)
                                : RandomModel(absl::GetFlag(FLAGS_reranker), "bert-cross-encoder", json);
    if (dir.empty()) return 1;
    for (int threads : thread_counts) {
      openblas_set_num_threads(threads);
      BertEncoderOptions options;
      options.num_threads = threads;
      absl::StatusOr<std::unique_ptr<BertEncoder>> encoder = BertEncoder::Load(dir, options);
      if (!encoder.ok()) {
        std::fprintf(stderr, "%s\n", encoder.status().ToString().c_str());
        return 1;
      }
      const std::vector<EncoderInput> inputs =
          MakeBatch((*encoder)->config().vocab_size, batch, seq, kind == "rerank");
      std::vector<std::vector<int32_t>> ids;
      for (const EncoderInput& input : inputs) ids.push_back(input.ids);
      auto run = [&]() -> absl::Status {
        if (kind == "embed") return (*encoder)->EncodeIds(ids).status();
        return (*encoder)->ScoreIds(inputs).status();
      };
      absl::Status status = run();  // Warm-up.
      int batches = 0;
      double best = 1e30;
      const Clock::time_point start = Clock::now();
      while (status.ok()) {
        const Clock::time_point batch_start = Clock::now();
        status = run();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - batch_start).count());
        ++batches;
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (batches >= absl::GetFlag(FLAGS_min_batches) && seconds >= absl::GetFlag(FLAGS_min_seconds)) {
          break;
        }
      }
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        return 1;
      }
      // The fastest batch: other work on a shared machine only slows batches down.
      const double per_second = batch / best;
      if (json) {
        std::printf("%s\n", nlohmann::json({{"impl", "ours"},
                                            {"bench", kind},
                                            {"model", "bert"},
                                            {"dtype", "f32"},
                                            {"threads", threads},
                                            {"batch", batch},
                                            {"batches", batches},
                                            {"seq", seq},
                                            {"items_s", per_second}})
                                .dump()
                                .c_str());
      } else {
        std::printf("%s %s: batch %d x %d tokens, %d thread(s): %.1f %s/s\n", kind.c_str(),
                    dir.c_str(), batch, seq, threads, per_second,
                    kind == "embed" ? "passages" : "pairs");
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace tessera::bert

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tessera::bert::Run();
}
