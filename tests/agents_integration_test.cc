// An agent graph run through the real server over gRPC: a retrieve node over
// the server's own collection, a router, and a write action (tool node) gated
// by a human approval, with the server killed -9 while the run waits.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <string>
#include <thread>

#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

constexpr char kGraph[] = R"json({
  "id": "refund_flow",
  "channels": [
    {"name": "question", "type": "STRING"},
    {"name": "context", "type": "STRING"},
    {"name": "refund", "type": "JSON"}
  ],
  "nodes": [
    {"id": "retrieve", "retrieve": {"collection": "kb", "query": "question", "top_k": 2,
                                    "output_channel": "context"}},
    {"id": "route", "router": {
      "routes": [{"condition": "\"refund\" in lower(state.question)", "target": "issue_refund"}],
      "default_target": "__end__"}},
    {"id": "issue_refund", "tool": {"tool": "calculator", "arguments": {"expression": "\"100 * 0.9\""},
                                    "output_channel": "refund", "requires_approval": true}}
  ],
  "edges": [
    {"from": "retrieve", "to": "route"},
    {"from": "issue_refund", "to": "__end__"}
  ],
  "start": "retrieve",
  "max_steps": 10
})json";

class AgentsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::ServerProcess>(testing::MakeTempDir("agents"));
    ASSERT_TRUE(server_->Start().ok());
    Connect();
    auto ingest = ingest::v1::IngestService::NewStub(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
    ingest::v1::PutDocumentRequest put;
    put.set_create_collection(true);
    put.mutable_document()->set_collection("kb");
    put.mutable_document()->set_id("policy");
    put.mutable_document()->set_text("Refunds are paid within 14 days, minus a 10% fee.");
    grpc::ClientContext context;
    ingest::v1::PutDocumentResponse response;
    ASSERT_TRUE(ingest->PutDocument(&context, put, &response).ok());
  }

  void Connect() {
    agents_ = agents::v1::AgentService::NewStub(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  }

  // Streams the run's events after `after_step` until the stream ends; returns
  // the last kind seen and sets *last_step to its step.
  agents::v1::RunEvent::Kind StreamUntilPause(const std::string& run_id, int64_t after_step,
                                              int* events, int64_t* last_step) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    agents::v1::StreamRunRequest request;
    request.set_run_id(run_id);
    request.set_after_step(after_step);
    auto reader = agents_->StreamRun(&context, request);
    agents::v1::RunEvent event;
    agents::v1::RunEvent::Kind last = agents::v1::RunEvent::KIND_UNSPECIFIED;
    while (reader->Read(&event)) {
      last = event.kind();
      *last_step = event.step();
      ++*events;
    }
    EXPECT_TRUE(reader->Finish().ok());
    return last;
  }

  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<agents::v1::AgentService::Stub> agents_;
};

