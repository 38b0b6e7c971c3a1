// Judges reached through the gateway's model router: the real server binary
// with a router route ("remote-judge") to an OpenAI-compatible backend served
// over HTTP by the test itself (TestOpenAiBackend). An evaluation job created
// over gRPC whose pointwise judge names the route is judged by that backend
// (through ModelRouter::Generate: retries, fallbacks, circuit breakers and
// prices apply), and its scores are those the backend replied. A judge naming
// neither a route nor a loaded model is still refused up front.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "gateway/testing/openai_backend.h"
#include "gtest/gtest.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using eval::v1::EvalService;
using gateway::testing::TestOpenAiBackend;

constexpr int kCases = 3;

class EvalRemoteJudgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string work = testing::MakeTempDir("eval_remote_judge");
    backend_ = std::make_unique<TestOpenAiBackend>("judge-api");
    ASSERT_TRUE(backend_->Start().ok());
    backend_->set_reply("The answer is right but terse.\nScore: 4");
    Json config = {
        {"router",
         {{"backends",
           {{{"name", "judge-api"},
             {"kind", "openai"},
             {"address", backend_->base_url()},
             {"max_retries", 0},
             {"prompt_micros_per_1k_tokens", 1000},
             {"completion_micros_per_1k_tokens", 2000}}}},
          {"routes",
           {{{"name", "remote-judge"},
             {"targets", {{{"backend", "judge-api"}, {"model", "upstream-judge"}}}}}}}}}};
    const std::string config_path = work + "/tessera.json";
    std::ofstream(config_path) << config.dump(2);
    const std::string data_dir = work + "/data";
    std::filesystem::create_directories(data_dir);
    // No generator: only the route can judge.
    server_ = std::make_unique<testing::ServerProcess>(data_dir,
                                                       std::vector<std::string>{"--config=" + config_path});
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
    stub_ = EvalService::NewStub(grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Terminate();
  }

  grpc::Status Create(const std::string& yaml, eval::v1::Job* job) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    eval::v1::CreateJobRequest request;
    request.set_spec_text(yaml);
    return stub_->CreateJob(&context, request, job);
  }

  eval::v1::Job WaitUntilEnded(const std::string& id) {
    eval::v1::Job job;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < give_up) {
      grpc::ClientContext context;
      eval::v1::GetJobRequest get;
      get.set_id(id);
      grpc::Status status = stub_->GetJob(&context, get, &job);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      if (job.state() == eval::v1::SUCCEEDED || job.state() == eval::v1::FAILED ||
          job.state() == eval::v1::CANCELLED) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return job;
  }

  std::unique_ptr<TestOpenAiBackend> backend_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<EvalService::Stub> stub_;
};

TEST_F(EvalRemoteJudgeTest, AJudgeNamingARouteIsJudgedByTheRoutesBackend) {
  std::string yaml = R"(name: remote judge
judges:
  - kind: pointwise
    name: remote
    model: remote-judge
    criterion: correctness
dataset:
  cases:
)";
  for (int i = 0; i < kCases; ++i) {
    absl::StrAppend(&yaml, "    - {\"id\": \"c", i, "\", \"input\": \"Capital of country ", i,
                    "?\", \"output\": \"City ", i, ".\"}\n");
  }
  eval::v1::Job job;
  grpc::Status status = Create(yaml, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  job = WaitUntilEnded(job.id());
  ASSERT_EQ(job.state(), eval::v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.cases_done(), kCases);
  // Every judge prompt went to the backend, under the route target's model.
  EXPECT_EQ(backend_->requests(), kCases);
  Json last = Json::parse(backend_->last_body());
  EXPECT_EQ(last["model"], "upstream-judge");
  EXPECT_TRUE(absl::StrContains(last.dump(), "correctness")) << last.dump();
  EXPECT_TRUE(absl::StrContains(last.dump(), "City ")) << last.dump();
  // Tokens and the route's price are tallied: 10 + 3 per call at 1000 and 2000 per 1k.
  EXPECT_EQ(job.usage().prompt_tokens(), 10 * kCases);
  EXPECT_EQ(job.usage().completion_tokens(), 3 * kCases);
  EXPECT_EQ(job.usage().cost_micros(), 16 * kCases);

  grpc::ClientContext context;
  eval::v1::ListResultsRequest list;
  list.set_job_id(job.id());
  eval::v1::ListResultsResponse results;
  status = stub_->ListResults(&context, list, &results);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(results.results_size(), kCases);
  for (const eval::v1::CaseResult& result : results.results()) {
    EXPECT_TRUE(result.error().empty()) << result.error();
    ASSERT_EQ(result.judges_size(), 1);
    EXPECT_EQ(result.judges(0).judge(), "remote");
    EXPECT_EQ(result.judges(0).score(), 4);
    EXPECT_TRUE(absl::StrContains(result.judges(0).reasoning(), "terse")) << result.judges(0).reasoning();
  }
}

TEST_F(EvalRemoteJudgeTest, AJudgeNamingNoRouteOrModelIsRefused) {
  eval::v1::Job job;
  grpc::Status status = Create(R"(judges: [{"kind": "POINTWISE", "model": "judge-none"}]
dataset: {"cases": [{"input": "q", "output": "a"}]}
)", &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "judge-none")) << status.error_message();
  // A backend's name is not a route: the router would not send it there.
  status = Create(R"(judges: [{"kind": "POINTWISE", "model": "judge-api"}]
dataset: {"cases": [{"input": "q", "output": "a"}]}
)", &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(backend_->requests(), 0);
}

}  // namespace
}  // namespace tessera
