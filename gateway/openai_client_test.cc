#include "gateway/openai_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/openai_api.h"
#include "gateway/testing/raw_http_server.h"
#include "services/http_server.h"

namespace tessera::gateway {
namespace {

using Json = nlohmann::json;
using services::HttpRequest;
using services::HttpResponse;
using services::HttpServer;
using tessera::generation::v1::EmbedRequest;
using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;
using testing::RawHttpServer;
using testing::RawRequest;

constexpr char kKeyEnv[] = "TESSERA_TEST_BACKEND_KEY";
constexpr char kKey[] = "sk-test-5f2b9c";

// A realistic chat.completion from OpenAI's API.
const char kCompletion[] = R"({
  "id": "chatcmpl-AbC123", "object": "chat.completion", "created": 1718000000,
  "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1234",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the capital of France.", "refusal": null},
               "logprobs": null, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 14, "completion_tokens": 8, "total_tokens": 22,
            "prompt_tokens_details": {"cached_tokens": 0}}
})";

const char kStream[] =
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1718000001,\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1718000001,\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1718000001,\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    ": keep-alive comment\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1718000001,\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1718000001,\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1718000001,\"model\":\"m\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n"
    "data: [DONE]\n\n";

const char kToolStream[] =
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
    "[{\"index\":0,\"id\":\"call_abc\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"Oslo\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: [DONE]\n\n";

GenerateRequest Question(const std::string& text = "What is the capital of France?") {
  GenerateRequest request;
  request.set_model("gpt-4o-mini");
  auto* message = request.add_messages();
  message->set_role("user");
  message->set_content(text);
  request.mutable_sampling()->set_temperature(0);
  request.mutable_sampling()->set_max_tokens(32);
  return request;
}

class OpenAiClientTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv(kKeyEnv, kKey, 1); }

  // Starts `server_` with the routes added by the test.
  void StartServer() { ASSERT_TRUE(server_.Start("127.0.0.1", 0, 4).ok()); }

  OpenAiClientOptions Options(int port) {
    OpenAiClientOptions options;
    options.base_url = absl::StrCat("http://127.0.0.1:", port, "/v1");
    options.api_key_env = kKeyEnv;
    options.initial_backoff = absl::Milliseconds(100);
    options.max_backoff = absl::Seconds(2);
    options.sleep = [this](absl::Duration d) {
      absl::MutexLock lock(&mu_);
      sleeps_.push_back(d);
    };
    return options;
  }

  std::unique_ptr<OpenAiClient> Client(OpenAiClientOptions options) {
    auto client = OpenAiClient::Create(std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::vector<absl::Duration> Sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

  HttpServer server_;
  absl::Mutex mu_;
  std::vector<absl::Duration> sleeps_;
};

TEST(OpenAiClientMappingTest, BuildsChatCompletionBody) {
  GenerateRequest request;
  request.set_prompt("Say hi");
  request.set_user("u-7");
  request.mutable_sampling()->set_temperature(0.25f);
  request.mutable_sampling()->set_seed(42);
  request.mutable_sampling()->set_top_k(40);
  request.mutable_sampling()->add_stop("\n");
  auto* tool = request.add_tools();
  tool->set_name("search");
  tool->set_parameters_json_schema(R"({"type":"object"})");
  OpenAiClientOptions options;
  options.default_model = "fallback-model";
  Json body = BuildChatCompletionBody(request, options, true);
  EXPECT_EQ(body["model"], "fallback-model");
  EXPECT_EQ(body["messages"], Json::parse(R"([{"role":"user","content":"Say hi"}])"));
  EXPECT_EQ(body["temperature"], 0.25);
  EXPECT_EQ(body["seed"], 42);
  EXPECT_FALSE(body.contains("top_k"));  // not an OpenAI parameter
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_EQ(body["stop"], Json::array({"\n"}));
  EXPECT_EQ(body["tools"][0]["function"]["parameters"], Json::parse(R"({"type":"object"})"));
  EXPECT_EQ(body["user"], "u-7");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  options.extended_sampling = true;
  EXPECT_EQ(BuildChatCompletionBody(request, options, false)["top_k"], 40);
  EXPECT_FALSE(BuildChatCompletionBody(request, options, false).contains("stream"));
}

TEST(OpenAiClientMappingTest, ParsesRetryAfter) {
  absl::Time now = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("2", now), absl::Seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 0.5 ", now), absl::Milliseconds(500));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now), absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), absl::ZeroDuration());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-1", now).has_value());
}

