// The CUDA executor against the CPU forward pass (LlamaSequence::Forward) on
// random tiny models of every weight type. Without a GPU the comparisons skip
// with a visible message, and the executor must still fail cleanly.
#include "engine/cuda/cuda_executor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/cuda/device.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "engine/serving/model_executor.h"
#include "gtest/gtest.h"

namespace tessera::cuda {
namespace {

using llama::LlamaModel;
using llama::LlamaSequence;
using serving::KvCacheGeometry;
using serving::ModelExecutor;
using serving::SequenceStep;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::unique_ptr<LlamaModel> MakeModel(const std::string& format, const std::string& dtype) {
  const std::string path =
      TempPath(absl::StrCat("cuda_tiny_", format, "_", dtype, format == "gguf" ? ".gguf" : ""));
  auto written = model::MakeRandomModel("llama", "tiny-llama", format, path, 11, dtype);
  EXPECT_TRUE(written.ok()) << written.status();
  auto model = LlamaModel::Load(path);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

TEST(CudaExecutorTest, WithoutAGpuTheExecutorIsUnavailable) {
  std::unique_ptr<LlamaModel> model = MakeModel("gguf", "f32");
  ASSERT_NE(model, nullptr);
  auto executor = NewCudaExecutor(*model, {64, 16});
  if (CudaAvailable()) {
    ASSERT_TRUE(executor.ok()) << executor.status();
    EXPECT_NE((*executor)->device_name().find("cuda:0"), std::string::npos);
    EXPECT_EQ(NewCudaExecutor(*model, {64, 16}, 1000).status().code(),
              absl::StatusCode::kInvalidArgument);
  } else {
    std::printf("no CUDA device (%s): checking only that the executor refuses cleanly\n",
                std::string(CheckCudaAvailable().message()).c_str());
    EXPECT_EQ(executor.status().code(), absl::StatusCode::kUnavailable) << executor.status();
    EXPECT_NE(executor.status().message().find("CUDA"), std::string::npos) << executor.status();
  }
  EXPECT_EQ(NewCudaExecutor(*model, {64, 0}).status().code(), absl::StatusCode::kInvalidArgument);
}

// Largest |gpu - cpu| over rows, relative to the size of the CPU logits. f16
// weights and activations (and f16 KV) give errors of about 1e-3 of the logit
// scale on these models.
float WorstError(const float* gpu, const float* cpu, size_t n) {
  float scale = 1.0f, worst = 0.0f;
  for (size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(cpu[i]));
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(gpu[i] - cpu[i]));
  return worst / scale;
}

constexpr float kTolerance = 2e-2f;

struct Case {
  std::string format;
  std::string dtype;
};

class CudaExecutorModelTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!CudaAvailable()) {
      GTEST_SKIP() << "no CUDA device, GPU-vs-CPU comparison skipped: "
                   << CheckCudaAvailable().message();
    }
    model_ = MakeModel(GetParam().format, GetParam().dtype);
    ASSERT_NE(model_, nullptr);
    auto executor = NewCudaExecutor(*model_, {64, 4});
    ASSERT_TRUE(executor.ok()) << executor.status();
    executor_ = std::move(*executor);
    vocab_ = model_->hparams().vocab_size;
  }

  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<ModelExecutor> executor_;
  int vocab_ = 0;
};

