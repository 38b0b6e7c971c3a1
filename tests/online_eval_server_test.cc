// Online evaluation through the real server binary and its config file: the
// router's route "chat" splits 50/50 between two local-engine variants and
// "online_eval" samples every exchange on it. Generate, Ask and AskStream
// calls naming the route are each judged once (the local judge answers in
// schema-constrained JSON, so random weights give scores too, unless the
// 8-token budget ends the reply first); /metrics on --http_port shows the
// per-variant counts.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/model/make_random.h"
#include "gateway/generation_path.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/generation/v1/generation.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

constexpr int kGenerateCalls = 8;
constexpr int kAskCalls = 2;
constexpr int kAskStreamCalls = 2;

std::unique_ptr<grpc::ClientContext> AsAcme() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("x-tessera-tenant", "acme");
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return context;
}

std::string Series(const std::string& name, const std::string& variant) {
  return absl::StrCat(name, "{route=\"chat\",variant=\"", variant, "\"}");
}

TEST(OnlineEvalServerTest, RoutedGenerateAndAskTrafficIsJudgedPerVariant) {
  const std::string work = testing::MakeTempDir("online_eval_server");
  ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", work + "/tiny.gguf", 5, "q8_0").ok());
  const nlohmann::json config = nlohmann::json::parse(R"({
    "router": {
      "backends": [{"name": "stable", "kind": "local"}, {"name": "candidate", "kind": "local"}],
      "routes": [{"name": "chat", "targets": [{"backend": "stable", "weight": 0.5},
                                              {"backend": "candidate", "weight": 0.5}]}]},
    "online_eval": {
      "routes": [{"route": "chat", "sample_rate": 1,
                  "judge": {"kind": "pointwise", "criterion": "helpfulness",
                            "sampling": {"max_tokens": 8, "seed": 3}}}]}})");
  const std::string config_path = work + "/tessera.json";
  std::ofstream(config_path) << config.dump(2);
  const std::string data_dir = work + "/data";
  std::filesystem::create_directories(data_dir);
  const int http_port = testing::FreeLoopbackPort();
  testing::ServerProcess server(data_dir, {"--config=" + config_path, "--generator_model=" + work + "/tiny.gguf",
                                           absl::StrCat("--http_port=", http_port)});
  server.set_log_file(work + "/server.log");
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto generation = generation::v1::GenerationService::NewStub(channel);
  auto gateway_stub = gateway::v1::GatewayService::NewStub(channel);

  std::map<std::string, int> served_count;  // variant -> exchanges it served
  for (int i = 0; i < kGenerateCalls; ++i) {
    generation::v1::GenerateRequest request;
    request.set_model("chat");
    request.set_prompt(absl::StrCat("Question ", i, ": what is the capital of France?"));
    request.set_request_id(absl::StrCat("gen-", i));
    request.mutable_sampling()->set_max_tokens(6);
    request.mutable_sampling()->set_seed(i + 1);
    auto context = AsAcme();
    generation::v1::GenerateResponse response;
    grpc::Status status = generation->Generate(context.get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto trailer = context->GetServerTrailingMetadata().find(gateway::kServedByTrailer);
    ASSERT_NE(trailer, context->GetServerTrailingMetadata().end());
    ++served_count[std::string(trailer->second.data(), trailer->second.size())];
  }
  for (int i = 0; i < kAskCalls + kAskStreamCalls; ++i) {
    gateway::v1::AskRequest request;
    request.set_route("chat");
    request.set_question(absl::StrCat("Ask ", i, ": how tall is the Eiffel tower?"));
    request.set_request_id(absl::StrCat("ask-", i));
    request.mutable_sampling()->set_max_tokens(6);
    request.mutable_sampling()->set_seed(i + 11);
    auto context = AsAcme();
    if (i < kAskCalls) {
      gateway::v1::AskResponse response;
      grpc::Status status = gateway_stub->Ask(context.get(), request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ++served_count[response.served_by()];
      continue;
    }
    auto stream = gateway_stub->AskStream(context.get(), request);
    gateway::v1::AskStreamResponse piece;
    std::string served_by;
    while (stream->Read(&piece)) {
      if (piece.has_final()) served_by = piece.final().served_by();
    }
    grpc::Status status = stream->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++served_count[served_by];
  }
  ASSERT_EQ(served_count.size(), 2u) << "all calls went to one variant at 50/50";
  ASSERT_EQ(served_count.count("stable") + served_count.count("candidate"), 2u);

  // The judge runs asynchronously: poll until every exchange is judged.
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port, "/metrics");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  std::string metrics;
  bool settled = false;
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    metrics = testing::FetchUrl(url);
    settled = true;
    for (const auto& [variant, count] : served_count) {
      const double sampled = testing::PrometheusValue(metrics, Series("tessera_online_eval_sampled_total", variant));
      const double judged = testing::PrometheusValue(metrics, Series("tessera_online_eval_judged_total", variant));
      const double failed =
          testing::PrometheusValue(metrics, Series("tessera_online_eval_judge_failures_total", variant));
      settled = settled && sampled == count && std::max(judged, 0.0) + std::max(failed, 0.0) == sampled;
    }
    if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(settled) << metrics;
  for (const auto& [variant, count] : served_count) {
    const double sampled = testing::PrometheusValue(metrics, Series("tessera_online_eval_sampled_total", variant));
    const double judged = testing::PrometheusValue(metrics, Series("tessera_online_eval_judged_total", variant));
    const double failed =
        testing::PrometheusValue(metrics, Series("tessera_online_eval_judge_failures_total", variant));
    EXPECT_EQ(sampled, count) << variant;
    EXPECT_EQ(std::max(judged, 0.0) + std::max(failed, 0.0), sampled) << variant;
    EXPECT_GT(judged, 0) << variant;  // schema-constrained JSON: most replies give a score
    EXPECT_LE(testing::PrometheusValue(metrics, Series("tessera_online_eval_dropped_total", variant)), 0) << variant;
    std::printf("variant %s: %d exchanges sampled %.0f, scored %.0f, without a score %.0f\n", variant.c_str(),
                count, sampled, judged, failed);
  }
  EXPECT_EQ(server.Terminate(), 0);
}

}  // namespace
}  // namespace tessera
