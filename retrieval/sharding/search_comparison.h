// Comparing a sharded search with one index's, for tests: the same hits with
// the same scores, up to float rounding and the order of tied hits.
#ifndef TESSERA_RETRIEVAL_SHARDING_SEARCH_COMPARISON_H_
#define TESSERA_RETRIEVAL_SHARDING_SEARCH_COMPARISON_H_

#include <string>

#include "tessera/retrieval/v1/retrieval.pb.h"

namespace tessera::retrieval::sharding {

// Scores are equal up to float rounding (each index sums a query's term scores
// in the order its pruning picks); hits with (nearly) equal scores may come in
// another order, and at the cut-off a tie may pick another of the tied hits.
// Reports failures through gtest, naming `what`.
void ExpectSameResults(const retrieval::v1::SearchResponse& expected,
                       const retrieval::v1::SearchResponse& actual, const std::string& what);

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_SEARCH_COMPARISON_H_
