#include "engine/chat_generation.h"

#include <numeric>

#include "gtest/gtest.h"

namespace tessera::engine {
namespace {

TEST(FitPromptToContextTest, CutsTheMiddleAndKeepsHeadAndTail) {
  std::vector<int32_t> ids(100);
  std::iota(ids.begin(), ids.end(), 0);
  std::vector<int32_t> fits = ids;
  EXPECT_EQ(FitPromptToContext(&fits, 200, 50), 0);
  EXPECT_EQ(fits, ids);

  // Context 100, reply reserve 40: 60 prompt tokens stay, 15 from the head.
  EXPECT_EQ(FitPromptToContext(&ids, 100, 40), 40);
  ASSERT_EQ(ids.size(), 60u);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[14], 14);
  EXPECT_EQ(ids[15], 55);
  EXPECT_EQ(ids.back(), 99);
}

TEST(FitPromptToContextTest, AHugeReserveStillLeavesHalfTheContextForThePrompt) {
  std::vector<int32_t> ids(300, 7);
  EXPECT_EQ(FitPromptToContext(&ids, 256, 10000), 300 - 128);
  EXPECT_EQ(ids.size(), 128u);
}

TEST(ToSamplingOptionsTest, CarriesTheJsonSchemaAsText) {
  common::v1::SamplingParams params;
  (*params.mutable_json_schema()->mutable_fields())["type"].set_string_value("object");
  auto options = ToSamplingOptions(params);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->json_schema, R"({"type":"object"})");
  EXPECT_EQ(options->max_tokens, 256);
  params.set_top_p(2);
  EXPECT_EQ(ToSamplingOptions(params).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::engine