TEST_F(AgentsIntegrationTest, ApprovalGatedRunSurvivesKillNine) {
  agents::v1::Graph graph;
  {
    grpc::ClientContext context;
    agents::v1::CreateGraphRequest request;
    request.set_definition_text(kGraph);
    grpc::Status status = agents_->CreateGraph(&context, request, &graph);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(graph.id(), "refund_flow");
  }
  agents::v1::Run run;
  {
    grpc::ClientContext context;
    agents::v1::StartRunRequest request;
    request.set_graph_id("refund_flow");
    (*request.mutable_input()->mutable_fields())["question"].set_string_value(
        "I want a refund for my order");
    ASSERT_TRUE(agents_->StartRun(&context, request, &run).ok());
  }
  int events = 0;
  int64_t interrupted_step = 0;
  EXPECT_EQ(StreamUntilPause(run.id(), 0, &events, &interrupted_step),
            agents::v1::RunEvent::INTERRUPTED);
  EXPECT_GT(events, 2);
  {
    grpc::ClientContext context;
    agents::v1::GetRunRequest request;
    request.set_run_id(run.id());
    ASSERT_TRUE(agents_->GetRun(&context, request, &run).ok());
  }
  ASSERT_EQ(run.status(), agents::v1::INTERRUPTED);
  EXPECT_EQ(run.pending_action().tool(), "calculator");
  EXPECT_NE(run.state().fields().at("context").string_value().find("14 days"), std::string::npos);

  // The server dies while the run waits for a human; nothing is lost.
  server_->Kill();
  ASSERT_TRUE(server_->Start().ok());
  Connect();
  {
    grpc::ClientContext context;
    agents::v1::ApproveActionRequest request;
    request.set_run_id(run.id());
    request.set_action_id(run.pending_action().id());
    request.set_reviewer("alice");
    agents::v1::Run approved;
    grpc::Status status = agents_->ApproveAction(&context, request, &approved);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // The approved step keeps the interrupted step's number, so a stream resumed
  // "after" it can miss events of a run that finished before it subscribed;
  // wait on the run itself instead.
  for (int i = 0; i < 600; ++i) {
    grpc::ClientContext context;
    agents::v1::GetRunRequest request;
    request.set_run_id(run.id());
    ASSERT_TRUE(agents_->GetRun(&context, request, &run).ok());
    if (run.status() != agents::v1::RUNNING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(run.status(), agents::v1::SUCCEEDED) << run.error();
  EXPECT_DOUBLE_EQ(run.state().fields().at("refund").number_value(), 90.0);
  {
    grpc::ClientContext context;
    agents::v1::ListCheckpointsRequest request;
    request.set_run_id(run.id());
    agents::v1::ListCheckpointsResponse checkpoints;
    ASSERT_TRUE(agents_->ListCheckpoints(&context, request, &checkpoints).ok());
    EXPECT_GE(checkpoints.checkpoints_size(), 3);
  }
}

TEST_F(AgentsIntegrationTest, InvalidGraphsAreRejectedWithPreciseErrors) {
  grpc::ClientContext context;
  agents::v1::CreateGraphRequest request;
  request.set_definition_text(R"({"id": "bad", "nodes": [{"id": "a", "tool": {"tool": "calculator",
      "arguments": {"expression": "\"1\""}}}], "edges": [{"from": "a", "to": "ghost"}], "start": "a"})");
  agents::v1::Graph graph;
  grpc::Status status = agents_->CreateGraph(&context, request, &graph);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("ghost"), std::string::npos) << status.error_message();
}

// An LLM node on the server's own generator (random weights in the GGUF format,
// so the text is gibberish; this checks the wiring, not the answer).
TEST(AgentsLocalModelTest, LlmNodeRunsOnTheLocalGenerator) {
  const std::string models = testing::MakeTempDir("agent_models");
  ASSERT_TRUE(
      model::MakeRandomModel("llama", "tiny-llama", "gguf", models + "/tiny.gguf", 9, "q8_0").ok());
  testing::ServerProcess server(testing::MakeTempDir("agents_llm"),
                                {"--generator_model=" + models + "/tiny.gguf"});
  ASSERT_TRUE(server.Start().ok());
  auto agents = agents::v1::AgentService::NewStub(
      grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    agents::v1::CreateGraphRequest request;
    request.set_definition_text(R"json({
      "id": "ask",
      "channels": [{"name": "question", "type": "STRING"}, {"name": "answer", "type": "STRING"}],
      "nodes": [{"id": "answer", "llm": {"prompt_template": "Answer briefly: {{question}}",
                 "output_channel": "answer", "sampling": {"max_tokens": 8, "temperature": 0}}}],
      "edges": [{"from": "answer", "to": "__end__"}],
      "start": "answer",
      "max_steps": 3})json");
    agents::v1::Graph graph;
    grpc::Status status = agents->CreateGraph(&context, request, &graph);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  agents::v1::Run run;
  {
    grpc::ClientContext context;
    agents::v1::StartRunRequest request;
    request.set_graph_id("ask");
    (*request.mutable_input()->mutable_fields())["question"].set_string_value("What is BM25?");
    ASSERT_TRUE(agents->StartRun(&context, request, &run).ok());
  }
  for (int i = 0; i < 300 && run.status() == agents::v1::RUNNING; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    grpc::ClientContext context;
    agents::v1::GetRunRequest request;
    request.set_run_id(run.id());
    ASSERT_TRUE(agents->GetRun(&context, request, &run).ok());
  }
  ASSERT_EQ(run.status(), agents::v1::SUCCEEDED) << run.error();
  EXPECT_TRUE(run.state().fields().at("answer").has_string_value());
  EXPECT_GT(run.usage().completion_tokens(), 0);
}

}  // namespace
}  // namespace tessera
