// The router forwarding whole services to other processes: a router process
// (tessera_server with router.services) in front of backend processes serving
// agents and eval, over real loopback sockets. Checks that unary and streaming
// RPCs reach the backend with the caller's tenant, that the caller's deadline
// and cancellation end the backend's call, and that active health checks move
// traffic off a killed backend (no errors) and back once it returns.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using std::chrono::milliseconds;

constexpr char kGraph[] = R"json({
  "id": "refund_flow",
  "channels": [
    {"name": "question", "type": "STRING"},
    {"name": "refund", "type": "JSON"}
  ],
  "nodes": [
    {"id": "route", "router": {
      "routes": [{"condition": "\"refund\" in lower(state.question)", "target": "issue_refund"}],
      "default_target": "__end__"}},
    {"id": "issue_refund", "tool": {"tool": "calculator", "arguments": {"expression": "\"100 * 0.9\""},
                                    "output_channel": "refund", "requires_approval": true}}
  ],
  "edges": [{"from": "issue_refund", "to": "__end__"}],
  "start": "route",
  "max_steps": 10
})json";

std::unique_ptr<grpc::ClientContext> As(const std::string& tenant) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("x-tessera-tenant", tenant);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return context;
}

class GatewayServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agents_port_ = testing::FreeLoopbackPort();
    agents_http_ = testing::FreeLoopbackPort();
    eval_port_ = testing::FreeLoopbackPort();
    router_http_ = testing::FreeLoopbackPort();
    // Later flags win: the backends keep their ports across restarts.
    backend_ = std::make_unique<testing::ServerProcess>(
        testing::MakeTempDir("backend"),
        std::vector<std::string>{"--services=agents,eval,ingest", absl::StrCat("--port=", agents_port_),
                                 absl::StrCat("--http_port=", agents_http_), "--log_level=info"});
    backend_log_ = testing::MakeTempDir("logs") + "/backend.log";
    backend_->set_log_file(backend_log_);
    ASSERT_TRUE(backend_->Start().ok());
    eval_backend_ = std::make_unique<testing::ServerProcess>(
        testing::MakeTempDir("eval_backend"),
        std::vector<std::string>{"--services=eval", absl::StrCat("--port=", eval_port_)});
    ASSERT_TRUE(eval_backend_->Start().ok());

    const std::string router_dir = testing::MakeTempDir("router");
    const std::string config_path = router_dir + ".json";
    std::ofstream(config_path) << absl::StrFormat(
        R"({"router": {"services": {"agents": "127.0.0.1:%d", "ingest": "127.0.0.1:%d",
                                     "eval": ["127.0.0.1:%d", "127.0.0.1:%d"]},
                        "health_check": {"interval_ms": 200, "timeout_ms": 500,
                                         "unhealthy_threshold": 1}}})",
        agents_port_, agents_port_, agents_port_, eval_port_);
    router_ = std::make_unique<testing::ServerProcess>(
        router_dir, std::vector<std::string>{"--config=" + config_path,
                                             absl::StrCat("--http_port=", router_http_),
                                             "--log_level=info"});
    router_log_ = router_dir + ".log";
    router_->set_log_file(router_log_);
    ASSERT_TRUE(router_->Start().ok());
    auto channel = grpc::CreateChannel(router_->target(), grpc::InsecureChannelCredentials());
    agents_ = agents::v1::AgentService::NewStub(channel);
    ingest_ = ingest::v1::IngestService::NewStub(channel);
    eval_ = eval::v1::EvalService::NewStub(channel);
    backend_agents_ = agents::v1::AgentService::NewStub(
        grpc::CreateChannel(backend_->target(), grpc::InsecureChannelCredentials()));
  }

  // A run of kGraph (created through the router) waiting for approval.
  agents::v1::Run InterruptedRun(int64_t* interrupted_step) {
    agents::v1::Graph graph;
    agents::v1::CreateGraphRequest create;
    create.set_definition_text(kGraph);
    grpc::Status status = agents_->CreateGraph(As("acme").get(), create, &graph);
    EXPECT_TRUE(status.ok()) << status.error_message();
    agents::v1::Run run;
    agents::v1::StartRunRequest start;
    start.set_graph_id("refund_flow");
    (*start.mutable_input()->mutable_fields())["question"].set_string_value("a refund please");
    EXPECT_TRUE(agents_->StartRun(As("acme").get(), start, &run).ok());
    // Server streaming through the router, until the approval interrupt.
    agents::v1::StreamRunRequest stream;
    stream.set_run_id(run.id());
    auto context = As("acme");
    auto reader = agents_->StreamRun(context.get(), stream);
    agents::v1::RunEvent event;
    agents::v1::RunEvent::Kind last = agents::v1::RunEvent::KIND_UNSPECIFIED;
    int events = 0;
    while (reader->Read(&event)) {
      last = event.kind();
      *interrupted_step = event.step();
      ++events;
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(last, agents::v1::RunEvent::INTERRUPTED);
    EXPECT_GT(events, 1);
    return run;
  }

  // The backend's open gRPC calls (its metrics on --http_port).
  double BackendInFlight() {
    return testing::PrometheusValue(testing::FetchUrl(absl::StrCat("http://127.0.0.1:", agents_http_, "/metrics")),
                  "tessera_grpc_server_in_flight");
  }

  // Polls until the backend holds no open call; returns how long that took.
  milliseconds WaitForBackendIdle() {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 250; ++i) {
      if (BackendInFlight() == 0) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  }

  double ForwardedCalls(int port, const std::string& code) {
    return testing::PrometheusValue(testing::FetchUrl(absl::StrCat("http://127.0.0.1:", router_http_, "/metrics")),
                  absl::StrCat("tessera_gateway_forwarded_calls_total{backend=\"eval@127.0.0.1:",
                               port, "\",code=\"", code, "\"}"));
  }

  int agents_port_ = 0, agents_http_ = 0, eval_port_ = 0, router_http_ = 0;
  std::string backend_log_, router_log_;
  std::unique_ptr<testing::ServerProcess> backend_, eval_backend_, router_;
  std::unique_ptr<agents::v1::AgentService::Stub> agents_, backend_agents_;
  std::unique_ptr<eval::v1::EvalService::Stub> eval_;
  std::unique_ptr<ingest::v1::IngestService::Stub> ingest_;
};

