// The shipped example graphs (agents/examples) run over gRPC on the server's
// own generator: created, started, streamed (TOKEN events included), approved or
// resumed when they pause, until they end.
//
// With a generator in ../shared/models the runs must succeed. Without one, a
// random-weight model of the same architecture stands in: its text is noise, so
// this checks the wiring and the guarantees that do not depend on the weights
// (every tool call the model makes is schema-valid thanks to constrained
// decoding, runs end within their limits), not the answers.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <dirent.h>
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "common/shared_data.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

namespace v1 = ::tessera::agents::v1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A LLaMA-family generator in ../shared/models: a .gguf file, or a directory
// with config.json naming a Llama architecture.
std::optional<std::string> SharedGenerator() {
  std::optional<std::string> models = FindSharedFile("models");
  if (!models) return std::nullopt;
  DIR* dir = opendir(models->c_str());
  if (dir == nullptr) return std::nullopt;
  std::optional<std::string> found;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    const std::string path = *models + "/" + name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".gguf") found = path;
    const std::string config = ReadFile(path + "/config.json");
    if (config.find("LlamaForCausalLM") != std::string::npos) found = path;
  }
  closedir(dir);
  return found;
}

struct RunOutcome {
  v1::Run run;
  std::vector<v1::RunEvent> events;
};

class ExampleGraphsTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& generator) {
    server_ = std::make_unique<testing::ServerProcess>(testing::MakeTempDir("agents_examples"),
                                                       std::vector<std::string>{"--generator_model=" + generator});
    ASSERT_TRUE(server_->Start().ok());
    auto channel = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());
    agents_ = v1::AgentService::NewStub(channel);
    auto ingest = ingest::v1::IngestService::NewStub(channel);
    const std::map<std::string, std::string> docs = {
        {"refunds", "Refunds are paid within 14 days of the request, minus a 10% handling fee."},
        {"hours", "The shop opens at 9 and closes at 17 on weekdays."},
        {"shipping", "Orders ship within two working days; shipping is free above 50 euros."}};
    for (const auto& [id, text] : docs) {
      ingest::v1::PutDocumentRequest put;
      put.set_create_collection(true);
      put.mutable_document()->set_collection("kb");
      put.mutable_document()->set_id(id);
      put.mutable_document()->set_text(text);
      grpc::ClientContext context;
      ingest::v1::PutDocumentResponse response;
      ASSERT_TRUE(ingest->PutDocument(&context, put, &response).ok());
    }
    for (const char* file : {"rag_with_approval", "react_tool_loop", "rag_reretrieve", "research_worker",
                             "math_worker", "supervisor"}) {
      grpc::ClientContext context;
      v1::CreateGraphRequest request;
      request.set_definition_text(ReadFile(std::string("agents/examples/") + file + ".json"));
      ASSERT_FALSE(request.definition_text().empty()) << file;
      v1::Graph graph;
      grpc::Status status = agents_->CreateGraph(&context, request, &graph);
      ASSERT_TRUE(status.ok()) << file << ": " << status.error_message();
    }
  }

  // Streams events until the stream ends (finish, error or pause).
  void Stream(const std::string& run_id, int64_t after_step, std::vector<v1::RunEvent>* events) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    v1::StreamRunRequest request;
    request.set_run_id(run_id);
    request.set_after_step(after_step);
    auto reader = agents_->StreamRun(&context, request);
    v1::RunEvent event;
    while (reader->Read(&event)) events->push_back(event);
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  v1::Run Get(const std::string& run_id) {
    grpc::ClientContext context;
    v1::GetRunRequest request;
    request.set_run_id(run_id);
    v1::Run run;
    EXPECT_TRUE(agents_->GetRun(&context, request, &run).ok());
    return run;
  }

  // Starts a run and drives it to its end: approves every pending write action
  // and answers every human question.
  RunOutcome RunToEnd(const std::string& graph_id, const nlohmann::json& input) {
    RunOutcome outcome;
    {
      grpc::ClientContext context;
      v1::StartRunRequest request;
      request.set_graph_id(graph_id);
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(input.dump(), request.mutable_input()).ok());
      grpc::Status status = agents_->StartRun(&context, request, &outcome.run);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    int64_t after = -1;
    for (int pauses = 0; pauses < 6; ++pauses) {
      Stream(outcome.run.id(), after, &outcome.events);
      outcome.run = Get(outcome.run.id());
      for (int i = 0; i < 200 && outcome.run.status() == v1::RUNNING; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        outcome.run = Get(outcome.run.id());
      }
      if (outcome.run.status() != v1::INTERRUPTED) break;
      after = outcome.run.step();
      grpc::ClientContext context;
      v1::Run next;
      if (!outcome.run.pending_action().tool().empty()) {
        v1::ApproveActionRequest approve;
        approve.set_run_id(outcome.run.id());
        approve.set_action_id(outcome.run.pending_action().id());
        EXPECT_TRUE(agents_->ApproveAction(&context, approve, &next).ok());
      } else {
        v1::ResumeRunRequest resume;
        resume.set_run_id(outcome.run.id());
        (*resume.mutable_update()->mutable_fields())["response"].set_string_value("Looks fine.");
        EXPECT_TRUE(agents_->ResumeRun(&context, resume, &next).ok());
      }
    }
    return outcome;
  }

  // Checks what holds whatever the weights: the run ended (or stopped at a
  // documented limit), and every tool call an LLM node made passed its schema.
  void CheckGuarantees(const std::string& graph_id, const RunOutcome& outcome, bool must_succeed) {
    const v1::RunStatus status = outcome.run.status();
    EXPECT_TRUE(status == v1::SUCCEEDED || status == v1::FAILED) << graph_id << ": " << status;
    if (must_succeed || status != v1::SUCCEEDED) {
      EXPECT_EQ(status, v1::SUCCEEDED) << graph_id << " failed: " << outcome.run.error();
    }
    for (const v1::RunEvent& event : outcome.events) {
      if (event.kind() != v1::RunEvent::TOOL_RESULT) continue;
      const auto& fields = event.data().fields();
      auto error = fields.find("error");
      if (error == fields.end()) continue;
      // Tools may fail on what the model asked (e.g. a nonsense expression), but
      // never because the call was malformed or named an unknown tool.
      EXPECT_EQ(error->second.string_value().find("arguments of tool"), std::string::npos)
          << graph_id << ": " << error->second.string_value();
      EXPECT_EQ(error->second.string_value().find("unknown tool"), std::string::npos)
          << graph_id << ": " << error->second.string_value();
    }
  }

  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<v1::AgentService::Stub> agents_;
};

