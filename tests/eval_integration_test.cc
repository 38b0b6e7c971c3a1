// Evaluation jobs over real loopback gRPC (tessera.eval.v1):
//  1. EvalService with scripted judges: a job created from YAML, its progress
//     streamed, the service destroyed mid-job and reopened on the same data
//     directory; the job resumes without judging any case twice; results,
//     review queue, labels, calibration and the report over gRPC.
//  2. The real server binary with a random-weight local generator: a RAG route
//     on SciFact questions (retrieve from the ingested corpus, answer with the
//     local generator, nDCG/Recall/MRR/MAP against the qrels, and the local
//     generator as pointwise and G-Eval judge), the server killed with SIGKILL
//     mid-job and restarted: the job resumes without judging a case twice and
//     finishes with its report, whose charts render in headless Chromium. The
//     judges ask for schema-constrained JSON, so even random weights give a
//     score from 1 to 5 for every case.
//  3. LocalChatModel reports per-token logprobs with alternatives (G-Eval's input).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/shared_data.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "eval/eval_service.h"
#include "eval/test_models.h"
#include "gtest/gtest.h"
#include "tests/chromium_render.h"
#include "services/ingest_command.h"
#include "services/local_chat_model.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using eval::v1::EvalService;

bool Ended(eval::v1::JobState state) {
  return state == eval::v1::SUCCEEDED || state == eval::v1::FAILED || state == eval::v1::CANCELLED;
}

// Reads the WatchJob stream until the job ends, the stream breaks, or
// `stop_when` says so; returns the snapshots seen.
std::vector<eval::v1::Job> Watch(EvalService::Stub& stub, const std::string& id,
                                 const std::function<bool(const eval::v1::Job&)>& stop_when = {}) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  eval::v1::WatchJobRequest request;
  request.set_id(id);
  auto stream = stub.WatchJob(&context, request);
  std::vector<eval::v1::Job> seen;
  eval::v1::Job job;
  while (stream->Read(&job)) {
    seen.push_back(job);
    if (stop_when && stop_when(job)) {
      context.TryCancel();
      break;
    }
  }
  stream->Finish();
  return seen;
}

