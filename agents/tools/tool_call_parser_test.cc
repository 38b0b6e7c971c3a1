#include "agents/tools/tool_call_parser.h"

#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

TEST(ToolCallParserTest, BareFencedAndProseWrappedCalls) {
  ParsedReply reply = ParseToolCalls(R"({"tool": "calculator", "arguments": {"expression": "1+1"}})");
  ASSERT_EQ(reply.calls.size(), 1u);
  EXPECT_EQ(reply.calls[0].name, "calculator");
  EXPECT_EQ(reply.calls[0].arguments["expression"], "1+1");
  EXPECT_EQ(reply.calls[0].id, "call_1");
  EXPECT_EQ(reply.prose, "");

  reply = ParseToolCalls("Let me look that up.\n```json\n{\"name\": \"search\", \"arguments\": {\"query\": \"a {b}\"}}\n```\nThen compute "
                         "{\"tool\": \"calculator\", \"args\": \"{\\\"expression\\\": \\\"2*3\\\"}\"} ok?");
  ASSERT_EQ(reply.calls.size(), 2u);
  EXPECT_EQ(reply.calls[0].name, "search");
  EXPECT_EQ(reply.calls[0].arguments["query"], "a {b}");  // Braces inside strings do not confuse it.
  EXPECT_EQ(reply.calls[1].arguments["expression"], "2*3");  // Arguments given as a JSON string.
  EXPECT_EQ(reply.prose, "Let me look that up.\n\nThen compute  ok?");
}

TEST(ToolCallParserTest, ListsOpenAiShapeAndNonCalls) {
  ParsedReply reply = ParseToolCalls(R"([{"tool": "a", "arguments": {}}, {"tool": "b"}])");
  ASSERT_EQ(reply.calls.size(), 2u);
  EXPECT_EQ(reply.calls[1].name, "b");
  EXPECT_TRUE(reply.calls[1].arguments.is_object());
  reply = ParseToolCalls(R"({"tool_calls": [{"id": "x9", "function": {"name": "f", "arguments": "{\"k\": 1}"}}]})");
  ASSERT_EQ(reply.calls.size(), 1u);
  EXPECT_EQ(reply.calls[0].id, "x9");
  EXPECT_EQ(reply.calls[0].arguments["k"], 1);
  reply = ParseToolCalls(R"(The result is {"answer": 42} and [1, 2].)");
  EXPECT_TRUE(reply.calls.empty());
  EXPECT_TRUE(reply.errors.empty());
  EXPECT_EQ(reply.prose, R"(The result is {"answer": 42} and [1, 2].)");
}

TEST(ToolCallParserTest, MalformedCallsAreReported) {
  ParsedReply reply = ParseToolCalls(R"({"tool": "calculator", "arguments": {"expression": "1+1"})");
  EXPECT_TRUE(reply.calls.empty());
  ASSERT_EQ(reply.errors.size(), 1u);
  EXPECT_EQ(reply.errors[0], "unterminated JSON object in a tool call");
  reply = ParseToolCalls(R"({"tool": "calculator", "arguments": [1]})");
  ASSERT_EQ(reply.errors.size(), 1u);
  EXPECT_EQ(reply.errors[0], "tool call 'calculator': arguments must be an object, got list");
  reply = ParseToolCalls(R"({"tool": "x", "arguments": {"a": 1,}})");
  ASSERT_EQ(reply.errors.size(), 1u);
}

}  // namespace
}  // namespace tessera::agents
