#include "gateway/model_router.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
                                      CircuitBreakerOptions breaker = {}) {
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

}  // namespace
}  // namespace tessera::gateway
