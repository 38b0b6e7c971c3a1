// Ingestion throughput on BEIR SciFact: parse + normalise + chunk alone, then the
// same with durable storage (SQLite WAL, fsync per batch) through the document
// store, as the ingest service runs it.
//   bazel run //bench:ingest_bench -- --corpus=../shared/data/scifact/corpus.jsonl
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/shared_data.h"
#include "ingest/document_preparer.h"
#include "ingest/document_store.h"

ABSL_FLAG(std::string, corpus, "", "JSONL corpus (default: ../shared/data/scifact/corpus.jsonl)");
ABSL_FLAG(int, batch, 256, "documents per transaction in the storage run");
ABSL_FLAG(int, repeat, 3, "timed passes (the best is reported)");

namespace {

using Clock = std::chrono::steady_clock;
using tessera::common::v1::Document;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Report(const char* what, size_t documents, size_t chunks, size_t bytes, double seconds) {
  std::printf("%-28s %8zu docs %8zu chunks %7.2f s %10.0f docs/s %8.2f MB/s\n", what, documents,
              chunks, seconds, documents / seconds, bytes / seconds / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string path = absl::GetFlag(FLAGS_corpus);
  if (path.empty()) {
    auto found = tessera::FindSharedFile("data/scifact/corpus.jsonl");
    if (!found) {
      std::fprintf(stderr, "SciFact corpus not found: pass --corpus or set TESSERA_SHARED_DIR\n");
      return 1;
    }
    path = *found;
  }
  std::vector<Document> raw;
  size_t bytes = 0;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      bytes += line.size();
      Document doc;
      doc.set_collection("bench");
      doc.set_format(tessera::common::v1::DOCUMENT_FORMAT_JSON);
      doc.set_content(std::move(line));
      raw.push_back(std::move(doc));
    }
  }
  std::printf("corpus %s: %zu documents, %.1f MB\n\n", path.c_str(), raw.size(), bytes / 1e6);

  const tessera::ingest::DocumentPreparer preparer;
  tessera::ingest::v1::ChunkingConfig chunking;  // defaults: recursive, 256 tokens
  double best_chunk = 1e9, best_store = 1e9;
  size_t chunks = 0;
  for (int pass = 0; pass < absl::GetFlag(FLAGS_repeat); ++pass) {
    auto start = Clock::now();
    chunks = 0;
    std::vector<tessera::ingest::PreparedDocument> prepared;
    prepared.reserve(raw.size());
    for (const Document& doc : raw) {
      auto ready = preparer.Prepare(doc, chunking);
      if (!ready.ok()) {
        std::fprintf(stderr, "prepare failed: %s\n", ready.status().ToString().c_str());
        return 1;
      }
      chunks += ready->chunks.size();
      prepared.push_back(std::move(*ready));
    }
    best_chunk = std::min(best_chunk, Seconds(start));

    const std::string dir = "/tmp/tessera_ingest_bench";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto store = tessera::ingest::DocumentStore::Open(dir + "/bench.db");
    if (!store.ok()) return 1;
    start = Clock::now();
    prepared.clear();
    for (size_t i = 0; i < raw.size(); i += absl::GetFlag(FLAGS_batch)) {
      std::vector<tessera::ingest::PreparedDocument> batch;
      for (size_t j = i; j < std::min(raw.size(), i + absl::GetFlag(FLAGS_batch)); ++j) {
        batch.push_back(*preparer.Prepare(raw[j], chunking));
      }
      auto stored = (*store)->PutBatch("default", "bench", batch, true, "");
      if (!stored.ok() || stored->failed() > 0) {
        std::fprintf(stderr, "store failed\n");
        return 1;
      }
    }
    best_store = std::min(best_store, Seconds(start));
  }
  Report("parse + chunk", raw.size(), chunks, bytes, best_chunk);
  Report("parse + chunk + store", raw.size(), chunks, bytes, best_store);
  std::printf("\nstore = SQLite WAL, synchronous=FULL, %d documents per fsynced transaction\n",
              absl::GetFlag(FLAGS_batch));
  return 0;
}
