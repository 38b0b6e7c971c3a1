#include "engine/model/make_random.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/model/gguf.h"
#include "engine/model/model_config.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "gtest/gtest.h"

namespace tessera::model {
namespace {

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MakeRandomTest, BertDirectoryHasHuggingFaceNamesAndShapes) {
  auto dir = MakeRandomModel("bert", "tiny-bert", "safetensors", TempPath("bert"), 42, "f16");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto config = LoadBertConfig(*dir);
  ASSERT_TRUE(config.ok()) << config.status();
  auto file = SafetensorsFile::Open(*dir + "/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  const int64_t h = config->hidden_size;
  const std::pair<std::string, std::vector<int64_t>> expected[] = {
      {"embeddings.word_embeddings.weight", {config->vocab_size, h}},
      {"embeddings.position_embeddings.weight", {config->max_position_embeddings, h}},
      {"embeddings.token_type_embeddings.weight", {2, h}},
      {"embeddings.LayerNorm.weight", {h}},
      {"encoder.layer.1.attention.self.key.bias", {h}},
      {"encoder.layer.0.attention.output.dense.weight", {h, h}},
      {"encoder.layer.1.intermediate.dense.weight", {config->intermediate_size, h}},
      {"encoder.layer.0.output.dense.weight", {h, config->intermediate_size}},
      {"encoder.layer.1.output.LayerNorm.bias", {h}},
      {"pooler.dense.weight", {h, h}},
  };
  for (const auto& [name, shape] : expected) {
    const TensorView* tensor = (*file)->Find(name);
    ASSERT_NE(tensor, nullptr) << name;
    EXPECT_EQ(tensor->shape, shape) << name;
    EXPECT_EQ(tensor->dtype, DType::kF16);
  }
  EXPECT_EQ((*file)->tensors().size(), 5u + 2 * 16 + 2);
  EXPECT_NE(ReadAll(*dir + "/modules.json").find("Normalize"), std::string::npos);
  EXPECT_NE(ReadAll(*dir + "/1_Pooling/config.json").find("\"pooling_mode_mean_tokens\": true"),
            std::string::npos);
  EXPECT_FALSE(ReadAll(*dir + "/vocab.txt").empty());
  std::vector<float> gamma;
  ASSERT_TRUE(TensorToF32(*(*file)->Find("embeddings.LayerNorm.weight"), &gamma).ok());
  for (float g : gamma) EXPECT_NEAR(g, 1.0f, 0.05f);

  // Deterministic in the seed.
  auto again = MakeRandomModel("bert", "tiny-bert", "safetensors", TempPath("bert2"), 42, "f16");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadAll(*dir + "/model.safetensors"), ReadAll(*again + "/model.safetensors"));
  auto other = MakeRandomModel("bert", "tiny-bert", "safetensors", TempPath("bert3"), 43, "f16");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(ReadAll(*dir + "/model.safetensors"), ReadAll(*other + "/model.safetensors"));
}

TEST(MakeRandomTest, CrossEncoderHasClassifier) {
  auto dir = MakeRandomModel("bert-cross-encoder", "tiny-bert", "safetensors", TempPath("cross"), 1, "");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto config = LoadBertConfig(*dir);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->num_labels, 1);
  auto file = SafetensorsFile::Open(*dir + "/model.safetensors");
  ASSERT_TRUE(file.ok());
  ASSERT_NE((*file)->Find("classifier.weight"), nullptr);
  EXPECT_EQ((*file)->Find("classifier.weight")->shape, (std::vector<int64_t>{1, 32}));
  EXPECT_NE((*file)->Find("bert.encoder.layer.0.attention.self.query.weight"), nullptr);
}

