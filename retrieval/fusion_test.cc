#include "retrieval/fusion.h"

#include "gtest/gtest.h"

namespace tessera::retrieval {
namespace {

TEST(FusionTest, ReciprocalRankMatchesHandComputedValues) {
  // BM25: 7, 3, 9   dense: 3, 5
  std::vector<ScoredId> bm25 = {{7, 12.0f}, {3, 9.0f}, {9, 1.0f}};
  std::vector<ScoredId> dense = {{3, 0.9f}, {5, 0.8f}};
  auto fused = FuseReciprocalRank(bm25, dense, 60, 10);
  ASSERT_EQ(fused.size(), 4u);
  // id 3: 1/62 + 1/61; id 7: 1/61; id 5: 1/62; id 9: 1/63
  EXPECT_EQ(fused[0].id, 3u);
  EXPECT_NEAR(fused[0].fused, 1.0 / 62 + 1.0 / 61, 1e-7);
  EXPECT_EQ(fused[0].bm25_rank, 2);
  EXPECT_FLOAT_EQ(fused[0].bm25_score, 9.0f);
  EXPECT_EQ(fused[0].dense_rank, 1);
  EXPECT_FLOAT_EQ(fused[0].dense_score, 0.9f);
  EXPECT_EQ(fused[1].id, 7u);
  EXPECT_NEAR(fused[1].fused, 1.0 / 61, 1e-7);
  EXPECT_EQ(fused[1].dense_rank, 0);
  EXPECT_EQ(fused[2].id, 5u);
  EXPECT_EQ(fused[3].id, 9u);
  EXPECT_EQ(FuseReciprocalRank(bm25, dense, 60, 2).size(), 2u);
}

TEST(FusionTest, WeightedMinMaxMatchesHandComputedValues) {
  std::vector<ScoredId> bm25 = {{1, 10.0f}, {2, 6.0f}, {3, 2.0f}};  // -> 1, 0.5, 0
  std::vector<ScoredId> dense = {{3, 0.9f}, {4, 0.5f}};             // -> 1, 0
  auto fused = FuseWeighted(bm25, dense, 0.5f, ScoreNormalization::kMinMax, 10);
  ASSERT_EQ(fused.size(), 4u);
  // 1: .5*1 + .5*0 = .5; 2: .25; 3: .5*0 + .5*1 = .5; 4: 0
  EXPECT_EQ(fused[0].id, 1u);  // tie with 3, broken by id
  EXPECT_FLOAT_EQ(fused[0].fused, 0.5f);
  EXPECT_EQ(fused[1].id, 3u);
  EXPECT_FLOAT_EQ(fused[1].fused, 0.5f);
  EXPECT_EQ(fused[2].id, 2u);
  EXPECT_FLOAT_EQ(fused[2].fused, 0.25f);
  EXPECT_EQ(fused[3].id, 4u);
  EXPECT_FLOAT_EQ(fused[3].fused, 0.0f);
}

TEST(FusionTest, WeightedZScore) {
  std::vector<ScoredId> bm25 = {{1, 3.0f}, {2, 1.0f}};  // mean 2, sd 1 -> 1, -1
  auto fused = FuseWeighted(bm25, {}, 1.0f, ScoreNormalization::kZScore, 10);
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_FLOAT_EQ(fused[0].fused, 1.0f);
  EXPECT_FLOAT_EQ(fused[1].fused, -1.0f);
}

TEST(FusionTest, SingleRetrieverAndEmptyInputs) {
  EXPECT_TRUE(FuseReciprocalRank({}, {}, 60, 10).empty());
  std::vector<ScoredId> dense = {{4, 0.7f}, {2, 0.6f}};
  auto hits = FromDense(dense, 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 4u);
  EXPECT_FLOAT_EQ(hits[0].fused, 0.7f);
  EXPECT_EQ(hits[0].dense_rank, 1);
  // A list with one distinct score: each listed hit normalises to 1.
  std::vector<ScoredId> flat = {{1, 5.0f}, {2, 5.0f}};
  auto weighted = FuseWeighted(flat, {}, 1.0f, ScoreNormalization::kMinMax, 10);
  EXPECT_FLOAT_EQ(weighted[0].fused, 1.0f);
  EXPECT_FLOAT_EQ(weighted[1].fused, 1.0f);
}

TEST(FusionTest, RerankScoresReorderTheTopCandidates) {
  std::vector<FusedHit> fused(5);
  for (uint32_t i = 0; i < 5; ++i) fused[i].id = i;
  // Candidates 0..3 were sent to the reranker; 2 got no score (its shard was down).
  auto scores = ApplyRerankScores({0.1f, 0.9f, std::nullopt, 0.5f}, &fused);
  std::vector<uint32_t> ids;
  for (const FusedHit& hit : fused) ids.push_back(hit.id);
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 3, 0, 2, 4}));
  ASSERT_EQ(scores.size(), 5u);
  EXPECT_FLOAT_EQ(*scores[0], 0.9f);
  EXPECT_FLOAT_EQ(*scores[2], 0.1f);
  EXPECT_FALSE(scores[3].has_value());
  EXPECT_FALSE(scores[4].has_value());
}

}  // namespace
}  // namespace tessera::retrieval
