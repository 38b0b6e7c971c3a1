// Online evaluation end to end over real gRPC: a client calls the routed
// GenerationService on a loopback port; the route "chat" splits traffic 50/50
// between two variants (two local-engine backends over the in-process
// channel, as the server wires them); every completed exchange reaches the
// online evaluator through the gateway's TrafficObserver hook and is judged by
// the local random-weight generator; feedback sent through GatewayService is
// joined by request id; per-variant figures appear in the Prometheus registry
// and as the router's QualitySignal.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/generation_service.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "eval/online_evaluator.h"
#include "eval/online_quality_signal.h"
#include "gateway/feedback_store.h"
#include "gateway/gateway_service.h"
#include "gateway/guardrail_policy.h"
#include "gateway/model_router.h"
#include "gateway/router_config.h"
#include "gateway/routed_generation_service.h"
#include "gtest/gtest.h"
#include "services/local_chat_model.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

constexpr int kRequests = 12;

TEST(EvalOnlineIntegrationTest, RouterTrafficToTwoVariantsIsJudgedPerVariant) {
  const std::string dir = testing::MakeTempDir("eval_online");
  ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", dir + "/tiny.gguf", 7, "q8_0").ok());
  auto llama = llama::LlamaModel::Load(dir + "/tiny.gguf");
  ASSERT_TRUE(llama.ok()) << llama.status();

  // The engine, reached by the router over an in-process channel.
  engine::ServedModels served;
  served.generator = llama->get();
  served.generator_name = "tiny";
  engine::GenerationServiceImpl engine_service(served);
  grpc::ServerBuilder engine_builder;
  engine_builder.RegisterService(&engine_service);
  std::unique_ptr<grpc::Server> engine_server = engine_builder.BuildAndStart();
  ASSERT_NE(engine_server, nullptr);

  auto config = gateway::ParseRouterConfig(nlohmann::json::parse(R"({
    "backends": [{"name": "stable", "kind": "local"}, {"name": "candidate", "kind": "local"}],
    "routes": [{"name": "chat", "targets": [{"backend": "stable", "weight": 0.5},
                                            {"backend": "candidate", "weight": 0.5}]}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  auto backends = gateway::ModelRouter::ConnectBackends(*config, engine_server->InProcessChannel({}));
  ASSERT_TRUE(backends.ok()) << backends.status();
  auto router = gateway::ModelRouter::Create(*config, std::move(*backends));
  ASSERT_TRUE(router.ok()) << router.status();
  auto guardrails = gateway::GuardrailPolicy::Create(config->guardrails);
  ASSERT_TRUE(guardrails.ok()) << guardrails.status();
  auto feedback = gateway::FeedbackStore::Open(dir + "/gateway.db");
  ASSERT_TRUE(feedback.ok()) << feedback.status();

  // The judge: the same local generator, as the server's default model.
  auto models = std::make_shared<agents::ModelRegistry>();
  models->SetDefault(std::make_shared<services::LocalChatModel>(llama->get()));
  auto online_config = eval::ParseOnlineEvalConfig(nlohmann::json::parse(R"({
    "concurrency": 2, "min_scored": 1,
    "routes": [{"route": "chat", "sample_rate": 1.0,
                "judge": {"kind": "pointwise", "criterion": "helpfulness",
                          "sampling": {"max_tokens": 8, "seed": 3, "temperature": 0.9}}}]})"));
  ASSERT_TRUE(online_config.ok()) << online_config.status();
  eval::OnlineEvaluatorOptions online;
  online.config = *online_config;
  online.database_path = dir + "/eval.db";
  online.models = models;
  online.feedback = feedback->get();
  auto evaluator = eval::OnlineEvaluator::Create(std::move(online));
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();

  gateway::GatewayParts parts;
  parts.router = router->get();
  parts.guardrails = guardrails->get();
  parts.feedback = feedback->get();
  parts.traffic_observer = evaluator->get();
  gateway::RoutedGenerationService routed(parts, &engine_service);
  gateway::GatewayServiceImpl gateway_service(parts, nullptr);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&routed);
  builder.RegisterService(&gateway_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto generation = generation::v1::GenerationService::NewStub(channel);
  auto gateway_stub = gateway::v1::GatewayService::NewStub(channel);

  std::map<std::string, std::string> variant_of;  // request id -> served by
  for (int i = 0; i < kRequests; ++i) {
    generation::v1::GenerateRequest request;
    request.set_model("chat");
    request.set_prompt(absl::StrCat("Question ", i, ": what is the capital of France?"));
    request.set_request_id(absl::StrCat("req-", i));
    request.mutable_sampling()->set_max_tokens(6);
    request.mutable_sampling()->set_seed(i + 1);
    grpc::ClientContext context;
    context.AddMetadata("x-tessera-tenant", "acme");
    generation::v1::GenerateResponse response;
    grpc::Status status = generation->Generate(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto trailer = context.GetServerTrailingMetadata().find(gateway::kServedByTrailer);
    ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
    variant_of[request.request_id()] = std::string(trailer->second.data(), trailer->second.size());
  }
  std::set<std::string> variants;
  for (const auto& [id, variant] : variant_of) variants.insert(variant);
  ASSERT_EQ(variants, (std::set<std::string>{"candidate", "stable"}))
      << "12 requests at 50/50 all went to one variant";

  // Thumbs up on every stable answer, down on every candidate answer.
  for (const auto& [id, variant] : variant_of) {
    gateway::v1::SubmitFeedbackRequest request;
    request.mutable_feedback()->set_request_id(id);
    request.mutable_feedback()->set_rating(variant == "stable" ? common::v1::Feedback::THUMBS_UP
                                                               : common::v1::Feedback::THUMBS_DOWN);
    grpc::ClientContext context;
    context.AddMetadata("x-tessera-tenant", "acme");
    gateway::v1::SubmitFeedbackResponse response;
    ASSERT_TRUE(gateway_stub->SubmitFeedback(&context, request, &response).ok());
  }

  ASSERT_TRUE((*evaluator)->WaitIdle(absl::Seconds(50)));
  EXPECT_EQ((*evaluator)->counters().sampled, kRequests);
  EXPECT_EQ((*evaluator)->counters().dropped, 0);
  auto summary = (*evaluator)->Summary("acme");
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->size(), 2u);
  int64_t total = 0;
  for (const eval::VariantSummary& variant : *summary) {
    EXPECT_EQ(variant.route, "chat");
    int64_t expected = 0;
    for (const auto& [id, served_by] : variant_of) expected += served_by == variant.variant;
    // Every exchange was judged and scored: the local judge's reply is
    // schema-constrained JSON, so even random weights give a score.
    EXPECT_EQ(variant.judged + variant.failed, expected) << variant.variant;
    EXPECT_EQ(variant.failed, 0) << variant.variant;
    EXPECT_EQ(variant.feedback, expected);
    EXPECT_DOUBLE_EQ(variant.feedback_positive_rate, variant.variant == "stable" ? 1.0 : 0.0);
    total += variant.judged + variant.failed;
    std::printf("variant %s: %lld exchanges, %lld scored (mean %.2f), %lld without a score, feedback +%.0f%%\n",
                variant.variant.c_str(), static_cast<long long>(expected), static_cast<long long>(variant.judged),
                variant.mean_score, static_cast<long long>(variant.failed), 100 * variant.feedback_positive_rate);
  }
  EXPECT_EQ(total, kRequests);
  // Another tenant sees none of it.
  EXPECT_TRUE((*evaluator)->Summary("globex")->empty());

  // The server's /metrics registry carries the per-variant figures.
  const std::string metrics = MetricsRegistry::Global().RenderPrometheus();
  for (const std::string variant : {"stable", "candidate"}) {
    const std::string labels = absl::StrCat("{route=\"chat\",variant=\"", variant, "\"}");
    EXPECT_TRUE(absl::StrContains(metrics, "tessera_online_eval_sampled_total" + labels)) << metrics;
    EXPECT_TRUE(absl::StrContains(metrics, "tessera_online_eval_feedback" + labels)) << metrics;
    EXPECT_TRUE(absl::StrContains(metrics, "tessera_online_eval_feedback_positive_rate" + labels)) << metrics;
  }
  EXPECT_TRUE(absl::StrContains(
      metrics, "tessera_online_eval_feedback_positive_rate{route=\"chat\",variant=\"stable\"} 1"));
  EXPECT_TRUE(absl::StrContains(
      metrics, "tessera_online_eval_feedback_positive_rate{route=\"chat\",variant=\"candidate\"} 0"));

  // As the canary controller's quality signal: a score on 0-1 for the variants
  // the judge scored, nothing for the others.
  eval::OnlineQualitySignal signal(evaluator->get());
  for (const eval::VariantSummary& variant : *summary) {
    auto score = signal.Score("chat", variant.variant);
    EXPECT_EQ(score.has_value(), variant.judged > 0) << variant.variant;
    if (score.has_value()) {
      EXPECT_NEAR(*score, (variant.mean_score - 1) / 4, 1e-9);
    }
  }
  server->Shutdown();
  evaluator->reset();
  engine_server->Shutdown();
}

}  // namespace
}  // namespace tessera
