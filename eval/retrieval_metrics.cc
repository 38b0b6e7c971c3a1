#include "eval/retrieval_metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace tessera::eval {
namespace {

int Relevance(const QueryJudgments& judgments, const std::string& id) {
  auto found = judgments.find(id);
  return found == judgments.end() ? 0 : found->second;
}

int RelevantCount(const QueryJudgments& judgments) {
  int count = 0;
  for (const auto& [id, relevance] : judgments) count += relevance > 0;
  return count;
}

// Calls visit(rank, relevance) for the first `k` distinct ids (all when k <= 0).
template <typename Visit>
void ForEachDistinct(absl::Span<const std::string> ranked, const QueryJudgments& judgments, int k,
                     Visit visit) {
  absl::flat_hash_set<absl::string_view> seen;
  int rank = 0;
  for (const std::string& id : ranked) {
    if (k > 0 && rank >= k) break;
    if (!seen.insert(id).second) continue;
    ++rank;
    visit(rank, Relevance(judgments, id));
  }
}

}  // namespace

double NdcgAtK(absl::Span<const std::string> ranked, const QueryJudgments& judgments, int k) {
  if (k <= 0) return 0;
  double dcg = 0;
  ForEachDistinct(ranked, judgments, k, [&](int rank, int relevance) {
    if (relevance > 0) dcg += relevance / std::log2(rank + 1.0);
  });
  std::vector<int> ideal;
  for (const auto& [id, relevance] : judgments) {
    if (relevance > 0) ideal.push_back(relevance);
  }
  std::sort(ideal.rbegin(), ideal.rend());
  double ideal_dcg = 0;
  for (int i = 0; i < static_cast<int>(ideal.size()) && i < k; ++i) {
    ideal_dcg += ideal[i] / std::log2(i + 2.0);
  }
  return ideal_dcg > 0 ? dcg / ideal_dcg : 0;
}

double RecallAtK(absl::Span<const std::string> ranked, const QueryJudgments& judgments, int k) {
  const int relevant = RelevantCount(judgments);
  if (relevant == 0 || k <= 0) return 0;
  int found = 0;
  ForEachDistinct(ranked, judgments, k, [&](int, int relevance) { found += relevance > 0; });
  return static_cast<double>(found) / relevant;
}

double ReciprocalRankAtK(absl::Span<const std::string> ranked, const QueryJudgments& judgments,
                         int k) {
  if (k <= 0) return 0;
  int first = 0;
  ForEachDistinct(ranked, judgments, k, [&](int rank, int relevance) {
    if (first == 0 && relevance > 0) first = rank;
  });
  return first == 0 ? 0 : 1.0 / first;
}

double AveragePrecision(absl::Span<const std::string> ranked, const QueryJudgments& judgments,
                        int k) {
  const int relevant = RelevantCount(judgments);
  if (relevant == 0) return 0;
  int found = 0;
  double sum = 0;
  ForEachDistinct(ranked, judgments, k, [&](int rank, int relevance) {
    if (relevance > 0) {
      ++found;
      sum += static_cast<double>(found) / rank;
    }
  });
  return sum / relevant;
}

absl::StatusOr<RetrievalMetrics> Evaluate(const Qrels& qrels, const Rankings& run,
                                          const MetricCutoffs& cutoffs) {
  if (cutoffs.ndcg_k <= 0 || cutoffs.recall_k <= 0 || cutoffs.mrr_k <= 0) {
    return absl::InvalidArgumentError("metric cutoffs must be positive");
  }
  RetrievalMetrics metrics;
  static const std::vector<std::string> kEmpty;
  for (const auto& [query, judgments] : qrels) {
    if (RelevantCount(judgments) == 0) continue;
    auto found = run.find(query);
    const std::vector<std::string>& ranked = found == run.end() ? kEmpty : found->second;
    metrics.ndcg += NdcgAtK(ranked, judgments, cutoffs.ndcg_k);
    metrics.recall += RecallAtK(ranked, judgments, cutoffs.recall_k);
    metrics.mrr += ReciprocalRankAtK(ranked, judgments, cutoffs.mrr_k);
    metrics.map += AveragePrecision(ranked, judgments, cutoffs.map_k);
    ++metrics.queries;
  }
  if (metrics.queries == 0) {
    return absl::InvalidArgumentError("no query in the qrels has a relevant document");
  }
  metrics.ndcg /= metrics.queries;
  metrics.recall /= metrics.queries;
  metrics.mrr /= metrics.queries;
  metrics.map /= metrics.queries;
  return metrics;
}

}  // namespace tessera::eval
