#include "eval/calibration.h"

#include <cmath>

#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

v1::CaseResult Result(const std::string& id, double a, double b) {
  v1::CaseResult result;
  result.set_job_id("job");
  result.set_case_id(id);
  result.set_output("out " + id);
  auto* first = result.add_judges();
  first->set_judge("strict");
  first->set_score(a);
  auto* second = result.add_judges();
  second->set_judge("lenient");
  second->set_score(b);
  auto* pairwise = result.add_judges();
  pairwise->set_judge("pair");
  pairwise->set_score(1);
  pairwise->set_preference("A");
  return result;
}

TEST(CalibrationTest, BucketsRoundAndClamp) {
  EXPECT_EQ(ScoreBucket(4.49), 4);
  EXPECT_EQ(ScoreBucket(4.5), 5);
  EXPECT_EQ(ScoreBucket(0.2), 1);
  EXPECT_EQ(ScoreBucket(7), 5);
}

TEST(CalibrationTest, PairsComeFromLabelsAndReviewedItems) {
  Cases cases(3);
  cases[0].set_id("a");
  (*cases[0].mutable_labels())[kHumanScoreLabel] = "2";
  cases[1].set_id("b");
  (*cases[1].mutable_labels())[kHumanScoreLabel] = "5";
  cases[2].set_id("c");  // No label.
  v1::ReviewItem reviewed;
  reviewed.set_case_id("b");
  reviewed.set_human_score(3);  // Overrides the dataset's label.
  v1::ReviewItem unlabelled;
  unlabelled.set_case_id("c");
  auto pairs = HumanScorePairs({Result("a", 1, 2), Result("b", 4, 5), Result("c", 3, 3)}, cases,
                               {reviewed, unlabelled});
  ASSERT_EQ(pairs.size(), 2u);  // The pairwise judge is skipped.
  ASSERT_EQ(pairs["strict"].size(), 2u);
  EXPECT_EQ(pairs["strict"][0].human, 2);
  EXPECT_EQ(pairs["strict"][1].human, 3);
  EXPECT_EQ(pairs["strict"][1].judge, 4);
}

TEST(CalibrationTest, ReportMatchesHandComputedAgreement) {
  // Judge buckets 1,1,2,2 vs human 1,2,2,2: kappa .5 (see stats_test).
  std::vector<ScorePair> pairs = {{"a", 1, 1}, {"b", 1.2, 2}, {"c", 2, 2}, {"d", 2.4, 2}};
  auto report = Calibrate("strict", pairs);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->labelled_cases(), 4);
  EXPECT_NEAR(report->cohen_kappa(), 0.5, 1e-12);
  // Raw scores 1, 1.2, 2, 2.4 rank 1..4; human ranks 1, 3, 3, 3:
  // dx = -1.5,-.5,.5,1.5 ; dy = -1.5,.5,.5,.5: cov 3, var x 5, var y 3.
  EXPECT_NEAR(report->spearman(), 3 / std::sqrt(15.0), 1e-12);
  ASSERT_EQ(report->confusion_matrix_size(), 25);
  EXPECT_EQ(report->confusion_matrix(0 * 5 + 0), 1);  // judge 1, human 1
  EXPECT_EQ(report->confusion_matrix(0 * 5 + 1), 1);  // judge 1, human 2
  EXPECT_EQ(report->confusion_matrix(1 * 5 + 1), 2);  // judge 2, human 2
  EXPECT_EQ(Calibrate("x", {{"a", 1, 1}}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CalibrationTest, DisagreementsBecomeReviewItems) {
  v1::EvalCase c;
  c.set_id("a");
  c.set_input("q");
  auto item = DisagreementItem(Result("a", 1, 4), c, 2);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->id(), "job/a");
  EXPECT_EQ(item->judges_size(), 2);
  EXPECT_EQ(item->context().fields().at("input").string_value(), "q");
  EXPECT_EQ(item->context().fields().at("spread").number_value(), 3);
  EXPECT_FALSE(DisagreementItem(Result("a", 3, 4), c, 2).has_value());
  EXPECT_FALSE(DisagreementItem(Result("a", 1, 5), c, 0).has_value());  // Queue off.
}

}  // namespace
}  // namespace tessera::eval