TEST(OpenAiClientMappingTest, CreateValidatesOptions) {
  OpenAiClientOptions options;
  options.base_url = "127.0.0.1:8000";
  EXPECT_EQ(OpenAiClient::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.base_url = "http://127.0.0.1:8000/v1";
  options.api_key_env = "TESSERA_TEST_SURELY_UNSET_VARIABLE";
  auto missing = OpenAiClient::Create(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "TESSERA_TEST_SURELY_UNSET_VARIABLE"));
}

TEST_F(OpenAiClientTest, GenerateSendsAuthAndMapsResponse) {
  std::string seen_auth, seen_body, seen_content_type;
  server_.Route("POST", "/v1/chat/completions", [&](const HttpRequest& request) {
    seen_auth = request.headers.count("authorization") ? request.headers.at("authorization") : "";
    seen_content_type = request.headers.count("content-type") ? request.headers.at("content-type") : "";
    seen_body = request.body;
    return HttpResponse{200, "application/json", kCompletion};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  GenerateRequest request = Question();
  request.set_request_id("req-42");
  auto response = client->Generate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(seen_auth, absl::StrCat("Bearer ", kKey));
  EXPECT_EQ(seen_content_type, "application/json");
  Json body = Json::parse(seen_body);
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_EQ(body["messages"][0]["content"], "What is the capital of France?");
  EXPECT_EQ(body["temperature"], 0);
  EXPECT_EQ(body["max_tokens"], 32);
  EXPECT_EQ(response->text(), "Paris is the capital of France.");
  EXPECT_EQ(response->model(), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(response->request_id(), "req-42");
  EXPECT_EQ(response->finish_reason(), tessera::generation::v1::STOP);
  EXPECT_EQ(response->usage().prompt_tokens(), 14);
  EXPECT_EQ(response->usage().completion_tokens(), 8);
  EXPECT_EQ(response->usage().total_tokens(), 22);
  EXPECT_GT(response->timings().total_ms(), 0);
}

TEST_F(OpenAiClientTest, RetriesA429ThenSucceeds) {
  std::atomic<int> calls{0};
  server_.Route("POST", "/v1/chat/completions", [&](const HttpRequest&) {
    if (calls.fetch_add(1) == 0) {
      return HttpResponse{429, "application/json",
                          R"({"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}})"};
    }
    return HttpResponse{200, "application/json", kCompletion};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  auto response = client->Generate(Question());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "Paris is the capital of France.");
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(client->stats().attempts, 2);
  EXPECT_EQ(client->stats().retries, 1);
  std::vector<absl::Duration> sleeps = Sleeps();
  ASSERT_EQ(sleeps.size(), 1u);
  // First backoff: base 100 ms with equal jitter, so in [50, 100] ms.
  EXPECT_GE(sleeps[0], absl::Milliseconds(50));
  EXPECT_LE(sleeps[0], absl::Milliseconds(100));
}

TEST_F(OpenAiClientTest, ExhaustedRetriesBackOffExponentially) {
  std::atomic<int> calls{0};
  server_.Route("POST", "/v1/chat/completions", [&](const HttpRequest&) {
    calls.fetch_add(1);
    return HttpResponse{503, "application/json",
                        R"({"error":{"message":"The server is overloaded","type":"server_error"}})"};
  });
  StartServer();
  OpenAiClientOptions options = Options(server_.port());
  options.max_retries = 3;
  auto client = Client(options);
  auto response = client->Generate(Question());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(response.status().message(), "The server is overloaded"));
  EXPECT_FALSE(absl::StrContains(response.status().message(), kKey));
  EXPECT_EQ(calls.load(), 4);
  std::vector<absl::Duration> sleeps = Sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    absl::Duration base = absl::Milliseconds(100) * (1 << i);
    EXPECT_GE(sleeps[i], base / 2) << i;
    EXPECT_LE(sleeps[i], base) << i;
  }
}

