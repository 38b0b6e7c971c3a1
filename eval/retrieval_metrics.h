// Ranked-retrieval metrics with the definitions BEIR reports through
// pytrec_eval (trec_eval):
//  - nDCG@k: DCG = sum over ranks i <= k of rel_i / log2(i + 1) (graded gain =
//    judged relevance, unjudged = 0), divided by the DCG of the ideal ranking of
//    all judged documents.
//  - Recall@k: relevant documents (relevance > 0) in the top k / all relevant.
//  - MRR@k: 1 / rank of the first relevant document within the top k, else 0.
//  - AP (MAP when averaged): sum over relevant retrieved documents of the
//    precision at their rank, divided by the number of relevant documents.
// A document id repeated in a ranking counts only at its first rank.
#ifndef TESSERA_EVAL_RETRIEVAL_METRICS_H_
#define TESSERA_EVAL_RETRIEVAL_METRICS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tessera::eval {

// Judged documents of one query: document id -> graded relevance.
using QueryJudgments = absl::flat_hash_map<std::string, int>;
// Query id -> judgments.
using Qrels = absl::flat_hash_map<std::string, QueryJudgments>;
// Query id -> ranked document ids, best first.
using Rankings = absl::flat_hash_map<std::string, std::vector<std::string>>;

double NdcgAtK(absl::Span<const std::string> ranked, const QueryJudgments& judgments, int k);
double RecallAtK(absl::Span<const std::string> ranked, const QueryJudgments& judgments, int k);
double ReciprocalRankAtK(absl::Span<const std::string> ranked, const QueryJudgments& judgments,
                         int k);
// k <= 0 uses the whole ranking.
double AveragePrecision(absl::Span<const std::string> ranked, const QueryJudgments& judgments,
                        int k = 0);

struct MetricCutoffs {
  int ndcg_k = 10;
  int recall_k = 100;
  int mrr_k = 10;
  int map_k = 0;  // 0: whole ranking.
};

struct RetrievalMetrics {
  double ndcg = 0;
  double recall = 0;
  double mrr = 0;
  double map = 0;
  int queries = 0;  // Queries averaged over.
};

// Means over the queries of `qrels` that have at least one relevant document;
// a query missing from `run` scores 0 (stricter than pytrec_eval, which skips
// it). InvalidArgument when no query qualifies or a cutoff is not positive.
absl::StatusOr<RetrievalMetrics> Evaluate(const Qrels& qrels, const Rankings& run,
                                          const MetricCutoffs& cutoffs = {});

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_RETRIEVAL_METRICS_H_
