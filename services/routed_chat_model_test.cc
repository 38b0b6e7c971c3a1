#include "services/routed_chat_model.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>

#include "gateway/testing/openai_backend.h"

namespace tessera::services {
namespace {

using gateway::testing::TestOpenAiBackend;

// A router whose route "judge" tries the OpenAI-compatible "primary", then
// "backup" (both real HTTP servers on loopback); "local" is one too, so no
// engine is needed.
class RoutedChatModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"local", "primary", "backup"}) {
      auto server = std::make_unique<TestOpenAiBackend>(name);
      ASSERT_TRUE(server->Start().ok());
      gateway::BackendConfig backend;
      backend.name = name;
      backend.kind = backend.name == "local" ? gateway::BackendKind::kLocal : gateway::BackendKind::kOpenAi;
      backend.address = backend.name == "local" ? "" : server->base_url();
      backend.max_retries = 0;
      backend.prompt_micros_per_1k_tokens = 1000;
      backend.completion_micros_per_1k_tokens = 2000;
      config_.backends.push_back(backend);
      gateway::BackendConfig connect = backend;
      connect.address = server->base_url();
      auto created = gateway::NewOpenAiModelBackend(connect);
      ASSERT_TRUE(created.ok()) << created.status();
      backends_[name] = std::move(*created);
      servers_[name] = std::move(server);
    }
    gateway::v1::Route route;
    route.set_name("judge");
    auto* target = route.add_targets();
    target->set_backend("primary");
    target->set_model("judge-model");
    target->set_weight(1);
    route.add_fallbacks("backup");
    config_.routes.push_back(route);
    auto router = gateway::ModelRouter::Create(config_, std::move(backends_));
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = std::move(*router);
  }

  static std::vector<agents::ChatMessage> Ask(const std::string& text) {
    std::vector<agents::ChatMessage> messages(2);
    messages[0].set_role("system");
    messages[0].set_content("You are a judge.");
    messages[1].set_role("user");
    messages[1].set_content(text);
    return messages;
  }

  gateway::RouterConfig config_;
  gateway::ModelRouter::BackendMap backends_;
  std::map<std::string, std::unique_ptr<TestOpenAiBackend>> servers_;
  std::unique_ptr<gateway::ModelRouter> router_;
};

TEST_F(RoutedChatModelTest, SendsTheConversationToTheRouteAndReturnsTextUsageAndCost) {
  servers_["primary"]->set_reply("Good answer.\nScore: 4");
  RoutedChatModel model(router_.get(), "judge");
  agents::SamplingParams sampling;
  sampling.set_max_tokens(64);
  sampling.set_temperature(0);
  agents::ToolSpec tool{"calculator", "Evaluates arithmetic.",
                        {{"type", "object"}, {"properties", {{"expression", {{"type", "string"}}}}}}};
  auto result = model.Generate(Ask("Rate: Paris is the capital of France."), {tool}, sampling);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->text, "Good answer.\nScore: 4");
  EXPECT_EQ(result->usage.prompt_tokens(), 10);
  EXPECT_EQ(result->usage.completion_tokens(), 3);
  // 10 prompt tokens at 1000/1k and 3 completion tokens at 2000/1k.
  EXPECT_EQ(result->usage.cost_micros(), 16);
  EXPECT_TRUE(result->logprobs.empty());
  EXPECT_FALSE(model.SupportsJsonSchema());

  nlohmann::json body = nlohmann::json::parse(servers_["primary"]->last_body());
  EXPECT_EQ(body["model"], "judge-model");
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "Rate: Paris is the capital of France.");
  EXPECT_EQ(body["max_tokens"], 64);
  ASSERT_EQ(body["tools"].size(), 1u);
  EXPECT_EQ(body["tools"][0]["function"]["name"], "calculator");
  EXPECT_EQ(body["tools"][0]["function"]["parameters"]["properties"]["expression"]["type"], "string");
  EXPECT_EQ(servers_["backup"]->requests(), 0);
  EXPECT_EQ(servers_["local"]->requests(), 0);
}

TEST_F(RoutedChatModelTest, FallsBackWhenTheRoutesFirstBackendFails) {
  servers_["primary"]->set_failing(true);
  RoutedChatModel model(router_.get(), "judge");
  auto result = model.Generate(Ask("hello"), {}, agents::SamplingParams());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->text, "backup: hello");
  EXPECT_EQ(servers_["primary"]->requests(), 1);
  EXPECT_EQ(servers_["backup"]->requests(), 1);
}

TEST_F(RoutedChatModelTest, FailsWithTheBackendsErrorWhenEveryBackendFails) {
  servers_["primary"]->set_failing(true);
  servers_["backup"]->set_failing(true);
  RoutedChatModel model(router_.get(), "judge");
  auto result = model.Generate(Ask("hello"), {}, agents::SamplingParams());
  EXPECT_FALSE(result.ok());
}

TEST_F(RoutedChatModelTest, RegisterRoutesAddsEveryRouteAndKeepsOtherModels) {
  agents::ModelRegistry models;
  auto local = std::make_shared<agents::ScriptedChatModel>();
  models.Register("tiny-llama", local);
  RegisterRoutes(router_.get(), &models);
  EXPECT_EQ(models.Find("tiny-llama"), local);
  std::shared_ptr<agents::ChatModel> judge = models.Find("judge");
  ASSERT_NE(judge, nullptr);
  EXPECT_EQ(models.Find("primary"), nullptr);  // Backends are not routes.
  auto result = judge->Generate(Ask("via the registry"), {}, agents::SamplingParams());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->text, "primary: via the registry");
}

}  // namespace
}  // namespace tessera::services
