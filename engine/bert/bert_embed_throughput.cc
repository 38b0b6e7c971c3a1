// Quick embed-throughput check of a BERT shape with random weights:
//   bert_embed_throughput [shape=minilm-l6] [texts=256] [words_per_text=40]
// Writes the random model under $TMPDIR, embeds synthetic texts, prints texts/s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/bert/bert_encoder.h"
#include "engine/model/make_random.h"

int main(int argc, char** argv) {
  const std::string shape = argc > 1 ? argv[1] : "minilm-l6";
  const int count = argc > 2 ? std::atoi(argv[2]) : 256;
  const int words = argc > 3 ? std::atoi(argv[3]) : 40;
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/tessera_random_", shape);
  auto written = tessera::model::MakeRandomModel("bert", shape, "safetensors", dir, 1, "f32");
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.status().ToString().c_str());
    return 1;
  }
  auto encoder = tessera::bert::BertEncoder::Load(*written);
  if (!encoder.ok()) {
    std::fprintf(stderr, "%s\n", encoder.status().ToString().c_str());
    return 1;
  }
  static const char* kWords[] = {"protein", "cell",  "the",   "study", "of",     "results",
                                 "patients", "gene", "shows", "and",   "effect", "increased"};
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) {
    std::string text;
    for (int w = 0; w < words; ++w) absl::StrAppend(&text, kWords[(i * 7 + w * 3) % 12], " ");
    texts.push_back(text);
  }
  (*encoder)->Embed({texts[0]}).IgnoreError();  // Warm-up.
  constexpr int kBatch = 32;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; i += kBatch) {
    std::vector<std::string> batch(texts.begin() + i, texts.begin() + std::min(count, i + kBatch));
    auto result = (*encoder)->Embed(batch);
    if (!result.ok()) {
      std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
      return 1;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %d texts of ~%d words in %.3f s = %.1f texts/s\n", shape.c_str(), count,
              words + 2, seconds, count / seconds);
  return 0;
}
