// `tessera eval retrieval`: BEIR-format retrieval evaluation. Ingests the corpus
// into a temporary embedded instance (or uses --collection of a running server at
// --target), runs every query through tessera.retrieval.v1.Search in each mode and
// reports nDCG@10, Recall@100, MRR@10 and queries/s. Modes whose models are not
// configured are reported as skipped, with the server's reason.
#ifndef TESSERA_SERVICES_EVAL_COMMAND_H_
#define TESSERA_SERVICES_EVAL_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/ingest/v1/ingest.pb.h"

namespace tessera::services {

struct RetrievalEvalOptions {
  std::string corpus;
  std::string queries;
  std::string qrels;
  // bm25, dense, hybrid, hybrid_rerank
  std::vector<std::string> modes;
  // Empty: a temporary embedded instance. Otherwise HOST:PORT with `collection`.
  std::string target;
  std::string collection;
  ingest::v1::ChunkingConfig chunking;
  std::string models_dir;
  std::string embedder_model;
  std::string reranker_model;
};

// One result per mode, as the JSON object the command prints on a line:
// {"mode","queries","ndcg@10","recall@100","mrr@10","qps"} or {"mode","skipped"}.
absl::StatusOr<std::vector<std::string>> RunRetrievalEval(const RetrievalEvalOptions& options);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_EVAL_COMMAND_H_
