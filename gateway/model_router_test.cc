#include "gateway/model_router.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/testing/hashing_embedder.h"
#include "gateway/testing/openai_backend.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateStreamResponse;
using testing::TestOpenAiBackend;

// Model routers over real HTTP backends on loopback (TestOpenAiBackend); the
// "local" backend is one of them too, so no engine is needed.
class ModelRouterTest : public ::testing::Test {
 protected:
  TestOpenAiBackend* AddBackend(const std::string& name) {
    auto backend = std::make_unique<TestOpenAiBackend>(name);
    EXPECT_TRUE(backend->Start().ok());
    TestOpenAiBackend* raw = backend.get();
    servers_[name] = std::move(backend);
    return raw;
  }

  // `routes` in the config's JSON shape is not needed: tests build Route protos.
  std::unique_ptr<ModelRouter> Router(const std::vector<Route>& routes,
                                      CircuitBreakerOptions breaker = {},
                                      const std::function<void(RouterConfig*)>& adjust = nullptr) {
    RouterConfig config;
    config.circuit_breaker = breaker;
    config.routes = routes;
    ModelRouter::BackendMap backends;
    for (const auto& [name, server] : servers_) {
      BackendConfig backend;
      backend.name = name;
      backend.kind = name == "local" ? BackendKind::kLocal : BackendKind::kOpenAi;
      backend.address = name == "local" ? "" : server->base_url();
      backend.max_retries = 0;
      backend.prompt_micros_per_1k_tokens = 1000;
      config.backends.push_back(backend);
      BackendConfig connect = backend;
      connect.address = server->base_url();
      auto created = NewOpenAiModelBackend(connect);
      EXPECT_TRUE(created.ok()) << created.status();
      backends[name] = std::move(*created);
    }
    if (adjust) adjust(&config);
    auto router = ModelRouter::Create(config, std::move(backends), &clock_, &metrics_);
    EXPECT_TRUE(router.ok()) << router.status();
    return std::move(*router);
  }

  static Route MakeRoute(const std::string& name,
                         const std::vector<std::tuple<std::string, std::string, double>>& targets,
                         const std::vector<std::string>& fallbacks = {}) {
    Route route;
    route.set_name(name);
    for (const auto& [backend, model, weight] : targets) {
      auto* target = route.add_targets();
      target->set_backend(backend);
      target->set_model(model);
      target->set_weight(weight);
    }
    for (const std::string& fallback : fallbacks) route.add_fallbacks(fallback);
    return route;
  }

  static GenerateRequest Ask(const std::string& model, const std::string& text,
                             const std::string& user = "") {
    GenerateRequest request;
    request.set_model(model);
    request.set_user(user);
    auto* message = request.add_messages();
    message->set_role("user");
    message->set_content(text);
    return request;
  }

  FakeClock clock_;
  MetricsRegistry metrics_;
  std::map<std::string, std::unique_ptr<TestOpenAiBackend>> servers_;
};

TEST_F(ModelRouterTest, RouteMapsTheModelNameAndUnknownNamesGoToTheLocalEngine) {
  TestOpenAiBackend* local = AddBackend("local");
  TestOpenAiBackend* remote = AddBackend("remote");
  auto router = Router({MakeRoute("chat", {{"remote", "llama-3-8b", 1}})});
  ASSERT_TRUE(router->IsRoute("chat"));
  EXPECT_FALSE(router->IsRoute("tiny.gguf"));

  ServedBy served;
  RoutedCall call;
  auto response = router->Generate(Ask("chat", "hello"), call, &served);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "remote: hello");
  EXPECT_EQ(served.route, "chat");
  EXPECT_EQ(served.backend, "remote");
  // The backend gets the target's model, not the route's name.
  EXPECT_TRUE(absl::StrContains(remote->last_body(), "\"model\":\"llama-3-8b\"")) << remote->last_body();
  EXPECT_EQ(router->CostMicros("remote", response->usage()), 10);

  ServedBy direct;
  auto local_response = router->Generate(Ask("tiny.gguf", "hi"), call, &direct);
  ASSERT_TRUE(local_response.ok());
  EXPECT_EQ(direct.backend, "local");
  EXPECT_EQ(direct.route, "");
  EXPECT_TRUE(absl::StrContains(local->last_body(), "\"model\":\"tiny.gguf\""));
}

