// Kill -9 in the middle of evaluation jobs (a RAG target on the server's own
// collection and local random-weight generator, greedy, plus retrieval
// metrics), restart, repeat. Every job resumes by itself and ends with exactly
// the results of the same job run without interruption: each case once, the
// same outputs and metrics, and the same token usage (usage is added per case
// as it is saved, so a finished case done again would count twice).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/crash_loop.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using eval::v1::EvalService;

constexpr int kCases = 8;

const char* const kDocs[][2] = {
    {"bm25", "BM25 ranks documents by term frequency and inverse document frequency."},
    {"hnsw", "HNSW is a graph index for approximate nearest neighbour search over vectors."},
    {"wal", "SQLite in WAL mode with synchronous FULL fsyncs every commit before acknowledging."},
    {"rrf", "Reciprocal rank fusion merges ranked lists by summing one over rank plus sixty."},
};

std::string JobYaml(const std::string& name) {
  std::string yaml = absl::StrCat("name: ", name, R"(
concurrency: 1
target:
  rag:
    collection: kb
    top_k: 2
metrics: ["ndcg@10", mrr]
dataset:
  cases:
)");
  for (int i = 0; i < kCases; ++i) {
    const char* doc = kDocs[i % 4][0];
    absl::StrAppend(&yaml, "    - {\"id\": \"c", i, "\", \"input\": \"Question ", i, ": what is ", doc,
                    "?\", \"labels\": {\"relevant\": \"", doc, ":1\"}}\n");
  }
  return yaml;
}

struct JobOutcome {
  eval::v1::Job job;
  std::map<std::string, eval::v1::CaseResult> results;  // By case id.
};

class EvalCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    models_ = testing::MakeTempDir("eval_crash_models");
    ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", models_ + "/tiny.gguf", 3, "q8_0").ok());
  }

  std::unique_ptr<testing::ServerProcess> StartServer(const std::string& name) {
    auto server = std::make_unique<testing::ServerProcess>(
        testing::MakeTempDir(name),
        std::vector<std::string>{"--models_dir=" + models_, "--generator_model=tiny.gguf"});
    absl::Status started = server->Start();
    EXPECT_TRUE(started.ok()) << started;
    auto ingest = ingest::v1::IngestService::NewStub(
        grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials()));
    ingest::v1::BatchPutDocumentsRequest batch;
    batch.set_collection("kb");
    batch.set_create_collection(true);
    for (const auto& doc : kDocs) {
      auto* d = batch.add_documents();
      d->set_id(doc[0]);
      d->set_text(doc[1]);
    }
    grpc::ClientContext context;
    ingest::v1::BatchPutDocumentsResponse response;
    EXPECT_TRUE(ingest->BatchPutDocuments(&context, batch, &response).ok());
    return server;
  }

  static std::string CreateJob(const std::string& target, const std::string& name) {
    auto stub = EvalService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    eval::v1::CreateJobRequest request;
    request.set_spec_text(JobYaml(name));
    grpc::ClientContext context;
    eval::v1::Job job;
    grpc::Status status = stub->CreateJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job.id();
  }

  static eval::v1::Job GetJob(const std::string& target, const std::string& id) {
    auto stub = EvalService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    eval::v1::GetJobRequest request;
    request.set_id(id);
    grpc::ClientContext context;
    eval::v1::Job job;
    grpc::Status status = stub->GetJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return job;
  }

  static bool Ended(const eval::v1::Job& job) {
    return job.state() == eval::v1::SUCCEEDED || job.state() == eval::v1::FAILED ||
           job.state() == eval::v1::CANCELLED;
  }

  static JobOutcome WaitForOutcome(const std::string& target, const std::string& id) {
    JobOutcome outcome;
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    do {
      outcome.job = GetJob(target, id);
      if (Ended(outcome.job)) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    auto stub = EvalService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    eval::v1::ListResultsRequest request;
    request.set_job_id(id);
    request.mutable_page()->set_page_size(100);
    grpc::ClientContext context;
    eval::v1::ListResultsResponse response;
    EXPECT_TRUE(stub->ListResults(&context, request, &response).ok());
    for (const auto& result : response.results()) {
      EXPECT_EQ(outcome.results.count(result.case_id()), 0u) << id << ": case listed twice: " << result.case_id();
      outcome.results[result.case_id()] = result;
    }
    return outcome;
  }

  std::string models_;
};