std::vector<eval::v1::CaseResult> AllResults(EvalService::Stub& stub, const std::string& id) {
  std::vector<eval::v1::CaseResult> results;
  eval::v1::ListResultsRequest request;
  request.set_job_id(id);
  request.mutable_page()->set_page_size(3);
  while (true) {
    grpc::ClientContext context;
    eval::v1::ListResultsResponse response;
    grpc::Status status = stub.ListResults(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    results.insert(results.end(), response.results().begin(), response.results().end());
    if (response.page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(response.page().next_page_token());
  }
  return results;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- 1. Scripted judges, service restarted mid-job ------------------------

class ScriptedEvalServer {
 public:
  ScriptedEvalServer(const std::string& data_dir, std::shared_ptr<agents::ModelRegistry> models) {
    eval::EvalServiceOptions options;
    options.data_dir = data_dir;
    options.models = std::move(models);
    auto service = eval::EvalServiceImpl::Open(options);
    EXPECT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
  }
  // Stops serving (open streams are cancelled), then stops the job runners.
  void Stop() {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    service_.reset();
  }
  ~ScriptedEvalServer() { Stop(); }
  std::unique_ptr<EvalService::Stub> Stub() const {
    return EvalService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }

 private:
  std::unique_ptr<eval::EvalServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

constexpr int kScriptedCases = 6;

std::string ScriptedJobYaml() {
  std::string yaml = R"(name: scripted judges over gRPC
concurrency: 1
disagreement_threshold: 2
judges:
  - kind: pointwise
    name: lenient
    criterion: correctness
  - kind: pointwise
    name: strict
    model: strict
    criterion: correctness
metrics: [faithfulness]
dataset:
  cases:
)";
  for (int i = 0; i < kScriptedCases; ++i) {
    absl::StrAppend(&yaml, "    - {\"id\": \"q", i, "\", \"input\": \"question ", i,
                    "?\", \"output\": \"Paris is in France.\", \"contexts\": [\"Paris is the capital of France.\"]",
                    i < 2 ? ", \"labels\": {\"human_score\": \"4\"}" : "", "}\n");
  }
  return yaml;
}

TEST(EvalIntegrationTest, ScriptedJudgesOverGrpcResumeAfterTheServiceRestarts) {
  const std::string data_dir = testing::MakeTempDir("eval_scripted");
  agents::ScriptedChatModel lenient;
  lenient.AddRule("Break the answer into", "- Paris is in France.");
  lenient.AddRule("Claim: Paris is in France.", "Verdict: YES");
  lenient.AddRule("Response:", "Correct.\nScore: 4");
  auto counted = std::make_shared<eval::testing::InstrumentedChatModel>(&lenient);
  auto strict = std::make_shared<agents::ScriptedChatModel>();
  strict->AddRule("Response:", "Too terse.\nScore: 1");
  auto models = std::make_shared<agents::ModelRegistry>();
  models->SetDefault(counted);
  models->Register("strict", strict);

  // Per case the default model gets 3 calls (judge, claims, one verdict);
  // hold the 2nd call of the 4th case.
  counted->HoldCall(3 * 3 + 2);
  std::string id;
  {
    ScriptedEvalServer server(data_dir, models);
    auto stub = server.Stub();
    eval::v1::CreateJobRequest create;
    create.set_spec_text(ScriptedJobYaml());
    grpc::ClientContext context;
    eval::v1::Job job;
    grpc::Status status = stub->CreateJob(&context, create, &job);
    ASSERT_TRUE(status.ok()) << status.error_message();
    id = job.id();
    EXPECT_EQ(job.cases_total(), kScriptedCases);
    // Progress arrives over the stream while the job runs.
    std::vector<eval::v1::Job> seen = Watch(*stub, id, [](const eval::v1::Job& j) { return j.cases_done() >= 3; });
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().cases_done(), 3);
    EXPECT_EQ(seen.back().state(), eval::v1::RUNNING);
    ASSERT_TRUE(counted->WaitUntilHeld(absl::Seconds(30)));
    std::thread release([&] {
      absl::SleepFor(absl::Milliseconds(100));
      counted->Release();
    });
    server.Stop();  // The "kill": runners stop after the case in flight.
    release.join();
  }
  ScriptedEvalServer server(data_dir, models);  // Same data directory, new process state.
  auto stub = server.Stub();
  std::vector<eval::v1::Job> seen = Watch(*stub, id);
  ASSERT_FALSE(seen.empty());
  const eval::v1::Job& done = seen.back();
  ASSERT_EQ(done.state(), eval::v1::SUCCEEDED) << done.error();
  EXPECT_EQ(done.cases_done(), kScriptedCases);
  EXPECT_EQ(done.cases_failed(), 0);
  EXPECT_DOUBLE_EQ(done.summary().at("lenient"), 4);
  EXPECT_DOUBLE_EQ(done.summary().at("strict"), 1);
  EXPECT_DOUBLE_EQ(done.summary().at("faithfulness"), 1);
  EXPECT_GT(done.usage().total_tokens(), 0);
  // No case was judged twice across the restart.
  const std::vector<std::string> prompts = counted->prompts();
  EXPECT_EQ(prompts.size(), 3u * kScriptedCases);
  for (int i = 0; i < kScriptedCases; ++i) {
    int judged = 0;
    for (const std::string& prompt : prompts) {
      judged += absl::StrContains(prompt, absl::StrCat("question ", i, "?")) &&
                absl::StrContains(prompt, "Response:");
    }
    EXPECT_EQ(judged, 1) << "case q" << i;
  }
  const std::vector<eval::v1::CaseResult> results = AllResults(*stub, id);
  ASSERT_EQ(results.size(), static_cast<size_t>(kScriptedCases));
  std::set<std::string> ids;
  for (const auto& result : results) ids.insert(result.case_id());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kScriptedCases));
  EXPECT_EQ(results[0].judges_size(), 2);

  // The judges disagree by 3 on every case: all are queued for review.
  eval::v1::ListReviewItemsRequest list;
  list.set_job_id(id);
  list.set_unlabelled_only(true);
  eval::v1::ListReviewItemsResponse items;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->ListReviewItems(&context, list, &items).ok());
  }
  ASSERT_EQ(items.items_size(), kScriptedCases);
  for (int i = 2; i < 4; ++i) {  // Humans label two more cases.
    eval::v1::LabelReviewItemRequest label;
    label.set_id(items.items(i).id());
    label.set_human_score(2);
    label.set_reviewer("qa");
    grpc::ClientContext context;
    eval::v1::ReviewItem labelled;
    ASSERT_TRUE(stub->LabelReviewItem(&context, label, &labelled).ok());
    EXPECT_EQ(labelled.human_score(), 2);
  }
  {
    eval::v1::LabelReviewItemRequest bad;
    bad.set_id(items.items(0).id());
    bad.set_human_score(0);
    grpc::ClientContext context;
    eval::v1::ReviewItem ignored;
    EXPECT_EQ(stub->LabelReviewItem(&context, bad, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Calibration of "strict" (always 1) against humans 4, 4, 2, 2.
  eval::v1::CalibrationRequest calibration;
  calibration.set_job_id(id);
  calibration.set_judge("strict");
  eval::v1::CalibrationReport report;
  {
    grpc::ClientContext context;
    grpc::Status status = stub->GetCalibration(&context, calibration, &report);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(report.labelled_cases(), 4);
  EXPECT_EQ(report.confusion_matrix(0 * 5 + 3), 2);  // judge 1, human 4
  EXPECT_EQ(report.confusion_matrix(0 * 5 + 1), 2);  // judge 1, human 2
  EXPECT_DOUBLE_EQ(report.cohen_kappa(), 0);
  // Errors keep their codes over the wire.
  {
    grpc::ClientContext context;
    eval::v1::GetJobRequest get;
    get.set_id("no-such-job");
    eval::v1::Job job;
    EXPECT_EQ(stub->GetJob(&context, get, &job).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  // The report was rewritten with the labels: it has the confusion matrix.
  const std::string html = ReadFile(done.report_path());
  EXPECT_TRUE(absl::StrContains(html, "class=\"chart histogram\""));
  EXPECT_TRUE(absl::StrContains(html, "class=\"chart criteria\""));
  EXPECT_TRUE(absl::StrContains(html, "class=\"chart confusion\""));
}

// Dataset files named by specs over gRPC stay inside the server's dataset
// roots (<data_dir>/datasets by default).
TEST(EvalIntegrationTest, DatasetPathsOverGrpcAreConfinedToTheDataRoot) {
  const std::string data_dir = testing::MakeTempDir("eval_confined");
  std::filesystem::create_directories(data_dir + "/datasets");
  std::filesystem::create_directories(data_dir + "/private");
  std::ofstream(data_dir + "/datasets/cases.jsonl") << "{\"id\": \"a\", \"input\": \"q\", \"output\": \"x\"}\n";
  std::ofstream(data_dir + "/private/secret.jsonl") << "{\"id\": \"s\", \"input\": \"secret\", \"output\": \"x\"}\n";
  std::filesystem::create_symlink(data_dir + "/private/secret.jsonl", data_dir + "/datasets/escape.jsonl");
  auto judge = std::make_shared<agents::ScriptedChatModel>();
  judge->AddRule("Response:", "Score: 3");
  auto models = std::make_shared<agents::ModelRegistry>();
  models->SetDefault(judge);
  ScriptedEvalServer server(data_dir, models);
  auto stub = server.Stub();
  auto create = [&](const std::string& path) {
    eval::v1::CreateJobRequest request;
    request.set_spec_text(absl::StrCat("judges: [{\"kind\": \"POINTWISE\"}]\ndataset: {\"jsonl_path\": \"", path, "\"}\n"));
    grpc::ClientContext context;
    eval::v1::Job job;
    return stub->CreateJob(&context, request, &job);
  };
  EXPECT_TRUE(create("cases.jsonl").ok());  // relative to the root
  EXPECT_TRUE(create(data_dir + "/datasets/cases.jsonl").ok());
  for (const std::string& path : {data_dir + "/private/secret.jsonl", std::string("/etc/passwd"),
                                  std::string("escape.jsonl")}) {
    grpc::Status status = create(path);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << path << ": " << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), "dataset.jsonl_path")) << status.error_message();
  }
  grpc::Status parent = create("../private/secret.jsonl");
  EXPECT_EQ(parent.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << parent.error_message();
}

// --- 2. The real server with the local generator --------------------------

class LocalGeneratorEvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = new std::string(testing::MakeTempDir("eval_models"));
    ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", *models_ + "/tiny.gguf", 3, "q8_0").ok());
  }
  static void TearDownTestSuite() { delete models_; }

  // `dataset_root`: a directory whose files job specs may name as datasets.
  // `debug_log`: where the server's log goes, at debug level ("" = nowhere).
  void StartServer(const std::string& data_dir, const std::string& dataset_root = "",
                   const std::string& debug_log = "") {
    std::vector<std::string> flags = {"--models_dir=" + *models_, "--generator_model=tiny.gguf"};
    if (!dataset_root.empty()) flags.push_back("--eval_dataset_roots=" + dataset_root);
    if (!debug_log.empty()) flags.push_back("--log_level=debug");
    server_ = std::make_unique<testing::ServerProcess>(data_dir, flags);
    if (!debug_log.empty()) server_->set_log_file(debug_log);
    ASSERT_TRUE(server_->Start().ok());
    stub_ = EvalService::NewStub(grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  }
  absl::StatusOr<eval::v1::Job> Create(const std::string& text) {
    eval::v1::CreateJobRequest request;
    request.set_spec_text(text);
    grpc::ClientContext context;
    eval::v1::Job job;
    grpc::Status status = stub_->CreateJob(&context, request, &job);
    if (!status.ok()) return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
    return job;
  }

  static std::string* models_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<EvalService::Stub> stub_;
};

std::string* LocalGeneratorEvalTest::models_ = nullptr;

constexpr int kSciFactQuestions = 12;

// Case id -> judge calls, from the runner's "case X recorded after N judge
// calls" lines of a server log.
std::map<std::string, std::vector<int>> RecordedCases(const std::string& log) {
  std::map<std::string, std::vector<int>> cases;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t at = line.find(": case ");
    const size_t recorded = line.find(" recorded after ");
    if (at == std::string::npos || recorded == std::string::npos || recorded < at) continue;
    const std::string id = line.substr(at + 7, recorded - at - 7);
    cases[id].push_back(std::atoi(line.c_str() + recorded + 16));
  }
  return cases;
}

TEST_F(LocalGeneratorEvalTest, SciFactRagRouteResumesAfterAKill) {
  auto corpus = FindSharedFile("data/scifact/corpus.jsonl");
  auto queries = FindSharedFile("data/scifact/queries.train.jsonl");
  auto qrels = FindSharedFile("data/scifact/qrels/train.tsv");
  if (!corpus || !queries || !qrels) GTEST_SKIP() << "../shared/data/scifact not found (set TESSERA_SHARED_DIR)";
  const std::string data_dir = testing::MakeTempDir("eval_scifact");
  // The SciFact files may be read as datasets; nothing else outside data_dir.
  const std::string scifact_root = std::filesystem::path(*queries).parent_path().string();
  const std::string first_log = data_dir + "-first.log";
  const std::string second_log = data_dir + "-second.log";
  StartServer(data_dir, scifact_root, first_log);
  services::IngestOptions ingest;
  ingest.target = server_->target();
  ingest.collection = "scifact";
  ingest.paths = {*corpus};
  auto ingested = services::RunIngest(ingest);
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  ASSERT_EQ(ingested->failed, 0);

  const std::string job_yaml = absl::StrCat(R"(name: scifact rag
concurrency: 1
dataset:
  jsonl_path: )", *queries, "\n  qrels_path: ", *qrels, "\n  max_cases: ", kSciFactQuestions, R"(
target:
  rag:
    collection: scifact
    top_k: 3
metrics: [ndcg@10, recall@100, mrr, map]
# The local generator judges the RAG answers; it enforces JSON schemas, so
# the judges ask for {"reason", "score"} and G-Eval's form {"score"}.
judges:
  - kind: pointwise
    name: correctness
    criterion: answers the question correctly from the contexts
    sampling: {"max_tokens": 48}
  - kind: g_eval
    name: coherence
    criterion: coherence
    sampling: {"max_tokens": 24}
)");
  auto job = Create(job_yaml);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->cases_total(), kSciFactQuestions);
  // Kill -9 once a few answers are checkpointed.
  std::vector<eval::v1::Job> seen = Watch(*stub_, job->id(), [](const eval::v1::Job& j) { return j.cases_done() >= 3; });
  ASSERT_FALSE(seen.empty());
  const int64_t done_at_kill = seen.back().cases_done();
  server_->Kill();
  EXPECT_GE(done_at_kill, 3);
  EXPECT_LT(done_at_kill, kSciFactQuestions);

  StartServer(data_dir, scifact_root, second_log);  // Same data directory: the job resumes by itself.
  seen = Watch(*stub_, job->id());
  ASSERT_FALSE(seen.empty());
  const eval::v1::Job& done = seen.back();
  ASSERT_EQ(done.state(), eval::v1::SUCCEEDED) << done.error();
  EXPECT_EQ(done.cases_done(), kSciFactQuestions);
  EXPECT_EQ(done.cases_failed(), 0);
  EXPECT_GT(done.summary().at("ndcg@10"), 0.3);  // BM25 on SciFact is ~0.68 over all queries.
  EXPECT_GT(done.summary().at("recall@100"), 0.5);
  EXPECT_GT(done.usage().completion_tokens(), 0);  // The local generator wrote the answers.
  for (const char* judge : {"correctness", "coherence"}) {
    ASSERT_TRUE(done.summary().count(judge)) << judge;
    EXPECT_GE(done.summary().at(judge), 1) << judge;
    EXPECT_LE(done.summary().at(judge), 5) << judge;
  }
  const std::vector<eval::v1::CaseResult> results = AllResults(*stub_, job->id());
  ASSERT_EQ(results.size(), static_cast<size_t>(kSciFactQuestions));
  std::set<std::string> ids;
  int weighted = 0;
  for (const auto& result : results) {
    ids.insert(result.case_id());
    EXPECT_TRUE(result.error().empty()) << result.case_id() << ": " << result.error();
    EXPECT_FALSE(result.output().empty());
    EXPECT_EQ(result.metrics().size(), 4u);
    // A score from 1 to 5 from each judge.
    ASSERT_EQ(result.judges_size(), 2) << result.case_id();
    std::set<std::string> judges;
    for (const eval::v1::JudgeResult& judged : result.judges()) {
      judges.insert(judged.judge());
      EXPECT_GE(judged.score(), 1) << result.case_id() << " " << judged.judge();
      EXPECT_LE(judged.score(), 5) << result.case_id() << " " << judged.judge();
      if (judged.judge() == "correctness") {
        // The reply is the schema's JSON: {"reason": ..., "score": N}.
        EXPECT_TRUE(absl::StartsWith(judged.reasoning(), "{")) << judged.reasoning();
      } else {
        // Weighted over the score tokens: under the schema the engine's
        // alternatives at the score position are the allowed digits.
        weighted += judged.logprob_weighted();
        EXPECT_TRUE(absl::StartsWith(judged.reasoning(), judged.logprob_weighted() ? "probability-weighted"
                                                                                   : "sampled score: "))
            << judged.reasoning();
      }
    }
    EXPECT_EQ(judges, (std::set<std::string>{"correctness", "coherence"}));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kSciFactQuestions));
  // No case judged twice across the kill: the cases the first server recorded
  // and those the second one did are disjoint, and each took exactly one call
  // per judge. The second server evaluated only what the first had not
  // recorded (one record may have landed just before the kill, unlogged).
  const auto first_cases = RecordedCases(ReadFile(first_log));
  const auto second_cases = RecordedCases(ReadFile(second_log));
  EXPECT_GE(first_cases.size(), static_cast<size_t>(done_at_kill));  // Logged before progress is sent.
  EXPECT_LT(second_cases.size(), static_cast<size_t>(kSciFactQuestions));
  EXPECT_GE(first_cases.size() + second_cases.size(), static_cast<size_t>(kSciFactQuestions) - 1);
  for (const auto* recorded : {&first_cases, &second_cases}) {
    for (const auto& [id, calls] : *recorded) {
      EXPECT_EQ(calls, std::vector<int>{2}) << "case " << id;
      EXPECT_TRUE(ids.count(id)) << id;
    }
  }
  for (const auto& [id, calls] : second_cases) EXPECT_EQ(first_cases.count(id), 0u) << "case " << id << " judged twice";
  EXPECT_TRUE(absl::StrContains(ReadFile(second_log),
                                absl::StrCat(kSciFactQuestions, " cases, ", second_cases.size(), " to evaluate")))
      << "the resumed job should evaluate only the cases not recorded before the kill";
  EXPECT_EQ(weighted, kSciFactQuestions);
  std::printf("before the kill %zu cases recorded, after it %zu; G-Eval logprob-weighted in %d of %d cases\n",
              first_cases.size(), second_cases.size(), weighted, kSciFactQuestions);

  ASSERT_FALSE(done.report_path().empty());
  const std::string html = ReadFile(done.report_path());
  EXPECT_TRUE(absl::StrContains(html, "class=\"chart criteria\""));
  // A score histogram per judge.
  EXPECT_TRUE(absl::StrContains(html, "aria-label=\"Score distribution of correctness\""));
  EXPECT_TRUE(absl::StrContains(html, "aria-label=\"Score distribution of coherence\""));
  auto summary = ParseJson(ReadFile(std::filesystem::path(done.report_path()).replace_filename("report.json")));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ((*summary)["cases"].size(), static_cast<size_t>(kSciFactQuestions));
  EXPECT_EQ((*summary)["job"]["dataset_hash"], done.spec().dataset().content_hash());
  for (const char* judge : {"correctness", "coherence"}) {
    const Json& entry = (*summary)["judges"][judge];
    EXPECT_EQ(entry["n"], kSciFactQuestions) << judge;
    int histogram_total = 0;
    for (const Json& count : entry["histogram"]) histogram_total += count.get<int>();
    EXPECT_EQ(histogram_total, kSciFactQuestions) << judge;
  }

  // The job's own report, opened in headless Chromium: its charts are laid out
  // with drawn marks and the page is not blank.
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    std::printf("SKIPPED the Chromium check of the job's report: no Chromium (apt-get install chromium)\n");
    return;
  }
  auto charts = testing::MeasureCharts(chromium, done.report_path());
  ASSERT_TRUE(charts.ok()) << charts.status();
  ASSERT_FALSE(charts->empty());
  int histograms = 0;
  for (const Json& chart : *charts) histograms += chart["kind"] == "histogram";
  EXPECT_EQ(histograms, 2) << "one score histogram per judge";
  for (const Json& chart : *charts) {
    EXPECT_GT(chart["width"].get<double>(), 100) << chart.dump();
    EXPECT_GT(chart["height"].get<double>(), 50) << chart.dump();
    EXPECT_GT(chart["rects"].get<int>() + chart["circles"].get<int>(), 0) << chart.dump();
  }
  auto drawn = testing::DrawnShare(chromium, done.report_path(),
                                   std::filesystem::path(done.report_path()).replace_filename("report.png"));
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_GT(*drawn, 0.01);
  std::printf("the job's report rendered %zu charts in Chromium; %.1f%% of the screenshot drawn\n",
              charts->size(), 100 * *drawn);
}