TEST_F(OpenAiClientTest, ClientErrorsAreNotRetried) {
  std::atomic<int> calls{0};
  server_.Route("POST", "/v1/chat/completions", [&](const HttpRequest&) {
    calls.fetch_add(1);
    return HttpResponse{400, "application/json",
                        R"({"error":{"message":"'messages' must contain at least one message","type":"invalid_request_error","param":"messages","code":null}})"};
  });
  server_.Route("POST", "/v1/embeddings", [&](const HttpRequest&) {
    return HttpResponse{401, "application/json",
                        R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})"};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  auto response = client->Generate(Question());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(response.status().message(), "must contain at least one message"));
  EXPECT_EQ(calls.load(), 1);
  EmbedRequest embed;
  embed.add_inputs("x");
  EXPECT_EQ(client->Embed(embed).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Sleeps().empty());
}

TEST_F(OpenAiClientTest, HonoursRetryAfterAndDroppedConnections) {
  std::atomic<int> calls{0};
  RawHttpServer raw([&](const RawRequest&) -> std::string {
    switch (calls.fetch_add(1)) {
      case 0:
        return "";  // drop the connection without answering
      case 1:
        return RawHttpServer::Response(
            429, "application/json", R"({"error":{"message":"slow down"}})", {"Retry-After: 3"});
      default:
        return RawHttpServer::Response(200, "application/json", kCompletion);
    }
  });
  ASSERT_TRUE(raw.Start().ok());
  OpenAiClientOptions options = Options(raw.port());
  options.max_retries = 3;
  auto client = Client(options);
  auto response = client->Generate(Question());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(calls.load(), 3);
  std::vector<absl::Duration> sleeps = Sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_LE(sleeps[0], absl::Milliseconds(100));  // backoff after the dropped connection
  EXPECT_EQ(sleeps[1], absl::Seconds(3));          // exactly what Retry-After said
  raw.Stop();
}

TEST_F(OpenAiClientTest, RetryAfterBeyondLimitFailsAtOnce) {
  RawHttpServer raw([](const RawRequest&) {
    return RawHttpServer::Response(429, "application/json",
                                   R"({"error":{"message":"quota exceeded"}})",
                                   {"Retry-After: 3600"});
  });
  ASSERT_TRUE(raw.Start().ok());
  auto client = Client(Options(raw.port()));
  auto response = client->Generate(Question());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client->stats().attempts, 1);
  EXPECT_TRUE(Sleeps().empty());
  raw.Stop();
}

TEST_F(OpenAiClientTest, ConnectionRefusedIsUnavailableAfterRetries) {
  // Find a port nobody listens on: start and stop a server.
  int port;
  {
    RawHttpServer raw([](const RawRequest&) { return std::string(); });
    ASSERT_TRUE(raw.Start().ok());
    port = raw.port();
    raw.Stop();
  }
  OpenAiClientOptions options = Options(port);
  options.max_retries = 2;
  auto client = Client(options);
  auto response = client->Generate(Question());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client->stats().attempts, 3);
}

TEST_F(OpenAiClientTest, RequestTimeout) {
  server_.Route("POST", "/v1/chat/completions", [](const HttpRequest&) {
    absl::SleepFor(absl::Milliseconds(1500));
    return HttpResponse{200, "application/json", kCompletion};
  });
  StartServer();
  OpenAiClientOptions options = Options(server_.port());
  options.request_timeout = absl::Milliseconds(300);
  options.max_retries = 0;
  auto client = Client(options);
  absl::Time start = absl::Now();
  auto response = client->Generate(Question());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1200));
}

