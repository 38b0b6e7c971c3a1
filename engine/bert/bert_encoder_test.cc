#include "engine/bert/bert_encoder.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/shared_data.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::bert {
namespace {

using Json = nlohmann::json;

constexpr float kTolerance = 1e-4f;

std::string TestData(const std::string& name) {
  return RunfilePath("engine/bert/testdata/" + name);
}

Json Expected() {
  std::ifstream in(TestData("expected.json"));
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str());
}

std::string TempDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
}

void ExpectNear(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], kTolerance) << "element " << i;
  }
}

TEST(BertEncoderTest, EmbeddingsOfAPaddedBatchMatchPyTorch) {
  auto encoder = BertEncoder::Load(TestData("tiny_bert"));
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ((*encoder)->embedding_dimension(), 32);
  EXPECT_TRUE((*encoder)->normalizes());
  EXPECT_FALSE((*encoder)->has_classifier());
  const Json expected = Expected()["embedding"];
  const auto ids = expected["ids"].get<std::vector<std::vector<int32_t>>>();
  const auto vectors = expected["vectors"].get<std::vector<std::vector<float>>>();
  auto embeddings = (*encoder)->EncodeIds(ids);
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  ASSERT_EQ(embeddings->size(), vectors.size());
  for (size_t i = 0; i < vectors.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectNear((*embeddings)[i], vectors[i]);
  }
  // One sequence at a time gives the same vectors as the batch.
  auto single = (*encoder)->EncodeIds({ids[2]});
  ASSERT_TRUE(single.ok());
  ExpectNear((*single)[0], vectors[2]);
}

TEST(BertEncoderTest, SmallTokenBudgetSplitsBatchesWithoutChangingResults) {
  BertEncoderOptions options;
  options.max_batch_tokens = 5;
  options.num_threads = 1;
  auto encoder = BertEncoder::Load(TestData("tiny_bert"), options);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  const Json expected = Expected()["embedding"];
  auto embeddings =
      (*encoder)->EncodeIds(expected["ids"].get<std::vector<std::vector<int32_t>>>());
  ASSERT_TRUE(embeddings.ok());
  const auto vectors = expected["vectors"].get<std::vector<std::vector<float>>>();
  for (size_t i = 0; i < vectors.size(); ++i) ExpectNear((*embeddings)[i], vectors[i]);
}