TEST_F(LocalGeneratorEvalTest, LocalGeneratorAsJudge) {
  StartServer(testing::MakeTempDir("eval_local_judge"));
  // No such model: refused up front, with the reason.
  auto missing = Create(R"(judges: [{"kind": "POINTWISE", "model": "gpt-none"}]
dataset: {"cases": [{"input": "q", "output": "a"}]}
)");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "gpt-none"));

  auto job = Create(R"(name: local judge
judges:
  - kind: g_eval
    criterion: correctness
    sampling: {"max_tokens": 24, "seed": 1}
  - kind: pointwise
    criterion: correctness
    sampling: {"max_tokens": 48}
dataset:
  cases:
    - {"id": "a", "input": "What is 2+2?", "output": "4"}
    - {"id": "b", "input": "Capital of France?", "output": "Paris"}
)");
  ASSERT_TRUE(job.ok()) << job.status();
  std::vector<eval::v1::Job> seen = Watch(*stub_, job->id());
  ASSERT_FALSE(seen.empty());
  const eval::v1::Job& done = seen.back();
  ASSERT_EQ(done.state(), eval::v1::SUCCEEDED) << done.error();
  EXPECT_EQ(done.cases_failed(), 0);
  // The local generator ran every judge call (steps, then two judges per case) ...
  EXPECT_GT(done.usage().prompt_tokens(), 0);
  EXPECT_GT(done.usage().completion_tokens(), 0);
  // ... and, asked for schema-constrained JSON, even random weights give every
  // case a score from 1 to 5 from each judge.
  const std::vector<eval::v1::CaseResult> results = AllResults(*stub_, job->id());
  ASSERT_EQ(results.size(), 2u);
  for (const auto& result : results) {
    EXPECT_TRUE(result.error().empty()) << result.error();
    ASSERT_EQ(result.judges_size(), 2) << result.case_id();
    for (const eval::v1::JudgeResult& judged : result.judges()) {
      EXPECT_GE(judged.score(), 1) << judged.judge();
      EXPECT_LE(judged.score(), 5) << judged.judge();
    }
    const eval::v1::JudgeResult& pointwise = result.judges(1);
    EXPECT_EQ(pointwise.judge(), "pointwise:correctness");
    auto reply = ParseJson(pointwise.reasoning());  // {"reason": ..., "score": N}
    ASSERT_TRUE(reply.ok()) << pointwise.reasoning();
    EXPECT_EQ((*reply)["score"].get<double>(), pointwise.score());
  }

  // structured_output: false asks for a plain "Score: N" line, which random
  // weights do not write: each case says so.
  auto plain = Create(R"(name: plain-text judge
judges: [{"kind": "pointwise", "structured_output": false, "sampling": {"max_tokens": 16}}]
dataset: {"cases": [{"id": "a", "input": "What is 2+2?", "output": "4"}]}
)");
  ASSERT_TRUE(plain.ok()) << plain.status();
  seen = Watch(*stub_, plain->id());
  ASSERT_FALSE(seen.empty());
  ASSERT_TRUE(Ended(seen.back().state()));
  for (const auto& result : AllResults(*stub_, plain->id())) {
    if (result.judges_size() == 1) continue;  // A lucky random "Score: N" would be valid.
    EXPECT_TRUE(absl::StrContains(result.error(), "no score from 1 to 5")) << result.error();
  }
}