TEST_F(OpenAiClientTest, ReusesConnections) {
  server_.Route("POST", "/v1/chat/completions", [](const HttpRequest&) {
    return HttpResponse{200, "application/json", kCompletion};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Generate(Question()).ok());
  EXPECT_EQ(client->stats().attempts, 5);
  EXPECT_EQ(client->stats().connections_opened, 1);

  // Four threads at once: at most one connection per concurrent handle.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) ok += client->Generate(Question()).ok() ? 1 : 0;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_LE(client->stats().connections_opened, 4);
}

TEST_F(OpenAiClientTest, StreamsServerSentEvents) {
  std::string seen_body;
  server_.Route("POST", "/v1/chat/completions", [&](const HttpRequest& request) {
    seen_body = request.body;
    return HttpResponse{200, "text/event-stream", kStream};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  std::vector<GenerateStreamResponse> chunks;
  absl::Status status = client->GenerateStream(Question(), [&](const GenerateStreamResponse& chunk) {
    chunks.push_back(chunk);
    return true;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Json::parse(seen_body)["stream"], true);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].tokens(0).text(), "Hel");
  EXPECT_EQ(chunks[1].tokens(0).text(), "lo");
  EXPECT_EQ(chunks[2].tokens(0).text(), " world");
  EXPECT_EQ(chunks[0].request_id(), "chatcmpl-S1");
  const GenerateStreamResponse& last = chunks[3];
  EXPECT_EQ(last.tokens_size(), 0);
  EXPECT_EQ(last.finish_reason(), tessera::generation::v1::LENGTH);
  EXPECT_EQ(last.usage().prompt_tokens(), 5);
  EXPECT_EQ(last.usage().completion_tokens(), 3);
  EXPECT_EQ(last.usage().total_tokens(), 8);
  EXPECT_GE(last.timings().total_ms(), last.timings().ttft_ms());
}

TEST_F(OpenAiClientTest, StreamAssemblesToolCallFragments) {
  server_.Route("POST", "/v1/chat/completions", [](const HttpRequest&) {
    return HttpResponse{200, "text/event-stream", kToolStream};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  std::vector<GenerateStreamResponse> chunks;
  ASSERT_TRUE(client
                  ->GenerateStream(Question(),
                                   [&](const GenerateStreamResponse& chunk) {
                                     chunks.push_back(chunk);
                                     return true;
                                   })
                  .ok());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].finish_reason(), tessera::generation::v1::TOOL_CALLS);
  ASSERT_EQ(chunks[0].tool_calls_size(), 1);
  EXPECT_EQ(chunks[0].tool_calls(0).id(), "call_abc");
  EXPECT_EQ(chunks[0].tool_calls(0).name(), "get_weather");
  EXPECT_EQ(chunks[0].tool_calls(0).arguments().fields().at("city").string_value(), "Oslo");
}

TEST_F(OpenAiClientTest, StreamCancelAndMidStreamError) {
  server_.Route("POST", "/v1/chat/completions", [](const HttpRequest& request) {
    if (absl::StrContains(request.body, "fail")) {
      return HttpResponse{200, "text/event-stream",
                          "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
                          "data: {\"error\":{\"message\":\"model crashed\"}}\n\n"};
    }
    return HttpResponse{200, "text/event-stream", kStream};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  int seen = 0;
  absl::Status cancelled =
      client->GenerateStream(Question(), [&](const GenerateStreamResponse&) { return ++seen < 2; });
  EXPECT_EQ(cancelled.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(seen, 2);
  absl::Status failed =
      client->GenerateStream(Question("please fail"), [](const GenerateStreamResponse&) { return true; });
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(failed.message(), "model crashed"));
  // Nothing retried after text was delivered.
  EXPECT_EQ(client->stats().retries, 0);
}

TEST_F(OpenAiClientTest, EmbeddingsOrderedByIndexAndNormalised) {
  std::string seen_body;
  server_.Route("POST", "/v1/embeddings", [&](const HttpRequest& request) {
    seen_body = request.body;
    return HttpResponse{200, "application/json", R"({
      "object": "list", "model": "text-embedding-3-small",
      "data": [{"object": "embedding", "index": 1, "embedding": [0.0, 2.0]},
               {"object": "embedding", "index": 0, "embedding": [3.0, 4.0]}],
      "usage": {"prompt_tokens": 6, "total_tokens": 6}})"};
  });
  StartServer();
  auto client = Client(Options(server_.port()));
  EmbedRequest request;
  request.set_model("text-embedding-3-small");
  request.add_inputs("first");
  request.add_inputs("second");
  request.set_normalize(true);
  auto response = client->Embed(request);
  ASSERT_TRUE(response.ok()) << response.status();
  Json body = Json::parse(seen_body);
  EXPECT_EQ(body["input"], Json::array({"first", "second"}));
  EXPECT_EQ(body["encoding_format"], "float");
  ASSERT_EQ(response->embeddings_size(), 2);
  EXPECT_EQ(response->dimension(), 2);
  EXPECT_FLOAT_EQ(response->embeddings(0).values(0), 0.6f);  // (3,4)/5
  EXPECT_FLOAT_EQ(response->embeddings(0).values(1), 0.8f);
  EXPECT_FLOAT_EQ(response->embeddings(1).values(1), 1.0f);
  EXPECT_EQ(response->usage().embedding_tokens(), 6);
}

// The client against the gateway's own server side: what one renders, the
// other parses, with every field intact.
TEST_F(OpenAiClientTest, RoundTripsThroughOpenAiApi) {
  std::atomic<int> streamed{0};
  server_.Route("POST", "/v1/chat/completions", [&](const HttpRequest& http) {
    auto parsed = ParseChatCompletionRequest(http.body);
    if (!parsed.ok()) {
      OpenAiError error = OpenAiErrorFromStatus(parsed.status());
      return HttpResponse{error.http_status, "application/json", error.body};
    }
    const GenerateRequest& request = parsed->generate;
    // Echo what arrived, so the test can check the request mapping.
    std::string echo = absl::StrCat(request.messages_size(), "|", request.messages(1).role(), "|",
                                    request.messages(1).tool_calls(0).name(), "|",
                                    request.messages(2).tool_call_id(), "|",
                                    request.sampling().seed(), "|", request.tools(0).name());
    CompletionContext context{"chatcmpl-rt", 1718000000, request.model()};
    if (!parsed->stream) {
      GenerateResponse response;
      response.set_text(echo);
      response.set_finish_reason(tessera::generation::v1::STOP);
      response.mutable_usage()->set_prompt_tokens(9);
      response.mutable_usage()->set_completion_tokens(4);
      return HttpResponse{200, "application/json", RenderChatCompletion(response, context)};
    }
    streamed.fetch_add(1);
    std::string sse;
    GenerateStreamResponse piece;
    piece.add_tokens()->set_text(echo.substr(0, 3));
    sse += RenderChatCompletionChunk(piece, context, true, parsed->include_usage);
    piece.mutable_tokens(0)->set_text(echo.substr(3));
    sse += RenderChatCompletionChunk(piece, context, false, parsed->include_usage);
    GenerateStreamResponse last;
    last.set_finish_reason(tessera::generation::v1::STOP);
    last.mutable_usage()->set_prompt_tokens(9);
    last.mutable_usage()->set_completion_tokens(2);
    sse += RenderChatCompletionChunk(last, context, false, parsed->include_usage);
    sse += RenderStreamDone();
    return HttpResponse{200, "text/event-stream", sse};
  });
  StartServer();
  auto client = Client(Options(server_.port()));

  GenerateRequest request = Question();
  auto* assistant = request.add_messages();
  assistant->set_role("assistant");
  auto* call = assistant->add_tool_calls();
  call->set_id("call_1");
  call->set_name("lookup");
  (*call->mutable_arguments()->mutable_fields())["q"].set_string_value("x");
  auto* tool_reply = request.add_messages();
  tool_reply->set_role("tool");
  tool_reply->set_tool_call_id("call_1");
  tool_reply->set_content("found");
  request.mutable_sampling()->set_seed(1234);
  auto* tool = request.add_tools();
  tool->set_name("lookup");
  tool->set_parameters_json_schema(R"({"type":"object","properties":{"q":{"type":"string"}}})");

  const std::string expected = "3|assistant|lookup|call_1|1234|lookup";
  auto response = client->Generate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), expected);
  EXPECT_EQ(response->usage().total_tokens(), 13);
  EXPECT_EQ(response->model(), "gpt-4o-mini");

  std::string text;
  GenerateStreamResponse final_chunk;
  ASSERT_TRUE(client
                  ->GenerateStream(request,
                                   [&](const GenerateStreamResponse& chunk) {
                                     for (const auto& token : chunk.tokens()) text += token.text();
                                     if (chunk.finish_reason() !=
                                         tessera::generation::v1::FINISH_REASON_UNSPECIFIED) {
                                       final_chunk = chunk;
                                     }
                                     return true;
                                   })
                  .ok());
  EXPECT_EQ(streamed.load(), 1);
  EXPECT_EQ(text, expected);
  EXPECT_EQ(final_chunk.finish_reason(), tessera::generation::v1::STOP);
  EXPECT_EQ(final_chunk.usage().total_tokens(), 11);
}

}  // namespace
}  // namespace tessera::gateway
