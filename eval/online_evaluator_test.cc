#include "eval/online_evaluator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eval/online_quality_signal.h"
#include "eval/test_models.h"
#include "gateway/feedback_store.h"

namespace tessera::eval {
namespace {

using tessera::common::v1::Feedback;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/online_", name, "_",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
  std::filesystem::remove(path);
  return path;
}

gateway::CompletedExchange Exchange(const std::string& route, const std::string& variant,
                                    const std::string& request_id, const std::string& output,
                                    const std::string& tenant = "acme") {
  gateway::CompletedExchange exchange;
  exchange.tenant = tenant;
  exchange.request_id = request_id;
  exchange.route = route;
  exchange.variant = variant;
  exchange.model = "m";
  exchange.prompt = "What is the capital of France?";
  exchange.output = output;
  return exchange;
}

OnlineEvalConfig OneRoute(double rate, size_t capacity = 256) {
  OnlineEvalConfig config;
  OnlineRouteConfig route;
  route.route = "chat";
  route.sample_rate = rate;
  route.judge.set_kind(v1::Judge::POINTWISE);
  route.judge.set_criterion("correctness");
  config.routes.push_back(route);
  config.queue_capacity = capacity;
  return config;
}

class OnlineEvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    judge_ = std::make_shared<agents::ScriptedChatModel>();
    judge_->AddRule("answer-good", "The answer is right.\nScore: 5");
    judge_->AddRule("answer-poor", "Partly right.\nScore: 2");
    judge_->AddRule("answer-noise", "I cannot tell.");
    models_ = std::make_shared<agents::ModelRegistry>();
    models_->SetDefault(judge_);
    db_path_ = TempPath("scores");
  }

  absl::StatusOr<std::unique_ptr<OnlineEvaluator>> Make(OnlineEvalConfig config,
                                                        gateway::FeedbackStore* feedback = nullptr,
                                                        std::shared_ptr<agents::ModelRegistry> models = nullptr) {
    OnlineEvaluatorOptions options;
    options.config = std::move(config);
    options.database_path = db_path_;
    options.models = models != nullptr ? models : models_;
    options.feedback = feedback;
    options.metrics = &metrics_;
    options.seed = 12345;
    return OnlineEvaluator::Create(std::move(options));
  }

  std::shared_ptr<agents::ScriptedChatModel> judge_;
  std::shared_ptr<agents::ModelRegistry> models_;
  MetricsRegistry metrics_;
  std::string db_path_;
};

TEST_F(OnlineEvaluatorTest, SamplesAtTheConfiguredRate) {
  // The judge holds its first call, so nothing leaves the queue while we count.
  testing::InstrumentedChatModel held(judge_.get());
  held.HoldCall(1);
  auto models = std::make_shared<agents::ModelRegistry>();
  models->SetDefault(std::shared_ptr<agents::ChatModel>(&held, [](agents::ChatModel*) {}));
  constexpr int kExchanges = 20000;
  auto evaluator = Make(OneRoute(0.1, kExchanges), nullptr, models);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  for (int i = 0; i < kExchanges; ++i) {
    (*evaluator)->OnCompleted(Exchange("chat", "a", absl::StrCat("r", i), "answer-good"));
  }
  // Routes without a config, cache hits and unrouted calls are never sampled.
  (*evaluator)->OnCompleted(Exchange("other", "a", "x", "answer-good"));
  auto cached = Exchange("chat", "a", "y", "answer-good");
  cached.cache_hit = true;
  for (int i = 0; i < 100; ++i) (*evaluator)->OnCompleted(cached);
  const int64_t sampled = (*evaluator)->counters().sampled;
  // Binomial(20000, 0.1): sd ~42; 5 sd either side.
  EXPECT_NEAR(static_cast<double>(sampled), 0.1 * kExchanges, 5 * 42.5) << sampled;
  EXPECT_EQ((*evaluator)->counters().dropped, 0);
  held.Release();
  evaluator->reset();
}

TEST_F(OnlineEvaluatorTest, FullQueueDropsAndCountsWithoutBlocking) {
  testing::InstrumentedChatModel held(judge_.get());
  held.HoldCall(1);
  auto models = std::make_shared<agents::ModelRegistry>();
  models->SetDefault(std::shared_ptr<agents::ChatModel>(&held, [](agents::ChatModel*) {}));
  auto evaluator = Make(OneRoute(1.0, /*capacity=*/3), nullptr, models);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  (*evaluator)->OnCompleted(Exchange("chat", "a", "first", "answer-good"));
  ASSERT_TRUE(held.WaitUntilHeld(absl::Seconds(10)));  // the worker is busy judging it
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) (*evaluator)->OnCompleted(Exchange("chat", "b", absl::StrCat("r", i), "answer-good"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 0.5) << "the request path waited for the judge";
  EXPECT_EQ((*evaluator)->counters().sampled, 4);  // 1 being judged + 3 queued
  EXPECT_EQ((*evaluator)->counters().dropped, 7);
  EXPECT_TRUE(absl::StrContains(metrics_.RenderPrometheus(),
                                "tessera_online_eval_dropped_total{route=\"chat\",variant=\"b\"} 7"))
      << metrics_.RenderPrometheus();
  held.Release();
  ASSERT_TRUE((*evaluator)->WaitIdle(absl::Seconds(30)));
  EXPECT_EQ((*evaluator)->counters().judged, 4);
}

