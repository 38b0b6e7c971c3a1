#include "retrieval/sharding/search_comparison.h"

#include <cmath>
#include <map>

#include "gtest/gtest.h"

namespace tessera::retrieval::sharding {

void ExpectSameResults(const retrieval::v1::SearchResponse& expected,
                       const retrieval::v1::SearchResponse& actual, const std::string& what) {
  ASSERT_EQ(actual.hits_size(), expected.hits_size()) << what;
  auto near = [](float a, float b) { return std::abs(a - b) <= 1e-5f * std::abs(b); };
  for (int i = 0; i < actual.hits_size(); ++i) {
    EXPECT_PRED2(near, actual.hits(i).score(), expected.hits(i).score()) << what << " rank " << i;
    EXPECT_EQ(actual.hits(i).scores().bm25_rank(), expected.hits(i).scores().bm25_rank()) << what;
  }
  if (expected.hits_size() == 0) return;
  const float cutoff = expected.hits(expected.hits_size() - 1).score();
  std::map<std::string, float> score_of;
  for (const auto& hit : expected.hits()) score_of[hit.chunk_id()] = hit.score();
  for (const auto& hit : actual.hits()) {
    if (near(hit.score(), cutoff)) continue;
    ASSERT_TRUE(score_of.count(hit.chunk_id())) << what << ": " << hit.chunk_id();
    EXPECT_PRED2(near, hit.score(), score_of[hit.chunk_id()]) << what;
  }
}

}  // namespace tessera::retrieval::sharding