TEST_F(EvalCrashTest, JobsKilledMidwayResumeAndEqualAnUninterruptedRun) {
  // The reference: the same job, never interrupted.
  JobOutcome reference;
  absl::Duration reference_time;
  {
    auto server = StartServer("eval_crash_reference");
    const absl::Time start = absl::Now();
    reference = WaitForOutcome(server->target(), CreateJob(server->target(), "reference"));
    reference_time = absl::Now() - start;
  }
  ASSERT_EQ(reference.job.state(), eval::v1::SUCCEEDED) << reference.job.error();
  ASSERT_EQ(reference.results.size(), static_cast<size_t>(kCases));
  ASSERT_GT(reference.job.usage().completion_tokens(), 0);
  std::printf("uninterrupted job: %.0f ms\n", absl::ToDoubleMilliseconds(reference_time));

  auto server = StartServer("eval_crash");
  std::vector<std::string> jobs;
  int killed_mid_job = 0;
  testing::CrashLoopOptions options;
  options.repetitions = testing::CrashRepetitions(3);
  options.clients = 0;
  // Kills land anywhere in a job: the first cases, the middle, the report.
  options.min_delay = absl::Milliseconds(20);
  options.max_delay = std::max(absl::Milliseconds(100), reference_time);
  options.seed = 5;
  options.before_round = [&](int round, const std::string& target) {
    if (jobs.empty() || Ended(GetJob(target, jobs.back()))) {
      jobs.push_back(CreateJob(target, absl::StrCat("crash ", round)));
    }
  };
  int killed_after_a_checkpoint = 0;
  options.after_restart = [&](int, const std::string& target) {
    const eval::v1::Job job = GetJob(target, jobs.back());
    if (Ended(job)) return;
    ++killed_mid_job;
    if (job.cases_done() > 0) ++killed_after_a_checkpoint;
  };
  absl::Status looped = testing::RunCrashLoop(*server, options, [](const testing::CrashRound&) {});
  ASSERT_TRUE(looped.ok()) << looped;

  int64_t cases_checked = 0;
  for (const std::string& id : jobs) {
    const JobOutcome outcome = WaitForOutcome(server->target(), id);
    ASSERT_EQ(outcome.job.state(), eval::v1::SUCCEEDED) << id << ": " << outcome.job.error();
    EXPECT_EQ(outcome.job.cases_done(), kCases) << id;
    ASSERT_EQ(outcome.results.size(), static_cast<size_t>(kCases)) << id;
    for (const auto& [case_id, expected] : reference.results) {
      const eval::v1::CaseResult& got = outcome.results.at(case_id);
      EXPECT_EQ(got.output(), expected.output()) << id << " " << case_id;
      EXPECT_EQ(got.error(), expected.error()) << id << " " << case_id;
      EXPECT_EQ(got.metrics().size(), expected.metrics().size()) << id << " " << case_id;
      for (const auto& [metric, value] : expected.metrics()) {
        EXPECT_DOUBLE_EQ(got.metrics().at(metric), value) << id << " " << case_id << " " << metric;
      }
      EXPECT_EQ(got.usage().total_tokens(), expected.usage().total_tokens()) << id << " " << case_id;
      ++cases_checked;
    }
    for (const auto& [name, value] : reference.job.summary()) {
      EXPECT_DOUBLE_EQ(outcome.job.summary().at(name), value) << id << " " << name;
    }
    // A case done twice would have added its usage twice.
    EXPECT_EQ(outcome.job.usage().total_tokens(), reference.job.usage().total_tokens()) << id;
  }
  std::printf("%zu jobs, %d kills mid-job (%d after a case was recorded), %lld case results "
              "compared\n",
              jobs.size(), killed_mid_job, killed_after_a_checkpoint,
              static_cast<long long>(cases_checked));
  EXPECT_GT(killed_mid_job, 0) << "no kill landed while a job was running";
  std::printf("CRASH_SUMMARY test=eval repetitions=%d acknowledged_checked=%lld failures=%d\n",
              options.repetitions, static_cast<long long>(cases_checked), HasFailure() ? 1 : 0);
}

}  // namespace
}  // namespace tessera
