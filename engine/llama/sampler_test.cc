#include "engine/llama/sampler.h"

#include <cmath>
#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::llama {
namespace {

std::vector<int32_t> SampleMany(const SamplingOptions& options, const std::vector<float>& logits,
                                int count) {
  Sampler sampler(options, static_cast<int>(logits.size()));
  std::vector<int32_t> tokens;
  for (int i = 0; i < count; ++i) {
    std::vector<float> work = logits;
    tokens.push_back(sampler.Sample(absl::MakeSpan(work), {}));
  }
  return tokens;
}

TEST(SamplerTest, GreedyTakesTheArgmax) {
  SamplingOptions options;
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  EXPECT_EQ(SampleMany(options, logits, 3), (std::vector<int32_t>{1, 1, 1}));
  options.temperature = 1.0f;
  options.top_k = 1;
  EXPECT_EQ(SampleMany(options, logits, 3), (std::vector<int32_t>{1, 1, 1}));
}

TEST(SamplerTest, RepetitionPenaltyDemotesSeenTokens) {
  SamplingOptions options;
  options.repetition_penalty = 1.5f;
  Sampler sampler(options, 4);
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  const std::vector<int32_t> history = {1, 1};
  EXPECT_EQ(sampler.Sample(absl::MakeSpan(logits), history), 3);
  EXPECT_FLOAT_EQ(logits[1], 2.0f / 1.5f);  // Penalised once, though seen twice.
  std::vector<float> negative = {-1.0f, -2.0f};
  Sampler two(options, 2);
  EXPECT_EQ(two.Sample(absl::MakeSpan(negative), std::vector<int32_t>{0}), 0);
  EXPECT_FLOAT_EQ(negative[0], -1.5f);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  SamplingOptions options;
  options.temperature = 1.0f;
  options.seed = 42;
  std::vector<float> logits(50, 0.0f);
  const std::vector<int32_t> a = SampleMany(options, logits, 40);
  EXPECT_EQ(a, SampleMany(options, logits, 40));
  options.seed = 43;
  EXPECT_NE(a, SampleMany(options, logits, 40));
}

TEST(SamplerTest, TemperatureSamplingFollowsTheSoftmax) {
  SamplingOptions options;
  options.temperature = 0.5f;
  options.seed = 7;
  const std::vector<float> logits = {0.0f, std::log(2.0f) * 0.5f, std::log(4.0f) * 0.5f};
  // At temperature 0.5 the probabilities are 1/7, 2/7, 4/7.
  const int count = 20000;
  std::map<int32_t, int> counts;
  for (int32_t token : SampleMany(options, logits, count)) counts[token]++;
  EXPECT_NEAR(counts[0] / static_cast<double>(count), 1.0 / 7, 0.015);
  EXPECT_NEAR(counts[1] / static_cast<double>(count), 2.0 / 7, 0.015);
  EXPECT_NEAR(counts[2] / static_cast<double>(count), 4.0 / 7, 0.015);
}

TEST(SamplerTest, TopKAndTopPRestrictTheCandidates) {
  SamplingOptions options;
  options.temperature = 1.0f;
  options.seed = 1;
  const std::vector<float> logits = {1.0f, 3.0f, 0.0f, 2.9f, -5.0f};
  options.top_k = 2;
  for (int32_t token : SampleMany(options, logits, 500)) EXPECT_TRUE(token == 1 || token == 3);
  options.top_k = 0;
  options.top_p = 0.01f;  // Only the most likely token reaches it.
  for (int32_t token : SampleMany(options, logits, 100)) EXPECT_EQ(token, 1);
  options.top_p = 0.6f;  // p(1) ~ 0.49, p(3) ~ 0.44: both needed, nothing else.
  std::map<int32_t, int> counts;
  for (int32_t token : SampleMany(options, logits, 2000)) counts[token]++;
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[3], 0);
}

TEST(SamplerTest, LogProbsAreALogSoftmax) {
  SamplingOptions options;
  Sampler sampler(options, 4);
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 0.5f};
  std::vector<TokenLogprob> top;
  const float logprob = sampler.LogProbs(logits, 2, 2, &top);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(0.5);
  EXPECT_NEAR(logprob, 3.0 - std::log(z), 1e-5);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].token, 2);
  EXPECT_EQ(top[1].token, 1);
  EXPECT_NEAR(top[1].logprob, 2.0 - std::log(z), 1e-5);
  EXPECT_NEAR(LogSumExp(logits), std::log(z), 1e-5);
}

TEST(SamplerTest, ValidationRejectsBadOptions) {
  EXPECT_TRUE(ValidateSamplingOptions({}).ok());
  SamplingOptions options;
  options.temperature = -1;
  EXPECT_FALSE(ValidateSamplingOptions(options).ok());
  options = {};
  options.top_p = 0;
  EXPECT_FALSE(ValidateSamplingOptions(options).ok());
  options = {};
  options.top_k = -2;
  EXPECT_FALSE(ValidateSamplingOptions(options).ok());
  options = {};
  options.repetition_penalty = 0;
  EXPECT_FALSE(ValidateSamplingOptions(options).ok());
  options = {};
  options.stop = {""};
  EXPECT_FALSE(ValidateSamplingOptions(options).ok());
  options = {};
  options.top_logprobs = 21;
  EXPECT_FALSE(ValidateSamplingOptions(options).ok());
}

}  // namespace
}  // namespace tessera::llama