TEST_F(ModelRouterTest, WeightedSplitIsProportionalAndSticky) {
  AddBackend("local");
  TestOpenAiBackend* stable = AddBackend("stable");
  TestOpenAiBackend* canary = AddBackend("canary");
  auto router = Router({MakeRoute("chat", {{"stable", "", 0.8}, {"canary", "", 0.2}})});
  constexpr int kUsers = 2000;
  std::map<std::string, std::string> first_pick;
  for (int i = 0; i < kUsers; ++i) {
    ServedBy served;
    RoutedCall call;
    call.sticky_key = absl::StrCat("user-", i);
    ASSERT_TRUE(router->Generate(Ask("chat", "q", call.sticky_key), call, &served).ok());
    first_pick[call.sticky_key] = served.backend;
  }
  const double canary_share = static_cast<double>(canary->requests()) / kUsers;
  EXPECT_NEAR(canary_share, 0.2, 0.03) << canary->requests() << " of " << kUsers;
  EXPECT_EQ(stable->requests() + canary->requests(), kUsers);
  // The same user keeps their backend.
  for (int i = 0; i < 200; ++i) {
    ServedBy served;
    RoutedCall call;
    call.sticky_key = absl::StrCat("user-", i);
    ASSERT_TRUE(router->Generate(Ask("chat", "q"), call, &served).ok());
    EXPECT_EQ(served.backend, first_pick[call.sticky_key]);
  }
}

TEST_F(ModelRouterTest, FallsBackAndTheCircuitOpensThenClosesAfterProbes) {
  AddBackend("local");
  TestOpenAiBackend* flaky = AddBackend("flaky");
  TestOpenAiBackend* backup = AddBackend("backup");
  CircuitBreakerOptions breaker;
  breaker.minimum_calls = 4;
  breaker.failure_rate_threshold = 0.5;
  breaker.open_duration = absl::Seconds(30);
  breaker.half_open_probes = 2;
  auto router = Router({MakeRoute("chat", {{"flaky", "", 1}}, {"backup"})}, breaker);

  flaky->set_failing(true);
  for (int i = 0; i < 4; ++i) {
    ServedBy served;
    auto response = router->Generate(Ask("chat", "q"), {}, &served);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(served.backend, "backup");
    EXPECT_EQ(served.backends_tried, 2);
  }
  EXPECT_EQ(flaky->requests(), 4);
  auto state_of = [&](const std::string& name) {
    for (const auto& backend : router->Backends()) {
      if (backend.name() == name) return backend.circuit_state();
    }
    return std::string("missing");
  };
  EXPECT_EQ(state_of("flaky"), "open");
  // While open, the flaky backend gets nothing.
  for (int i = 0; i < 5; ++i) {
    ServedBy served;
    ASSERT_TRUE(router->Generate(Ask("chat", "q"), {}, &served).ok());
    EXPECT_EQ(served.backend, "backup");
  }
  EXPECT_EQ(flaky->requests(), 4);

  // It recovers; after the open period two successful probes close the circuit.
  flaky->set_failing(false);
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(state_of("flaky"), "half_open");
  for (int i = 0; i < 2; ++i) {
    ServedBy served;
    ASSERT_TRUE(router->Generate(Ask("chat", "q"), {}, &served).ok());
    EXPECT_EQ(served.backend, "flaky");
  }
  EXPECT_EQ(state_of("flaky"), "closed");
  EXPECT_EQ(backup->requests(), 9);

  // With every backend down the caller gets the last error, naming the route.
  flaky->set_failing(true);
  backup->set_failing(true);
  ServedBy served;
  auto failed = router->Generate(Ask("chat", "q"), {}, &served);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(failed.status().message(), "route \"chat\"")) << failed.status();
}

TEST_F(ModelRouterTest, StreamsFallBackBeforeTheFirstPiece) {
  AddBackend("local");
  TestOpenAiBackend* down = AddBackend("down");
  AddBackend("up");
  down->set_failing(true);
  auto router = Router({MakeRoute("chat", {{"down", "", 1}}, {"up"})});
  std::string text;
  ServedBy served;
  absl::Status status = router->GenerateStream(
      Ask("chat", "stream me"), {},
      [&](const GenerateStreamResponse& chunk) {
        for (const auto& token : chunk.tokens()) text += token.text();
        return true;
      },
      &served);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(text, "up: stream me");
  EXPECT_EQ(served.backend, "up");
}

