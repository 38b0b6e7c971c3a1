#include "services/eval_command.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "eval/job_spec.h"
#include "eval/report.h"
#include "eval/retrieval_metrics.h"
#include "retrieval/beir.h"
#include "services/ingest_command.h"
#include "services/tessera_server.h"
#include "services/tls_credentials.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
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

// Polls the collection's index statistics until its indexes have applied the
// whole ingest log, or `timeout` passes.
absl::Status WaitForIndexes(retrieval::v1::RetrievalService::Stub& stub,
                            const std::string& collection, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    retrieval::v1::IndexStatsRequest request;
    request.set_collection(collection);
    retrieval::v1::IndexStats stats;
    grpc::Status status = stub.GetIndexStats(&context, request, &stats);
    if (!status.ok()) return FromGrpcStatus(status);
    if (stats.applied_log_position() >= stats.log_head_position()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the indexes of collection ", collection, " are still at log position ",
          stats.applied_log_position(), " of ", stats.log_head_position(), " after ",
          absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

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
      grpc::CreateChannel(target, ClientChannelCredentials()));
  // Searches answer UNAVAILABLE while the indexes replay the ingest log, and
  // the timed queries should not include that replay: wait for it first.
  absl::Status caught_up = WaitForIndexes(*stub, collection, absl::Minutes(30));
  if (!caught_up.ok()) return caught_up;
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

namespace {

// "[=====>    ] 45% 9/20 cases (1 failed)  2.1 cases/s  ETA 5s  1234 tokens"
class JobProgressBar {
 public:
  explicit JobProgressBar(FILE* out) : out_(out) {}

  void Update(const eval::v1::Job& job, bool final = false) {
    if (out_ == nullptr) return;
    const auto now = std::chrono::steady_clock::now();
    if (first_done_ < 0) first_done_ = job.cases_done();  // Resumed jobs start part-way.
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double total = std::max<double>(1, job.cases_total());
    const double fraction = std::min(1.0, job.cases_done() / total);
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '=');
    if (filled < kWidth) bar += '>' + std::string(kWidth - filled - 1, ' ');
    const double rate = seconds > 0 ? (job.cases_done() - first_done_) / seconds : 0;
    const double eta = rate > 0 ? (job.cases_total() - job.cases_done()) / rate : 0;
    absl::FPrintF(out_, "\r[%s] %3.0f%% %d/%d cases (%d failed)  %.2f cases/s  ETA %.0fs  %d tokens   ",
                  bar, fraction * 100, job.cases_done(), job.cases_total(), job.cases_failed(), rate,
                  eta, job.usage().total_tokens());
    if (final) absl::FPrintF(out_, "\n");
    std::fflush(out_);
  }

 private:
  FILE* out_;
  int64_t first_done_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

bool JobEnded(eval::v1::JobState state) {
  return state == eval::v1::SUCCEEDED || state == eval::v1::FAILED || state == eval::v1::CANCELLED;
}

// Dataset paths relative to the job file's directory.
void ResolveRelativeTo(const std::filesystem::path& dir, std::string* path) {
  if (path->empty() || std::filesystem::path(*path).is_absolute()) return;
  *path = (dir / *path).lexically_normal().string();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<eval::v1::Job> RunEvalJob(const EvalRunOptions& options) {
  if (options.job_file.empty()) return absl::InvalidArgumentError("give the job file: tessera eval run JOB.yaml");
  auto text = ReadTextFile(options.job_file);
  if (!text.ok()) return text.status();
  auto spec = eval::ParseJobSpec(*text);
  if (!spec.ok()) return absl::Status(spec.status().code(), absl::StrCat(options.job_file, ": ", spec.status().message()));
  const std::filesystem::path dir = std::filesystem::absolute(options.job_file).parent_path();
  ResolveRelativeTo(dir, spec->mutable_dataset()->mutable_jsonl_path());
  ResolveRelativeTo(dir, spec->mutable_dataset()->mutable_qrels_path());

  std::unique_ptr<TesseraServer> embedded;
  std::string target = options.target;
  std::shared_ptr<grpc::ChannelCredentials> credentials = ClientChannelCredentials();
  if (target.empty()) {
    ServerConfig config = options.embedded;
    // The job file's own datasets: the CLI user named them on this machine.
    for (const std::string* path : {&spec->dataset().jsonl_path(), &spec->dataset().qrels_path()}) {
      if (!path->empty()) config.eval_dataset_roots.push_back(std::filesystem::path(*path).parent_path().string());
    }
    config.host = "127.0.0.1";
    config.port = 0;
    config.http_port = 0;
    auto server = TesseraServer::Start(config);
    if (!server.ok()) return server.status();
    embedded = std::move(*server);
    target = absl::StrCat("127.0.0.1:", embedded->port());
    credentials = grpc::InsecureChannelCredentials();
  }
  auto stub = eval::v1::EvalService::NewStub(grpc::CreateChannel(target, credentials));
  eval::v1::CreateJobRequest request;
  *request.mutable_spec() = *spec;
  eval::v1::Job job;
  {
    grpc::ClientContext context;
    grpc::Status status = stub->CreateJob(&context, request, &job);
    if (!status.ok()) return FromGrpcStatus(status);
  }
  JobProgressBar progress(options.progress);
  progress.Update(job);
  grpc::ClientContext context;
  eval::v1::WatchJobRequest watch;
  watch.set_id(job.id());
  auto stream = stub->WatchJob(&context, watch);
  eval::v1::Job update;
  while (stream->Read(&update)) {
    job = update;
    progress.Update(job, JobEnded(job.state()));
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!JobEnded(job.state())) {
    return absl::UnavailableError(absl::StrCat("the progress stream of job ", job.id(), " ended early"));
  }
  if (embedded != nullptr) embedded->Shutdown(absl::Seconds(5));
  return job;
}

std::string FormatEvalJob(const eval::v1::Job& job) {
  std::string text = absl::StrFormat("job %s %s: %d cases (%d failed), %d tokens\n", job.id(),
                                     eval::v1::JobState_Name(job.state()), job.cases_done(),
                                     job.cases_failed(), job.usage().total_tokens());
  if (!job.error().empty()) absl::StrAppend(&text, "error: ", job.error(), "\n");
  const std::map<std::string, double> summary(job.summary().begin(), job.summary().end());
  for (const auto& [key, value] : summary) absl::StrAppendFormat(&text, "  %-40s %.4f\n", key, value);
  if (!job.report_path().empty()) absl::StrAppend(&text, "report: ", job.report_path(), "\n");
  return text;
}

absl::StatusOr<EvalComparison> CompareEvalReports(const std::string& base_json,
                                                  const std::string& candidate_json) {
  std::vector<Json> summaries;
  for (const std::string& path : {base_json, candidate_json}) {
    auto text = ReadTextFile(path);
    if (!text.ok()) return text.status();
    auto json = ParseJson(*text, path);
    if (!json.ok()) return json.status();
    summaries.push_back(*std::move(json));
  }
  auto comparisons = eval::CompareRuns(summaries[0], summaries[1]);
  if (!comparisons.ok()) return comparisons.status();
  EvalComparison comparison;
  comparison.markdown = eval::ComparisonMarkdown(*comparisons);
  for (const eval::ScoreComparison& score : *comparisons) comparison.regression |= score.regression;
  return comparison;
}

}  // namespace tessera::services
