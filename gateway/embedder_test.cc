#include "gateway/embedder.h"

#include <cmath>

#include "gtest/gtest.h"

namespace tessera::gateway {
namespace {

TEST(EmbedderTest, NormalizeAndDot) {
  std::vector<float> v = {3, 4};
  ASSERT_TRUE(NormalizeEmbedding(v));
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  EXPECT_NEAR(Dot(v, v), 1.0, 1e-6);
  std::vector<float> zero = {0, 0};
  EXPECT_FALSE(NormalizeEmbedding(zero));
  std::vector<float> nan = {NAN, 1};
  EXPECT_FALSE(NormalizeEmbedding(nan));
}

TEST(EmbedderTest, EmbedNormalizedChecksWhatTheEmbedderReturns) {
  std::vector<std::vector<float>> answer;
  FunctionEmbedder embedder("m", [&](const tessera::generation::v1::EmbedRequest& request)
                                     -> absl::StatusOr<tessera::generation::v1::EmbedResponse> {
    EXPECT_EQ(request.model(), "m");
    tessera::generation::v1::EmbedResponse response;
    for (const auto& vector : answer) {
      auto* embedding = response.add_embeddings();
      for (float value : vector) embedding->add_values(value);
    }
    return response;
  });
  answer = {{0, 2}, {1, 0}};
  auto ok = EmbedNormalized(embedder, {"a", "b"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FLOAT_EQ((*ok)[0][1], 1.0f);
  answer = {{0, 2}};
  EXPECT_NE(EmbedNormalized(embedder, {"a", "b"}).status().message().find("1 vectors for 2"),
            std::string::npos);
  answer = {{0, 2}, {1, 0, 0}};
  EXPECT_NE(EmbedNormalized(embedder, {"a", "b"}).status().message().find("text 1"),
            std::string::npos);
  answer = {{0, 0}};
  EXPECT_FALSE(EmbedNormalized(embedder, {"a"}).ok());
}

TEST(EmbedderTest, QuestionTextIsTheLastUserMessageElseThePrompt) {
  tessera::generation::v1::GenerateRequest request;
  request.set_prompt("the prompt");
  EXPECT_EQ(QuestionText(request), "the prompt");
  auto* user = request.add_messages();
  user->set_role("user");
  user->set_content("first question");
  auto* assistant = request.add_messages();
  assistant->set_role("assistant");
  assistant->set_content("an answer");
  EXPECT_EQ(QuestionText(request), "first question");
  auto* second = request.add_messages();
  second->set_role("user");
  second->set_content("second question");
  EXPECT_EQ(QuestionText(request), "second question");
}

}  // namespace
}  // namespace tessera::gateway
