// Kill -9 while agent runs are executing (not only while they wait for a
// human): a counter graph loops `count` (n := n + 1) and `record` (appends n to
// a log) until n reaches kLoops. After each restart the server resumes the
// runs from their last checkpoint; in the end every run succeeded with
// n == kLoops and log == [1, 2, ..., kLoops]: no step was lost (a gap) or
// applied twice (a repeated entry), and checkpoint steps strictly increase.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tests/crash_loop.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using agents::v1::AgentService;

constexpr int kLoops = 40;

std::string CounterGraph() {
  return absl::StrCat(R"json({
  "id": "counter",
  "channels": [
    {"name": "n", "type": "NUMBER"},
    {"name": "log", "type": "LIST", "reducer": "APPEND"}
  ],
  "nodes": [
    {"id": "count", "tool": {"tool": "calculator",
      "arguments": {"expression": "str(state.n) + \" + 1\""}, "output_channel": "n"}},
    {"id": "record", "tool": {"tool": "calculator",
      "arguments": {"expression": "str(state.n)"}, "output_channel": "log"}},
    {"id": "check", "router": {
      "routes": [{"condition": "state.n < )json", kLoops, R"json(", "target": "count"}],
      "default_target": "__end__"}}
  ],
  "edges": [
    {"from": "count", "to": "record"},
    {"from": "record", "to": "check"}
  ],
  "start": "count",
  "max_steps": 1000
})json");
}

std::unique_ptr<AgentService::Stub> Connect(const std::string& target) {
  return AgentService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

TEST(AgentCrashTest, RunsKilledMidGraphResumeFromTheirCheckpointsAndFinishExactlyOnce) {
  testing::ServerProcess server(testing::MakeTempDir("agent_crash"));
  ASSERT_TRUE(server.Start().ok());
  {
    auto stub = Connect(server.target());
    grpc::ClientContext context;
    agents::v1::CreateGraphRequest request;
    request.set_definition_text(CounterGraph());
    agents::v1::Graph graph;
    grpc::Status status = stub->CreateGraph(&context, request, &graph);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::mutex mu;
  std::vector<std::string> runs;
  int killed_while_running = 0;

  auto get_run = [](AgentService::Stub& stub, const std::string& id) {
    grpc::ClientContext context;
    agents::v1::GetRunRequest request;
    request.set_run_id(id);
    agents::v1::Run run;
    grpc::Status status = stub.GetRun(&context, request, &run);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return run;
  };

  testing::CrashLoopOptions options;
  options.repetitions = testing::CrashRepetitions(3);
  options.clients = 0;  // The server works alone; runs started before each round.
  options.min_delay = absl::Milliseconds(30);
  options.max_delay = absl::Milliseconds(400);
  options.seed = 11;
  options.before_round = [&](int round, const std::string& target) {
    auto stub = Connect(target);
    grpc::ClientContext context;
    agents::v1::StartRunRequest request;
    request.set_graph_id("counter");
    (*request.mutable_input()->mutable_fields())["n"].set_number_value(0);
    agents::v1::Run run;
    grpc::Status status = stub->StartRun(&context, request, &run);
    ASSERT_TRUE(status.ok()) << "round " << round << ": " << status.error_message();
    std::lock_guard<std::mutex> lock(mu);
    runs.push_back(run.id());
  };
  options.after_restart = [&](int round, const std::string& target) {
    // Was the round's run still running when it was killed (the case under test)?
    auto stub = Connect(target);
    agents::v1::Run run = get_run(*stub, runs.back());
    if (run.status() == agents::v1::RUNNING && run.state().fields().at("n").number_value() < kLoops) {
      ++killed_while_running;
    }
  };
  absl::Status looped = testing::RunCrashLoop(server, options, [](const testing::CrashRound&) {});
  ASSERT_TRUE(looped.ok()) << looped;

  auto stub = Connect(server.target());
  int64_t steps_checked = 0;
  for (const std::string& id : runs) {
    agents::v1::Run run;
    for (int i = 0; i < 1200; ++i) {
      run = get_run(*stub, id);
      if (run.status() != agents::v1::RUNNING) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(run.status(), agents::v1::SUCCEEDED) << id << ": " << run.error();
    EXPECT_EQ(run.state().fields().at("n").number_value(), kLoops) << id;
    const auto& log = run.state().fields().at("log").list_value();
    ASSERT_EQ(log.values_size(), kLoops) << id << ": a step was lost or applied twice";
    for (int i = 0; i < kLoops; ++i) {
      ASSERT_EQ(log.values(i).number_value(), i + 1) << id << " log[" << i << "]";
    }
    // Checkpoints: strictly increasing steps, none repeated.
    int64_t previous = -1;
    int count = 0;
    agents::v1::ListCheckpointsRequest request;
    request.set_run_id(id);
    request.mutable_page()->set_page_size(1000);
    while (true) {
      grpc::ClientContext context;
      agents::v1::ListCheckpointsResponse response;
      grpc::Status status = stub->ListCheckpoints(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      for (const auto& checkpoint : response.checkpoints()) {
        EXPECT_GT(checkpoint.step(), previous) << id;
        previous = checkpoint.step();
        ++count;
      }
      if (response.page().next_page_token().empty()) break;
      request.mutable_page()->set_page_token(response.page().next_page_token());
    }
    EXPECT_GE(count, 3 * kLoops) << id;
    steps_checked += count;
  }
  std::printf("%zu runs, %d killed mid-graph, %lld checkpoints checked\n", runs.size(),
              killed_while_running, static_cast<long long>(steps_checked));
  EXPECT_GT(killed_while_running, 0) << "no kill landed while a run was executing";
  std::printf("CRASH_SUMMARY test=agents repetitions=%d acknowledged_checked=%lld failures=%d\n",
              options.repetitions, static_cast<long long>(steps_checked), HasFailure() ? 1 : 0);
}

}  // namespace
}  // namespace tessera
