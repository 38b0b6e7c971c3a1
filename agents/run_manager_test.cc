#include "agents/run_manager.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agents/tools/calculator.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

namespace v1 = ::tessera::agents::v1;

// Sleeps, then returns {"tool": name, "args": arguments}; records when it ran.
class SleepTool : public Tool {
 public:
  SleepTool(std::string name, absl::Duration sleep) : name_(std::move(name)), sleep_(sleep) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "sleeps"; }
  Json parameters_schema() const override { return Json{{"type", "object"}}; }
  std::string result_type() const override { return "object"; }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time deadline) override {
    absl::Time start = absl::Now();
    absl::SleepFor(sleep_);
    std::lock_guard<std::mutex> lock(mu_);
    intervals_.emplace_back(start, absl::Now());
    calls_.push_back(arguments);
    return Json{{"tool", name_}, {"args", arguments}};
  }
  std::vector<std::pair<absl::Time, absl::Time>> intervals() {
    std::lock_guard<std::mutex> lock(mu_);
    return intervals_;
  }
  std::vector<Json> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::string name_;
  absl::Duration sleep_;
  std::mutex mu_;
  std::vector<std::pair<absl::Time, absl::Time>> intervals_;
  std::vector<Json> calls_;
};

// Fails with UNAVAILABLE until it has been called `failures` times.
class FlakyTool : public Tool {
 public:
  explicit FlakyTool(int failures) : failures_(failures) {}
  std::string name() const override { return "flaky"; }
  std::string description() const override { return "flaky"; }
  Json parameters_schema() const override { return Json{{"type", "object"}}; }
  std::string result_type() const override { return "number"; }
  absl::StatusOr<Json> Invoke(const Json&, absl::Time) override {
    int call = ++calls_;
    if (call <= failures_) return absl::UnavailableError("try again");
    return Json(call);
  }
  int calls() const { return calls_; }

 private:
  int failures_;
  std::atomic<int> calls_{0};
};

class RunManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "/", info->name(), ".db");
    std::remove(path_.c_str());
    model_ = std::make_shared<ScriptedChatModel>();
    fast_a_ = std::make_shared<SleepTool>("slow_a", absl::Milliseconds(300));
    fast_b_ = std::make_shared<SleepTool>("slow_b", absl::Milliseconds(300));
    very_slow_ = std::make_shared<SleepTool>("very_slow", absl::Milliseconds(600));
    flaky_ = std::make_shared<FlakyTool>(2);
    options_.database_path = path_;
    options_.models->SetDefault(model_);
    ASSERT_TRUE(options_.tools->Register(std::make_shared<CalculatorTool>()).ok());
    ASSERT_TRUE(options_.tools->Register(fast_a_).ok());
    ASSERT_TRUE(options_.tools->Register(fast_b_).ok());
    ASSERT_TRUE(options_.tools->Register(very_slow_).ok());
    ASSERT_TRUE(options_.tools->Register(flaky_).ok());
    Reopen();
  }

  void Reopen() {
    manager_.reset();
    absl::StatusOr<std::unique_ptr<RunManager>> manager = RunManager::Open(options_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  v1::Graph Create(const std::string& json, const std::string& tenant = "acme") {
    v1::CreateGraphRequest request;
    request.set_definition_text(json);
    absl::StatusOr<v1::Graph> graph = manager_->CreateGraph(tenant, request);
    EXPECT_TRUE(graph.ok()) << graph.status();
    return graph.ok() ? *graph : v1::Graph();
  }

  v1::Run Start(const std::string& graph_id, const Json& input = Json::object(), const std::string& tenant = "acme") {
    v1::StartRunRequest request;
    request.set_graph_id(graph_id);
    *request.mutable_input() = *JsonToStruct(input);
    absl::StatusOr<v1::Run> run = manager_->StartRun(tenant, request);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : v1::Run();
  }

  static Json State(const v1::Run& run) { return StructToJson(run.state()); }

  std::vector<v1::Checkpoint> Checkpoints(const std::string& run_id) {
    v1::ListCheckpointsRequest request;
    request.set_run_id(run_id);
    absl::StatusOr<v1::ListCheckpointsResponse> response = manager_->ListCheckpoints("acme", request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? std::vector<v1::Checkpoint>(response->checkpoints().begin(), response->checkpoints().end())
                         : std::vector<v1::Checkpoint>();
  }

  std::string path_;
  RunManagerOptions options_;
  std::shared_ptr<ScriptedChatModel> model_;
  std::shared_ptr<SleepTool> fast_a_, fast_b_, very_slow_;
  std::shared_ptr<FlakyTool> flaky_;
  std::unique_ptr<RunManager> manager_;
};

constexpr char kCounterGraph[] = R"({
  "id": "counter",
  "channels": [{"name": "count", "type": "NUMBER"}, {"name": "log", "type": "LIST", "reducer": "APPEND"}],
  "nodes": [
    {"id": "inc", "tool": {"tool": "calculator", "arguments": {"expression": "str(count) + \" + 1\""},
                           "output_channel": "count"}, "max_visits": %d},
    {"id": "note", "tool": {"tool": "calculator", "arguments": {"expression": "str(count) + \" * 10\""},
                            "output_channel": "log"}}
  ],
  "edges": [{"from": "inc", "to": "note"},
            {"from": "note", "to": "inc", "condition": "state.count < %d"},
            {"from": "note", "to": "__end__"}],
  "start": "inc", "max_steps": %d
})";