TEST(MakeRandomTest, LlamaSafetensorsAndGgufHoldTheSameModel) {
  auto dir = MakeRandomModel("llama", "tiny-llama", "safetensors", TempPath("llama_st"), 5, "f32");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto config = LoadLlamaConfig(*dir);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->num_key_value_heads, 2);
  auto st = SafetensorsFile::Open(*dir + "/model.safetensors");
  ASSERT_TRUE(st.ok()) << st.status();
  for (const char* name : {"model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.weight",
                           "model.layers.0.self_attn.k_proj.weight", "model.layers.0.mlp.gate_proj.weight",
                           "model.layers.1.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
                           "model.layers.0.post_attention_layernorm.weight", "model.norm.weight",
                           "lm_head.weight"}) {
    EXPECT_NE((*st)->Find(name), nullptr) << name;
  }
  EXPECT_EQ((*st)->Find("model.layers.0.self_attn.k_proj.weight")->shape,
            (std::vector<int64_t>{32, 64}));

  const std::string gguf_path = TempPath("llama.gguf");
  auto written = MakeRandomModel("llama", "tiny-llama", "gguf", gguf_path, 5, "f32");
  ASSERT_TRUE(written.ok()) << written.status();
  auto gguf = GgufFile::Open(*written);
  ASSERT_TRUE(gguf.ok()) << gguf.status();
  auto params = ReadLlamaHyperParams(**gguf);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->embedding_length, 64u);
  EXPECT_EQ(params->block_count, 2u);
  EXPECT_EQ(params->head_count, 4u);
  EXPECT_EQ(params->head_count_kv, 2u);
  EXPECT_EQ(params->feed_forward_length, 128u);
  EXPECT_EQ(params->vocab_size, static_cast<uint64_t>(config->vocab_size));
  auto vocab = ReadGgufVocab(**gguf);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  EXPECT_EQ(vocab->model, "llama");
  EXPECT_EQ(vocab->tokens.size(), static_cast<size_t>(config->vocab_size));
  EXPECT_EQ(vocab->scores.size(), vocab->tokens.size());
  EXPECT_EQ(vocab->token_types.size(), vocab->tokens.size());
  EXPECT_EQ(vocab->tokens[1], "<s>");

  // Unpermuted tensors hold identical values; attn_q rows follow llama.cpp's permutation.
  auto values = [](const TensorView* t) {
    std::vector<float> v;
    EXPECT_TRUE(TensorToF32(*t, &v).ok());
    return v;
  };
  EXPECT_EQ(values((*gguf)->Find("blk.1.ffn_down.weight")),
            values((*st)->Find("model.layers.1.mlp.down_proj.weight")));
  EXPECT_EQ((*gguf)->Find("token_embd.weight")->shape, (std::vector<int64_t>{config->vocab_size, 64}));
  const std::vector<float> q_hf = values((*st)->Find("model.layers.0.self_attn.q_proj.weight"));
  const std::vector<float> q_gguf = values((*gguf)->Find("blk.0.attn_q.weight"));
  // head_dim 16: GGUF row 1 (head 0, pair 0, second) = HF row 8.
  EXPECT_EQ(std::vector<float>(q_gguf.begin() + 64, q_gguf.begin() + 128),
            std::vector<float>(q_hf.begin() + 8 * 64, q_hf.begin() + 9 * 64));
  EXPECT_NE(q_gguf, q_hf);
}

TEST(MakeRandomTest, QuantisedGgufKeepsNormsInF32) {
  for (const char* dtype : {"q8_0", "q4_0", "f16"}) {
    auto written = MakeRandomModel("llama", "tiny-llama", "gguf",
                                   TempPath(absl::StrCat("llama_", dtype, ".gguf")), 5, dtype);
    ASSERT_TRUE(written.ok()) << written.status();
    auto gguf = GgufFile::Open(*written);
    ASSERT_TRUE(gguf.ok()) << gguf.status();
    EXPECT_EQ((*gguf)->Find("blk.0.attn_norm.weight")->dtype, DType::kF32);
    EXPECT_EQ(DTypeName((*gguf)->Find("blk.0.ffn_up.weight")->dtype), absl::AsciiStrToUpper(dtype));
  }
}

TEST(MakeRandomTest, RejectsBadArguments) {
  EXPECT_FALSE(MakeRandomModel("gpt", "tiny-bert", "safetensors", TempPath("x"), 1, "").ok());
  EXPECT_FALSE(MakeRandomModel("bert", "huge", "safetensors", TempPath("x"), 1, "").ok());
  EXPECT_FALSE(MakeRandomModel("bert", "tiny-bert", "onnx", TempPath("x"), 1, "").ok());
  EXPECT_FALSE(MakeRandomModel("bert", "tiny-bert", "gguf", TempPath("x"), 1, "").ok());
  EXPECT_FALSE(MakeRandomModel("bert", "tiny-bert", "safetensors", TempPath("x"), 1, "q4_0").ok());
  EXPECT_FALSE(MakeRandomModel("llama", "tiny-llama", "safetensors", TempPath("x"), 1, "q8_0").ok());
  EXPECT_FALSE(MakeRandomModel("llama", "tiny-llama", "gguf", TempPath("x.gguf"), 1, "int3").ok());
  EXPECT_FALSE(MakeRandomModel("llama", "tiny-llama", "gguf", "", 1, "").ok());
}

}  // namespace
}  // namespace tessera::model