TEST_F(ModelRouterTest, ShadowGetsAMirroredCopyWhoseAnswerIsDiscarded) {
  AddBackend("local");
  AddBackend("primary");
  TestOpenAiBackend* shadow = AddBackend("shadow");
  Route route = MakeRoute("chat", {{"primary", "", 1}});
  auto* mirror = route.add_targets();
  mirror->set_backend("shadow");
  mirror->set_model("candidate");
  mirror->set_shadow(true);
  auto router = Router({route});
  ServedBy served;
  auto response = router->Generate(Ask("chat", "mirror me"), {}, &served);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->text(), "primary: mirror me");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (shadow->requests() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(shadow->requests(), 1);
  EXPECT_TRUE(absl::StrContains(shadow->last_body(), "\"model\":\"candidate\""));
  EXPECT_EQ(router->shadow_calls_started(), 1);
}

TEST_F(ModelRouterTest, BackendFailingHealthChecksIsSkippedUntilItPassesAgain) {
  AddBackend("local");
  TestOpenAiBackend* primary = AddBackend("primary");
  TestOpenAiBackend* spare = AddBackend("spare");
  HealthCheckConfig checks;
  checks.unhealthy_threshold = 2;
  HealthChecker health(checks, &metrics_);
  auto router = Router({MakeRoute("chat", {{"primary", "", 1}}, {"spare"})}, {},
                       [&](RouterConfig* config) {
                         for (BackendConfig& backend : config->backends) {
                           if (backend.kind == BackendKind::kOpenAi) backend.health_path = "/health";
                         }
                         ModelRouter::AddHealthTargets(*config, &health);
                       });
  router->SetHealthChecker(&health);
  RoutedCall call;
  ServedBy served;
  ASSERT_TRUE(router->Generate(Ask("chat", "one"), call, &served).ok());
  EXPECT_EQ(served.backend, "primary");

  // The primary goes down: it fails its probes and leaves rotation, so calls go
  // straight to the spare (not tried and failed first).
  primary->set_failing(true);
  primary->set_healthy(false);
  health.ProbeAll();
  health.ProbeAll();
  ASSERT_FALSE(health.IsHealthy("primary"));
  const int primary_before = primary->requests();
  for (int i = 0; i < 20; ++i) {
    auto response = router->Generate(Ask("chat", "two"), call, &served);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(served.backend, "spare");
    EXPECT_EQ(served.backends_tried, 1);
  }
  EXPECT_EQ(primary->requests(), primary_before);
  for (const auto& backend : router->Backends()) {
    if (backend.name() == "primary") EXPECT_FALSE(backend.healthy());
  }
  EXPECT_NE(metrics_.RenderPrometheus().find("tessera_gateway_unhealthy_skips_total"),
            std::string::npos);

  // Back up: one passing probe returns it to rotation.
  primary->set_failing(false);
  primary->set_healthy(true);
  health.ProbeAll();
  ASSERT_TRUE(router->Generate(Ask("chat", "three"), call, &served).ok());
  EXPECT_EQ(served.backend, "primary");
  EXPECT_GT(spare->requests(), 0);
}

TEST_F(ModelRouterTest, AllAttemptsUnhealthyStillTriesThem) {
  AddBackend("local");
  TestOpenAiBackend* only = AddBackend("only");
  HealthChecker health(HealthCheckConfig{}, nullptr);
  auto router = Router({MakeRoute("chat", {{"only", "", 1}})}, {}, [&](RouterConfig* config) {
    for (BackendConfig& backend : config->backends) backend.health_path = "/health";
    ModelRouter::AddHealthTargets(*config, &health);
  });
  router->SetHealthChecker(&health);
  only->set_healthy(false);
  health.ProbeAll();
  health.ProbeAll();
  ASSERT_FALSE(health.IsHealthy("only"));
  RoutedCall call;
  ServedBy served;
  // The checks may lag a recovery: with nothing healthy the call is still made.
  EXPECT_TRUE(router->Generate(Ask("chat", "x"), call, &served).ok());
  EXPECT_EQ(served.backend, "only");
}

