#include "engine/serving/cpu_executor.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/serving/test_models.h"
#include "gtest/gtest.h"

namespace tessera::serving {
namespace {

// Largest |a - b| relative to max(1, |b|).
float MaxRelativeDifference(absl::Span<const float> a, absl::Span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0f, std::abs(b[i])));
  }
  return worst;
}

// Reference logits of every position, one LlamaSequence step per token after
// a batched prefill of the first `prefill` tokens.
std::vector<std::vector<float>> ReferenceRows(const llama::LlamaModel& model,
                                              const std::vector<int32_t>& ids, int prefill) {
  auto sequence = model.NewSequence(static_cast<int>(ids.size()));
  std::vector<std::vector<float>> rows;
  std::vector<float> all;
  auto first = sequence->Forward(absl::MakeConstSpan(ids).subspan(0, prefill), &all);
  EXPECT_TRUE(first.ok()) << first.status();
  const int vocab = model.hparams().vocab_size;
  for (int t = 0; t < prefill; ++t) rows.emplace_back(all.begin() + t * vocab, all.begin() + (t + 1) * vocab);
  for (size_t t = prefill; t < ids.size(); ++t) {
    auto logits = sequence->Forward(absl::MakeConstSpan(&ids[t], 1));
    EXPECT_TRUE(logits.ok()) << logits.status();
    rows.emplace_back(logits->begin(), logits->end());
  }
  return rows;
}

class CpuExecutorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CpuExecutorTest, PagedLogitsMatchTheSequenceForward) {
  auto model = LoadRandomTinyLlama(GetParam());
  ASSERT_TRUE(model.ok()) << model.status();
  const int vocab = (*model)->hparams().vocab_size;
  auto executor = NewCpuExecutor(**model, {/*num_blocks=*/64, /*block_size=*/4});
  ASSERT_TRUE(executor.ok()) << executor.status();

  // Two sequences with scattered, interleaved blocks.
  const std::vector<int32_t> a = {1, 300, 5000, 42, 7, 31999, 12, 900, 77, 5, 4000, 23, 8};
  const std::vector<int32_t> b = {1, 17, 29, 31000, 2222, 64, 128, 256, 512};
  const std::vector<int32_t> table_a = {17, 3, 42, 8};
  const std::vector<int32_t> table_b = {60, 0, 33};
  const auto ref_a = ReferenceRows(**model, a, 9);
  const auto ref_b = ReferenceRows(**model, b, 4);

  std::vector<float> logits;
  // Step 1: a's first prefill chunk (all rows) alone.
  SequenceStep step_a{absl::MakeConstSpan(a).subspan(0, 5), 0, table_a, /*all_logits=*/true};
  ASSERT_TRUE((*executor)->Execute({step_a}, &logits).ok());
  ASSERT_EQ(logits.size(), 5u * vocab);
  for (int t = 0; t < 5; ++t) {
    EXPECT_LT(MaxRelativeDifference(absl::MakeConstSpan(logits).subspan(t * vocab, vocab), ref_a[t]),
              1e-3f)
        << "a row " << t;
  }
  // Step 2: mixed: the rest of a's prefill (last row only) and b's prefill.
  step_a = {absl::MakeConstSpan(a).subspan(5, 4), 5, table_a, false};
  SequenceStep step_b{absl::MakeConstSpan(b).subspan(0, 4), 0, table_b, false};
  ASSERT_TRUE((*executor)->Execute({step_a, step_b}, &logits).ok());
  ASSERT_EQ(logits.size(), 2u * vocab);
  EXPECT_LT(MaxRelativeDifference(absl::MakeConstSpan(logits).subspan(0, vocab), ref_a[8]), 1e-3f);
  EXPECT_LT(MaxRelativeDifference(absl::MakeConstSpan(logits).subspan(vocab, vocab), ref_b[3]), 1e-3f);
  // Then decode steps of both together, one token each.
  for (int i = 0; i < 4; ++i) {
    step_a = {absl::MakeConstSpan(a).subspan(9 + i, 1), 9 + i, table_a, false};
    step_b = {absl::MakeConstSpan(b).subspan(4 + i, 1), 4 + i, table_b, false};
    ASSERT_TRUE((*executor)->Execute({step_b, step_a}, &logits).ok());
    EXPECT_LT(MaxRelativeDifference(absl::MakeConstSpan(logits).subspan(0, vocab), ref_b[4 + i]),
              1e-3f);
    EXPECT_LT(MaxRelativeDifference(absl::MakeConstSpan(logits).subspan(vocab, vocab), ref_a[9 + i]),
              1e-3f);
  }
  // Copied blocks hold the same KV: b continues from a copy of its table.
  const std::vector<int32_t> copy_b = {5, 6, 7};
  ASSERT_TRUE((*executor)->CopyBlocks({{60, 5}, {0, 6}, {33, 7}}).ok());
  step_b = {absl::MakeConstSpan(b).subspan(8, 1), 8, copy_b, false};
  ASSERT_TRUE((*executor)->Execute({step_b}, &logits).ok());
  EXPECT_LT(MaxRelativeDifference(logits, ref_b[8]), 1e-3f);
}

INSTANTIATE_TEST_SUITE_P(Formats, CpuExecutorTest, ::testing::Values("gguf", "safetensors"));

TEST(CpuExecutorErrorsTest, RejectsBadSteps) {
  auto model = LoadRandomTinyLlama("gguf");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_FALSE(NewCpuExecutor(**model, {0, 16}).ok());
  auto executor = NewCpuExecutor(**model, {4, 4});
  ASSERT_TRUE(executor.ok());
  std::vector<float> logits;
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5};
  const std::vector<int32_t> bad_id = {1, 1 << 20};
  const std::vector<int32_t> table = {0, 1};
  const std::vector<int32_t> outside = {0, 9};
  const std::vector<int32_t> short_table = {0};
  auto code = [&](std::vector<SequenceStep> batch) {
    return (*executor)->Execute(batch, &logits).code();
  };
  EXPECT_EQ(code({}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{absl::Span<const int32_t>(), 0, table, false}}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{bad_id, 0, table, false}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{ids, 0, outside, false}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{ids, 0, short_table, false}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{ids, -1, table, false}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*executor)->CopyBlocks({{0, 4}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*executor)->Execute({{ids, 0, table, false}}, &logits).ok());
  EXPECT_NE((*executor)->device_name().find("cpu"), std::string::npos);
}

}  // namespace
}  // namespace tessera::serving
