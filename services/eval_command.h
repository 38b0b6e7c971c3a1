// `tessera eval retrieval`: BEIR-format retrieval evaluation. Ingests the corpus
// into a temporary embedded instance (or uses --collection of a running server at
// --target), runs every query through tessera.retrieval.v1.Search in each mode and
// reports nDCG@10, Recall@100, MRR@10 and queries/s. Modes whose models are not
// configured are reported as skipped, with the server's reason.
#ifndef TESSERA_SERVICES_EVAL_COMMAND_H_
#define TESSERA_SERVICES_EVAL_COMMAND_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/server_config.h"
#include "tessera/eval/v1/eval.pb.h"
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

// `tessera eval run JOB_FILE`: an evaluation job (JSON or YAML) created over
// tessera.eval.v1 on --target, or on an
// embedded server over --data_dir, then watched to its end. Relative dataset
// paths in the file are relative to the file. Re-running the same file while
// its job is unfinished (e.g. after Ctrl-C) resumes that job.
struct EvalRunOptions {
  std::string job_file;
  std::string target;  // HOST:PORT; empty = an embedded server.
  // The embedded server's data directory and models (it listens on a free
  // loopback port whatever `embedded.host` and `.port` say).
  ServerConfig embedded;
  // Draw a progress bar here (a terminal); nullptr = none.
  FILE* progress = nullptr;
};

// The job as it ended.
absl::StatusOr<eval::v1::Job> RunEvalJob(const EvalRunOptions& options);
// "job ID STATE: N cases (F failed), T tokens", the summary, the report path.
std::string FormatEvalJob(const eval::v1::Job& job);

// `tessera eval compare BASE.json CANDIDATE.json`: two runs' report.json files
// compared case by case (paired bootstrap); Markdown, and whether any score
// regressed significantly.
struct EvalComparison {
  std::string markdown;
  bool regression = false;
};
absl::StatusOr<EvalComparison> CompareEvalReports(const std::string& base_json,
                                                  const std::string& candidate_json);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_EVAL_COMMAND_H_