// A quality signal the test sets per variant.
// A "support" route whose intent sends billing questions to "billing-model",
// small talk to "small-model" and anything else to "local".
IntentOptions SupportIntent() {
  IntentOptions intent;
  intent.examples = {{"refund my invoice payment", "billing"},
                     {"my card was charged twice on the invoice", "billing"},
                     {"hello how are you today", "chitchat"},
                     {"tell me a joke please", "chitchat"}};
  intent.class_backends = {{"billing", "billing-model"}, {"chitchat", "small-model"}};
  intent.default_backend = "local";
  intent.min_similarity = 0.2;
  return intent;
}

TEST_F(ModelRouterTest, IntentRoutesEachQueryClassToItsBackend) {
  AddBackend("local");
  TestOpenAiBackend* billing = AddBackend("billing-model");
  AddBackend("small-model");
  auto router = Router({MakeRoute("support", {{"local", "", 1}, {"billing-model", "fin-7b", 0}})},
                       {}, [](RouterConfig* config) { config->intents["support"] = SupportIntent(); });
  auto embedder = std::make_shared<testing::HashingEmbedder>();
  router->SetIntentEmbedder(embedder);

  auto route = [&](const std::string& text) {
    ServedBy served;
    auto response = router->Generate(Ask("support", text), RoutedCall{}, &served);
    EXPECT_TRUE(response.ok()) << response.status();
    return served.backend;
  };
  EXPECT_EQ(route("Please refund the invoice"), "billing-model");
  // The route's target on that backend gives the model name.
  EXPECT_TRUE(absl::StrContains(billing->last_body(), "\"model\":\"fin-7b\"")) << billing->last_body();
  EXPECT_EQ(route("hello, tell me a joke"), "small-model");
  EXPECT_EQ(route("compile the linux kernel"), "local");  // below min_similarity
  // The last user message decides, not earlier turns.
  GenerateRequest turns = Ask("support", "refund my invoice");
  auto* reply = turns.add_messages();
  reply->set_role("assistant");
  reply->set_content("done");
  auto* next = turns.add_messages();
  next->set_role("user");
  next->set_content("thanks, tell me a joke");
  ServedBy served;
  ASSERT_TRUE(router->Generate(turns, RoutedCall{}, &served).ok());
  EXPECT_EQ(served.backend, "small-model");

  const std::string metrics = metrics_.RenderPrometheus();
  EXPECT_TRUE(absl::StrContains(metrics,
                                "tessera_gateway_intent_total{route=\"support\",class=\"billing\"} 1"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(
      metrics, "tessera_gateway_intent_total{route=\"support\",class=\"chitchat\"} 2"));
  EXPECT_TRUE(absl::StrContains(
      metrics, "tessera_gateway_intent_total{route=\"support\",class=\"default\"} 1"));
  // Examples embedded once (training), then one call per query.
  EXPECT_EQ(embedder->calls(), 1 + 4);
}

TEST_F(ModelRouterTest, IntentFallsBackWhenTheClassBackendOrTheEmbedderFails) {
  AddBackend("local");
  TestOpenAiBackend* billing = AddBackend("billing-model");
  AddBackend("small-model");
  auto router = Router({MakeRoute("support", {{"local", "", 1}})}, {},
                       [](RouterConfig* config) { config->intents["support"] = SupportIntent(); });
  auto embedder = std::make_shared<testing::HashingEmbedder>();
  embedder->set_fail(true);
  router->SetIntentEmbedder(embedder);

  // No embedding model: the default backend serves, and training is not
  // retried on every request.
  for (int i = 0; i < 3; ++i) {
    ServedBy served;
    ASSERT_TRUE(router->Generate(Ask("support", "refund my invoice"), RoutedCall{}, &served).ok());
    EXPECT_EQ(served.backend, "local");
  }
  EXPECT_EQ(embedder->calls(), 1);
  EXPECT_EQ(billing->requests(), 0);

  // The class's backend failing moves on to the route's own targets.
  auto healthy_router = Router({MakeRoute("support", {{"local", "", 1}})}, {}, [](RouterConfig* config) {
    config->intents["support"] = SupportIntent();
  });
  healthy_router->SetIntentEmbedder(std::make_shared<testing::HashingEmbedder>());
  billing->set_failing(true);
  ServedBy served;
  ASSERT_TRUE(healthy_router->Generate(Ask("support", "refund my invoice"), RoutedCall{}, &served).ok());
  EXPECT_EQ(served.backend, "local");
  EXPECT_EQ(served.backends_tried, 2);
}

TEST_F(ModelRouterTest, IntentUsesTheLocalEngineEmbedByDefault) {
  // Without SetIntentEmbedder the classifier embeds through the local
  // backend's Embed call (here a real HTTP backend, whose vectors are all
  // equal, so every class is as near and the first class wins).
  AddBackend("local");
  AddBackend("billing-model");
  AddBackend("small-model");
  auto router = Router({MakeRoute("support", {{"local", "", 1}})}, {},
                       [](RouterConfig* config) { config->intents["support"] = SupportIntent(); });
  ServedBy served;
  ASSERT_TRUE(router->Generate(Ask("support", "anything"), RoutedCall{}, &served).ok());
  EXPECT_EQ(served.backend, "billing-model");
}

TEST_F(ModelRouterTest, CheapestPolicyPicksTheLowestPricedWorkingBackend) {
  AddBackend("local");
  TestOpenAiBackend* pricey = AddBackend("pricey");
  TestOpenAiBackend* cheap = AddBackend("cheap");
  TestOpenAiBackend* middle = AddBackend("middle");
  auto router = Router({MakeRoute("chat", {{"pricey", "", 1}, {"cheap", "", 1}}, {"middle"})}, {},
                       [](RouterConfig* config) {
                         config->cheapest_routes.insert("chat");
                         for (BackendConfig& backend : config->backends) {
                           if (backend.name == "pricey") backend.completion_micros_per_1k_tokens = 9000;
                           if (backend.name == "cheap") backend.prompt_micros_per_1k_tokens = 10;
                           if (backend.name == "middle") backend.prompt_micros_per_1k_tokens = 500;
                         }
                       });
  for (int i = 0; i < 20; ++i) {
    ServedBy served;
    ASSERT_TRUE(router->Generate(Ask("chat", "q"), RoutedCall{}, &served).ok());
    EXPECT_EQ(served.backend, "cheap");
  }
  EXPECT_EQ(pricey->requests(), 0);
  cheap->set_failing(true);
  ServedBy served;
  ASSERT_TRUE(router->Generate(Ask("chat", "q"), RoutedCall{}, &served).ok());
  EXPECT_EQ(served.backend, "middle");  // the next cheapest, a fallback
  EXPECT_EQ(middle->requests(), 1);
}

class SetQuality : public QualitySignal {
 public:
  std::optional<double> Score(absl::string_view route, absl::string_view variant) override {
    absl::MutexLock lock(&mu_);
    auto it = scores_.find(std::string(variant));
    if (route != "chat" || it == scores_.end()) return std::nullopt;
    return it->second;
  }
  void Set(const std::string& variant, double score) {
    absl::MutexLock lock(&mu_);
    scores_[variant] = score;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, double> scores_;
};

class CanaryRolloutTest : public ModelRouterTest {
 protected:
  std::unique_ptr<ModelRouter> CanaryRouter(double max_quality_drop = -1) {
    AddBackend("local");
    stable_ = AddBackend("stable");
    canary_ = AddBackend("canary");
    return Router({MakeRoute("chat", {{"stable", "", 1}, {"canary", "", 0}}, {"stable"})}, {},
                  [&](RouterConfig* config) {
                    CanaryOptions options;
                    options.canary_backend = "canary";
                    options.steps = {0.1, 0.5, 1.0};
                    options.step_duration = absl::Minutes(5);
                    options.min_requests = 10;
                    options.min_requests_for_rollback = 10;
                    options.max_error_rate = 0.2;
                    options.max_quality_drop = max_quality_drop;
                    config->canaries["chat"] = options;
                    config->canary_evaluate_every = absl::Seconds(1);
                  });
  }

  // Sends requests until the canary served `canary_calls` of them; returns the
  // total sent.
  int SendUntilCanaryServed(ModelRouter* router, int canary_calls) {
    int sent = 0, served_by_canary = 0;
    for (; served_by_canary < canary_calls && sent < 5000; ++sent) {
      RoutedCall call;
      ServedBy served;
      (void)router->Generate(Ask("chat", "q"), call, &served);
      if (served.backend == "canary") ++served_by_canary;
    }
    return sent;
  }

  double CanaryWeight(ModelRouter* router) {
    for (const Route& route : router->Routes()) {
      for (const RouteTarget& target : route.targets()) {
        if (target.backend() == "canary") return target.weight();
      }
    }
    return -1;
  }

  TestOpenAiBackend* stable_ = nullptr;
  TestOpenAiBackend* canary_ = nullptr;
};

TEST_F(CanaryRolloutTest, RampsStepByStepWhileTheSloHolds) {
  auto router = CanaryRouter();
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 0.1) << "the first step applies at once";
  SendUntilCanaryServed(router.get(), 12);
  // Enough outcomes, but the step is not old enough yet.
  router->EvaluateCanaries();
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 0.1);
  clock_.Advance(absl::Minutes(5));
  // Traffic evaluates the controller (at most once per second of the clock).
  SendUntilCanaryServed(router.get(), 1);
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 0.5);
  const int sent = SendUntilCanaryServed(router.get(), 200);
  // About half the traffic now (binomial, 200 canary calls: well within 0.35-0.65).
  EXPECT_GT(200.0 / sent, 0.35);
  EXPECT_LT(200.0 / sent, 0.65);
  clock_.Advance(absl::Minutes(5));
  router->EvaluateCanaries();
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 1.0);
  auto status = router->Canary("chat");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->phase, CanaryPhase::kPromoted);
  EXPECT_NE(metrics_.RenderPrometheus().find("tessera_gateway_canary_share{route=\"chat\"} 1"),
            std::string::npos);
}

