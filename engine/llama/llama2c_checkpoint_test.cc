#include "engine/llama/llama2c_checkpoint.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/shared_data.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"

namespace tessera::llama {
namespace {

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void PutInt32At(std::string* bytes, size_t offset, int32_t v) {
  std::memcpy(&(*bytes)[offset], &v, sizeof(v));
}

// A small model with GQA and an unshared classifier, values i * 0.001 - ish.
Llama2cConfig SmallConfig(int version) {
  Llama2cConfig c;
  c.version = version;
  c.dim = 8;
  c.hidden_dim = 16;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.vocab_size = 10;
  c.seq_len = 4;
  c.shared_classifier = false;
  return c;
}

void FillByName(const std::string& name, float* dst, size_t count) {
  const uint64_t salt = std::hash<std::string>()(name) % 97;
  for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>((i + salt) % 13) * 0.01f - 0.05f;
}

// The size run.c's pointer arithmetic implies, written out independently.
uint64_t LegacyFileSize(const Llama2cConfig& c) {
  const uint64_t head = c.dim / c.num_heads, kv = head * c.num_kv_heads;
  const uint64_t floats =
      static_cast<uint64_t>(c.vocab_size) * c.dim + static_cast<uint64_t>(c.num_layers) * c.dim * 2 +
      static_cast<uint64_t>(c.num_layers) * (2 * static_cast<uint64_t>(c.dim) * c.dim + 2 * kv * c.dim) +
      3 * static_cast<uint64_t>(c.num_layers) * c.hidden_dim * c.dim + c.dim + static_cast<uint64_t>(c.seq_len) * head +
      (c.shared_classifier ? 0 : static_cast<uint64_t>(c.vocab_size) * c.dim);
  return 28 + 4 * floats;
}

TEST(Llama2cCheckpointTest, WritesAndReadsBothVersions) {
  for (int version : {0, 1}) {
    const Llama2cConfig config = SmallConfig(version);
    const std::string path = TempDir(absl::StrCat("small_v", version, ".bin"));
    ASSERT_TRUE(WriteLlama2cCheckpoint(path, config, FillByName).ok());
    const std::string bytes = ReadFile(path);
    EXPECT_EQ(bytes.size(), version == 0 ? LegacyFileSize(config)
                                         : LegacyFileSize(config) - 28 + 256 -
                                               4 * static_cast<uint64_t>(config.seq_len) * 4);
    ASSERT_TRUE(Llama2cCheckpoint::Recognizes(path));
    auto checkpoint = Llama2cCheckpoint::Open(path);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    const Llama2cConfig& read = (*checkpoint)->config();
    EXPECT_EQ(read.version, version);
    EXPECT_EQ(read.dim, 8);
    EXPECT_EQ(read.vocab_size, 10);
    EXPECT_FALSE(read.shared_classifier);
    for (const char* name : {"token_embd.weight", "blk.1.attn_k.weight", "blk.0.ffn_down.weight",
                             "output_norm.weight", "output.weight"}) {
      const model::TensorView* view = (*checkpoint)->Find(name);
      ASSERT_NE(view, nullptr) << name;
      std::vector<float> expected(view->num_elements());
      FillByName(name, expected.data(), expected.size());
      ASSERT_EQ(view->num_bytes, expected.size() * 4);
      EXPECT_EQ(std::memcmp(view->data, expected.data(), view->num_bytes), 0) << name;
    }
    EXPECT_EQ((*checkpoint)->Find("blk.0.attn_k.weight")->shape, (std::vector<int64_t>{4, 8}));
    EXPECT_EQ((*checkpoint)->Find("blk.2.attn_q.weight"), nullptr);
  }
  // Legacy RoPE tables hold cos/sin of pos * 10000^(-2j/head_size): position 1, j = 1.
  auto legacy = Llama2cCheckpoint::Open(TempDir("small_v0.bin"));
  ASSERT_TRUE(legacy.ok());
  const float* cos_table = reinterpret_cast<const float*>((*legacy)->Find("freq_cis_real")->data);
  EXPECT_NEAR(cos_table[2 + 1], std::cos(1.0f / std::pow(10000.0f, 2.0f / 4.0f)), 1e-6);
}

TEST(Llama2cCheckpointTest, TruncatedAndPaddedFilesAreInvalid) {
  const std::string path = TempDir("small_for_truncation.bin");
  ASSERT_TRUE(WriteLlama2cCheckpoint(path, SmallConfig(0), FillByName).ok());
  const std::string bytes = ReadFile(path);
  const std::string cut = TempDir("cut.bin");
  for (size_t length : {size_t{0}, size_t{3}, size_t{27}, size_t{28}, size_t{100}, bytes.size() - 1}) {
    WriteFile(cut, bytes.substr(0, length));
    auto checkpoint = Llama2cCheckpoint::Open(cut);
    ASSERT_FALSE(checkpoint.ok()) << length;
    EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kInvalidArgument) << length;
    auto loaded = LlamaModel::Load(cut);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << loaded.status();
  }
  WriteFile(cut, bytes + "x");
  auto padded = Llama2cCheckpoint::Open(cut);
  ASSERT_FALSE(padded.ok());
  EXPECT_NE(padded.status().message().find("trailing"), std::string::npos) << padded.status();

