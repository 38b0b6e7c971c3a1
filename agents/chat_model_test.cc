#include "agents/chat_model.h"

#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

ChatMessage User(const std::string& text) {
  ChatMessage message;
  message.set_role("user");
  message.set_content(text);
  return message;
}

TEST(ScriptedChatModelTest, RulesThenTurnsThenExhausted) {
  ScriptedChatModel model;
  model.AddTurn("first");
  model.AddTurn("second");
  model.AddRule("weather", "sunny", /*times=*/1);
  SamplingParams sampling;
  EXPECT_EQ(model.Generate({User("what is the weather")}, {}, sampling)->text, "sunny");
  EXPECT_EQ(model.Generate({User("weather again")}, {}, sampling)->text, "first");  // Rule used up.
  absl::StatusOr<ChatResult> second = model.Generate({User("one two three")}, {{"calc", "", Json::object()}}, sampling);
  EXPECT_EQ(second->text, "second");
  EXPECT_EQ(second->usage.prompt_tokens(), 3);
  EXPECT_EQ(second->usage.completion_tokens(), 1);
  EXPECT_EQ(model.Generate({User("x")}, {}, sampling).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(model.call_count(), 4);
  EXPECT_EQ(model.requests()[2].tool_names, std::vector<std::string>{"calc"});
}

TEST(ChatMessageTest, JsonConversion) {
  Json message = Json::parse(R"({"role": "assistant", "content": "c", "tool_calls": [{"id": "1", "name": "f", "arguments": {"a": 1}}]})");
  ChatMessage converted = JsonToChatMessage(message);
  EXPECT_EQ(converted.tool_calls(0).name(), "f");
  EXPECT_EQ(ChatMessageToJson(converted), message);
  EXPECT_EQ(JsonToChatMessage(Json("plain")).content(), "plain");
  ModelRegistry registry;
  EXPECT_EQ(registry.Find(""), nullptr);
  auto model = std::make_shared<ScriptedChatModel>();
  registry.Register("m", model);
  EXPECT_EQ(registry.Find("m"), model);
}

}  // namespace
}  // namespace tessera::agents
