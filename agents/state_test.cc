#include "agents/state.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

namespace v1 = ::tessera::agents::v1;

ChannelSpec Spec(const std::string& name, v1::Channel::Type type, v1::Channel::Reducer reducer) {
  v1::Channel channel;
  channel.set_name(name);
  channel.set_type(type);
  channel.set_reducer(reducer);
  absl::StatusOr<ChannelSpec> spec = MakeChannelSpec(channel);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

TEST(StateTest, ReducersFoldUpdates) {
  StateSchema schema;
  ASSERT_TRUE(schema.AddChannel(Spec("text", v1::Channel::STRING, v1::Channel::REPLACE)).ok());
  ASSERT_TRUE(schema.AddChannel(Spec("items", v1::Channel::LIST, v1::Channel::APPEND)).ok());
  ASSERT_TRUE(schema.AddChannel(Spec("chat", v1::Channel::MESSAGES, v1::Channel::APPEND)).ok());
  ASSERT_TRUE(schema.AddChannel(Spec("meta", v1::Channel::JSON, v1::Channel::MERGE)).ok());
  ASSERT_TRUE(schema.AddChannel(Spec("n", v1::Channel::NUMBER, v1::Channel::REDUCER_UNSPECIFIED)).ok());
  EXPECT_FALSE(schema.AddChannel(Spec("n", v1::Channel::NUMBER, v1::Channel::REPLACE)).ok());
  Json state = schema.InitialState();
  EXPECT_EQ(state, Json::parse(R"({"text": "", "items": [], "chat": [], "meta": {}, "n": 0})"));

  ASSERT_TRUE(schema.Apply("text", "a", &state).ok());
  ASSERT_TRUE(schema.Apply("text", "b", &state).ok());
  ASSERT_TRUE(schema.Apply("items", 1, &state).ok());
  ASSERT_TRUE(schema.Apply("items", Json::array({2, 3}), &state).ok());
  ASSERT_TRUE(schema.Apply("chat", "hello", &state).ok());
  ASSERT_TRUE(schema.Apply("chat", Json{{"role", "user"}, {"content", "hi"}}, &state).ok());
  ASSERT_TRUE(schema.Apply("meta", Json{{"a", 1}, {"b", 1}}, &state).ok());
  ASSERT_TRUE(schema.Apply("meta", Json{{"b", 2}}, &state).ok());
  ASSERT_TRUE(schema.ApplyAll(Json{{"n", 4.5}}, &state).ok());
  EXPECT_EQ(state["text"], "b");
  EXPECT_EQ(state["items"], Json::array({1, 2, 3}));
  EXPECT_EQ(state["chat"][0], Json::parse(R"({"role": "assistant", "content": "hello"})"));
  EXPECT_EQ(state["chat"][1]["role"], "user");
  EXPECT_EQ(state["meta"], Json::parse(R"({"a": 1, "b": 2})"));
  EXPECT_EQ(state["n"], 4.5);
}

TEST(StateTest, TypeErrorsAndBadDeclarations) {
  StateSchema schema;
  ASSERT_TRUE(schema.AddChannel(Spec("n", v1::Channel::NUMBER, v1::Channel::REPLACE)).ok());
  ASSERT_TRUE(schema.AddChannel(Spec("chat", v1::Channel::MESSAGES, v1::Channel::APPEND)).ok());
  ASSERT_TRUE(schema.AddChannel(Spec("meta", v1::Channel::JSON, v1::Channel::MERGE)).ok());
  Json state = schema.InitialState();
  EXPECT_EQ(schema.Apply("n", "3", &state).message(), "channel 'n' (NUMBER) expects a number, got string");
  EXPECT_TRUE(absl::StrContains(schema.Apply("chat", 3, &state).message(), "expects messages"));
  EXPECT_TRUE(absl::StrContains(schema.Apply("meta", Json::array(), &state).message(), "(MERGE) expects an object"));
  EXPECT_EQ(schema.Apply("ghost", 1, &state).message(), "unknown channel 'ghost'");
  EXPECT_EQ(state, schema.InitialState());  // Failed writes change nothing.

  v1::Channel bad;
  bad.set_name("x");
  EXPECT_TRUE(absl::StrContains(MakeChannelSpec(bad).status().message(), "type is not set"));
  bad.set_type(v1::Channel::STRING);
  bad.set_reducer(v1::Channel::APPEND);
  EXPECT_TRUE(absl::StrContains(MakeChannelSpec(bad).status().message(), "APPEND reducer needs a LIST or MESSAGES"));
  bad.set_reducer(v1::Channel::REPLACE);
  bad.mutable_default_value()->set_number_value(1);
  EXPECT_TRUE(absl::StrContains(MakeChannelSpec(bad).status().message(), "default value"));
}

}  // namespace
}  // namespace tessera::agents
