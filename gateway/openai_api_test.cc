#include "gateway/openai_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"

namespace tessera::gateway {
namespace {

using Json = nlohmann::json;
using tessera::generation::v1::EmbedResponse;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;

// The error a bad body produces, as the HTTP layer would send it.
Json ErrorFor(absl::string_view body, int* http_status = nullptr) {
  auto parsed = ParseChatCompletionRequest(body);
  EXPECT_FALSE(parsed.ok()) << body;
  OpenAiError error = OpenAiErrorFromStatus(parsed.status());
  if (http_status) *http_status = error.http_status;
  return Json::parse(error.body);
}

TEST(ParseChatCompletionTest, MapsAFullRequest) {
  auto parsed = ParseChatCompletionRequest(R"({
    "model": "qwen2.5-0.5b",
    "messages": [
      {"role": "developer", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Weather in"}, {"type": "text", "text": "Paris?"}], "name": "alice"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    ],
    "temperature": 0, "top_p": 0.9, "max_completion_tokens": 128, "seed": 7,
    "stop": ["\n\n", "END"], "logprobs": true, "top_logprobs": 2, "user": "u-1",
    "stream": true, "stream_options": {"include_usage": true},
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": "auto", "presence_penalty": 0.5, "frequency_penalty": null,
    "response_format": {"type": "json_object"}
  })");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const auto& request = parsed->generate;
  EXPECT_TRUE(parsed->stream);
  EXPECT_TRUE(parsed->include_usage);
  EXPECT_EQ(request.model(), "qwen2.5-0.5b");
  ASSERT_EQ(request.messages_size(), 4);
  EXPECT_EQ(request.messages(0).role(), "system");
  EXPECT_EQ(request.messages(1).content(), "Weather in\nParis?");
  EXPECT_EQ(request.messages(1).name(), "alice");
  ASSERT_EQ(request.messages(2).tool_calls_size(), 1);
  EXPECT_EQ(request.messages(2).tool_calls(0).name(), "get_weather");
  EXPECT_EQ(request.messages(2).tool_calls(0).arguments().fields().at("city").string_value(),
            "Paris");
  EXPECT_EQ(request.messages(3).tool_call_id(), "call_1");
  EXPECT_TRUE(request.sampling().has_temperature());
  EXPECT_EQ(request.sampling().temperature(), 0.0f);
  EXPECT_FLOAT_EQ(request.sampling().top_p(), 0.9f);
  EXPECT_EQ(request.sampling().max_tokens(), 128);
  EXPECT_EQ(request.sampling().seed(), 7u);
  ASSERT_EQ(request.sampling().stop_size(), 2);
  EXPECT_EQ(request.sampling().stop(1), "END");
  EXPECT_TRUE(request.sampling().logprobs());
  EXPECT_EQ(request.sampling().top_logprobs(), 2);
  EXPECT_EQ(request.user(), "u-1");
  ASSERT_EQ(request.tools_size(), 1);
  EXPECT_EQ(Json::parse(request.tools(0).parameters_json_schema())["properties"]["city"]["type"],
            "string");
  EXPECT_EQ(request.sampling().json_schema().fields().at("type").string_value(), "object");
}

TEST(ParseChatCompletionTest, ErrorsUseOpenAiShapeWithParam) {
  int status = 0;
  Json error = ErrorFor("{not json", &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(error["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(error["error"]["param"].is_null());
  EXPECT_TRUE(error["error"]["code"].is_null());
  EXPECT_NE(error["error"]["message"].get<std::string>().find("could not parse"), std::string::npos);

  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"([])", nullptr},
      {R"({"messages":[{"role":"user","content":"hi"}]})", "model"},
      {R"({"model":"m"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user"}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"tool","content":"b"}]})",
       "messages[1].tool_call_id"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
       "messages[0].content[0].type"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"temperature":3})", "temperature"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"temperature":"hot"})",
       "temperature"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":0})", "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"n":2})", "n"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"stop":["a","b","c","d","e"]})",
       "stop"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"top_logprobs":3})",
       "top_logprobs"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"stream_options":{"include_usage":true}})",
       "stream_options"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"frobnicate":1})", "frobnicate"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"type":"function","function":{"name":"bad name"}}]})",
       "tools[0].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"}],"tool_choice":"required"})",
       "tool_choice"},
      {R"({"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})",
       "messages[0].tool_calls[0].function.arguments"},
  };
  for (const Case& c : cases) {
    Json case_error = ErrorFor(c.body, &status);
    EXPECT_EQ(status, 400) << c.body;
    EXPECT_EQ(case_error["error"]["type"], "invalid_request_error") << c.body;
    if (c.param == nullptr) {
      EXPECT_TRUE(case_error["error"]["param"].is_null()) << c.body;
    } else {
      EXPECT_EQ(case_error["error"]["param"], c.param) << c.body;
    }
    EXPECT_FALSE(case_error["error"]["message"].get<std::string>().empty());
  }
}

