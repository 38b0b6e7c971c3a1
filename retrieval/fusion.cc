#include "retrieval/fusion.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"

namespace tessera::retrieval {
namespace {

// Collects both lists into one hit per id, with ranks and raw scores.
std::vector<FusedHit> Merge(absl::Span<const ScoredId> bm25, absl::Span<const ScoredId> dense) {
  absl::flat_hash_map<uint32_t, size_t> index;
  std::vector<FusedHit> hits;
  hits.reserve(bm25.size() + dense.size());
  auto slot = [&](uint32_t id) -> FusedHit& {
    auto [it, inserted] = index.try_emplace(id, hits.size());
    if (inserted) hits.push_back(FusedHit{id});
    return hits[it->second];
  };
  for (size_t i = 0; i < bm25.size(); ++i) {
    FusedHit& hit = slot(bm25[i].id);
    if (hit.bm25_rank == 0) {
      hit.bm25_rank = static_cast<int32_t>(i + 1);
      hit.bm25_score = bm25[i].score;
    }
  }
  for (size_t i = 0; i < dense.size(); ++i) {
    FusedHit& hit = slot(dense[i].id);
    if (hit.dense_rank == 0) {
      hit.dense_rank = static_cast<int32_t>(i + 1);
      hit.dense_score = dense[i].score;
    }
  }
  return hits;
}

void SortAndTruncate(std::vector<FusedHit>* hits, size_t top_n) {
  auto better = [](const FusedHit& a, const FusedHit& b) {
    return a.fused != b.fused ? a.fused > b.fused : a.id < b.id;
  };
  if (hits->size() > top_n) {
    std::partial_sort(hits->begin(), hits->begin() + top_n, hits->end(), better);
    hits->resize(top_n);
  } else {
    std::sort(hits->begin(), hits->end(), better);
  }
}

// Maps a list's scores to normalised values: (score - center) / spread, and
// `floor` for a hit absent from the list.
struct Normalizer {
  float center = 0, spread = 1, floor = 0;
  // All scores equal: every listed hit is equally the best.
  bool degenerate = false;
  float operator()(float score) const {
    return degenerate ? 1.0f : (score - center) / spread;
  }
};

Normalizer MakeNormalizer(absl::Span<const ScoredId> list, ScoreNormalization normalization) {
  Normalizer n;
  if (list.empty()) return n;
  float lo = list[0].score, hi = list[0].score;
  double sum = 0, sum_sq = 0;
  for (const ScoredId& s : list) {
    lo = std::min(lo, s.score);
    hi = std::max(hi, s.score);
    sum += s.score;
    sum_sq += static_cast<double>(s.score) * s.score;
  }
  if (normalization == ScoreNormalization::kMinMax) {
    n.degenerate = !(hi > lo);
    n.center = lo;
    n.spread = hi - lo;
    n.floor = 0;
    return n;
  }
  double mean = sum / list.size();
  double stddev = std::sqrt(std::max(0.0, sum_sq / list.size() - mean * mean));
  n.degenerate = !(stddev > 0);
  n.center = static_cast<float>(mean);
  n.spread = static_cast<float>(stddev);
  n.floor = n.degenerate ? 0.0f : n(lo);
  return n;
}

}  // namespace

std::vector<FusedHit> FuseReciprocalRank(absl::Span<const ScoredId> bm25,
                                         absl::Span<const ScoredId> dense, float k,
                                         size_t top_n) {
  std::vector<FusedHit> hits = Merge(bm25, dense);
  for (FusedHit& hit : hits) {
    hit.fused = (hit.bm25_rank > 0 ? 1.0f / (k + hit.bm25_rank) : 0.0f) +
                (hit.dense_rank > 0 ? 1.0f / (k + hit.dense_rank) : 0.0f);
  }
  SortAndTruncate(&hits, top_n);
  return hits;
}

std::vector<FusedHit> FuseWeighted(absl::Span<const ScoredId> bm25,
                                   absl::Span<const ScoredId> dense, float bm25_weight,
                                   ScoreNormalization normalization, size_t top_n) {
  Normalizer bm25_norm = MakeNormalizer(bm25, normalization);
  Normalizer dense_norm = MakeNormalizer(dense, normalization);
  std::vector<FusedHit> hits = Merge(bm25, dense);
  for (FusedHit& hit : hits) {
    float b = hit.bm25_rank > 0 ? bm25_norm(hit.bm25_score) : bm25_norm.floor;
    float d = hit.dense_rank > 0 ? dense_norm(hit.dense_score) : dense_norm.floor;
    hit.fused = bm25_weight * b + (1 - bm25_weight) * d;
  }
  SortAndTruncate(&hits, top_n);
  return hits;
}

std::vector<std::optional<float>> ApplyRerankScores(const std::vector<std::optional<float>>& scores,
                                                    std::vector<FusedHit>* fused) {
  const size_t n = std::min(scores.size(), fused->size());
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (scores[a].has_value() != scores[b].has_value()) return scores[a].has_value();
    return scores[a].has_value() && *scores[a] > *scores[b];
  });
  std::vector<FusedHit> reordered;
  reordered.reserve(fused->size());
  std::vector<std::optional<float>> reordered_scores(fused->size());
  for (size_t i = 0; i < n; ++i) {
    reordered.push_back((*fused)[order[i]]);
    reordered_scores[i] = scores[order[i]];
  }
  for (size_t i = n; i < fused->size(); ++i) reordered.push_back((*fused)[i]);
  *fused = std::move(reordered);
  return reordered_scores;
}

std::vector<FusedHit> FromBm25(absl::Span<const ScoredId> bm25, size_t top_n) {
  std::vector<FusedHit> hits = Merge(bm25, {});
  for (FusedHit& hit : hits) hit.fused = hit.bm25_score;
  if (hits.size() > top_n) hits.resize(top_n);
  return hits;
}

std::vector<FusedHit> FromDense(absl::Span<const ScoredId> dense, size_t top_n) {
  std::vector<FusedHit> hits = Merge({}, dense);
  for (FusedHit& hit : hits) hit.fused = hit.dense_score;
  if (hits.size() > top_n) hits.resize(top_n);
  return hits;
}

}  // namespace tessera::retrieval
