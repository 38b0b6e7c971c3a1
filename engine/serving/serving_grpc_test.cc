// tessera.generation.v1 over loopback gRPC with the serving engine behind it:
// concurrent streams batch together and each gives the tokens of the
// one-at-a-time server; the last message carries usage and timings; a client
// that cancels mid-stream frees its sequence.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/generation_service.h"
#include "engine/serving/test_models.h"
#include "gtest/gtest.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::serving {
namespace {

using generation::v1::GenerationService;

struct TestServer {
  std::unique_ptr<engine::GenerationServiceImpl> service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<GenerationService::Stub> stub;
};

TestServer Serve(const llama::LlamaModel* model, bool batching) {
  engine::ServedModels models;
  models.generator = model;
  models.generator_name = "tiny";
  models.generator_serving.batching = batching;
  models.generator_serving.kv_cache_mb = 16;
  models.generator_serving.max_batch_tokens = 64;
  TestServer out;
  out.service = std::make_unique<engine::GenerationServiceImpl>(models);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(out.service.get());
  out.server = builder.BuildAndStart();
  out.stub = GenerationService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  return out;
}

generation::v1::GenerateRequest Request(int i) {
  generation::v1::GenerateRequest request;
  request.set_prompt(absl::StrCat("Request ", i, ": tell me about the number ", i * 7919,
                                  i % 2 ? " and its neighbours in some detail" : ""));
  request.mutable_sampling()->set_max_tokens(4 + (i * 5) % 20);
  if (i % 3 == 0) {
    request.mutable_sampling()->set_temperature(0.8f);
    request.mutable_sampling()->set_seed(100 + i);
  }
  return request;
}

TEST(ServingGrpcTest, ConcurrentStreamsBatchAndMatchOneAtATime) {
  auto model = LoadRandomTinyLlama("gguf", "q8_0");
  ASSERT_TRUE(model.ok()) << model.status();
  TestServer batched = Serve(model->get(), true);
  TestServer plain = Serve(model->get(), false);
  constexpr int kStreams = 12;
  std::vector<std::vector<int32_t>> streamed(kStreams);
  std::vector<std::string> texts(kStreams);
  std::vector<generation::v1::GenerateStreamResponse> last(kStreams);
  std::vector<std::thread> clients;
  for (int i = 0; i < kStreams; ++i) {
    clients.emplace_back([&, i] {
      grpc::ClientContext context;
      auto reader = batched.stub->GenerateStream(&context, Request(i));
      generation::v1::GenerateStreamResponse chunk;
      while (reader->Read(&chunk)) {
        for (const auto& token : chunk.tokens()) {
          streamed[i].push_back(token.token_id());
          texts[i] += token.text();
        }
        last[i] = chunk;
      }
      grpc::Status status = reader->Finish();
      EXPECT_TRUE(status.ok()) << status.error_message();
    });
  }
  for (auto& client : clients) client.join();
  for (int i = 0; i < kStreams; ++i) {
    grpc::ClientContext context;
    generation::v1::GenerateResponse want;
    ASSERT_TRUE(plain.stub->Generate(&context, Request(i), &want).ok());
    std::vector<int32_t> want_ids;
    for (const auto& token : want.tokens()) want_ids.push_back(token.token_id());
    EXPECT_EQ(streamed[i], want_ids) << "stream " << i;
    EXPECT_EQ(texts[i], want.text());
    EXPECT_EQ(last[i].finish_reason(), want.finish_reason());
    EXPECT_EQ(last[i].usage().completion_tokens(), static_cast<int>(want_ids.size()));
    EXPECT_EQ(last[i].usage().prompt_tokens(), want.usage().prompt_tokens());
    EXPECT_GT(last[i].timings().ttft_ms(), 0);
    EXPECT_GT(last[i].timings().total_ms(), 0);
    // Unary through the engine gives the same.
    grpc::ClientContext unary_context;
    generation::v1::GenerateResponse unary;
    ASSERT_TRUE(batched.stub->Generate(&unary_context, Request(i), &unary).ok());
    EXPECT_EQ(unary.text(), want.text());
  }
  batched.server->Shutdown();
  plain.server->Shutdown();
}

TEST(ServingGrpcTest, ClientCancellationAndDeadlinesStopTheSequence) {
  auto model = LoadRandomTinyLlama("gguf", "q8_0");
  ASSERT_TRUE(model.ok()) << model.status();
  TestServer batched = Serve(model->get(), true);
  generation::v1::GenerateRequest request = Request(1);
  request.mutable_sampling()->set_max_tokens(1500);
  {
    grpc::ClientContext context;
    auto reader = batched.stub->GenerateStream(&context, request);
    generation::v1::GenerateStreamResponse chunk;
    int tokens = 0;
    while (tokens < 3 && reader->Read(&chunk)) tokens += chunk.tokens_size();
    context.TryCancel();
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    generation::v1::GenerateResponse response;
    EXPECT_EQ(batched.stub->Generate(&context, request, &response).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // The server stays usable.
  grpc::ClientContext context;
  generation::v1::GenerateResponse response;
  ASSERT_TRUE(batched.stub->Generate(&context, Request(2), &response).ok());
  EXPECT_GT(response.tokens_size(), 0);
  batched.server->Shutdown();
}

}  // namespace
}  // namespace tessera::serving
