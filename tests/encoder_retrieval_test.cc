// Dense, hybrid and reranked retrieval through the real server with encoder
// models loaded from files: random-weight BERT models written in the Hugging Face
// formats by `tessera model make-random`'s library (real weights are not
// available here, so this checks the wiring and the file formats, not quality).
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "services/eval_command.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(EncoderRetrievalTest, EveryModeRunsWithLoadedEncoders) {
  const std::string dir = testing::MakeTempDir("encoders");
  auto embedder = model::MakeRandomModel("bert", "tiny-bert", "safetensors", dir + "/embedder",
                                         7, "f32");
  ASSERT_TRUE(embedder.ok()) << embedder.status();
  auto reranker = model::MakeRandomModel("bert-cross-encoder", "tiny-bert", "safetensors",
                                         dir + "/reranker", 8, "f16");
  ASSERT_TRUE(reranker.ok()) << reranker.status();

  // A small BEIR-format dataset.
  Write(dir + "/corpus.jsonl",
        R"({"_id": "d1", "title": "Aspirin", "text": "Aspirin lowers the risk of heart attack."})"
        "\n"
        R"({"_id": "d2", "title": "Vitamin D", "text": "Vitamin D improves bone density."})"
        "\n"
        R"({"_id": "d3", "title": "Insulin", "text": "Insulin controls blood sugar."})"
        "\n");
  Write(dir + "/queries.jsonl",
        R"({"_id": "q1", "text": "heart attack risk"})"
        "\n"
        R"({"_id": "q2", "text": "bone density"})"
        "\n");
  Write(dir + "/qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n");

  services::RetrievalEvalOptions options;
  options.corpus = dir + "/corpus.jsonl";
  options.queries = dir + "/queries.jsonl";
  options.qrels = dir + "/qrels.tsv";
  options.modes = {"bm25", "dense", "hybrid", "hybrid_rerank"};
  options.embedder_model = *embedder;
  options.reranker_model = *reranker;
  auto lines = services::RunRetrievalEval(options);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 4u);
  for (const std::string& line : *lines) {
    auto row = nlohmann::json::parse(line);
    ASSERT_FALSE(row.contains("skipped")) << line;
    EXPECT_EQ(row["queries"], 2) << line;
    EXPECT_GE(row["ndcg@10"].get<double>(), 0.0);
    EXPECT_LE(row["ndcg@10"].get<double>(), 1.0);
    // Three documents: every relevant one is within the top 100.
    EXPECT_DOUBLE_EQ(row["recall@100"].get<double>(), 1.0) << line;
  }
  // BM25 gets these easy queries right.
  EXPECT_DOUBLE_EQ(nlohmann::json::parse((*lines)[0])["mrr@10"].get<double>(), 1.0);
}

TEST(EncoderRetrievalTest, AModelThatIsNotACrossEncoderIsRefused) {
  const std::string dir = testing::MakeTempDir("not_cross");
  auto embedder = model::MakeRandomModel("bert", "tiny-bert", "safetensors", dir + "/m", 1, "f32");
  ASSERT_TRUE(embedder.ok());
  Write(dir + "/q.jsonl", R"({"_id": "q", "text": "x"})" "\n");
  Write(dir + "/r.tsv", "query-id\tcorpus-id\tscore\nq\td\t1\n");
  Write(dir + "/c.jsonl", R"({"_id": "d", "text": "x"})" "\n");
  services::RetrievalEvalOptions options;
  options.corpus = dir + "/c.jsonl";
  options.queries = dir + "/q.jsonl";
  options.qrels = dir + "/r.tsv";
  options.modes = {"bm25"};
  options.reranker_model = *embedder;
  auto result = services::RunRetrievalEval(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("classification head"), std::string::npos)
      << result.status();
}

}  // namespace
}  // namespace tessera
