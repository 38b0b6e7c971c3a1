#include "engine/model/model_config.h"

#include <optional>
#include <string>

#include "common/shared_data.h"
#include "gtest/gtest.h"

namespace tessera::model {
namespace {

TEST(ModelConfigTest, ParsesTheSharedMiniLmConfig) {
  std::optional<std::string> path = FindSharedFile("models/all-MiniLM-L6-v2/config.json");
  if (!path) GTEST_SKIP() << "shared models/all-MiniLM-L6-v2/config.json is absent";
  auto config = LoadBertConfig(*path);
  ASSERT_TRUE(config.ok()) << config.status();
  auto named = NamedBertShape("minilm-l6");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(config->hidden_size, 384);
  EXPECT_EQ(config->num_hidden_layers, 6);
  EXPECT_EQ(config->num_attention_heads, 12);
  EXPECT_EQ(config->intermediate_size, 1536);
  EXPECT_EQ(config->vocab_size, 30522);
  EXPECT_EQ(config->max_position_embeddings, 512);
  EXPECT_EQ(config->type_vocab_size, 2);
  EXPECT_DOUBLE_EQ(config->layer_norm_eps, 1e-12);
  EXPECT_EQ(config->hidden_act, "gelu");
  EXPECT_EQ(config->num_labels, 0);
  // The named shape is exactly this config.
  EXPECT_EQ(named->hidden_size, config->hidden_size);
  EXPECT_EQ(named->num_hidden_layers, config->num_hidden_layers);
  EXPECT_EQ(named->num_attention_heads, config->num_attention_heads);
  EXPECT_EQ(named->intermediate_size, config->intermediate_size);
  EXPECT_EQ(named->vocab_size, config->vocab_size);
  EXPECT_EQ(named->max_position_embeddings, config->max_position_embeddings);
  EXPECT_DOUBLE_EQ(named->layer_norm_eps, config->layer_norm_eps);
}

TEST(ModelConfigTest, BertRoundTripAndClassifier) {
  BertConfig config = *NamedBertShape("tiny-bert");
  config.num_labels = 1;
  auto parsed = ParseBertConfig(BertConfigToJson(config));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->hidden_size, 32);
  EXPECT_EQ(parsed->num_labels, 1);
  auto two_labels = ParseBertConfig(R"({"architectures":["BertForSequenceClassification"],
      "vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,
      "intermediate_size":16,"id2label":{"0":"no","1":"yes"}})");
  ASSERT_TRUE(two_labels.ok());
  EXPECT_EQ(two_labels->num_labels, 2);
}

TEST(ModelConfigTest, BadBertConfigs) {
  EXPECT_FALSE(ParseBertConfig("not json").ok());
  EXPECT_FALSE(ParseBertConfig("[]").ok());
  EXPECT_FALSE(ParseBertConfig(R"({"hidden_size":32})").ok());
  const std::string base =
      R"("vocab_size":10,"num_hidden_layers":1,"intermediate_size":16,"num_attention_heads":3)";
  EXPECT_FALSE(ParseBertConfig("{" + base + R"(,"hidden_size":32})").ok());  // 32 % 3.
  EXPECT_FALSE(ParseBertConfig("{" + base + R"(,"hidden_size":"32"})").ok());
  EXPECT_FALSE(ParseBertConfig("{" + base + R"(,"hidden_size":-3})").ok());
  EXPECT_FALSE(ParseBertConfig("{" + base + R"(,"hidden_size":3,"hidden_act":"swish"})").ok());
  EXPECT_FALSE(ParseBertConfig("{" + base + R"(,"hidden_size":3,"layer_norm_eps":"x"})").ok());
  EXPECT_TRUE(ParseBertConfig("{" + base + R"(,"hidden_size":3})").ok());
  EXPECT_EQ(LoadBertConfig("/nonexistent/config.json").status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelConfigTest, LlamaShapesAndParsing) {
  auto tiny = NamedLlamaShape("tinyllama-1.1b");
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->hidden_size, 2048);
  EXPECT_EQ(tiny->intermediate_size, 5632);
  EXPECT_EQ(tiny->num_hidden_layers, 22);
  EXPECT_EQ(tiny->num_attention_heads, 32);
  EXPECT_EQ(tiny->num_key_value_heads, 4);
  EXPECT_EQ(tiny->vocab_size, 32000);
  EXPECT_DOUBLE_EQ(tiny->rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(tiny->rms_norm_eps, 1e-5);
  EXPECT_EQ(tiny->max_position_embeddings, 2048);
  auto parsed = ParseLlamaConfig(LlamaConfigToJson(*tiny));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->num_key_value_heads, 4);
  EXPECT_EQ(parsed->intermediate_size, 5632);
  auto seven = NamedLlamaShape("llama2-7b");
  ASSERT_TRUE(seven.ok());
  EXPECT_EQ(seven->hidden_size, 4096);
  EXPECT_EQ(seven->num_key_value_heads, 32);
  EXPECT_EQ(NamedLlamaShape("gpt-5").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(NamedBertShape("gpt-5").status().code(), absl::StatusCode::kNotFound);

  auto no_kv = ParseLlamaConfig(R"({"vocab_size":100,"hidden_size":64,"intermediate_size":128,
      "num_hidden_layers":2,"num_attention_heads":4,"rope_theta":500000.0,
      "tie_word_embeddings":true})");
  ASSERT_TRUE(no_kv.ok()) << no_kv.status();
  EXPECT_EQ(no_kv->num_key_value_heads, 4);
  EXPECT_TRUE(no_kv->tie_word_embeddings);
  EXPECT_DOUBLE_EQ(no_kv->rope_theta, 500000.0);
  EXPECT_FALSE(ParseLlamaConfig(R"({"vocab_size":100,"hidden_size":64,"intermediate_size":128,
      "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":3})")
                   .ok());
}

}  // namespace
}  // namespace tessera::model
