// The example graphs load, validate against the real tools, and run end to end
// with the scripted model and the keyword retriever.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agents/run_manager.h"
#include "agents/tools/calculator.h"
#include "agents/tools/search_tool.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

namespace v1 = ::tessera::agents::v1;

std::string ReadExample(const std::string& name) {
  std::ifstream in(absl::StrCat("agents/examples/", name));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    retriever_ = std::make_shared<KeywordRetriever>();
    retriever_->Add("acme", "kb", "refunds", "Refunds are issued within 14 days.");
    retriever_->Add("acme", "kb", "hours", "The shop opens at 9.");
    model_ = std::make_shared<ScriptedChatModel>();
    options_.database_path = absl::StrCat(::testing::TempDir(), "/examples_", 
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    std::remove(options_.database_path.c_str());
    options_.retriever = retriever_;
    options_.models->SetDefault(model_);
    ASSERT_TRUE(options_.tools->Register(std::make_shared<CalculatorTool>()).ok());
    ASSERT_TRUE(options_.tools->Register(std::make_shared<SearchTool>(retriever_, "acme", "kb")).ok());
    manager_ = std::move(*RunManager::Open(options_));
  }
  v1::Graph Create(const std::string& file) {
    v1::CreateGraphRequest request;
    request.set_definition_text(ReadExample(file));
    absl::StatusOr<v1::Graph> graph = manager_->CreateGraph("acme", request);
    EXPECT_TRUE(graph.ok()) << file << ": " << graph.status();
    return graph.ok() ? *graph : v1::Graph();
  }
  std::shared_ptr<KeywordRetriever> retriever_;
  std::shared_ptr<ScriptedChatModel> model_;
  RunManagerOptions options_;
  std::unique_ptr<RunManager> manager_;
};

TEST_F(ExamplesTest, EveryExampleLoadsAndValidates) {
  for (const char* file : {"rag_with_approval.json", "react_tool_loop.json", "rag_reretrieve.json",
                           "research_worker.json", "math_worker.json", "supervisor.json"}) {
    std::string text = ReadExample(file);
    ASSERT_FALSE(text.empty()) << file;
    GraphValidationContext context;
    context.tools = options_.tools.get();
    context.models = options_.models.get();
    context.graph_exists = [](const std::string& id) { return id == "research_worker" || id == "math_worker"; };
    absl::StatusOr<std::shared_ptr<const CompiledGraph>> graph = LoadGraphDefinition(text, context);
    EXPECT_TRUE(graph.ok()) << file << ": " << graph.status();
  }
}

TEST_F(ExamplesTest, RagWithApprovalRunsThroughTheRefundApproval) {
  Create("rag_with_approval.json");
  model_->AddRule("Classify the intent", "refund");
  model_->AddRule("Refund: 90", "You will get 90 back within 14 days.");
  v1::StartRunRequest start;
  start.set_graph_id("rag_with_approval");
  *start.mutable_input() = *JsonToStruct({{"question", "How long do refunds take?"}});
  absl::StatusOr<v1::Run> run = manager_->StartRun("acme", start);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->status(), v1::INTERRUPTED) << run->error();
  EXPECT_EQ(run->pending_action().tool(), "calculator");
  Json state = StructToJson(run->state());
  EXPECT_EQ(state["context"], "Refunds are issued within 14 days.");
  v1::ApproveActionRequest approve;
  approve.set_run_id(run->id());
  approve.set_action_id(run->pending_action().id());
  absl::StatusOr<v1::Run> done = manager_->Approve("acme", approve);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status(), v1::SUCCEEDED) << done->error();
  EXPECT_EQ(StructToJson(done->state())["refund"], 90);
  EXPECT_EQ(StructToJson(done->state())["answer"], "You will get 90 back within 14 days.");
}

TEST_F(ExamplesTest, ReactLoopUsesSearchThenAnswers) {
  Create("react_tool_loop.json");
  model_->AddTurn(R"({"tool": "search", "arguments": {"query": "shop opens"}})");
  model_->AddTurn("The shop opens at 9.");
  model_->AddRule("State the final answer", "9 o'clock");
  v1::StartRunRequest start;
  start.set_graph_id("react_tool_loop");
  *start.mutable_input() = *JsonToStruct({{"messages", {{{"role", "user"}, {"content", "When does the shop open?"}}}}});
  absl::StatusOr<v1::Run> run = manager_->StartRun("acme", start);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->status(), v1::SUCCEEDED) << run->error();
  Json state = StructToJson(run->state());
  EXPECT_EQ(state["final"], "9 o'clock");
  EXPECT_EQ(state["attempts"], 1);
  EXPECT_NE(state["messages"][2]["content"].get<std::string>().find("The shop opens at 9."), std::string::npos);
}

TEST_F(ExamplesTest, RagReretrievesOnceWhenTheJudgeFindsTheAnswerUnsupported) {
  Create("rag_reretrieve.json");
  model_->AddRule("Answer: I do not know", "no", 1);
  model_->AddRule("Answer: Refunds take 14 days", "yes");
  model_->AddRule("Write a better search query", "refunds");
  model_->AddTurn("I do not know.");
  model_->AddTurn("Refunds take 14 days.");
  v1::StartRunRequest start;
  start.set_graph_id("rag_reretrieve");
  *start.mutable_input() = *JsonToStruct({{"question", "How long until my money is back?"}});
  absl::StatusOr<v1::Run> run = manager_->StartRun("acme", start);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->status(), v1::SUCCEEDED) << run->error();
  Json state = StructToJson(run->state());
  EXPECT_EQ(state["answer"], "Refunds take 14 days.");
  EXPECT_EQ(state["rewritten"], "refunds");
  EXPECT_EQ(state["attempts"], 1);
  EXPECT_EQ(state["context"], "Refunds are issued within 14 days.");
}

TEST_F(ExamplesTest, SupervisorDelegatesToBothWorkerSubgraphsThenFinishes) {
  Create("research_worker.json");
  Create("math_worker.json");
  Create("supervisor.json");
  model_->AddRule("Which worker acts next", "research", 1);
  model_->AddRule("Which worker acts next", R"({"choice": "calculate"})", 1);
  model_->AddRule("Which worker acts next", "finish", 1);
  model_->AddRule("Summarise what the context says", "Refunds take 14 days.");
  model_->AddRule("Use the calculator", R"({"tool": "calculator", "arguments": {"expression": "14 * 24"}})", 1);
  model_->AddRule("Write the final answer", "14 days, which is 336 hours.");
  model_->AddRule("336", "336 hours.");
  v1::StartRunRequest start;
  start.set_graph_id("supervisor");
  *start.mutable_input() = *JsonToStruct({{"task", "How many hours do refunds take?"}});
  absl::StatusOr<v1::Run> run = manager_->StartRun("acme", start);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->status(), v1::SUCCEEDED) << run->error();
  Json state = StructToJson(run->state());
  EXPECT_EQ(state["notes"], Json({"Refunds take 14 days.", "336 hours."}));
  EXPECT_EQ(state["rounds"], 2);
  EXPECT_EQ(state["result"], "14 days, which is 336 hours.");
}

}  // namespace
}  // namespace tessera::agents