std::string CounterGraph(int max_visits, int limit, int max_steps) {
  char buffer[2048];
  std::snprintf(buffer, sizeof(buffer), kCounterGraph, max_visits, limit, max_steps);
  return buffer;
}

TEST_F(RunManagerTest, CycleRunsUntilConditionAndAppendsWithReducer) {
  Create(CounterGraph(0, 3, 50));
  v1::Run run = Start("counter");
  EXPECT_EQ(run.status(), v1::SUCCEEDED) << run.error();
  Json state = State(run);
  EXPECT_EQ(state["count"], 3);
  EXPECT_EQ(state["log"], Json::array({10, 20, 30}));  // APPEND kept every write.
  EXPECT_EQ(run.step(), 6);
  // One checkpoint per step plus the initial one, each naming its node.
  std::vector<v1::Checkpoint> checkpoints = Checkpoints(run.id());
  ASSERT_EQ(checkpoints.size(), 7u);
  EXPECT_EQ(checkpoints[0].node_id(), "__start__");
  for (int step = 1; step <= 6; ++step) {
    EXPECT_EQ(checkpoints[step].step(), step);
    EXPECT_EQ(checkpoints[step].node_id(), step % 2 == 1 ? "inc" : "note");
    EXPECT_EQ(StructToJson(checkpoints[step].state())["count"], (step + 1) / 2);
  }
}

TEST_F(RunManagerTest, MaxVisitsFailsTheRun) {
  Create(CounterGraph(2, 10, 50));
  v1::Run run = Start("counter");
  EXPECT_EQ(run.status(), v1::FAILED);
  EXPECT_TRUE(absl::StrContains(run.error(), "node 'inc' exceeded max_visits (2)")) << run.error();
  EXPECT_EQ(State(run)["count"], 2);  // State as of the last completed step.
}

TEST_F(RunManagerTest, MaxStepsFailsTheRun) {
  Create(CounterGraph(0, 100, 5));
  v1::Run run = Start("counter");
  EXPECT_EQ(run.status(), v1::FAILED);
  EXPECT_TRUE(absl::StrContains(run.error(), "exceeded max_steps (5)")) << run.error();
  EXPECT_EQ(run.step(), 5);
}

constexpr char kBranchGraph[] = R"({
  "id": "branch",
  "channels": [{"name": "intent", "type": "STRING"}, {"name": "answer", "type": "STRING"},
               {"name": "score", "type": "NUMBER"}],
  "nodes": [
    {"id": "route", "router": {"routes": [{"condition": "\"refund\" in state.intent", "target": "refund"},
                                          {"condition": "len(state.intent) > 20", "target": "long"}],
                               "default_target": "other"}},
    {"id": "refund", "llm": {"prompt_template": "Refund for: {{intent}}", "output_channel": "answer"}},
    {"id": "long", "tool": {"tool": "calculator", "arguments": {"expression": "\"2^10\""}, "output_channel": "score"}},
    {"id": "other", "llm": {"prompt_template": "Other: {{intent}}", "output_channel": "answer"}}
  ],
  "edges": [{"from": "refund", "to": "__end__"},
            {"from": "long", "to": "other", "condition": "state.score >= 1000"},
            {"from": "long", "to": "__end__"},
            {"from": "other", "to": "__end__"}],
  "start": "route"
})";

