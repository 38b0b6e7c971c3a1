// Judge calibration against human labels, and the disagreement check that
// sends a case to the human-review queue.
#ifndef TESSERA_EVAL_CALIBRATION_H_
#define TESSERA_EVAL_CALIBRATION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/dataset.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct ScorePair {
  std::string case_id;
  double judge = 0;
  double human = 0;
};

// A 1-5 score as a category: rounded and clamped.
int ScoreBucket(double score);

// Per judge (1-5 judges only; pairwise results are skipped), the pairs of its
// score and the human score of the same case. A case's human score is the
// label of its review item when labelled, else its labels["human_score"].
std::map<std::string, std::vector<ScorePair>> HumanScorePairs(
    const std::vector<v1::CaseResult>& results, const Cases& cases,
    const std::vector<v1::ReviewItem>& review_items);

// Cohen's kappa (plain and quadratic) over the score buckets, Spearman's rho
// over the raw scores, and the 5 x 5 confusion matrix. FailedPrecondition
// with fewer than two pairs. Undefined correlations (a constant side) are 0.
absl::StatusOr<v1::CalibrationReport> Calibrate(const std::string& judge,
                                                const std::vector<ScorePair>& pairs);

// A review item when two or more 1-5 judges of `result` differ by at least
// `threshold` (> 0); the item carries the judges' results and the case.
std::optional<v1::ReviewItem> DisagreementItem(const v1::CaseResult& result,
                                               const v1::EvalCase& c, double threshold);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_CALIBRATION_H_