TEST(BertEncoderTest, EmbedTokenizesText) {
  auto encoder = BertEncoder::Load(TestData("tiny_bert"));
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  ASSERT_NE((*encoder)->tokenizer(), nullptr);
  const Json expected = Expected()["embedding"];
  const auto texts = expected["texts"].get<std::vector<std::string>>();
  const auto vectors = expected["vectors"].get<std::vector<std::vector<float>>>();
  auto embeddings = (*encoder)->Embed(texts);
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    ExpectNear((*embeddings)[i], vectors[i]);
    double norm = 0;
    for (float v : (*embeddings)[i]) norm += v * v;
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

TEST(BertEncoderTest, TextLongerThanMaxSeqLengthIsTruncated) {
  BertEncoderOptions options;
  options.max_seq_length = 6;
  auto encoder = BertEncoder::Load(TestData("tiny_bert"), options);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  auto long_text = (*encoder)->Embed({"the cat sat on the mat the cat sat on the mat"});
  ASSERT_TRUE(long_text.ok()) << long_text.status();
  // [CLS] the cat sat on [SEP]
  auto truncated = (*encoder)->EncodeIds({{2, 5, 6, 8, 9, 3}});
  ASSERT_TRUE(truncated.ok());
  ExpectNear((*long_text)[0], (*truncated)[0]);
}

TEST(BertEncoderTest, CrossEncoderScoresMatchPyTorch) {
  auto encoder = BertEncoder::Load(TestData("tiny_cross"));
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  ASSERT_TRUE((*encoder)->has_classifier());
  const Json expected = Expected()["cross"];
  const auto ids = expected["ids"].get<std::vector<std::vector<int32_t>>>();
  const auto types = expected["token_type_ids"].get<std::vector<std::vector<int32_t>>>();
  const auto logits = expected["logits"].get<std::vector<float>>();
  std::vector<EncoderInput> pairs(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) pairs[i] = {ids[i], types[i]};
  auto scores = (*encoder)->ScoreIds(pairs);
  ASSERT_TRUE(scores.ok()) << scores.status();
  ExpectNear(*scores, logits);

  auto text_scores = (*encoder)->Score(expected["query"].get<std::string>(),
                                       expected["passages"].get<std::vector<std::string>>());
  ASSERT_TRUE(text_scores.ok()) << text_scores.status();
  ExpectNear(*text_scores, logits);
}

TEST(BertEncoderTest, BadInputsGiveErrors) {
  auto encoder = BertEncoder::Load(TestData("tiny_bert"));
  ASSERT_TRUE(encoder.ok());
  EXPECT_EQ((*encoder)->EncodeIds({{2, 64, 3}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*encoder)->EncodeIds({{2, -1, 3}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*encoder)->EncodeIds({{}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*encoder)->EncodeIds({std::vector<int32_t>(33, 5)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*encoder)->HiddenStates({EncoderInput{{2, 5, 3}, {0, 2, 0}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*encoder)->Score("q", {"p"}).status().code(), absl::StatusCode::kFailedPrecondition);
  auto empty = (*encoder)->EncodeIds({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(BertEncoderTest, LoadReportsMissingFilesAndShapeMismatches) {
  EXPECT_EQ(BertEncoder::Load(TempDir("no_such_model")).status().code(),
            absl::StatusCode::kNotFound);
  // A config that disagrees with the tensors.
  const std::string dir = TempDir("mismatch");
  ASSERT_EQ(system(absl::StrCat("rm -rf ", dir, " && cp -rL ", TestData("tiny_bert"), " ", dir,
                                " && chmod -R u+w ", dir)
                       .c_str()),
            0);
  {
    std::ofstream config(dir + "/config.json", std::ios::trunc);
    config << R"({"vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "intermediate_size": 48,
                 "max_position_embeddings": 32})";
  }
  auto encoder = BertEncoder::Load(dir);
  ASSERT_FALSE(encoder.ok());
  EXPECT_EQ(encoder.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(encoder.status().message().find("intermediate.dense.weight"), std::string::npos)
      << encoder.status();
}

TEST(BertEncoderTest, LoadsARandomModelWrittenByMakeRandom) {
  const std::string dir = TempDir("random_tiny_bert");
  auto written = model::MakeRandomModel("bert", "tiny-bert", "safetensors", dir, 7, "f16");
  ASSERT_TRUE(written.ok()) << written.status();
  auto encoder = BertEncoder::Load(*written);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ((*encoder)->config().vocab_size, 30522);
  auto embeddings = (*encoder)->Embed({"Hello world.", "A second, longer sentence about cats."});
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  ASSERT_EQ(embeddings->size(), 2u);
  double norm = 0, dot = 0;
  for (size_t j = 0; j < (*embeddings)[0].size(); ++j) {
    norm += (*embeddings)[0][j] * (*embeddings)[0][j];
    dot += (*embeddings)[0][j] * (*embeddings)[1][j];
  }
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_LT(dot, 1.0 - 1e-6);  // Different texts, different vectors.

  const std::string cross_dir = TempDir("random_cross");
  auto cross = model::MakeRandomModel("bert-cross-encoder", "tiny-bert", "safetensors", cross_dir,
                                      7, "f32");
  ASSERT_TRUE(cross.ok()) << cross.status();
  auto reranker = BertEncoder::Load(*cross);
  ASSERT_TRUE(reranker.ok()) << reranker.status();
  auto scores = (*reranker)->Score("what is a cat", {"cats are animals", "stock markets"});
  ASSERT_TRUE(scores.ok()) << scores.status();
  ASSERT_EQ(scores->size(), 2u);
  EXPECT_TRUE(std::isfinite((*scores)[0]) && std::isfinite((*scores)[1]));
  EXPECT_NE((*scores)[0], (*scores)[1]);
}

}  // namespace
}  // namespace tessera::bert