TEST_F(RunManagerTest, RouterAndConditionalEdgesPickBranches) {
  Create(kBranchGraph);
  model_->AddRule("Refund for:", "refund approved");
  model_->AddRule("Other:", "something else");

  v1::Run refund = Start("branch", {{"intent", "I want a refund"}});
  EXPECT_EQ(refund.status(), v1::SUCCEEDED) << refund.error();
  EXPECT_EQ(State(refund)["answer"], "refund approved");
  EXPECT_EQ(refund.step(), 2);

  v1::Run other = Start("branch", {{"intent", "hello"}});
  EXPECT_EQ(State(other)["answer"], "something else");
  EXPECT_EQ(State(other)["score"], 0);

  v1::Run long_path = Start("branch", {{"intent", "a very long question about nothing"}});
  EXPECT_EQ(long_path.status(), v1::SUCCEEDED) << long_path.error();
  EXPECT_EQ(State(long_path)["score"], 1024);
  EXPECT_EQ(State(long_path)["answer"], "something else");  // long -> other since score >= 1000.
  EXPECT_EQ(long_path.step(), 3);
}

constexpr char kReactGraph[] = R"({
  "id": "react",
  "channels": [{"name": "messages", "type": "MESSAGES", "reducer": "APPEND"}],
  "nodes": [{"id": "agent", "llm": {"prompt_template": "Go", "tools": ["slow_a", "slow_b", "calculator"],
                                     "output_channel": "messages"}}],
  "edges": [{"from": "agent", "to": "__end__"}],
  "start": "agent"
})";

TEST_F(RunManagerTest, ParallelToolCallsOverlapAndFeedObservationsBack) {
  Create(kReactGraph);
  model_->AddTurn(
      "I will call two tools.\n```json\n[{\"tool\": \"slow_a\", \"arguments\": {\"x\": 1}},"
      " {\"name\": \"slow_b\", \"arguments\": {\"y\": 2}}]\n```");
  model_->AddTurn("{\"tool\": \"calculator\", \"arguments\": {\"expression\": \"6*7\"}}");
  model_->AddTurn("The answer is 42.");
  absl::Time start = absl::Now();
  v1::Run run = Start("react");
  absl::Duration elapsed = absl::Now() - start;
  ASSERT_EQ(run.status(), v1::SUCCEEDED) << run.error();

  auto a = fast_a_->intervals();
  auto b = fast_b_->intervals();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_LT(a[0].first, b[0].second);  // The two 300 ms calls overlap in time.
  EXPECT_LT(b[0].first, a[0].second);
  EXPECT_LT(elapsed, absl::Milliseconds(550));

  Json messages = State(run)["messages"];
  // user, assistant(calls), tool, tool, assistant(call), tool, assistant(final)
  ASSERT_EQ(messages.size(), 7u) << messages.dump();
  EXPECT_EQ(messages[0]["role"], "user");
  EXPECT_EQ(messages[1]["tool_calls"].size(), 2u);
  EXPECT_EQ(messages[2]["role"], "tool");
  EXPECT_EQ(messages[2]["name"], "slow_a");
  EXPECT_TRUE(absl::StrContains(messages[3]["content"].get<std::string>(), "\"y\":2"));
  EXPECT_EQ(messages[5]["content"], "42");
  EXPECT_EQ(messages[6]["content"], "The answer is 42.");
  // The model saw the observations on its second and third turns.
  auto requests = model_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].messages.back().content(), "42");
  EXPECT_EQ(requests[0].tool_names.size(), 3u);
  EXPECT_GT(run.usage().total_tokens(), 0);
}

TEST_F(RunManagerTest, UnknownToolCallBecomesAnErrorObservation) {
  Create(kReactGraph);
  model_->AddTurn("{\"tool\": \"rm_rf\", \"arguments\": {}}");
  model_->AddTurn("Sorry.");
  v1::Run run = Start("react");
  ASSERT_EQ(run.status(), v1::SUCCEEDED) << run.error();
  Json messages = State(run)["messages"];
  EXPECT_EQ(messages[2]["content"], "error: unknown tool 'rm_rf'");
}

