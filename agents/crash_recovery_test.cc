// Kills a process in the middle of a step (inside a tool call, after a parallel
// tool call and the model reply of that step were journaled) and recovers the
// run in a fresh RunManager on the same SQLite file: the step is re-executed
// from the last checkpoint, completed effects are reused, nothing is lost.
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/run_manager.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

namespace v1 = ::tessera::agents::v1;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return absl::StrSplit(buffer.str(), '\n', absl::SkipEmpty());
}

// A side effect we can count: appends its "entry" argument to a file.
class LedgerTool : public Tool {
 public:
  explicit LedgerTool(std::string path) : path_(std::move(path)) {}
  std::string name() const override { return "ledger"; }
  std::string description() const override { return "appends an entry"; }
  Json parameters_schema() const override {
    return Json::parse(R"({"type": "object", "properties": {"entry": {"type": "string"}}, "required": ["entry"]})");
  }
  std::string result_type() const override { return "number"; }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time) override {
    std::ofstream out(path_, std::ios::app);
    out << arguments["entry"].get<std::string>() << "\n";
    out.flush();
    return Json(static_cast<int64_t>(ReadLines(path_).size()));
  }

 private:
  std::string path_;
};

// Kills the whole process the first time it runs (marker file absent).
class CrashOnceTool : public Tool {
 public:
  explicit CrashOnceTool(std::string marker) : marker_(std::move(marker)) {}
  std::string name() const override { return "crash_once"; }
  std::string description() const override { return "crashes once"; }
  Json parameters_schema() const override { return Json{{"type", "object"}}; }
  absl::StatusOr<Json> Invoke(const Json&, absl::Time) override {
    absl::SleepFor(absl::Milliseconds(300));  // Let the parallel ledger call finish and be journaled.
    if (access(marker_.c_str(), F_OK) != 0) {
      std::ofstream(marker_) << "crashed";
      _exit(42);  // No destructors, no commit: like kill -9.
    }
    return Json("survived");
  }

 private:
  std::string marker_;
};

constexpr char kGraph[] = R"({
  "id": "crashy",
  "channels": [{"name": "first", "type": "NUMBER"}, {"name": "messages", "type": "MESSAGES", "reducer": "APPEND"}],
  "nodes": [
    {"id": "charge", "tool": {"tool": "ledger", "arguments": {"entry": "\"a\""}, "output_channel": "first"}},
    {"id": "agent", "llm": {"prompt_template": "do it", "tools": ["ledger", "crash_once"], "output_channel": "messages"}}
  ],
  "edges": [{"from": "charge", "to": "agent"}, {"from": "agent", "to": "__end__"}],
  "start": "charge"
})";

RunManagerOptions MakeOptions(const std::string& dir, std::shared_ptr<ScriptedChatModel> model) {
  RunManagerOptions options;
  options.database_path = dir + "/agents.db";
  options.models->SetDefault(std::move(model));
  options.default_tool_retries = 0;
  EXPECT_TRUE(options.tools->Register(std::make_shared<LedgerTool>(dir + "/ledger.txt")).ok());
  EXPECT_TRUE(options.tools->Register(std::make_shared<CrashOnceTool>(dir + "/crashed.marker")).ok());
  return options;
}

TEST(CrashRecoveryTest, ProcessKilledMidStepResumesWithoutRepeatingEffects) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/crash_recovery");
  std::string cleanup = absl::StrCat("rm -rf '", dir, "' && mkdir -p '", dir, "'");
  ASSERT_EQ(std::system(cleanup.c_str()), 0);

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto model = std::make_shared<ScriptedChatModel>();
    model->AddTurn(R"(Calling both: [{"tool": "ledger", "arguments": {"entry": "b"}}, {"tool": "crash_once", "arguments": {}}])");
    auto manager = RunManager::Open(MakeOptions(dir, model));
    if (!manager.ok()) _exit(2);
    v1::CreateGraphRequest create;
    create.set_definition_text(kGraph);
    if (!(*manager)->CreateGraph("acme", create).ok()) _exit(3);
    v1::StartRunRequest start;
    start.set_graph_id("crashy");
    (void)(*manager)->StartRun("acme", start);
    _exit(4);  // Not reached: crash_once kills the process mid-step.
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 42) << "the child should die inside the tool";
  EXPECT_EQ(ReadLines(dir + "/ledger.txt"), (std::vector<std::string>{"a", "b"}));

  // A new process (here: a new manager with a new model) opens the same file.
  auto model = std::make_shared<ScriptedChatModel>();
  model->AddTurn("All done.");  // Only the turn after the tool calls: the first reply is journaled.
  absl::StatusOr<std::unique_ptr<RunManager>> manager = RunManager::Open(MakeOptions(dir, model));
  ASSERT_TRUE(manager.ok()) << manager.status();

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> orphans =
      (*manager)->store()->RunsWithStatus(v1::RUNNING);
  ASSERT_TRUE(orphans.ok());
  ASSERT_EQ(orphans->size(), 1u);
  const std::string run_id = (*orphans)[0].second;
  absl::StatusOr<v1::Run> before = (*manager)->GetRun("acme", run_id);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->step(), 1);  // Step 1 ("charge") was checkpointed; step 2 was in flight.
  EXPECT_EQ(StructToJson(before->state())["first"], 1);
  // Step 2 journaled the model reply and the completed ledger call before dying.
  EXPECT_EQ(*(*manager)->store()->CountEffects("acme", run_id, 2), 2);

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> recovered = (*manager)->RecoverRuns();
  ASSERT_TRUE(recovered.ok());
  ASSERT_EQ(recovered->size(), 1u);
  absl::StatusOr<v1::Run> run = (*manager)->GetRun("acme", run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status(), v1::SUCCEEDED) << run->error();
  EXPECT_EQ(run->step(), 2);
  // Nothing repeated: "a" and "b" each written once; the model asked once more only.
  EXPECT_EQ(ReadLines(dir + "/ledger.txt"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model->call_count(), 1);
  // Nothing lost: the observations of both calls are in the conversation.
  Json messages = StructToJson(run->state())["messages"];
  ASSERT_EQ(messages.size(), 5u) << messages.dump();
  EXPECT_EQ(messages[2]["name"], "ledger");
  EXPECT_EQ(messages[2]["content"], "2");
  EXPECT_EQ(messages[3]["content"], "survived");
  EXPECT_EQ(messages[4]["content"], "All done.");
  v1::ListCheckpointsRequest list;
  list.set_run_id(run_id);
  EXPECT_EQ((*manager)->ListCheckpoints("acme", list)->checkpoints_size(), 3);
}

}  // namespace
}  // namespace tessera::agents