TEST(ParseChatCompletionTest, ToolChoiceNoneDropsTools) {
  auto parsed = ParseChatCompletionRequest(
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"tool_choice":"none",
          "tools":[{"type":"function","function":{"name":"f"}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->generate.tools_size(), 0);
  EXPECT_FALSE(parsed->stream);
  EXPECT_FALSE(parsed->generate.sampling().has_temperature());
}

TEST(ParseEmbeddingsTest, AcceptsStringOrListAndRejectsTokens) {
  auto one = ParseEmbeddingsRequest(R"({"model":"e5","input":"hello"})");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->embed.inputs_size(), 1);
  EXPECT_FALSE(one->base64);
  auto many = ParseEmbeddingsRequest(
      R"({"model":"e5","input":["a","b"],"encoding_format":"base64","user":"u"})");
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->embed.inputs(1), "b");
  EXPECT_TRUE(many->base64);

  for (const char* body : {R"({"model":"e5","input":[1,2,3]})", R"({"model":"e5","input":[]})",
                           R"({"model":"e5"})", R"({"input":"x"})",
                           R"({"model":"e5","input":"x","dimensions":256})",
                           R"({"model":"e5","input":"x","encoding_format":"int8"})"}) {
    auto parsed = ParseEmbeddingsRequest(body);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_EQ(OpenAiErrorFromStatus(parsed.status()).http_status, 400);
  }
  auto tokens = ParseEmbeddingsRequest(R"({"model":"e5","input":[[1,2]]})");
  EXPECT_EQ(Json::parse(OpenAiErrorFromStatus(tokens.status()).body)["error"]["param"], "input[0]");
}

TEST(RenderTest, ChatCompletionWithToolCallsAndUsage) {
  GenerateResponse response;
  response.set_model("m");
  auto* call = response.add_tool_calls();
  call->set_id("call_9");
  call->set_name("lookup");
  (*call->mutable_arguments()->mutable_fields())["q"].set_string_value("rag");
  response.set_finish_reason(tessera::generation::v1::TOOL_CALLS);
  response.mutable_usage()->set_prompt_tokens(12);
  response.mutable_usage()->set_completion_tokens(5);
  Json out = Json::parse(RenderChatCompletion(response, {"chatcmpl-1", 1700000000, "public-name"}));
  EXPECT_EQ(out["id"], "chatcmpl-1");
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["created"], 1700000000);
  EXPECT_EQ(out["model"], "public-name");
  const Json& choice = out["choices"][0];
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["arguments"], R"({"q":"rag"})");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["type"], "function");
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["logprobs"].is_null());
  EXPECT_EQ(out["usage"]["total_tokens"], 17);
}

TEST(RenderTest, StreamChunksAndDone) {
  CompletionContext context{"chatcmpl-2", 1700000001, "m"};
  GenerateStreamResponse first;
  first.add_tokens()->set_text("Hel");
  first.add_tokens()->set_text("lo");
  std::string sse = RenderChatCompletionChunk(first, context, true, true);
  ASSERT_EQ(sse.substr(0, 6), "data: ");
  ASSERT_EQ(sse.substr(sse.size() - 2), "\n\n");
  Json chunk = Json::parse(sse.substr(6));
  EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_EQ(chunk["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chunk["choices"][0]["delta"]["content"], "Hello");
  EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());

  GenerateStreamResponse last;
  last.set_finish_reason(tessera::generation::v1::LENGTH);
  last.mutable_usage()->set_prompt_tokens(3);
  last.mutable_usage()->set_completion_tokens(2);
  std::string tail = RenderChatCompletionChunk(last, context, false, true);
  size_t split = tail.find("\n\ndata: ");
  ASSERT_NE(split, std::string::npos);
  Json finish = Json::parse(tail.substr(6, split - 6));
  Json usage = Json::parse(tail.substr(split + 8));
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(finish["choices"][0]["delta"].contains("content"));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 5);
  // Without include_usage there is no usage chunk.
  EXPECT_EQ(RenderChatCompletionChunk(last, context, false, false).find("usage"), std::string::npos);
  EXPECT_EQ(RenderStreamDone(), "data: [DONE]\n\n");
}

TEST(RenderTest, EmbeddingsFloatAndBase64) {
  EmbedResponse response;
  response.add_embeddings()->add_values(0.5f);
  response.mutable_embeddings(0)->add_values(-1.0f);
  response.mutable_usage()->set_embedding_tokens(4);
  Json floats = Json::parse(RenderEmbeddings(response, "e5", false));
  EXPECT_EQ(floats["object"], "list");
  EXPECT_EQ(floats["data"][0]["embedding"], Json::array({0.5, -1.0}));
  EXPECT_EQ(floats["usage"]["prompt_tokens"], 4);
  Json encoded = Json::parse(RenderEmbeddings(response, "e5", true));
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(encoded["data"][0]["embedding"].get<std::string>(), &bytes));
  ASSERT_EQ(bytes.size(), 8u);
  // 0.5f = 0x3f000000, -1.0f = 0xbf800000, little-endian.
  EXPECT_EQ(bytes, std::string("\x00\x00\x00\x3f\x00\x00\x80\xbf", 8));
}

TEST(ErrorMappingTest, StatusCodesMapToHttpAndTypes) {
  auto check = [](absl::Status status, int http, const char* type) {
    OpenAiError error = OpenAiErrorFromStatus(status);
    EXPECT_EQ(error.http_status, http) << status;
    Json body = Json::parse(error.body);
    EXPECT_EQ(body["error"]["type"], type);
    EXPECT_EQ(body["error"]["message"], std::string(status.message()));
  };
  check(absl::UnauthenticatedError("invalid API key"), 401, "authentication_error");
  check(absl::PermissionDeniedError("admins only"), 403, "permission_error");
  check(absl::NotFoundError("no model"), 404, "not_found_error");
  check(absl::ResourceExhaustedError("slow down"), 429, "rate_limit_error");
  check(absl::UnavailableError("backend down"), 503, "service_unavailable");
  check(absl::DeadlineExceededError("took too long"), 504, "timeout");
  check(absl::InternalError("boom"), 500, "server_error");
  Json coded = Json::parse(
      OpenAiErrorFromStatus(WithOpenAiParam(absl::NotFoundError("no such model"), "model",
                                            "model_not_found"))
          .body);
  EXPECT_EQ(coded["error"]["param"], "model");
  EXPECT_EQ(coded["error"]["code"], "model_not_found");
}

}  // namespace
}  // namespace tessera::gateway