  const std::string v1 = TempDir("small_v1_for_truncation.bin");
  ASSERT_TRUE(WriteLlama2cCheckpoint(v1, SmallConfig(1), FillByName).ok());
  const std::string v1_bytes = ReadFile(v1);
  for (size_t length : {size_t{8}, size_t{200}, size_t{256}, v1_bytes.size() - 4}) {
    WriteFile(cut, v1_bytes.substr(0, length));
    auto checkpoint = Llama2cCheckpoint::Open(cut);
    ASSERT_FALSE(checkpoint.ok()) << length;
    EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kInvalidArgument) << length;
  }
}

TEST(Llama2cCheckpointTest, BadHeadersAreRejectedClearly) {
  const std::string path = TempDir("small_for_headers.bin");
  ASSERT_TRUE(WriteLlama2cCheckpoint(path, SmallConfig(0), FillByName).ok());
  const std::string good = ReadFile(path);
  const std::string bad = TempDir("bad_header.bin");
  struct Case {
    size_t offset;
    int32_t value;
    const char* mentions;
  };
  const Case cases[] = {
      {0, 0, "dim"},           {0, -8, "dim"},          {0, 1 << 30, "dim"},
      {8, 100000, "n_layers"}, {12, 3, "do not divide"}, {16, 0, "n_kv_heads"},
      {20, INT32_MIN, "vocab_size"}, {24, -1, "seq_len"}, {20, 11, "bytes"},
      {0, 6, "head size"},
  };
  for (const Case& c : cases) {
    std::string bytes = good;
    PutInt32At(&bytes, c.offset, c.value);
    if (c.offset == 0 && c.value == 6) PutInt32At(&bytes, 12, 2);  // head size 3.
    WriteFile(bad, bytes);
    auto checkpoint = Llama2cCheckpoint::Open(bad);
    ASSERT_FALSE(checkpoint.ok()) << c.offset << "=" << c.value;
    EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(checkpoint.status().message().find(c.mentions), std::string::npos)
        << checkpoint.status();
  }
  // Version 2 (llama2.c's groupwise Q8_0) and unknown versions / flags.
  const std::string v1_path = TempDir("small_v1_for_headers.bin");
  ASSERT_TRUE(WriteLlama2cCheckpoint(v1_path, SmallConfig(1), FillByName).ok());
  const std::string v1 = ReadFile(v1_path);
  std::string bytes = v1;
  PutInt32At(&bytes, 4, 2);
  WriteFile(bad, bytes);
  EXPECT_EQ(Llama2cCheckpoint::Open(bad).status().code(), absl::StatusCode::kUnimplemented);
  bytes = v1;
  PutInt32At(&bytes, 4, -3);
  WriteFile(bad, bytes);
  EXPECT_EQ(Llama2cCheckpoint::Open(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bytes = v1;
  bytes[36] = 7;
  WriteFile(bad, bytes);
  EXPECT_EQ(Llama2cCheckpoint::Open(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Llama2cCheckpoint::Open(TempDir("missing.bin")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Llama2cCheckpointTest, GgufNamedBinIsNotLlama2c) {
  const std::string path = TempDir("really_gguf.bin");
  WriteFile(path, std::string("GGUF") + std::string(60, '\0'));
  EXPECT_FALSE(Llama2cCheckpoint::Recognizes(path));
  const std::string other = TempDir("model.gguf");
  WriteFile(other, std::string(64, '\0'));
  EXPECT_FALSE(Llama2cCheckpoint::Recognizes(other));
}

std::vector<std::vector<float>> PromptLogits(const LlamaModel& model,
                                             const std::vector<std::vector<int32_t>>& prompts) {
  std::vector<std::vector<float>> out;
  for (const std::vector<int32_t>& prompt : prompts) {
    std::unique_ptr<LlamaSequence> sequence = model.NewSequence(64);
    // Prefill all but the last token, then one decode step: both paths run.
    auto prefill = sequence->Forward(absl::MakeConstSpan(prompt.data(), prompt.size() - 1));
    EXPECT_TRUE(prefill.ok()) << prefill.status();
    auto logits = sequence->Forward(absl::MakeConstSpan(&prompt.back(), 1));
    EXPECT_TRUE(logits.ok()) << logits.status();
    if (logits.ok()) out.emplace_back(logits->begin(), logits->end());
  }
  return out;
}

float MaxAbsDiff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  float worst = 0;
  EXPECT_EQ(a.size(), b.size());
  for (size_t p = 0; p < a.size() && p < b.size(); ++p) {
    EXPECT_EQ(a[p].size(), b[p].size());
    for (size_t i = 0; i < a[p].size() && i < b[p].size(); ++i) {
      worst = std::max(worst, std::fabs(a[p][i] - b[p][i]));
    }
  }
  return worst;
}

// The same seed written as GGUF f32, as Hugging Face safetensors (rotate-half
// RoPE, unpermuted q/k) and as llama2.c versions 0 and 1 gives the same logits.
TEST(Llama2cCheckpointTest, SameLogitsAsGgufAndSafetensors) {
  const std::string dir = TempDir("llama2c_same_model");
  const std::string bin = dir + "/model.bin";
  auto written = model::MakeRandomModel("llama", "tiny-llama", "llama2c", bin, 7, "f32");
  ASSERT_TRUE(written.ok()) << written.status();
  written = model::MakeRandomModel("llama", "tiny-llama", "gguf", dir + "/model.gguf", 7, "f32");
  ASSERT_TRUE(written.ok()) << written.status();
  written = model::MakeRandomModel("llama", "tiny-llama", "safetensors", dir + "/hf", 7, "f32");
  ASSERT_TRUE(written.ok()) << written.status();
  // Version 1 from the version 0 file's tensors.
  auto v0 = Llama2cCheckpoint::Open(bin);
  ASSERT_TRUE(v0.ok()) << v0.status();
  Llama2cConfig v1_config = (*v0)->config();
  v1_config.version = 1;
  const std::string v1_path = dir + "/v1/model.bin";
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p '", dir, "/v1'").c_str()), 0);
  ASSERT_TRUE(WriteLlama2cCheckpoint(v1_path, v1_config,
                                     [&](const std::string& name, float* dst, size_t count) {
                                       const model::TensorView* view = (*v0)->Find(name);
                                       ASSERT_NE(view, nullptr) << name;
                                       ASSERT_EQ(view->num_bytes, count * 4);
                                       std::memcpy(dst, view->data, view->num_bytes);
                                     })
                  .ok());

  auto from_bin = LlamaModel::Load(bin);
  ASSERT_TRUE(from_bin.ok()) << from_bin.status();
  auto from_v1 = LlamaModel::Load(v1_path);
  ASSERT_TRUE(from_v1.ok()) << from_v1.status();
  auto from_gguf = LlamaModel::Load(dir + "/model.gguf");
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  auto from_hf = LlamaModel::Load(dir + "/hf");
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  const LlamaHParams& h = (*from_bin)->hparams();
  EXPECT_EQ(h.rope_layout, RopeLayout::kInterleaved);
  EXPECT_EQ(h.vocab_size, 32000);
  EXPECT_EQ(h.num_kv_heads, 2);
  EXPECT_EQ((*from_bin)->weight_type(), model::DType::kF32);

  const std::vector<std::vector<int32_t>> prompts = {
      {1, 15043, 3186}, {1, 450, 4996, 17354, 1701, 29916, 432}, {1, 31999, 2, 0, 7, 8, 9, 10, 11}};
  const auto bin_logits = PromptLogits(**from_bin, prompts);
  const auto v1_logits = PromptLogits(**from_v1, prompts);
  const auto gguf_logits = PromptLogits(**from_gguf, prompts);
  const auto hf_logits = PromptLogits(**from_hf, prompts);
  ASSERT_EQ(bin_logits.size(), prompts.size());
  EXPECT_LE(MaxAbsDiff(bin_logits, gguf_logits), 1e-4f);
  EXPECT_LE(MaxAbsDiff(bin_logits, v1_logits), 1e-4f);
  EXPECT_LE(MaxAbsDiff(bin_logits, hf_logits), 1e-4f);
  // Not trivially equal: the prompts give different logits.
  EXPECT_GT(MaxAbsDiff({bin_logits[0]}, {bin_logits[1]}), 1e-3f);

  // The tokenizer.bin written beside model.bin (from the shared Llama 2 files).
  if (!FindSharedFile("tokenizers/llama2/tokenizer.bin")) {
    GTEST_SKIP() << "shared tokenizers/llama2/tokenizer.bin absent: tokenizer check skipped";
  }
  ASSERT_NE((*from_bin)->tokenizer(), nullptr);
  auto ids = (*from_bin)->tokenizer()->Encode("Hello world", true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 15043, 3186}));
}

TEST(Llama2cCheckpointTest, MakeRandomRejectsQuantisedLlama2c) {
  auto written = model::MakeRandomModel("llama", "tiny-llama", "llama2c", TempDir("q.bin"), 1, "q8_0");
  EXPECT_EQ(written.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::llama
