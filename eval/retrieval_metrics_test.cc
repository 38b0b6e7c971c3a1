#include "eval/retrieval_metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

// Judged: b = 2, c = 0, d = 1, f = 3 (never retrieved); a and e are unjudged.
const QueryJudgments kJudgments = {{"b", 2}, {"c", 0}, {"d", 1}, {"f", 3}};
const std::vector<std::string> kRanking = {"a", "b", "c", "d", "e"};

// Ideal DCG over all judged documents: 3/log2(2) + 2/log2(3) + 1/log2(4)
// = 3 + 1.261860 + 0.5 = 4.761860.
TEST(RetrievalMetricsTest, NdcgUsesGradedGainsAndLogDiscount) {
  // (2/log2(3) + 1/log2(5)) / 4.761860 = (1.261860 + 0.430677) / 4.761860.
  EXPECT_NEAR(NdcgAtK(kRanking, kJudgments, 5), 0.355436, 1e-6);
  // Only b within the top 3: 1.261860 / 4.761860.
  EXPECT_NEAR(NdcgAtK(kRanking, kJudgments, 3), 0.264993, 1e-6);
  EXPECT_DOUBLE_EQ(NdcgAtK(kRanking, kJudgments, 1), 0.0);
  // A perfect ranking scores 1.
  EXPECT_NEAR(NdcgAtK({"f", "b", "d"}, kJudgments, 10), 1.0, 1e-12);
}

TEST(RetrievalMetricsTest, RecallCountsRelevantAboveZero) {
  EXPECT_DOUBLE_EQ(RecallAtK(kRanking, kJudgments, 3), 1.0 / 3);
  EXPECT_DOUBLE_EQ(RecallAtK(kRanking, kJudgments, 5), 2.0 / 3);
  EXPECT_DOUBLE_EQ(RecallAtK(kRanking, QueryJudgments{{"c", 0}}, 5), 0.0);
}

TEST(RetrievalMetricsTest, ReciprocalRankWithinCutoff) {
  EXPECT_DOUBLE_EQ(ReciprocalRankAtK(kRanking, kJudgments, 1), 0.0);
  EXPECT_DOUBLE_EQ(ReciprocalRankAtK(kRanking, kJudgments, 5), 0.5);
}

TEST(RetrievalMetricsTest, AveragePrecision) {
  // Relevant at ranks 2 and 4: (1/2 + 2/4) / 3 relevant.
  EXPECT_DOUBLE_EQ(AveragePrecision(kRanking, kJudgments), 1.0 / 3);
  EXPECT_DOUBLE_EQ(AveragePrecision(kRanking, kJudgments, 3), 1.0 / 6);
}

TEST(RetrievalMetricsTest, DuplicateIdsCountOnce) {
  // b at rank 1, d at rank 2; the repeated b is ignored.
  const std::vector<std::string> ranking = {"b", "b", "d"};
  EXPECT_DOUBLE_EQ(RecallAtK(ranking, kJudgments, 2), 2.0 / 3);
  EXPECT_NEAR(NdcgAtK(ranking, kJudgments, 2), (2 + 1 / std::log2(3.0)) / (3 + 2 / std::log2(3.0)),
              1e-12);
}

TEST(RetrievalMetricsTest, EvaluateAveragesOverJudgedQueries) {
  Qrels qrels;
  qrels["q1"] = kJudgments;
  qrels["q2"] = {{"x", 0}};  // No relevant document: not counted.
  qrels["q3"] = {{"y", 1}};  // Missing from the run: zeros.
  Rankings run;
  run["q1"] = kRanking;
  run["q4"] = {"y"};  // Not judged: ignored.
  MetricCutoffs cutoffs;
  cutoffs.ndcg_k = 5;
  cutoffs.recall_k = 5;
  cutoffs.mrr_k = 5;
  auto metrics = Evaluate(qrels, run, cutoffs);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->queries, 2);
  EXPECT_NEAR(metrics->ndcg, 0.355436 / 2, 1e-6);
  EXPECT_DOUBLE_EQ(metrics->recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(metrics->mrr, 0.25);
  EXPECT_DOUBLE_EQ(metrics->map, 1.0 / 6);
}

TEST(RetrievalMetricsTest, EvaluateRejectsBadInput) {
  EXPECT_EQ(Evaluate({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  Qrels qrels;
  qrels["q"] = {{"d", 1}};
  MetricCutoffs cutoffs;
  cutoffs.ndcg_k = 0;
  EXPECT_EQ(Evaluate(qrels, {}, cutoffs).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::eval