TEST_F(RunManagerTest, ToolTimeoutAndRetries) {
  Create(R"({"id": "timeout", "channels": [{"name": "out", "type": "JSON"}],
    "nodes": [{"id": "t", "tool": {"tool": "very_slow", "timeout_ms": 100, "max_retries": 1, "output_channel": "out"}}],
    "edges": [{"from": "t", "to": "__end__"}], "start": "t"})");
  absl::Time start = absl::Now();
  v1::Run run = Start("timeout");
  EXPECT_EQ(run.status(), v1::FAILED);
  EXPECT_TRUE(absl::StrContains(run.error(), "timed out")) << run.error();
  EXPECT_TRUE(absl::StrContains(run.error(), "after 2 attempts")) << run.error();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));  // Did not wait for the 600 ms tool.

  Create(R"({"id": "retry", "channels": [{"name": "n", "type": "NUMBER"}],
    "nodes": [{"id": "f", "tool": {"tool": "flaky", "max_retries": 2, "output_channel": "n"}}],
    "edges": [{"from": "f", "to": "__end__"}], "start": "f"})");
  v1::Run retried = Start("retry");
  EXPECT_EQ(retried.status(), v1::SUCCEEDED) << retried.error();
  EXPECT_EQ(State(retried)["n"], 3);  // Third attempt succeeded.
  EXPECT_EQ(flaky_->calls(), 3);
}

constexpr char kApprovalGraph[] = R"({
  "id": "approval",
  "channels": [{"name": "amount", "type": "NUMBER"}, {"name": "receipt", "type": "JSON"},
               {"name": "messages", "type": "MESSAGES", "reducer": "APPEND"}],
  "nodes": [
    {"id": "pay", "tool": {"tool": "slow_a", "arguments": {"amount": "state.amount"},
                           "output_channel": "receipt", "requires_approval": true}},
    {"id": "notify", "tool": {"tool": "slow_b", "arguments": {"text": "\"done\""},
                              "output_channel": "messages", "requires_approval": true}}
  ],
  "edges": [{"from": "pay", "to": "notify"}, {"from": "notify", "to": "__end__"}],
  "start": "pay"
})";

TEST_F(RunManagerTest, ApprovalInterruptsThenApproveWithEditedArgumentsAndReject) {
  Create(kApprovalGraph);
  v1::Run run = Start("approval", {{"amount", 120}});
  ASSERT_EQ(run.status(), v1::INTERRUPTED) << run.error();
  EXPECT_EQ(run.pending_action().tool(), "slow_a");
  EXPECT_EQ(run.pending_action().node_id(), "pay");
  EXPECT_EQ(StructToJson(run.pending_action().arguments())["amount"], 120);
  EXPECT_TRUE(fast_a_->calls().empty());  // Nothing ran before the approval.

  v1::ResumeRunRequest wrong_call;
  wrong_call.set_run_id(run.id());
  EXPECT_EQ(manager_->Resume("acme", wrong_call).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::ApproveActionRequest wrong_id;
  wrong_id.set_run_id(run.id());
  wrong_id.set_action_id("nope");
  EXPECT_EQ(manager_->Approve("acme", wrong_id).status().code(), absl::StatusCode::kNotFound);

  v1::ApproveActionRequest approve;
  approve.set_run_id(run.id());
  approve.set_action_id(run.pending_action().id());
  approve.set_reviewer("alice");
  *approve.mutable_arguments() = *JsonToStruct({{"amount", 100}});
  absl::StatusOr<v1::Run> approved = manager_->Approve("acme", approve);
  ASSERT_TRUE(approved.ok()) << approved.status();
  ASSERT_EQ(approved->status(), v1::INTERRUPTED);  // Now waiting at "notify".
  EXPECT_EQ(approved->pending_action().node_id(), "notify");
  ASSERT_EQ(fast_a_->calls().size(), 1u);
  EXPECT_EQ(fast_a_->calls()[0]["amount"], 100);  // The edited arguments.
  EXPECT_EQ(State(*approved)["receipt"]["args"]["amount"], 100);

  v1::RejectActionRequest reject;
  reject.set_run_id(run.id());
  reject.set_action_id(approved->pending_action().id());
  reject.set_reason("not needed");
  reject.set_reviewer("bob");
  absl::StatusOr<v1::Run> rejected = manager_->Reject("acme", reject);
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->status(), v1::SUCCEEDED);
  EXPECT_TRUE(fast_b_->calls().empty());  // Rejected: never ran.
  Json messages = State(*rejected)["messages"];
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["content"], "Action 'slow_b' was rejected by bob: not needed");
  EXPECT_EQ(rejected->step(), 2);

  // Decisions on a finished run are refused.
  EXPECT_EQ(manager_->Reject("acme", reject).status().code(), absl::StatusCode::kFailedPrecondition);
}