// Chunked prefill of one sequence batched with the whole prefill of another,
// then batched decode, all through scattered block tables; then a fork by
// CopyBlocks (copy-on-write of the partly filled last block).
TEST_P(CudaExecutorModelTest, LogitsMatchTheCpuPath) {
  const std::vector<int32_t> prompt_a = {1, 300, 5000, 42, 7, 31999, 12, 900, 4, 4, 17, 256, 3};
  const std::vector<int32_t> prompt_b = {1, 29871, 13, 2000, 8, 77};
  // Block size 4: A needs 4 blocks for 16 positions, B 3 for 12.
  std::vector<int32_t> table_a = {17, 3, 40, 8};
  const std::vector<int32_t> table_b = {63, 0, 22};
  auto cpu_a = model_->NewSequence(64);
  auto cpu_b = model_->NewSequence(64);
  std::vector<float> logits, want_a, want_b;

  // Step 1: A's first 5 tokens (last row only), B's whole prompt (all rows).
  std::vector<SequenceStep> batch(2);
  batch[0].tokens = absl::MakeConstSpan(prompt_a).subspan(0, 5);
  batch[0].block_table = table_a;
  batch[1].tokens = prompt_b;
  batch[1].block_table = table_b;
  batch[1].all_logits = true;
  ASSERT_TRUE(executor_->Execute(batch, &logits).ok());
  ASSERT_EQ(logits.size(), (1 + prompt_b.size()) * vocab_);
  auto last_a = cpu_a->Forward(batch[0].tokens);
  ASSERT_TRUE(last_a.ok());
  EXPECT_LT(WorstError(logits.data(), last_a->data(), vocab_), kTolerance);
  ASSERT_TRUE(cpu_b->Forward(prompt_b, &want_b).ok());
  EXPECT_LT(WorstError(logits.data() + vocab_, want_b.data(), want_b.size()), kTolerance);

  // Step 2: the rest of A's prompt (all rows: a speculative-verify shape).
  batch.resize(1);
  batch[0].tokens = absl::MakeConstSpan(prompt_a).subspan(5);
  batch[0].start_position = 5;
  batch[0].all_logits = true;
  ASSERT_TRUE(executor_->Execute(batch, &logits).ok());
  ASSERT_TRUE(cpu_a->Forward(batch[0].tokens, &want_a).ok());
  ASSERT_EQ(logits.size(), want_a.size());
  EXPECT_LT(WorstError(logits.data(), want_a.data(), want_a.size()), kTolerance);

  // Steps 3..: batched decode of A and B.
  int32_t next_a = 99, next_b = 1234;
  for (int step = 0; step < 3; ++step) {
    const int pos_a = static_cast<int>(prompt_a.size()) + step;
    const int pos_b = static_cast<int>(prompt_b.size()) + step;
    std::vector<SequenceStep> decode(2);
    decode[0].tokens = absl::MakeConstSpan(&next_a, 1);
    decode[0].start_position = pos_a;
    decode[0].block_table = table_a;
    decode[1].tokens = absl::MakeConstSpan(&next_b, 1);
    decode[1].start_position = pos_b;
    decode[1].block_table = table_b;
    ASSERT_TRUE(executor_->Execute(decode, &logits).ok());
    auto ref_a = cpu_a->Forward(decode[0].tokens);
    auto ref_b = cpu_b->Forward(decode[1].tokens);
    ASSERT_TRUE(ref_a.ok() && ref_b.ok());
    EXPECT_LT(WorstError(logits.data(), ref_a->data(), vocab_), kTolerance) << "step " << step;
    EXPECT_LT(WorstError(logits.data() + vocab_, ref_b->data(), vocab_), kTolerance);
    next_a = (next_a * 31 + 7) % vocab_;
    next_b = (next_b * 17 + 3) % vocab_;
  }

  // A holds 16 positions (blocks 17, 3, 40, 8 full). Fork: C shares A's first
  // three blocks and gets a copy of the last one, then both continue with the
  // same token and must give the same logits as the CPU sequence.
  ASSERT_TRUE(executor_->CopyBlocks({{8, 50}}).ok());
  std::vector<int32_t> table_c = {17, 3, 40, 50, 51};
  table_a.push_back(9);
  const int32_t token = 4321;
  std::vector<SequenceStep> fork(2);
  fork[0].tokens = absl::MakeConstSpan(&token, 1);
  fork[0].start_position = 16;
  fork[0].block_table = table_a;
  fork[1] = fork[0];
  fork[1].block_table = table_c;
  ASSERT_TRUE(executor_->Execute(fork, &logits).ok());
  auto ref = cpu_a->Forward(fork[0].tokens);
  ASSERT_TRUE(ref.ok());
  EXPECT_LT(WorstError(logits.data(), ref->data(), vocab_), kTolerance);
  EXPECT_LT(WorstError(logits.data() + vocab_, ref->data(), vocab_), kTolerance);

  // Bad input: clear INVALID_ARGUMENT, and the executor keeps working.
  std::vector<SequenceStep> bad(1);
  bad[0].tokens = absl::MakeConstSpan(&token, 1);
  bad[0].start_position = 16;
  bad[0].block_table = absl::MakeConstSpan(table_a).subspan(0, 4);  // Too short.
  EXPECT_EQ(executor_->Execute(bad, &logits).code(), absl::StatusCode::kInvalidArgument);
  const int32_t outside = vocab_;
  bad[0].tokens = absl::MakeConstSpan(&outside, 1);
  bad[0].block_table = table_a;
  EXPECT_EQ(executor_->Execute(bad, &logits).code(), absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> bad_table = {17, 3, 40, 8, 64};
  bad[0].tokens = absl::MakeConstSpan(&token, 1);
  bad[0].block_table = bad_table;
  EXPECT_EQ(executor_->Execute(bad, &logits).code(), absl::StatusCode::kInvalidArgument);
  bad[0].tokens = {};
  EXPECT_EQ(executor_->Execute(bad, &logits).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(executor_->CopyBlocks({{0, 64}}).code(), absl::StatusCode::kInvalidArgument);
}

int32_t Argmax(const float* row, int n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

// Greedy decoding for 32 steps gives the CPU's tokens. A divergence is
// tolerated only at a near-tie of the CPU logits (top two within f16 noise),
// and is reported.
TEST_P(CudaExecutorModelTest, GreedyTokensMatchTheCpuPath) {
  const std::vector<int32_t> prompt = {1, 450, 4996, 17354, 1701, 432, 17204};
  auto cpu = model_->NewSequence(64);
  std::vector<int32_t> table(16);
  for (int i = 0; i < 16; ++i) table[i] = 60 - 3 * i;  // Descending, scattered.
  std::vector<float> logits;
  SequenceStep step;
  step.tokens = prompt;
  step.block_table = table;
  ASSERT_TRUE(executor_->Execute({step}, &logits).ok());
  auto ref = cpu->Forward(prompt);
  ASSERT_TRUE(ref.ok());
  int position = static_cast<int>(prompt.size());
  for (int i = 0; i < 32; ++i) {
    const int32_t gpu_token = Argmax(logits.data(), vocab_);
    const int32_t cpu_token = Argmax(ref->data(), vocab_);
    if (gpu_token != cpu_token) {
      std::vector<float> sorted(ref->begin(), ref->end());
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
      const float gap = sorted[0] - sorted[1];
      std::printf("step %d: GPU %d, CPU %d, CPU top-2 gap %g\n", i, gpu_token, cpu_token, gap);
      ASSERT_LT(gap, 1e-3f * std::max(1.0f, std::abs(sorted[0])))
          << "greedy tokens differ at step " << i << " without a near-tie";
      return;  // The sequences legitimately part here.
    }
    const int32_t token = cpu_token;
    step.tokens = absl::MakeConstSpan(&token, 1);
    step.start_position = position++;
    ASSERT_TRUE(executor_->Execute({step}, &logits).ok());
    ref = cpu->Forward(step.tokens);
    ASSERT_TRUE(ref.ok());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, CudaExecutorModelTest,
    ::testing::Values(Case{"gguf", "f32"}, Case{"gguf", "f16"}, Case{"gguf", "q8_0"},
                      Case{"gguf", "q4_0"}, Case{"safetensors", "f32"},
                      Case{"safetensors", "bf16"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return info.param.format + "_" + info.param.dtype;
    });

// num_blocks == 0 sizes the pool from free device memory.
TEST(CudaExecutorTest, PoolSizedFromFreeMemory) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device: " << CheckCudaAvailable().message();
  std::unique_ptr<LlamaModel> model = MakeModel("gguf", "f32");
  ASSERT_NE(model, nullptr);
  auto executor = NewCudaExecutor(*model, {0, 16});
  ASSERT_TRUE(executor.ok()) << executor.status();
  EXPECT_GT((*executor)->geometry().num_blocks, 1000);
  std::printf("%s: %d blocks of 16\n", (*executor)->device_name().c_str(),
              (*executor)->geometry().num_blocks);
}

}  // namespace
}  // namespace tessera::cuda