TEST_F(GatewayServicesTest, AgentsRpcsReachTheBackendProcessWithTheTenant) {
  int64_t step = 0;
  agents::v1::Run run = InterruptedRun(&step);
  // The graph and run live in the backend process, in the caller's tenant.
  agents::v1::Run direct;
  agents::v1::GetRunRequest get;
  get.set_run_id(run.id());
  ASSERT_TRUE(backend_agents_->GetRun(As("acme").get(), get, &direct).ok());
  EXPECT_EQ(direct.status(), agents::v1::INTERRUPTED);
  EXPECT_EQ(backend_agents_->GetRun(As("other").get(), get, &direct).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Approve through the router; the run finishes in the backend.
  agents::v1::ApproveActionRequest approve;
  approve.set_run_id(run.id());
  approve.set_action_id(direct.pending_action().id());
  approve.set_reviewer("alice");
  agents::v1::Run approved;
  grpc::Status status = agents_->ApproveAction(As("acme").get(), approve, &approved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(agents_->GetRun(As("acme").get(), get, &run).ok());
    if (run.status() != agents::v1::RUNNING) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(run.status(), agents::v1::SUCCEEDED) << run.error();
  EXPECT_DOUBLE_EQ(run.state().fields().at("refund").number_value(), 90.0);
  // The backend's errors come back as they are.
  agents::v1::GetGraphRequest missing;
  missing.set_id("no_such_graph");
  agents::v1::Graph graph;
  EXPECT_EQ(agents_->GetGraph(As("acme").get(), missing, &graph).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// A client stream through the router (StreamIngest) that the caller keeps
// open: the backend call lasts until the caller's deadline passes or the
// caller cancels, and both must end it in the backend as well (not only
// between the caller and the router).
TEST_F(GatewayServicesTest, TheCallersDeadlineAndCancellationEndTheForwardedCall) {
  WaitForBackendIdle();
  // Samples the backend's open calls a few times while the stream is open.
  auto held_open = [&] {
    int open = 0;
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(milliseconds(100));
      open += BackendInFlight() >= 1;
    }
    return open;
  };
  {
    auto context = As("acme");
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1500));
    ingest::v1::StreamIngestResponse response;
    auto writer = ingest_->StreamIngest(context.get(), &response);
    EXPECT_EQ(held_open(), 5);
    // Never WritesDone: Finish waits for the deadline.
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    const milliseconds idle_after = WaitForBackendIdle();
    EXPECT_EQ(BackendInFlight(), 0);
    EXPECT_LT(idle_after.count(), 2000);
  }
  {
    auto context = As("acme");
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    ingest::v1::StreamIngestResponse response;
    auto writer = ingest_->StreamIngest(context.get(), &response);
    EXPECT_EQ(held_open(), 5);
    context->TryCancel();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
    const milliseconds idle_after = WaitForBackendIdle();
    EXPECT_EQ(BackendInFlight(), 0);
    EXPECT_LT(idle_after.count(), 2000);  // not the 60 s the caller allowed
  }
}

// The span lines (JSON after the log prefix) of `trace_id` in a log file.
std::vector<nlohmann::json> SpansOf(const std::string& path, const std::string& trace_id) {
  std::vector<nlohmann::json> spans;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"event\":\"span\"") == std::string::npos) continue;
    const size_t brace = line.find('{');
    if (brace == std::string::npos) continue;
    nlohmann::json span = nlohmann::json::parse(line.substr(brace), nullptr, false);
    if (!span.is_discarded() && span.value("trace_id", "") == trace_id) spans.push_back(span);
  }
  return spans;
}