constexpr char kHumanGraph[] = R"({
  "id": "human",
  "channels": [{"name": "draft", "type": "STRING"}, {"name": "feedback", "type": "STRING"},
               {"name": "final", "type": "STRING"}],
  "nodes": [
    {"id": "write", "llm": {"prompt_template": "Write about {{draft}}", "output_channel": "draft"}},
    {"id": "ask", "human": {"prompt": "Is this fine? {{draft}}", "output_channel": "feedback"}},
    {"id": "polish", "llm": {"prompt_template": "Polish {{draft}} using {{feedback}}", "output_channel": "final"}}
  ],
  "edges": [{"from": "write", "to": "ask"}, {"from": "ask", "to": "polish"}, {"from": "polish", "to": "__end__"}],
  "start": "write"
})";

TEST_F(RunManagerTest, HumanNodeInterruptsUntilResume) {
  Create(kHumanGraph);
  model_->AddTurn("a draft about cats");
  model_->AddRule("using shorter please", "a short draft");
  std::vector<v1::RunEvent> events;
  v1::Run run = Start("human", {{"draft", "cats"}});
  ASSERT_EQ(run.status(), v1::INTERRUPTED) << run.error();
  EXPECT_EQ(run.pending_action().prompt(), "Is this fine? a draft about cats");
  EXPECT_TRUE(run.pending_action().tool().empty());

  absl::StatusOr<int64_t> subscription =
      manager_->Subscribe("acme", run.id(), -1, 0, [&](const v1::RunEvent& event) { events.push_back(event); });
  ASSERT_TRUE(subscription.ok());
  size_t replayed = events.size();
  EXPECT_EQ(events.back().kind(), v1::RunEvent::INTERRUPTED);

  v1::ResumeRunRequest bad;
  bad.set_run_id(run.id());
  *bad.mutable_update() = *JsonToStruct({{"nonexistent", 1}});
  EXPECT_EQ(manager_->Resume("acme", bad).status().code(), absl::StatusCode::kInvalidArgument);
  *bad.mutable_update() = *JsonToStruct({{"response", 5}});  // feedback is a STRING channel.
  EXPECT_EQ(manager_->Resume("acme", bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->GetRun("acme", run.id())->status(), v1::INTERRUPTED);

  v1::ResumeRunRequest resume;
  resume.set_run_id(run.id());
  *resume.mutable_update() = *JsonToStruct({{"response", "shorter please"}});
  absl::StatusOr<v1::Run> done = manager_->Resume("acme", resume);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status(), v1::SUCCEEDED) << done->error();
  EXPECT_EQ(State(*done)["feedback"], "shorter please");
  EXPECT_EQ(State(*done)["final"], "a short draft");
  EXPECT_EQ(done->step(), 3);
  manager_->Unsubscribe(*subscription);
  // Live events arrived after the replayed ones: steps 2 and 3, ending with FINISHED.
  ASSERT_GT(events.size(), replayed);
  EXPECT_EQ(events[replayed].step(), 2);
  EXPECT_EQ(events.back().kind(), v1::RunEvent::FINISHED);
  EXPECT_EQ(events.back().status(), v1::SUCCEEDED);
  // The model's text streamed live as TOKEN events of its node, which are not stored.
  std::string streamed;
  for (size_t i = replayed; i < events.size(); ++i) {
    if (events[i].kind() != v1::RunEvent::TOKEN) continue;
    EXPECT_EQ(events[i].node_id(), "polish");
    streamed += events[i].text();
  }
  EXPECT_EQ(streamed, "a short draft");
  absl::StatusOr<std::vector<v1::RunEvent>> stored = manager_->ListEvents("acme", run.id(), -1);
  ASSERT_TRUE(stored.ok());
  for (const v1::RunEvent& event : *stored) EXPECT_NE(event.kind(), v1::RunEvent::TOKEN);
  // Delivered events carry their stored sequence numbers (1, 2, ... in order);
  // TOKEN events have none. Resuming after any of them replays exactly the rest.
  std::vector<v1::RunEvent> delivered_stored;
  for (const v1::RunEvent& event : events) {
    if (event.kind() == v1::RunEvent::TOKEN) {
      EXPECT_EQ(event.sequence(), 0);
    } else {
      delivered_stored.push_back(event);
    }
  }
  ASSERT_EQ(delivered_stored.size(), stored->size());
  for (size_t i = 0; i < stored->size(); ++i) {
    EXPECT_EQ(delivered_stored[i].sequence(), static_cast<int64_t>(i + 1));
    EXPECT_EQ((*stored)[i].sequence(), static_cast<int64_t>(i + 1));
  }
  absl::StatusOr<std::vector<v1::RunEvent>> rest =
      manager_->ListEvents("acme", run.id(), -1, delivered_stored[replayed - 1].sequence());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), stored->size() - replayed);
  int checkpoints = 0;
  for (const v1::RunEvent& event : events) checkpoints += event.kind() == v1::RunEvent::CHECKPOINT;
  EXPECT_EQ(checkpoints, 4);  // Initial + one per step.
}

