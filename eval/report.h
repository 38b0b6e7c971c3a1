// Reports of an evaluation job: the summary numbers kept on the Job, a JSON
// summary (with per-case scores, so two runs can be compared later), Markdown,
// and a self-contained HTML page with inline SVG charts (score histograms,
// per-criterion means with 95% intervals, pairwise win rates with 95%
// intervals, judge-vs-human confusion matrices). Comparing two runs pairs
// their cases and runs a paired bootstrap test per score.
#ifndef TESSERA_EVAL_REPORT_H_
#define TESSERA_EVAL_REPORT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"
#include "eval/calibration.h"
#include "eval/stats.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct ReportInput {
  v1::Job job;
  std::vector<v1::CaseResult> results;
  // Per judge: its scores beside human scores (calibration.h).
  std::map<std::string, std::vector<ScorePair>> human_pairs;
};

// The numbers stored in Job.summary: per judge its mean ("<judge>"), for
// pairwise judges "<judge>.win_rate" with ".win_rate_low"/".win_rate_high"
// (Wilson 95%), for G-Eval ".logprob_weighted" (share of weighted scores),
// ".length_spearman" (score vs output length in characters), and per metric
// its mean.
std::map<std::string, double> Summarize(const std::vector<v1::CaseResult>& results);

Json JsonSummary(const ReportInput& input);
std::string MarkdownReport(const ReportInput& input);
std::string HtmlReport(const ReportInput& input);

// Writes report.md, report.json and report.html into `directory` (created if
// missing); returns the HTML path.
absl::StatusOr<std::string> WriteReports(const ReportInput& input, const std::string& directory);

struct ScoreComparison {
  std::string key;  // Judge or metric.
  double base_mean = 0;
  double candidate_mean = 0;
  PairedTest test;  // Over the cases both runs scored.
  // Significant (p < 0.05) changes.
  bool regression = false;
  bool improvement = false;
};

// Compares two JSON summaries (JsonSummary) case by case. InvalidArgument when
// a summary lacks per-case scores or the runs share no scored case.
absl::StatusOr<std::vector<ScoreComparison>> CompareRuns(const Json& base, const Json& candidate);
std::string ComparisonMarkdown(const std::vector<ScoreComparison>& comparisons);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_REPORT_H_
