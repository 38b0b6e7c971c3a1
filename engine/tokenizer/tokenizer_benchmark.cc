// Encode throughput on the SciFact corpus (title + abstract per document).
//
//   bazel run //engine/tokenizer:tokenizer_benchmark -- [corpus.jsonl] [tokenizer]...
//
// Defaults: ../shared/data/scifact/corpus.jsonl with the Llama 2 tokenizer.model,
// tokenizer.bin and the MiniLM vocab.txt. Prints one line per tokenizer for
// per-document encoding and one for the whole corpus as a single long document.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/shared_data.h"
#include "engine/tokenizer/load_tokenizer.h"

namespace {

using tessera::tokenizer::LoadTokenizer;
using tessera::tokenizer::ReadFileToString;
using tessera::tokenizer::Tokenizer;

void Report(const char* label, const std::string& path, size_t bytes, size_t tokens, size_t docs,
            absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  std::printf("%-10s %-60s %6zu docs %9zu tokens %7.2f MB/s %10.0f tokens/s (%.3f s)\n", label,
              path.c_str(), docs, tokens, bytes / seconds / 1e6, tokens / seconds, seconds);
}

// Order-sensitive checksum of all ids, to compare with a reference tokenizer
// (e.g. sum over documents of python3-sentencepiece's ids, mixed the same way).
uint64_t MixIds(uint64_t hash, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) hash = (hash ^ static_cast<uint32_t>(id)) * 1099511628211ull;
  return hash;
}

}  // namespace

using tessera::FindSharedFile;

int main(int argc, char** argv) {
  // Defaults from ../shared (see common/shared_data.h).
  auto shared = [](const std::string& relative) {
    return FindSharedFile(relative).value_or("../shared/" + relative);
  };
  std::string corpus_path = shared("data/scifact/corpus.jsonl");
  std::vector<std::string> tokenizer_paths = {shared("tokenizers/llama2/tokenizer.model"),
                                              shared("tokenizers/llama2/tokenizer.bin"),
                                              shared("models/all-MiniLM-L6-v2/vocab.txt")};
  if (argc > 1) corpus_path = argv[1];
  if (argc > 2) tokenizer_paths.assign(argv + 2, argv + argc);

  absl::StatusOr<std::string> corpus = ReadFileToString(corpus_path, size_t{1} << 31);
  if (!corpus.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(corpus.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> documents;
  size_t total_bytes = 0;
  for (absl::string_view line : absl::StrSplit(*corpus, '\n', absl::SkipEmpty())) {
    const nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    std::string text = doc.value("title", "") + " " + doc.value("text", "");
    total_bytes += text.size();
    documents.push_back(std::move(text));
  }
  std::string long_document;
  long_document.reserve(total_bytes + documents.size());
  for (const std::string& doc : documents) long_document.append(doc).append("\n");
  std::printf("corpus: %zu documents, %.2f MB\n", documents.size(), total_bytes / 1e6);

  for (const std::string& path : tokenizer_paths) {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(path);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "skipping %s: %s\n", path.c_str(),
                   std::string(tokenizer.status().message()).c_str());
      continue;
    }
    size_t tokens = 0;
    uint64_t checksum = 14695981039346656037ull;
    absl::Time start = absl::Now();
    for (const std::string& doc : documents) {
      absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode(doc, false);
      if (!ids.ok()) {
        std::fprintf(stderr, "encode failed: %s\n", std::string(ids.status().message()).c_str());
        return 1;
      }
      tokens += ids->size();
      checksum = MixIds(checksum, *ids);
    }
    Report("per-doc", path, total_bytes, tokens, documents.size(), absl::Now() - start);
    std::printf("%-10s ids checksum %016llx\n", "", static_cast<unsigned long long>(checksum));
    start = absl::Now();
    absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode(long_document, false);
    if (!ids.ok()) return 1;
    Report("one-doc", path, long_document.size(), ids->size(), 1, absl::Now() - start);
  }
  return 0;
}