TEST_F(OnlineEvaluatorTest, AggregatesScoresPerVariantAndJoinsFeedback) {
  auto feedback = gateway::FeedbackStore::Open(TempPath("feedback"));
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  auto evaluator = Make(OneRoute(1.0), feedback->get());
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  for (int i = 0; i < 4; ++i) (*evaluator)->OnCompleted(Exchange("chat", "stable", absl::StrCat("s", i), "answer-good"));
  for (int i = 0; i < 3; ++i) (*evaluator)->OnCompleted(Exchange("chat", "canary", absl::StrCat("c", i), "answer-poor"));
  (*evaluator)->OnCompleted(Exchange("chat", "canary", "c-noise", "answer-noise"));
  (*evaluator)->OnCompleted(Exchange("chat", "canary", "other-tenant", "answer-good", "globex"));
  // Feedback: stable s0 thumbs up; canary c0 thumbs down, c1 rated 5, c2 only a comment.
  auto give = [&](const std::string& tenant, const std::string& request_id, Feedback::Rating rating, int score,
                  const std::string& comment) {
    Feedback item;
    item.set_request_id(request_id);
    item.set_rating(rating);
    item.set_score(score);
    item.set_comment(comment);
    ASSERT_TRUE((*feedback)->Submit(tenant, item).ok());
  };
  give("acme", "s0", Feedback::THUMBS_UP, 0, "");
  give("acme", "c0", Feedback::THUMBS_DOWN, 0, "");
  give("acme", "c1", Feedback::RATING_UNSPECIFIED, 5, "");
  give("acme", "c2", Feedback::RATING_UNSPECIFIED, 0, "just a comment");
  give("acme", "other-tenant", Feedback::THUMBS_DOWN, 0, "");  // another tenant's request id
  ASSERT_TRUE((*evaluator)->WaitIdle(absl::Seconds(30)));

  auto summary = (*evaluator)->Summary("acme");
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->size(), 2u);
  const VariantSummary& canary = (*summary)[0];
  const VariantSummary& stable = (*summary)[1];
  EXPECT_EQ(canary.variant, "canary");
  EXPECT_EQ(canary.judged, 3);
  EXPECT_EQ(canary.failed, 1);  // "I cannot tell." has no score
  EXPECT_DOUBLE_EQ(canary.mean_score, 2.0);
  EXPECT_EQ(canary.feedback, 2);
  EXPECT_DOUBLE_EQ(canary.feedback_positive_rate, 0.5);
  EXPECT_EQ(stable.variant, "stable");
  EXPECT_EQ(stable.judged, 4);
  EXPECT_EQ(stable.failed, 0);
  EXPECT_DOUBLE_EQ(stable.mean_score, 5.0);
  EXPECT_EQ(stable.feedback, 1);
  EXPECT_DOUBLE_EQ(stable.feedback_positive_rate, 1.0);

  // Tenant-scoped: globex sees only its own exchange.
  auto globex = (*evaluator)->Summary("globex");
  ASSERT_TRUE(globex.ok());
  ASSERT_EQ(globex->size(), 1u);
  EXPECT_EQ((*globex)[0].judged, 1);
  EXPECT_EQ((*globex)[0].feedback, 0);

  // Over every tenant, for the canary policy and /metrics.
  EXPECT_DOUBLE_EQ(*(*evaluator)->QualityScore("chat", "stable"), 5.0);
  EXPECT_DOUBLE_EQ(*(*evaluator)->QualityScore("chat", "canary"), 2.75);  // 2, 2, 2, 5
  EXPECT_FALSE((*evaluator)->QualityScore("chat", "nobody").has_value());
  // The router's canary sees the same on 0-1: (mean - 1) / 4.
  OnlineQualitySignal signal(evaluator->get());
  EXPECT_DOUBLE_EQ(*signal.Score("chat", "stable"), 1.0);
  EXPECT_DOUBLE_EQ(*signal.Score("chat", "canary"), 1.75 / 4);
  EXPECT_FALSE(signal.Score("chat", "nobody").has_value());
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_TRUE(absl::StrContains(text, "tessera_online_eval_judged_total{route=\"chat\",variant=\"stable\"} 4")) << text;
  EXPECT_TRUE(absl::StrContains(text, "tessera_online_eval_judge_failures_total{route=\"chat\",variant=\"canary\"} 1"));
  EXPECT_TRUE(absl::StrContains(text, "tessera_online_eval_mean_score{route=\"chat\",variant=\"stable\"} 5"));
  EXPECT_TRUE(absl::StrContains(text, "tessera_online_eval_feedback_positive_rate{route=\"chat\",variant=\"canary\"} 0.5"));

  // Scores are durable: a new evaluator on the same database exports them at once.
  evaluator->reset();
  OnlineEvaluatorOptions options;
  options.config = OneRoute(1.0);
  options.database_path = db_path_;
  options.models = models_;
  options.feedback = feedback->get();
  MetricsRegistry fresh;
  options.metrics = &fresh;
  auto reopened = OnlineEvaluator::Create(std::move(options));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_DOUBLE_EQ(*(*reopened)->QualityScore("chat", "stable"), 5.0);
  EXPECT_TRUE(absl::StrContains(fresh.RenderPrometheus(),
                                "tessera_online_eval_mean_score{route=\"chat\",variant=\"canary\"} 2.75"));
}