TEST_F(GatewayServicesTest, TraceparentCrossesTheRouterAndTheBackendSpanIsItsChild) {
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string caller_span = "00f067aa0ba902b7";
  auto context = As("acme");
  context->AddMetadata("traceparent", absl::StrCat("00-", trace_id, "-", caller_span, "-01"));
  agents::v1::GetGraphRequest request;
  request.set_id("no_such_graph");
  agents::v1::Graph graph;
  EXPECT_EQ(agents_->GetGraph(context.get(), request, &graph).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const std::string method = "/tessera.agents.v1.AgentService/GetGraph";
  std::vector<nlohmann::json> router_spans, backend_spans;
  for (int i = 0; i < 100 && (router_spans.empty() || backend_spans.empty()); ++i) {
    std::this_thread::sleep_for(milliseconds(50));  // logs are written when calls end
    router_spans = SpansOf(router_log_, trace_id);
    backend_spans = SpansOf(backend_log_, trace_id);
  }
  ASSERT_EQ(router_spans.size(), 1u);
  ASSERT_EQ(backend_spans.size(), 1u);
  const nlohmann::json& hop = router_spans[0];
  const nlohmann::json& served = backend_spans[0];
  EXPECT_EQ(hop["name"], method);
  EXPECT_EQ(hop["parent_span_id"], caller_span);
  EXPECT_EQ(hop["status"], "NOT_FOUND");
  EXPECT_EQ(served["name"], method);
  EXPECT_EQ(served["parent_span_id"], hop["span_id"]) << "the backend's span is the router's child";
  EXPECT_NE(served["span_id"], hop["span_id"]);
  EXPECT_GE(hop["duration_ms"].get<double>(), served["duration_ms"].get<double>());
  for (const auto& span : {hop, served}) {
    EXPECT_TRUE(span.contains("start")) << span;
  }
}

TEST_F(GatewayServicesTest, HealthChecksMoveTrafficOffAKilledBackendAndBack) {
  auto call_eval = [&](int calls) {
    int failures = 0;
    for (int i = 0; i < calls; ++i) {
      eval::v1::GetJobRequest request;
      request.set_id("no-such-job");
      eval::v1::Job job;
      grpc::Status status = eval_->GetJob(As("acme").get(), request, &job);
      // NOT_FOUND is the backend's answer; anything else is a failed hop.
      if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
        ++failures;
        ADD_FAILURE() << "call " << i << ": " << status.error_code() << " "
                      << status.error_message();
      }
    }
    return failures;
  };
  EXPECT_EQ(call_eval(20), 0);
  EXPECT_GT(ForwardedCalls(eval_port_, "NOT_FOUND"), 0) << "both backends share the traffic";
  EXPECT_GT(ForwardedCalls(agents_port_, "NOT_FOUND"), 0);

  eval_backend_->Kill();
  // One probe interval (200 ms) and the probe's timeout later it is out.
  std::this_thread::sleep_for(milliseconds(1200));
  const double before = ForwardedCalls(eval_port_, "NOT_FOUND");
  EXPECT_EQ(call_eval(40), 0) << "traffic went to the killed backend";
  EXPECT_EQ(ForwardedCalls(eval_port_, "NOT_FOUND"), before);
  EXPECT_NE(testing::FetchUrl(absl::StrCat("http://127.0.0.1:", router_http_, "/metrics"))
                .find(absl::StrCat("tessera_gateway_backend_healthy{backend=\"eval@127.0.0.1:",
                                   eval_port_, "\"} 0")),
            std::string::npos);

  ASSERT_TRUE(eval_backend_->Start().ok());
  ASSERT_EQ(eval_backend_->port(), eval_port_);
  bool back = false;
  for (int i = 0; i < 50 && !back; ++i) {
    std::this_thread::sleep_for(milliseconds(200));
    EXPECT_EQ(call_eval(4), 0);
    back = ForwardedCalls(eval_port_, "NOT_FOUND") > before;
  }
  EXPECT_TRUE(back) << "the restarted backend got no traffic";
}

}  // namespace
}  // namespace tessera