// --- 3. Logprobs from the local generator ----------------------------------

TEST(LocalChatModelLogprobsTest, ReportsPerTokenAlternatives) {
  const std::string dir = testing::MakeTempDir("eval_logprobs");
  ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", dir + "/tiny.gguf", 5, "q8_0").ok());
  auto llama = llama::LlamaModel::Load(dir + "/tiny.gguf");
  ASSERT_TRUE(llama.ok()) << llama.status();
  services::LocalChatModel model(llama->get());
  agents::ChatMessage message;
  message.set_role("user");
  message.set_content("Score: ");
  agents::SamplingParams sampling;
  sampling.set_max_tokens(6);
  sampling.set_temperature(0);
  sampling.set_top_logprobs(5);
  auto result = model.Generate({message}, {}, sampling);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->logprobs.size(), static_cast<size_t>(result->usage.completion_tokens()));
  for (const agents::TokenLogprob& token : result->logprobs) {
    ASSERT_EQ(token.top.size(), 5u);
    EXPECT_LE(token.logprob, 0);
    EXPECT_GE(token.top[0].logprob, token.top[1].logprob);
    EXPECT_FALSE(token.top[0].token.empty());
  }
  // Greedy: the sampled token is the most likely alternative.
  EXPECT_EQ(result->logprobs[0].token, result->logprobs[0].top[0].token);
  // Without top_logprobs, none.
  sampling.clear_top_logprobs();
  EXPECT_TRUE(model.Generate({message}, {}, sampling)->logprobs.empty());
}

}  // namespace
}  // namespace tessera