TEST_F(OnlineEvaluatorTest, GEvalJudgeUsesLogprobWeightedScores) {
  // "Score: 4" with 60% on "4" and 40% on "5" -> 4.4.
  auto weighted = std::make_shared<testing::LogprobChatModel>(std::vector<agents::TokenLogprob>{
      testing::MakeToken("Score", 1.0), testing::MakeToken(":", 1.0), testing::MakeToken(" ", 1.0),
      testing::MakeToken("4", 0.6, {{"4", 0.6}, {"5", 0.4}})});
  auto models = std::make_shared<agents::ModelRegistry>();
  models->Register("judge-model", weighted);
  OnlineEvalConfig config = OneRoute(1.0);
  config.routes[0].judge.set_kind(v1::Judge::G_EVAL);
  config.routes[0].judge.set_model("judge-model");
  auto evaluator = Make(config, nullptr, models);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  (*evaluator)->OnCompleted(Exchange("chat", "a", "g1", "Paris"));
  (*evaluator)->OnCompleted(Exchange("chat", "a", "g2", "Paris"));
  ASSERT_TRUE((*evaluator)->WaitIdle(absl::Seconds(30)));
  ASSERT_TRUE((*evaluator)->QualityScore("chat", "a").has_value());
  EXPECT_NEAR(*(*evaluator)->QualityScore("chat", "a"), 4.4, 1e-6);
  // Steps once, then one scoring call per exchange.
  EXPECT_EQ(weighted->samplings().size(), 3u);
}

TEST_F(OnlineEvaluatorTest, RejectsBadConfigs) {
  EXPECT_EQ(Make(OneRoute(1.5)).status().code(), absl::StatusCode::kInvalidArgument);
  OnlineEvalConfig pairwise = OneRoute(0.5);
  pairwise.routes[0].judge.set_kind(v1::Judge::PAIRWISE);
  auto refused = Make(pairwise);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "PAIRWISE")) << refused.status();
  OnlineEvalConfig missing = OneRoute(0.5);
  missing.routes[0].judge.set_model("gpt-none");
  refused = Make(missing);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "gpt-none"));
}

TEST(ParseOnlineEvalConfigTest, ReadsTheServerConfigSection) {
  auto json = ParseJson(R"({"queue_capacity": 64, "concurrency": 2, "min_scored": 5,
      "routes": [{"route": "chat", "sample_rate": 0.05,
                  "judge": {"kind": "g_eval", "criterion": "helpfulness", "model": "judge"}}]})");
  ASSERT_TRUE(json.ok());
  auto config = ParseOnlineEvalConfig(*json);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->queue_capacity, 64u);
  EXPECT_EQ(config->concurrency, 2);
  EXPECT_EQ(config->min_scored, 5);
  ASSERT_EQ(config->routes.size(), 1u);
  EXPECT_EQ(config->routes[0].route, "chat");
  EXPECT_DOUBLE_EQ(config->routes[0].sample_rate, 0.05);
  EXPECT_EQ(config->routes[0].judge.kind(), v1::Judge::G_EVAL);
  EXPECT_EQ(config->routes[0].judge.model(), "judge");

  for (const char* bad : {R"({"routes": [{"route": "chat", "judge": {"kind": "pointwise"}}]})",
                          R"({"routes": [{"route": "chat", "sample_rate": 1, "judge": {"kind": "nope"}}]})",
                          R"({"queue_capacity": 0})", R"({"surprise": 1})", R"([1])"}) {
    auto parsed = ParseOnlineEvalConfig(*ParseJson(bad));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "online_eval")) << parsed.status();
  }
}

}  // namespace
}  // namespace tessera::eval
