// Loaders for BEIR-format retrieval datasets:
//   corpus.jsonl   {"_id", "title", "text", "metadata"} per line
//   queries.jsonl  {"_id", "text", ...} per line
//   qrels/*.tsv    header line, then query-id <TAB> corpus-id <TAB> score
// Errors name the file and line.
#ifndef TESSERA_RETRIEVAL_BEIR_H_
#define TESSERA_RETRIEVAL_BEIR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/retrieval_metrics.h"

namespace tessera::retrieval {

struct BeirDocument {
  std::string id;
  std::string title;  // Empty when absent.
  std::string text;
  std::string metadata_json;  // Minified; empty when absent.
};

struct BeirQuery {
  std::string id;
  std::string text;
};

// NotFound for a missing file; InvalidArgument for a malformed line.
absl::StatusOr<std::vector<BeirDocument>> LoadBeirCorpus(const std::string& path);
absl::StatusOr<std::vector<BeirQuery>> LoadBeirQueries(const std::string& path);
absl::StatusOr<eval::Qrels> LoadBeirQrels(const std::string& path);

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_BEIR_H_