TEST_F(RunManagerTest, ForkAndReplayFromACheckpoint) {
  Create(CounterGraph(0, 3, 50));
  v1::Run original = Start("counter");
  ASSERT_EQ(original.status(), v1::SUCCEEDED);

  // Fork after step 2 (count = 1, next is "inc") with count overridden to 10.
  v1::StartRunRequest fork;
  fork.set_fork_run_id(original.id());
  fork.set_fork_step(2);
  *fork.mutable_input() = *JsonToStruct({{"count", 10}});
  absl::StatusOr<v1::Run> forked = manager_->StartRun("acme", fork);
  ASSERT_TRUE(forked.ok()) << forked.status();
  EXPECT_NE(forked->id(), original.id());
  EXPECT_EQ(forked->status(), v1::SUCCEEDED);
  EXPECT_EQ(State(*forked)["count"], 11);
  EXPECT_EQ(State(*forked)["log"], Json::array({10, 110}));  // Kept step 1's write, then one more loop.
  EXPECT_EQ(forked->step(), 4);

  // Replay from the initial state reproduces the original result.
  absl::StatusOr<v1::Run> replayed = manager_->Replay("acme", original.id(), 0);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(State(*replayed), State(original));
  // The original is untouched.
  EXPECT_EQ(State(*manager_->GetRun("acme", original.id())), State(original));
  v1::GetCheckpointRequest latest;
  latest.set_run_id(original.id());
  EXPECT_EQ(manager_->GetCheckpoint("acme", latest)->step(), 6);
}

TEST_F(RunManagerTest, CancelInterruptedRunAndTenantIsolation) {
  Create(kApprovalGraph);
  v1::Run run = Start("approval", {{"amount", 1}});
  ASSERT_EQ(run.status(), v1::INTERRUPTED);
  EXPECT_EQ(manager_->GetRun("other-tenant", run.id()).status().code(), absl::StatusCode::kNotFound);
  v1::CancelRunRequest cancel;
  cancel.set_run_id(run.id());
  EXPECT_EQ(manager_->Cancel("other-tenant", cancel).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<v1::Run> cancelled = manager_->Cancel("acme", cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::CANCELLED);
  EXPECT_FALSE(cancelled->has_pending_action());
  EXPECT_EQ(manager_->Cancel("acme", cancel).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::StartRunRequest start;
  start.set_graph_id("approval");
  EXPECT_EQ(manager_->StartRun("other-tenant", start).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RunManagerTest, AsyncRunCanBeCancelledWhileRunning) {
  options_.async = true;
  Reopen();
  Create(CounterGraph(0, 1000000, 10000));
  v1::Run run = Start("counter");
  absl::SleepFor(absl::Milliseconds(50));
  v1::CancelRunRequest cancel;
  cancel.set_run_id(run.id());
  absl::StatusOr<v1::Run> cancelled = manager_->Cancel("acme", cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::CANCELLED);
  EXPECT_GT(cancelled->step(), 0);
  EXPECT_LT(cancelled->step(), 10000);
}

TEST_F(RunManagerTest, CreateGraphRejectsInvalidDefinitions) {
  v1::CreateGraphRequest request;
  request.set_definition_text(R"({"id": "bad", "nodes": [{"id": "x", "tool": {"tool": "nope"}}],
                                 "edges": [{"from": "x", "to": "__end__"}], "start": "x"})");
  absl::Status status = manager_->CreateGraph("acme", request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "node 'x': unknown tool 'nope'")) << status;
  request.set_definition_text("{not json");
  EXPECT_EQ(manager_->CreateGraph("acme", request).status().code(), absl::StatusCode::kInvalidArgument);
  // Versions count up per id.
  EXPECT_EQ(Create(CounterGraph(0, 3, 50)).version(), 1);
  EXPECT_EQ(Create(CounterGraph(0, 4, 50)).version(), 2);
  v1::ListGraphsRequest list;
  EXPECT_EQ(manager_->ListGraphs("acme", list)->graphs_size(), 1);
  EXPECT_EQ(manager_->ListGraphs("someone-else", list)->graphs_size(), 0);
}

}  // namespace
}  // namespace tessera::agents