TEST_F(CanaryRolloutTest, InjectedErrorsRollBackToZero) {
  auto router = CanaryRouter();
  clock_.Advance(absl::Minutes(5));
  SendUntilCanaryServed(router.get(), 12);
  router->EvaluateCanaries();
  ASSERT_DOUBLE_EQ(CanaryWeight(router.get()), 0.5);
  canary_->set_failing(true);
  // Failed canary calls fall back to the stable backend: callers see no errors.
  for (int i = 0; i < 40; ++i) {
    RoutedCall call;
    ServedBy served;
    ASSERT_TRUE(router->Generate(Ask("chat", "q"), call, &served).ok());
  }
  clock_.Advance(absl::Seconds(1));
  SendUntilCanaryServed(router.get(), 0);
  RoutedCall call;
  ServedBy served;
  ASSERT_TRUE(router->Generate(Ask("chat", "q"), call, &served).ok());
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 0.0);
  auto status = router->Canary("chat");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->phase, CanaryPhase::kRolledBack);
  EXPECT_EQ(status->rollback_reason, "error_rate");
  const int canary_calls = canary_->requests();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(router->Generate(Ask("chat", "q"), call, &served).ok());
  EXPECT_EQ(canary_->requests(), canary_calls) << "a rolled-back canary gets no traffic";
}

TEST_F(CanaryRolloutTest, QualityDropBelowTheBaselineRollsBack) {
  auto router = CanaryRouter(/*max_quality_drop=*/0.05);
  auto quality = std::make_shared<SetQuality>();
  router->SetQualitySignal(quality);
  // No scores yet: the ramp proceeds on the SLO alone.
  SendUntilCanaryServed(router.get(), 12);
  clock_.Advance(absl::Minutes(5));
  router->EvaluateCanaries();
  ASSERT_DOUBLE_EQ(CanaryWeight(router.get()), 0.5);
  // Within the margin: still ramping.
  quality->Set("stable", 0.80);
  quality->Set("canary", 0.77);
  router->EvaluateCanaries();
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 0.5);
  // More than 0.05 below the baseline: rolled back.
  quality->Set("canary", 0.70);
  router->EvaluateCanaries();
  EXPECT_DOUBLE_EQ(CanaryWeight(router.get()), 0.0);
  auto status = router->Canary("chat");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->rollback_reason, "quality");
}

}  // namespace
}  // namespace tessera::gateway
