// tessera.generation.v1 through the real server over loopback gRPC, with models
// loaded from files in the real formats (random weights written by make-random:
// a GGUF generator, safetensors encoders). Checks determinism, streaming,
// logprobs, embeddings, scores, tokenization and the errors.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <string>

#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "tessera/generation/v1/generation.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using generation::v1::GenerationService;

class GenerationIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = new std::string(testing::MakeTempDir("models"));
    ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", *models_ + "/tiny.gguf", 3,
                                       "q8_0").ok());
    ASSERT_TRUE(model::MakeRandomModel("bert", "tiny-bert", "safetensors", *models_ + "/embedder",
                                       4, "f32").ok());
    ASSERT_TRUE(model::MakeRandomModel("bert-cross-encoder", "tiny-bert", "safetensors",
                                       *models_ + "/reranker", 5, "f32").ok());
  }
  static void TearDownTestSuite() { delete models_; }

  void SetUp() override {
    server_ = std::make_unique<testing::ServerProcess>(
        testing::MakeTempDir("generation"),
        std::vector<std::string>{"--models_dir=" + *models_, "--generator_model=tiny.gguf",
                                 "--embedder_model=embedder", "--reranker_model=reranker"});
    ASSERT_TRUE(server_->Start().ok());
    stub_ = GenerationService::NewStub(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  }

  generation::v1::GenerateRequest Request(const std::string& prompt) {
    generation::v1::GenerateRequest request;
    request.set_prompt(prompt);
    request.mutable_sampling()->set_max_tokens(12);
    request.mutable_sampling()->set_temperature(0.8f);
    request.mutable_sampling()->set_seed(42);
    return request;
  }

  static std::string* models_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<GenerationService::Stub> stub_;
};

std::string* GenerationIntegrationTest::models_ = nullptr;

TEST_F(GenerationIntegrationTest, ListsTheLoadedModels) {
  grpc::ClientContext context;
  generation::v1::ListModelsResponse response;
  ASSERT_TRUE(stub_->ListModels(&context, {}, &response).ok());
  ASSERT_EQ(response.models_size(), 3);
  EXPECT_EQ(response.models(0).role(), "generator");
  EXPECT_EQ(response.models(0).name(), "tiny.gguf");
  EXPECT_EQ(response.models(1).role(), "embedder");
  EXPECT_GT(response.models(1).embedding_dimension(), 0);
  EXPECT_EQ(response.models(2).role(), "reranker");
}

TEST_F(GenerationIntegrationTest, SameSeedSameTextAndStreamingMatchesUnary) {
  generation::v1::GenerateResponse first, second;
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->Generate(&context, Request("Once upon a time"), &first);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Generate(&context, Request("Once upon a time"), &second).ok());
  }
  EXPECT_EQ(first.text(), second.text());
  ASSERT_EQ(first.tokens_size(), second.tokens_size());
  for (int i = 0; i < first.tokens_size(); ++i) {
    EXPECT_EQ(first.tokens(i).token_id(), second.tokens(i).token_id());
  }
  EXPECT_GT(first.usage().prompt_tokens(), 0);
  EXPECT_EQ(first.usage().completion_tokens(), first.tokens_size());
  EXPECT_NE(first.finish_reason(), generation::v1::FINISH_REASON_UNSPECIFIED);

  grpc::ClientContext context;
  auto reader = stub_->GenerateStream(&context, Request("Once upon a time"));
  generation::v1::GenerateStreamResponse chunk;
  std::string streamed;
  int tokens = 0;
  generation::v1::GenerateStreamResponse last;
  while (reader->Read(&chunk)) {
    for (const auto& token : chunk.tokens()) {
      streamed += token.text();
      ++tokens;
    }
    last = chunk;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(streamed, first.text());
  EXPECT_EQ(tokens, first.tokens_size());
  EXPECT_EQ(last.finish_reason(), first.finish_reason());
  EXPECT_EQ(last.usage().completion_tokens(), first.usage().completion_tokens());
  EXPECT_GT(last.timings().total_ms(), 0);
}

TEST_F(GenerationIntegrationTest, LogprobsWithAlternatives) {
  auto request = Request("Hello");
  request.mutable_sampling()->set_temperature(0);
  request.mutable_sampling()->set_logprobs(true);
  request.mutable_sampling()->set_top_logprobs(3);
  grpc::ClientContext context;
  generation::v1::GenerateResponse response;
  ASSERT_TRUE(stub_->Generate(&context, request, &response).ok());
  ASSERT_GT(response.tokens_size(), 0);
  for (const auto& token : response.tokens()) {
    EXPECT_LE(token.logprob(), 0.0f);
    ASSERT_EQ(token.top_logprobs_size(), 3);
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(token.top_logprobs(0).token_id(), token.token_id());
    EXPECT_FLOAT_EQ(token.top_logprobs(0).logprob(), token.logprob());
    EXPECT_GE(token.top_logprobs(0).logprob(), token.top_logprobs(1).logprob());
  }
}

TEST_F(GenerationIntegrationTest, EmbedScoreAndTokenize) {
  {
    grpc::ClientContext context;
    generation::v1::EmbedRequest request;
    request.add_inputs("vitamin d and bone density");
    request.add_inputs("aspirin");
    generation::v1::EmbedResponse response;
    ASSERT_TRUE(stub_->Embed(&context, request, &response).ok());
    ASSERT_EQ(response.embeddings_size(), 2);
    EXPECT_EQ(response.embeddings(0).values_size(), response.dimension());
  }
  {
    grpc::ClientContext context;
    generation::v1::ScoreRequest request;
    request.set_query("bone density");
    request.add_passages("vitamin d");
    request.add_passages("aspirin");
    request.add_passages("insulin");
    generation::v1::ScoreResponse response;
    ASSERT_TRUE(stub_->Score(&context, request, &response).ok());
    EXPECT_EQ(response.scores_size(), 3);
  }
  {
    grpc::ClientContext context;
    generation::v1::TokenizeRequest request;
    request.set_model("embedder");
    request.set_text("hello world");
    request.set_add_special_tokens(true);
    generation::v1::TokenizeResponse response;
    ASSERT_TRUE(stub_->Tokenize(&context, request, &response).ok());
    ASSERT_GE(response.token_ids_size(), 4);
    EXPECT_EQ(response.tokens(0), "[CLS]");
    EXPECT_EQ(response.tokens(response.tokens_size() - 1), "[SEP]");
  }
}

TEST_F(GenerationIntegrationTest, BadRequestsGetClearErrors) {
  generation::v1::GenerateResponse response;
  {
    grpc::ClientContext context;
    generation::v1::GenerateRequest empty;
    EXPECT_EQ(stub_->Generate(&context, empty, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    auto request = Request("x");
    request.set_model("gpt-4");
    grpc::Status status = stub_->Generate(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(status.error_message().find("gpt-4"), std::string::npos);
  }
  {
    grpc::ClientContext context;
    auto request = Request("x");
    request.mutable_sampling()->set_top_p(2.0f);
    EXPECT_EQ(stub_->Generate(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST(GenerationWithoutModelsTest, RpcsSayWhichModelIsMissing) {
  testing::ServerProcess server(testing::MakeTempDir("no_models"));
  ASSERT_TRUE(server.Start().ok());
  auto stub = GenerationService::NewStub(
      grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  generation::v1::GenerateRequest request;
  request.set_prompt("hi");
  generation::v1::GenerateResponse response;
  grpc::Status status = stub->Generate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("generator"), std::string::npos);
}

}  // namespace
}  // namespace tessera
