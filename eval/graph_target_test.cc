#include "eval/graph_target.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eval/job_manager.h"

namespace tessera::eval {
namespace {

// A two-node graph: "answer" writes the answer from the question, then
// "check" (a human node) is never reached because the edge ends the run.
constexpr char kQaGraph[] = R"({
  "id": "qa", "name": "question answering",
  "channels": [{"name": "question", "type": "STRING"}, {"name": "answer", "type": "STRING"}],
  "nodes": [{"id": "answer", "llm": {"prompt_template": "Answer: {{question}}", "output_channel": "answer"}}],
  "edges": [{"from": "answer", "to": "__end__"}],
  "start": "answer", "max_steps": 3})";

// Chat-style graph: the answer is the last assistant message.
constexpr char kChatGraph[] = R"({
  "id": "chat", "name": "chat",
  "channels": [{"name": "messages", "type": "MESSAGES", "reducer": "APPEND"}],
  "nodes": [{"id": "reply", "llm": {"output_channel": "messages"}}],
  "edges": [{"from": "reply", "to": "__end__"}],
  "start": "reply", "max_steps": 3})";

// No channel the runner can feed.
constexpr char kNumbersGraph[] = R"({
  "id": "numbers", "name": "numbers",
  "channels": [{"name": "n", "type": "NUMBER"}, {"name": "notes", "type": "STRING"}],
  "nodes": [{"id": "noop", "llm": {"prompt_template": "x", "output_channel": "notes"}}],
  "edges": [{"from": "noop", "to": "__end__"}],
  "start": "noop", "max_steps": 2})";

class GraphTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = absl::StrCat(::testing::TempDir(), "/graph_target_", name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // The graphs' model answers; the judge scores by what it reads.
    model_ = std::make_shared<agents::ScriptedChatModel>();
    model_->AddRule("Response:\nParis", "Correct.\nScore: 5");
    model_->AddRule("Response:", "Wrong.\nScore: 1");
    model_->AddRule("capital of France", "Paris");
    model_->AddRule("2+2", "5");
    agents::RunManagerOptions options;
    options.database_path = dir_ + "/agents.db";
    options.async = true;  // as the server runs them
    options.models->SetDefault(model_);
    auto runs = agents::RunManager::Open(options);
    ASSERT_TRUE(runs.ok()) << runs.status();
    runs_ = std::move(*runs);
    for (const char* graph : {kQaGraph, kChatGraph, kNumbersGraph}) {
      agents::v1::CreateGraphRequest request;
      request.set_definition_text(graph);
      auto created = runs_->CreateGraph("acme", request);
      ASSERT_TRUE(created.ok()) << created.status();
    }
    graphs_ = std::make_shared<RunManagerGraphRunner>(runs_.get(), absl::Seconds(30));
  }

  std::string dir_;
  std::shared_ptr<agents::ScriptedChatModel> model_;
  std::unique_ptr<agents::RunManager> runs_;
  std::shared_ptr<RunManagerGraphRunner> graphs_;
};

TEST_F(GraphTargetTest, RunsTheGraphOnTheCaseInput) {
  v1::EvalCase c;
  c.set_id("a");
  c.set_input("What is the capital of France?");
  auto out = graphs_->Run("acme", "qa", c);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->output, "Paris");
  EXPECT_FALSE(out->run_id.empty());
  auto chat = graphs_->Run("acme", "chat", c);
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->output, "Paris");
  // Tenants do not share graphs; unusable graphs are refused up front.
  EXPECT_EQ(graphs_->CheckGraph("globex", "qa").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(graphs_->CheckGraph("acme", "numbers").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(graphs_->CheckGraph("acme", "qa").ok());
}

TEST_F(GraphTargetTest, JobsEvaluateGraphOutputs) {
  JobManagerOptions options;
  options.database_path = dir_ + "/eval.db";
  options.models->SetDefault(model_);
  options.graphs = graphs_;
  auto manager = JobManager::Open(options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  v1::CreateJobRequest request;
  request.set_spec_text(R"(name: graph target
judges: [{kind: pointwise, name: correct}]
target: {graph_id: qa}
dataset:
  cases:
    - {id: france, input: "What is the capital of France?"}
    - {id: sum, input: "What is 2+2?"}
)");
  auto job = (*manager)->CreateJob("acme", request);
  ASSERT_TRUE(job.ok()) << job.status();
  v1::Job last;
  ASSERT_TRUE((*manager)->WatchJob("acme", job->id(), [&](const v1::Job& j) { last = j; return true; }, {}).ok());
  EXPECT_EQ(last.state(), v1::SUCCEEDED) << last.error();
  v1::ListResultsRequest list;
  list.set_job_id(job->id());
  auto results = (*manager)->ListResults("acme", list);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->results_size(), 2);
  EXPECT_EQ(results->results(0).output(), "Paris");
  EXPECT_EQ(results->results(0).judges(0).score(), 5);
  EXPECT_EQ(results->results(1).output(), "5");
  EXPECT_EQ(results->results(1).judges(0).score(), 1);

  // Unknown graphs and servers without agents are refused when the job is created.
  request.set_spec_text("judges: [{kind: pointwise}]\ntarget: {graph_id: nope}\ndataset: {cases: [{input: q}]}\n");
  auto missing = (*manager)->CreateJob("acme", request);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "nope")) << missing.status();
  JobManagerOptions bare;
  bare.database_path = dir_ + "/bare.db";
  bare.models->SetDefault(model_);
  auto without = JobManager::Open(bare);
  ASSERT_TRUE(without.ok());
  request.set_spec_text("judges: [{kind: pointwise}]\ntarget: {graph_id: qa}\ndataset: {cases: [{input: q}]}\n");
  auto refused = (*without)->CreateJob("acme", request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "agent graphs")) << refused.status();
}

}  // namespace
}  // namespace tessera::eval