TEST_F(ExampleGraphsTest, ExamplesRunOnARandomWeightGenerator) {
  const std::string models = testing::MakeTempDir("example_models");
  ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", models + "/tiny.gguf", 5, "q8_0").ok());
  StartServer(models + "/tiny.gguf");
  int tokens = 0;
  int tool_calls = 0;
  for (const auto& [graph, input] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"rag_with_approval", {{"question", "How long do refunds take?"}}},
           {"rag_reretrieve", {{"question", "How long do refunds take?"}}},
           {"supervisor", {{"task", "How many hours do refunds take?"}}}}) {
    RunOutcome outcome = RunToEnd(graph, input);
    // Retrieval, routers, counters and subgraphs bound these graphs whatever the
    // model says, so they succeed even on noise.
    CheckGuarantees(graph, outcome, /*must_succeed=*/true);
    for (const v1::RunEvent& event : outcome.events) {
      tokens += event.kind() == v1::RunEvent::TOKEN;
      tool_calls += event.kind() == v1::RunEvent::TOOL_CALL;
    }
  }
  // The ReAct loop may use up its model turns on noise: that ends the run with
  // the documented limit, never with a malformed call.
  RunOutcome react = RunToEnd("react_tool_loop", {{"messages", {{{"role", "user"}, {"content", "What is 17 * 23?"}}}}});
  CheckGuarantees("react_tool_loop", react, /*must_succeed=*/false);
  if (react.run.status() == v1::FAILED) {
    EXPECT_NE(react.run.error().find("still calling tools"), std::string::npos) << react.run.error();
  }
  EXPECT_GT(tokens, 0) << "no TOKEN events were streamed";
  EXPECT_GT(tool_calls, 0) << "no tool was called";
}

TEST_F(ExampleGraphsTest, ExamplesSucceedOnTheSharedGenerator) {
  std::optional<std::string> generator = SharedGenerator();
  if (!generator) {
    GTEST_SKIP() << "no LLaMA-family generator in ../shared/models (a .gguf file or a Hugging Face "
                    "directory); the random-weight test above covers the wiring";
  }
  StartServer(*generator);
  for (const auto& [graph, input] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"rag_with_approval", {{"question", "How long do refunds take?"}}},
           {"rag_reretrieve", {{"question", "How long do refunds take?"}}},
           {"supervisor", {{"task", "How many hours do refunds take?"}}},
           {"react_tool_loop", {{"messages", {{{"role", "user"}, {"content", "What is 17 * 23?"}}}}}}}) {
    CheckGuarantees(graph, RunToEnd(graph, input), /*must_succeed=*/true);
  }
}

}  // namespace
}  // namespace tessera
