#include "services/eval_command.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "eval/retrieval_metrics.h"
#include "retrieval/beir.h"
#include "services/ingest_command.h"
#include "services/tessera_server.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::services {
namespace {

constexpr int kRecallDepth = 100;

struct ModeSpec {
  retrieval::v1::SearchMode mode;
  bool rerank;
};

absl::StatusOr<ModeSpec> ParseMode(const std::string& name) {
  if (name == "bm25") return ModeSpec{retrieval::v1::BM25, false};
  if (name == "dense") return ModeSpec{retrieval::v1::DENSE, false};
  if (name == "hybrid") return ModeSpec{retrieval::v1::HYBRID, false};
  if (name == "hybrid_rerank") return ModeSpec{retrieval::v1::HYBRID, true};
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown mode \"", name, "\" (expected bm25, dense, hybrid or hybrid_rerank)"));
}

// Removes a temporary directory when the evaluation ends.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
};

}  // namespace

absl::StatusOr<std::vector<std::string>> RunRetrievalEval(const RetrievalEvalOptions& options) {
  if (options.queries.empty() || options.qrels.empty()) {
    return absl::InvalidArgumentError("--queries and --qrels are required");
  }
  if (options.target.empty() && options.corpus.empty()) {
    return absl::InvalidArgumentError("--corpus is required (or --target with --collection)");
  }
  if (!options.target.empty() && options.collection.empty()) {
    return absl::InvalidArgumentError("--target needs --collection");
  }
  std::vector<ModeSpec> modes;
  for (const std::string& name : options.modes) {
    auto mode = ParseMode(name);
    if (!mode.ok()) return mode.status();
    modes.push_back(*mode);
  }
  if (modes.empty()) return absl::InvalidArgumentError("--modes is empty");

  auto queries = retrieval::LoadBeirQueries(options.queries);
  if (!queries.ok()) return queries.status();
  auto qrels = retrieval::LoadBeirQrels(options.qrels);
  if (!qrels.ok()) return qrels.status();
  // Queries with judgments only (as BEIR evaluates).
  std::vector<retrieval::BeirQuery> judged;
  for (auto& query : *queries) {
    if (qrels->contains(query.id)) judged.push_back(std::move(query));
  }
  if (judged.empty()) return absl::InvalidArgumentError("no query of --queries has a qrel");

  TempDir temp;
  std::unique_ptr<TesseraServer> embedded;
  std::string target = options.target;
  std::string collection = options.collection;
  if (target.empty()) {
    char pattern[] = "/tmp/tessera-eval-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return absl::InternalError("cannot create a temp dir");
    temp.path = pattern;
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.data_dir = temp.path;
    config.models_dir = options.models_dir;
    config.embedder_model = options.embedder_model;
    config.reranker_model = options.reranker_model;
    auto server = TesseraServer::Start(config);
    if (!server.ok()) return server.status();
    embedded = std::move(*server);
    target = absl::StrCat("127.0.0.1:", embedded->port());
    collection = "eval";
    IngestOptions ingest;
    ingest.target = target;
    ingest.collection = collection;
    ingest.paths = {options.corpus};
    ingest.chunking = options.chunking;
    auto summary = RunIngest(ingest);
    if (!summary.ok()) return summary.status();
    if (summary->failed > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          summary->failed, " corpus documents failed to ingest; first: ",
          summary->errors.empty() ? "" : summary->errors[0]));
    }
  }

  auto stub = retrieval::v1::RetrievalService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  std::vector<std::string> lines;
  for (size_t m = 0; m < modes.size(); ++m) {
    const std::string& name = options.modes[m];
    eval::Rankings run;
    std::string skipped;
    const auto start = std::chrono::steady_clock::now();
    for (const retrieval::BeirQuery& query : judged) {
      retrieval::v1::SearchRequest request;
      request.set_collection(collection);
      request.set_query(query.text);
      request.set_mode(modes[m].mode);
      // Chunks of one document collapse into one ranked document below.
      request.set_top_k(2 * kRecallDepth);
      request.mutable_rerank()->set_enabled(modes[m].rerank);
      grpc::ClientContext context;
      retrieval::v1::SearchResponse response;
      grpc::Status status = stub->Search(&context, request, &response);
      if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        skipped = status.error_message();
        break;
      }
      if (!status.ok()) {
        absl::Status error = FromGrpcStatus(status);
        return absl::Status(error.code(), absl::StrCat("mode ", name, ", query ", query.id, ": ",
                                                       error.message()));
      }
      std::vector<std::string>& ranked = run[query.id];
      absl::flat_hash_set<std::string> seen;
      for (const auto& hit : response.hits()) {
        if (seen.insert(hit.document_id()).second) ranked.push_back(hit.document_id());
        if (ranked.size() == kRecallDepth) break;
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::ordered_json line;
    line["mode"] = name;
    if (!skipped.empty()) {
      line["skipped"] = skipped;
    } else {
      eval::MetricCutoffs cutoffs;
      cutoffs.ndcg_k = 10;
      cutoffs.recall_k = kRecallDepth;
      cutoffs.mrr_k = 10;
      auto metrics = eval::Evaluate(*qrels, run, cutoffs);
      if (!metrics.ok()) return metrics.status();
      line["queries"] = metrics->queries;
      line["ndcg@10"] = std::round(metrics->ndcg * 1e4) / 1e4;
      line["recall@100"] = std::round(metrics->recall * 1e4) / 1e4;
      line["mrr@10"] = std::round(metrics->mrr * 1e4) / 1e4;
      line["qps"] = std::round(judged.size() / seconds * 10) / 10;
    }
    lines.push_back(line.dump());
  }
  if (embedded != nullptr) embedded->Shutdown(absl::Seconds(5));
  return lines;
}

}  // namespace tessera::services
