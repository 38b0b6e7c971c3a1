// Hybrid fusion of two ranked lists (BM25 and dense) over one id space.
//  - Reciprocal rank fusion: fused = sum over lists of 1 / (k + rank), rank 1-based.
//  - Weighted: fused = w * norm(bm25) + (1 - w) * norm(dense), each list's scores
//    normalised on their own (min-max to [0, 1], or z-score); a hit missing from
//    a list contributes that list's minimum normalised score (0 for min-max).
// Each fused hit keeps both retrievers' ranks and raw scores for the breakdown.
#ifndef TESSERA_RETRIEVAL_FUSION_H_
#define TESSERA_RETRIEVAL_FUSION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"

namespace tessera::retrieval {

struct ScoredId {
  uint32_t id = 0;
  float score = 0;
};

struct FusedHit {
  uint32_t id = 0;
  float fused = 0;
  int32_t bm25_rank = 0;  // 1-based; 0 = not in the BM25 list
  float bm25_score = 0;
  int32_t dense_rank = 0;
  float dense_score = 0;
};

enum class ScoreNormalization { kMinMax, kZScore };

// Both inputs are ordered best first. Output: best first, at most `top_n`,
// ties broken by id so results are deterministic.
std::vector<FusedHit> FuseReciprocalRank(absl::Span<const ScoredId> bm25,
                                         absl::Span<const ScoredId> dense, float k, size_t top_n);

std::vector<FusedHit> FuseWeighted(absl::Span<const ScoredId> bm25,
                                   absl::Span<const ScoredId> dense, float bm25_weight,
                                   ScoreNormalization normalization, size_t top_n);

// Applies reranker scores to the first scores.size() fused hits: those with a
// score first, best first (stable), then those without one and the hits past
// them in fused order. Returns each hit's rerank score in the new order.
std::vector<std::optional<float>> ApplyRerankScores(const std::vector<std::optional<float>>& scores,
                                                    std::vector<FusedHit>* fused);

// One list as fused hits (single-retriever modes), keeping its scores.
std::vector<FusedHit> FromBm25(absl::Span<const ScoredId> bm25, size_t top_n);
std::vector<FusedHit> FromDense(absl::Span<const ScoredId> dense, size_t top_n);

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_FUSION_H_
