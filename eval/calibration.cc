#include "eval/calibration.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eval/stats.h"

namespace tessera::eval {
namespace {

bool IsScoreJudge(const v1::JudgeResult& result) { return result.preference().empty(); }

}  // namespace

int ScoreBucket(double score) {
  return std::clamp(static_cast<int>(std::lround(score)), 1, 5);
}

std::map<std::string, std::vector<ScorePair>> HumanScorePairs(
    const std::vector<v1::CaseResult>& results, const Cases& cases,
    const std::vector<v1::ReviewItem>& review_items) {
  std::map<std::string, double> human;
  for (const v1::EvalCase& c : cases) {
    auto label = c.labels().find(kHumanScoreLabel);
    double score;
    if (label != c.labels().end() && absl::SimpleAtod(label->second, &score)) human[c.id()] = score;
  }
  for (const v1::ReviewItem& item : review_items) {
    if (item.has_human_score()) human[item.case_id()] = item.human_score();
  }
  std::map<std::string, std::vector<ScorePair>> pairs;
  for (const v1::CaseResult& result : results) {
    auto found = human.find(result.case_id());
    if (found == human.end()) continue;
    for (const v1::JudgeResult& judge : result.judges()) {
      if (IsScoreJudge(judge)) pairs[judge.judge()].push_back({result.case_id(), judge.score(), found->second});
    }
  }
  return pairs;
}

absl::StatusOr<v1::CalibrationReport> Calibrate(const std::string& judge,
                                                const std::vector<ScorePair>& pairs) {
  if (pairs.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "judge \"", judge, "\" has ", pairs.size(),
        " human-labelled cases; calibration needs at least 2 (label review items or add "
        "labels.human_score to the dataset)"));
  }
  std::vector<int> judge_buckets, human_buckets;
  std::vector<double> judge_scores, human_scores;
  v1::CalibrationReport report;
  report.set_judge(judge);
  report.set_labelled_cases(static_cast<int64_t>(pairs.size()));
  std::vector<int64_t> confusion(25, 0);
  for (const ScorePair& pair : pairs) {
    judge_buckets.push_back(ScoreBucket(pair.judge));
    human_buckets.push_back(ScoreBucket(pair.human));
    judge_scores.push_back(pair.judge);
    human_scores.push_back(pair.human);
    ++confusion[(judge_buckets.back() - 1) * 5 + (human_buckets.back() - 1)];
  }
  report.set_cohen_kappa(CohenKappa(judge_buckets, human_buckets).value_or(0));
  report.set_quadratic_kappa(QuadraticWeightedKappa(judge_buckets, human_buckets).value_or(0));
  report.set_spearman(Spearman(judge_scores, human_scores).value_or(0));
  for (int64_t count : confusion) report.add_confusion_matrix(count);
  return report;
}

std::optional<v1::ReviewItem> DisagreementItem(const v1::CaseResult& result,
                                               const v1::EvalCase& c, double threshold) {
  if (threshold <= 0) return std::nullopt;
  double low = 0, high = 0;
  int scored = 0;
  for (const v1::JudgeResult& judge : result.judges()) {
    if (!IsScoreJudge(judge)) continue;
    low = scored == 0 ? judge.score() : std::min(low, judge.score());
    high = scored == 0 ? judge.score() : std::max(high, judge.score());
    ++scored;
  }
  if (scored < 2 || high - low < threshold) return std::nullopt;
  v1::ReviewItem item;
  item.set_id(absl::StrCat(result.job_id(), "/", result.case_id()));
  item.set_job_id(result.job_id());
  item.set_case_id(result.case_id());
  for (const v1::JudgeResult& judge : result.judges()) {
    if (IsScoreJudge(judge)) *item.add_judges() = judge;
  }
  auto& fields = *item.mutable_context()->mutable_fields();
  fields["input"].set_string_value(c.input());
  fields["output"].set_string_value(result.output());
  if (!c.reference().empty()) fields["reference"].set_string_value(c.reference());
  fields["spread"].set_number_value(high - low);
  return item;
}

}  // namespace tessera::eval
